//! How fast one model is called: a gate on the calls in flight, whose
//! width backs off under sustained 429s, and token buckets on requests,
//! input tokens and output tokens per minute, started from the
//! configuration and corrected from the providers' rate-limit headers.

use crate::llm::config::Limits;
use crate::llm::provider::RateLimits;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// The calls in flight to one model, at most `width` of them. The width
/// starts at the configured concurrency, halves on a 429 (at most once a
/// second, so one burst of 429s from 64 calls in flight halves it once,
/// not 64 times), and grows back by one after as many successes as it is
/// wide (additive increase, multiplicative decrease: TCP's answer to the
/// same problem).
pub struct Gate {
    state: Mutex<GateState>,
    changed: Notify,
}

struct GateState {
    max: usize,
    width: usize,
    in_flight: usize,
    successes: usize,
    last_cut: Option<Instant>,
}

/// A place in the gate; dropping it frees the place.
pub struct Place<'g> {
    gate: &'g Gate,
}

impl Gate {
    pub fn new(concurrency: usize) -> Gate {
        let max = concurrency.max(1);
        Gate {
            state: Mutex::new(GateState {
                max,
                width: max,
                in_flight: 0,
                successes: 0,
                last_cut: None,
            }),
            changed: Notify::new(),
        }
    }

    pub async fn enter(&self) -> Place<'_> {
        loop {
            // Registered before the check, so a place freed in between
            // still wakes this call.
            let notified = self.changed.notified();
            {
                let mut state = self.lock();
                if state.in_flight < state.width {
                    state.in_flight += 1;
                    return Place { gate: self };
                }
            }
            notified.await;
        }
    }

    pub fn width(&self) -> usize {
        self.lock().width
    }

    /// A call was answered.
    pub fn success(&self) {
        let mut state = self.lock();
        state.successes += 1;
        if state.width < state.max && state.successes >= state.width {
            state.width += 1;
            state.successes = 0;
            drop(state);
            self.changed.notify_waiters();
        }
    }

    /// The provider said to slow down.
    pub fn rate_limited(&self) {
        let mut state = self.lock();
        let now = Instant::now();
        if state
            .last_cut
            .is_some_and(|at| now.duration_since(at) < Duration::from_secs(1))
        {
            return;
        }
        state.last_cut = Some(now);
        state.width = (state.width / 2).max(1);
        state.successes = 0;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        // A panic while holding this lock leaves plain counters behind.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        self.gate.lock().in_flight -= 1;
        self.gate.changed.notify_waiters();
    }
}

/// A per-minute allowance, refilled continuously.
#[derive(Debug)]
struct Bucket {
    per_minute: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new(per_minute: f64, now: Instant) -> Bucket {
        Bucket {
            per_minute,
            tokens: per_minute,
            at: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_minute / 60.0).min(self.per_minute);
        self.at = now;
    }

    /// How long until `amount` is available (an amount above the whole
    /// allowance waits for a full bucket, then goes through).
    fn wait_for(&self, amount: f64) -> Duration {
        let need = amount.min(self.per_minute) - self.tokens;
        if need <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(need * 60.0 / self.per_minute)
        }
    }

    /// What the provider says is left: it knows of calls this process did
    /// not make (another run on the same key). It only ever lowers what
    /// this side thinks is left.
    fn at_most(&mut self, remaining: u64) {
        self.tokens = self.tokens.min(remaining as f64);
    }
}

/// The per-minute limits of one model.
#[derive(Debug)]
pub struct Limiter {
    buckets: Mutex<Buckets>,
}

#[derive(Debug)]
struct Buckets {
    requests: Option<Bucket>,
    /// Input and output together, as OpenAI counts them.
    tokens: Option<Bucket>,
    input: Option<Bucket>,
    output: Option<Bucket>,
}

impl Limiter {
    pub fn new(limits: &Limits) -> Limiter {
        let now = Instant::now();
        let bucket = |limit: Option<u64>| limit.map(|l| Bucket::new(l as f64, now));
        Limiter {
            buckets: Mutex::new(Buckets {
                requests: bucket(limits.requests_per_minute.map(u64::from)),
                tokens: bucket(limits.tokens_per_minute),
                input: bucket(limits.input_tokens_per_minute),
                output: bucket(limits.output_tokens_per_minute),
            }),
        }
    }

