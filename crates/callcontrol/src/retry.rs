//! Capped exponential backoff with jitter, and the retry policy for idempotent GETs.

use std::time::Duration;

use rand::Rng;

/// Delays that double from `initial` up to `max`, each jittered to between half and
/// all of the nominal value ("equal jitter"), so that many clients reconnecting after
/// the same PBX restart spread out instead of arriving together.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// A backoff starting at `initial` and capped at `max` (at least `initial`).
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
            attempt: 0,
        }
    }

    /// The nominal (un-jittered) delay of the next attempt.
    pub fn nominal(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(31));
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// The next delay, jittered, and advances the sequence.
    pub fn next_delay(&mut self) -> Duration {
        let nominal = self.nominal();
        self.attempt = self.attempt.saturating_add(1);
        let half = nominal / 2;
        let jitter = rand::rng().random_range(0.0..=1.0);
        half + half.mul_f64(jitter)
    }

    /// How many delays were handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Starts again from `initial` (after a connection proved healthy).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// How idempotent requests (GETs) are retried on 5xx, timeouts and transport errors.
/// Participant actions and `makecall` are never retried this way: repeating a
/// `transferto` the PBX may already have carried out is not safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 = no retry).
    pub max_attempts: u32,
    /// Delay before the first retry.
    pub initial_delay: Duration,
    /// Cap on the delay between attempts.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    pub(crate) fn backoff(&self) -> Backoff {
        Backoff::new(self.initial_delay, self.max_delay)
    }
}

impl Default for RetryPolicy {
    /// 3 attempts, 200 ms then 400 ms (jittered), capped at 2 s.
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nominal_delays_double_up_to_the_cap() {
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let mut nominal = Vec::new();
        for _ in 0..9 {
            nominal.push(backoff.nominal().as_millis());
            backoff.next_delay();
        }
        assert_eq!(
            nominal,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        backoff.reset();
        assert_eq!(backoff.nominal(), Duration::from_millis(500));
    }

    #[test]
    fn jitter_stays_between_half_and_full() {
        let mut backoff = Backoff::new(Duration::from_millis(50), Duration::from_millis(500));
        for _ in 0..200 {
            let nominal = backoff.nominal();
            let delay = backoff.next_delay();
            assert!(
                delay >= nominal / 2 && delay <= nominal,
                "{delay:?} vs {nominal:?}"
            );
        }
    }

    #[test]
    fn huge_attempt_counts_do_not_overflow() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        for _ in 0..100 {
            backoff.next_delay();
        }
        assert_eq!(backoff.nominal(), Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn paused_clock_sleeps_follow_the_schedule() {
        // Reconnect loops sleep through tokio::time, so a paused clock advances exactly
        // by the delays handed out.
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        let start = tokio::time::Instant::now();
        let mut total = Duration::ZERO;
        for _ in 0..8 {
            let delay = backoff.next_delay();
            total += delay;
            tokio::time::sleep(delay).await;
        }
        // Timers have millisecond resolution: each sleep may end up to 1 ms late.
        let elapsed = start.elapsed();
        assert!(
            elapsed >= total && elapsed <= total + Duration::from_millis(8),
            "{elapsed:?} vs {total:?}"
        );
        assert!(
            total >= Duration::from_millis(250 + 500 + 1000 + 2000 + 4000 + 8000 + 15000 + 15000)
        );
    }
}
