//! What a limit answers.

use std::time::Duration;

/// Whether a request may go ahead, and if not, how long until it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny { retry_after: Duration },
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Self::Allow
    }

    /// Whole seconds to wait, rounded up and at least 1 (what `X-Retry-After` carries); `None` when allowed.
    pub fn retry_after_secs(self) -> Option<u64> {
        match self {
            Self::Allow => None,
            Self::Deny { retry_after } => Some(ceil_secs(retry_after)),
        }
    }
}

fn ceil_secs(duration: Duration) -> u64 {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_never_says_zero() {
        let deny = |ms| Decision::Deny {
            retry_after: Duration::from_millis(ms),
        };
        assert_eq!(deny(9_001).retry_after_secs(), Some(10));
        assert_eq!(deny(10_000).retry_after_secs(), Some(10));
        assert_eq!(deny(1).retry_after_secs(), Some(1));
        assert_eq!(deny(0).retry_after_secs(), Some(1));
        assert_eq!(Decision::Allow.retry_after_secs(), None);
        assert!(Decision::Allow.is_allowed() && !deny(5).is_allowed());
    }
}