    /// Waits until one request of `input` tokens (an estimate) and up to
    /// `output` tokens can be sent, and takes them. Output tokens are
    /// taken at their maximum and the unused part given back by
    /// [`Limiter::settle`], as providers account for them.
    pub async fn take(&self, input: u64, output: u64) {
        loop {
            let wait = {
                let mut guard = self.lock();
                let b = &mut *guard;
                let now = Instant::now();
                let mut wanted = [
                    (&mut b.requests, 1.0),
                    (&mut b.tokens, (input + output) as f64),
                    (&mut b.input, input as f64),
                    (&mut b.output, output as f64),
                ];
                let mut wait = Duration::ZERO;
                for (bucket, amount) in &mut wanted {
                    if let Some(bucket) = bucket {
                        bucket.refill(now);
                        wait = wait.max(bucket.wait_for(*amount));
                    }
                }
                if wait.is_zero() {
                    for (bucket, amount) in wanted {
                        if let Some(bucket) = bucket {
                            bucket.tokens -= amount;
                        }
                    }
                    return;
                }
                wait
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// A call used `input` and `output` tokens, against `estimated_input`
    /// and `max_output` taken for it.
    pub fn settle(&self, estimated_input: u64, input: u64, max_output: u64, output: u64) {
        let mut guard = self.lock();
        let b = &mut *guard;
        let unused_output = max_output.saturating_sub(output) as f64;
        let input_error = estimated_input as f64 - input as f64;
        if let Some(bucket) = &mut b.tokens {
            bucket.tokens += input_error + unused_output;
        }
        if let Some(bucket) = &mut b.input {
            bucket.tokens += input_error;
        }
        if let Some(bucket) = &mut b.output {
            bucket.tokens += unused_output;
        }
    }

    /// Corrects the buckets from a response's rate-limit headers: a limit
    /// the configuration left unset is started from the one the provider
    /// states, and what it says is left lowers what this side counts.
    pub fn observe(&self, limits: &RateLimits) {
        let mut guard = self.lock();
        let b = &mut *guard;
        let now = Instant::now();
        for (bucket, limit, remaining) in [
            (
                &mut b.requests,
                limits.requests_limit,
                limits.requests_remaining,
            ),
            (
                &mut b.input,
                limits.input_tokens_limit,
                limits.input_tokens_remaining,
            ),
            (
                &mut b.output,
                limits.output_tokens_limit,
                limits.output_tokens_remaining,
            ),
        ] {
            if let (None, Some(limit)) = (&bucket, limit.filter(|&l| l > 0)) {
                *bucket = Some(Bucket::new(limit as f64, now));
            }
            if let (Some(bucket), Some(remaining)) = (bucket, remaining) {
                bucket.refill(now);
                bucket.at_most(remaining);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buckets> {
        self.buckets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_the_configuration_left_unset_comes_from_the_headers() {
        let limiter = Limiter::new(&Limits::default());
        limiter.observe(&RateLimits {
            requests_limit: Some(60),
            requests_remaining: Some(0),
            ..RateLimits::default()
        });
        let b = limiter.lock();
        let requests = b.requests.as_ref().expect("a bucket from the headers");
        assert_eq!(requests.per_minute, 60.0);
        assert_eq!(requests.wait_for(1.0), Duration::from_secs(1));
    }

    #[test]
    fn a_bucket_refills_at_its_rate_and_caps_at_a_minute() {
        let t0 = Instant::now();
        let mut b = Bucket::new(60.0, t0);
        b.tokens = 0.0;
        assert_eq!(b.wait_for(1.0), Duration::from_secs(1));
        b.refill(t0 + Duration::from_secs(30));
        assert!((b.tokens - 30.0).abs() < 1e-9);
        b.refill(t0 + Duration::from_secs(600));
        assert!((b.tokens - 60.0).abs() < 1e-9);
        // More than the whole allowance waits for a full bucket only.
        assert_eq!(b.wait_for(1000.0), Duration::ZERO);
        b.at_most(5);
        assert!((b.tokens - 5.0).abs() < 1e-9);
        b.at_most(50);
        assert!(
            (b.tokens - 5.0).abs() < 1e-9,
            "the provider never raises it"
        );
    }

    #[test]
    fn the_gate_halves_once_per_burst_and_grows_back() {
        let gate = Gate::new(64);
        gate.rate_limited();
        gate.rate_limited();
        assert_eq!(gate.width(), 32);
        for _ in 0..32 {
            gate.success();
        }
        assert_eq!(gate.width(), 33);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_gate_holds_calls_beyond_its_width() {
        let gate = Gate::new(2);
        let a = gate.enter().await;
        let _b = gate.enter().await;
        let third = tokio::time::timeout(Duration::from_millis(20), gate.enter()).await;
        assert!(third.is_err(), "a third call waits");
        drop(a);
        let third = tokio::time::timeout(Duration::from_secs(5), gate.enter()).await;
        assert!(third.is_ok(), "and enters once a place is free");
    }
}
