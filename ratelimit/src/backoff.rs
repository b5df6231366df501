//! The back-off after failed attempts on one account (OWASP ASVS: limit failures without a lock-out an attacker
//! could keep a victim in).

use std::time::Duration;

/// After `free` recorded failures, each further attempt waits `min(base * 2^(failures - free), cap)` since the last
/// one. Failures are forgotten `memory` after the last attempt, or at once on a success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub free: u32,
    pub base: Duration,
    pub cap: Duration,
    pub memory: Duration,
}

impl Backoff {
    /// 5 free failures, then 1 s, 2 s, 4 s … capped at 36 s, remembered for an hour: about 100 failures an hour at
    /// most, and a victim whose account is under attack waits 36 s at worst.
    pub const fn asvs() -> Self {
        Self::with_base(Duration::from_secs(1))
    }

    /// The same shape with another base delay (the cap stays 36 bases).
    pub const fn with_base(base: Duration) -> Self {
        Self {
            free: 5,
            base,
            cap: base.saturating_mul(36),
            memory: Duration::from_secs(3600),
        }
    }

    /// How long after the last attempt the next may come, with `failures` recorded.
    pub fn wait(&self, failures: u32) -> Duration {
        let Some(excess) = failures.checked_sub(self.free) else {
            return Duration::ZERO;
        };
        let factor = 1u32.checked_shl(excess).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Self::asvs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_five_failures_cost_nothing() {
        let backoff = Backoff::asvs();
        for failures in 0..5 {
            assert_eq!(backoff.wait(failures), Duration::ZERO);
        }
    }

    #[test]
    fn then_the_wait_doubles_up_to_thirty_six_seconds() {
        let backoff = Backoff::asvs();
        let waits: Vec<u64> = (5..14).map(|n| backoff.wait(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 36, 36, 36]);
        assert_eq!(backoff.wait(u32::MAX), Duration::from_secs(36));
    }

    #[test]
    fn an_attacker_gets_about_a_hundred_failures_an_hour() {
        let backoff = Backoff::asvs();
        let (mut elapsed, mut failures) = (Duration::ZERO, 0u32);
        loop {
            let next = elapsed + backoff.wait(failures);
            if next >= Duration::from_secs(3600) {
                break;
            }
            elapsed = next;
            failures += 1;
        }
        assert!((100..=110).contains(&failures), "{failures}");
        // Once the cap is reached it is exactly 100 an hour.
        assert_eq!(3600 / backoff.cap.as_secs(), 100);
    }

    #[test]
    fn a_shorter_base_scales_the_cap() {
        let backoff = Backoff::with_base(Duration::from_millis(10));
        assert_eq!(backoff.wait(5), Duration::from_millis(10));
        assert_eq!(backoff.wait(30), Duration::from_millis(360));
    }
}
