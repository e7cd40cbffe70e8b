//! Rate limiting of alerts: one token bucket per rule, so a noisy rule cannot drown the others.

use std::collections::HashMap;
use std::time::Instant;

/// Token buckets keyed by rule name: `rate` alerts per second sustained, up to `burst` at once.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: HashMap<String, (f64, Instant)>,
}

impl RateLimiter {
    /// `rate` per second (> 0), `burst` ≥ 1.
    pub fn new(rate: f64, burst: f64) -> RateLimiter {
        RateLimiter { rate: rate.max(f64::MIN_POSITIVE), burst: burst.max(1.0), buckets: HashMap::new() }
    }

    /// Whether an alert of `rule` may go out at `now` (takes a token when it may).
    pub fn allow(&mut self, rule: &str, now: Instant) -> bool {
        let (rate, burst) = (self.rate, self.burst);
        let (tokens, last) = self.buckets.entry(rule.to_string()).or_insert((burst, now));
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *tokens = (*tokens + elapsed * rate).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_per_rule_refills_over_time() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(2.0, 3.0);
        assert!((0..3).all(|_| rl.allow("a", t0)));
        assert!(!rl.allow("a", t0), "burst exhausted");
        assert!(rl.allow("b", t0), "other rules have their own bucket");
        assert!(rl.allow("a", t0 + Duration::from_millis(500)), "one token back after 0.5 s at 2/s");
        assert!(!rl.allow("a", t0 + Duration::from_millis(500)));
    }
}
