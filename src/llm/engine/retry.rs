//! When to send a failed call again: exponential backoff with full jitter,
//! at least as long as the provider asks (`Retry-After`), and bounded in
//! attempts and in time, so no retry loop runs forever.

use std::time::Duration;

/// How a model's calls are retried.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts of one call over failures that retrying can fix (429,
    /// 5xx, timeouts, connection resets), the first included.
    pub max_attempts: u32,
    /// No retry starts later than this after the call's first attempt.
    pub max_elapsed: Duration,
    /// The first backoff's upper bound; each next one doubles, to `cap`.
    pub base: Duration,
    pub cap: Duration,
    /// How many times a call whose answer came back but could not be
    /// used (refused, cut off, not JSON, against the schema) is asked
    /// again, per kind.
    pub unusable_retries: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            max_elapsed: Duration::from_secs(600),
            base: Duration::from_millis(500),
            cap: Duration::from_secs(60),
            unusable_retries: 2,
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` after `attempt` failures: a
    /// uniform draw from `[0, min(cap, base × 2^(attempt-1))]` ("full
    /// jitter", which spreads a crowd of failed calls out best), and never
    /// less than what the provider asked for.
    pub fn backoff(&self, attempt: u32, asked: Option<Duration>, rng: &mut Rng) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let ceiling = self.base.saturating_mul(1u32 << exponent).min(self.cap);
        let drawn = ceiling.mul_f64(rng.unit());
        match asked {
            // A little on top, so that calls told the same instant do not
            // all come back at once.
            Some(asked) => asked + drawn.min(Duration::from_millis(250)),
            None => drawn,
        }
    }
}

/// A small, fast generator for jitter (xorshift64*): the draws need to be
/// spread, not unpredictable.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn seeded(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    /// Seeded from the clock and the process id.
    pub fn from_entropy() -> Rng {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng::seeded(now ^ (u64::from(std::process::id()) << 32))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A draw from `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_and_honours_what_the_provider_asks() {
        let policy = RetryPolicy::default();
        let mut rng = Rng::seeded(1);
        for attempt in 1..30 {
            let ceiling = policy
                .base
                .saturating_mul(1 << (attempt - 1).min(20))
                .min(policy.cap);
            for _ in 0..50 {
                let wait = policy.backoff(attempt, None, &mut rng);
                assert!(wait <= ceiling, "attempt {attempt}: {wait:?} > {ceiling:?}");
            }
        }
        let asked = Duration::from_secs(7);
        for attempt in 1..10 {
            let wait = policy.backoff(attempt, Some(asked), &mut rng);
            assert!(wait >= asked && wait <= asked + Duration::from_millis(250));
        }
    }

    #[test]
    fn draws_are_spread_over_the_unit_interval() {
        let mut rng = Rng::seeded(42);
        let mut buckets = [0u32; 10];
        for _ in 0..10_000 {
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
            buckets[(u * 10.0) as usize] += 1;
        }
        assert!(
            buckets.iter().all(|&n| (800..1200).contains(&n)),
            "{buckets:?}"
        );
    }
}
