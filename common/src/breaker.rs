//! A circuit breaker for Redis: after a few consecutive failures, skip Redis for a cooldown instead of paying a
//! timeout on every request; then let one trial call through, and close on the first success.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    consecutive_failures: u32,
    /// `Some` while open; calls are refused until this instant, then one trial is let through.
    open_until: Option<Instant>,
}

/// What a failure did to the breaker.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterFailure {
    StillClosed,
    /// This failure opened the breaker.
    Opened,
    /// The breaker was already open (a failed trial or background retry).
    StaysOpen,
}

impl Breaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            cooldown,
            state: Mutex::default(),
        }
    }

    /// Whether a call may go to Redis now. Past the cooldown, the first caller gets the trial and pushes the next
    /// trial one cooldown further, so a trial that never returns cannot wedge the breaker.
    pub fn try_acquire(&self) -> bool {
        let mut state = self.lock();
        match state.open_until {
            None => true,
            Some(until) => {
                let now = Instant::now();
                if now < until {
                    return false;
                }
                state.open_until = Some(now + self.cooldown);
                true
            }
        }
    }

    /// Records a success; returns true if it closed an open breaker.
    pub fn record_success(&self) -> bool {
        let mut state = self.lock();
        state.consecutive_failures = 0;
        state.open_until.take().is_some()
    }

    pub fn record_failure(&self) -> AfterFailure {
        let mut state = self.lock();
        state.consecutive_failures = state.consecutive_failures.saturating_add(1);
        if state.open_until.is_some() {
            AfterFailure::StaysOpen
        } else if state.consecutive_failures >= self.threshold {
            state.open_until = Some(Instant::now() + self.cooldown);
            AfterFailure::Opened
        } else {
            AfterFailure::StillClosed
        }
    }

    /// Open or half-open: not closed again by a success yet.
    pub fn is_open(&self) -> bool {
        self.lock().open_until.is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a pair of plain values, valid whatever a panicking holder left behind.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_of_consecutive_failures() {
        let breaker = Breaker::new(3, Duration::from_secs(60));
        assert_eq!(breaker.record_failure(), AfterFailure::StillClosed);
        assert_eq!(breaker.record_failure(), AfterFailure::StillClosed);
        assert!(breaker.try_acquire());
        assert_eq!(breaker.record_failure(), AfterFailure::Opened);
        assert!(breaker.is_open());
        assert!(!breaker.try_acquire());
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let breaker = Breaker::new(2, Duration::from_secs(60));
        breaker.record_failure();
        assert!(!breaker.record_success());
        assert_eq!(breaker.record_failure(), AfterFailure::StillClosed);
    }

    #[test]
    fn after_the_cooldown_one_trial_goes_through_and_a_success_closes() {
        let breaker = Breaker::new(1, Duration::from_millis(20));
        assert_eq!(breaker.record_failure(), AfterFailure::Opened);
        std::thread::sleep(Duration::from_millis(30));
        assert!(breaker.try_acquire(), "the trial");
        assert!(!breaker.try_acquire(), "only one trial per cooldown");
        assert!(breaker.record_success());
        assert!(!breaker.is_open());
        assert!(breaker.try_acquire());
    }

    #[test]
    fn a_failed_trial_keeps_it_open_for_another_cooldown() {
        let breaker = Breaker::new(1, Duration::from_millis(20));
        breaker.record_failure();
        std::thread::sleep(Duration::from_millis(30));
        assert!(breaker.try_acquire());
        assert_eq!(breaker.record_failure(), AfterFailure::StaysOpen);
        assert!(!breaker.try_acquire());
    }
}
