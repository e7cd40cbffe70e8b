//! `429 Too Many Requests` from a registry: wait and try again, within bounds.
//!
//! [`RetryPolicy::run`] repeats an operation that failed with [`ArtifactError::RateLimited`] at most
//! `retries` times. The wait is the registry's `Retry-After` when it gives one: oci-client keeps response
//! headers to itself, so the URL that was refused is asked once more (a plain GET through the shared client,
//! [`palisade_core::http::agent`]) and the header of that answer is read; when that answer carries none, the
//! wait doubles from 1 s. A registry asking for more than `max_wait` is not waited for: the error says so.

use crate::ArtifactError;
use std::time::Duration;

/// How long and how often a rate-limited operation is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: none).
    pub retries: u32,
    /// The longest single wait; a `Retry-After` above it ends the retries.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { retries: 5, max_wait: Duration::from_secs(60) }
    }
}

/// One wait made, for the caller to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waited {
    pub url: String,
    pub wait: Duration,
    /// The wait came from the registry's `Retry-After` (else: backoff).
    pub retry_after: bool,
}

impl RetryPolicy {
    /// Run `op`, retrying it after a rate limit; `on_wait` is told of each wait before it is made.
    pub fn run<T>(
        &self,
        mut op: impl FnMut() -> Result<T, ArtifactError>,
        mut on_wait: impl FnMut(&Waited),
    ) -> Result<T, ArtifactError> {
        let mut backoff = Duration::from_secs(1);
        let mut retry = 0;
        loop {
            let err = match op() {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let ArtifactError::RateLimited { target, url, reason } = err else { return Err(err) };
            if retry >= self.retries {
                return Err(ArtifactError::RateLimited {
                    target,
                    url,
                    reason: format!("{reason}; still limited after {retry} retries"),
                });
            }
            let asked = probe_retry_after(&url);
            let wait = asked.unwrap_or(backoff);
            if wait > self.max_wait {
                return Err(ArtifactError::RateLimited {
                    target,
                    url,
                    reason: format!(
                        "{reason}; the registry asks to wait {} s, more than the {} s allowed",
                        wait.as_secs(),
                        self.max_wait.as_secs()
                    ),
                });
            }
            on_wait(&Waited { url: url.clone(), wait, retry_after: asked.is_some() });
            std::thread::sleep(wait);
            if asked.is_none() {
                backoff = backoff.saturating_mul(2);
            }
            retry += 1;
        }
    }
}

/// Ask `url` again and read the `Retry-After` of a 429 answer.
fn probe_retry_after(url: &str) -> Option<Duration> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return None;
    }
    let agent = palisade_core::http::agent(Duration::from_secs(10));
    let resp = agent.get(url).call().ok()?;
    if resp.status().as_u16() != 429 {
        return None;
    }
    resp.headers().get("retry-after")?.to_str().ok().and_then(palisade_core::http::retry_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limited() -> ArtifactError {
        ArtifactError::RateLimited { target: "r/x".into(), url: "not-a-url".into(), reason: "429".into() }
    }

    #[test]
    fn retries_until_success_within_bounds() {
        let mut calls = 0;
        let mut waits = Vec::new();
        let policy = RetryPolicy { retries: 3, max_wait: Duration::from_secs(5) };
        let r = policy.run(
            || {
                calls += 1;
                if calls < 3 { Err(limited()) } else { Ok(calls) }
            },
            |w| waits.push(w.wait),
        );
        assert_eq!(r.expect("third call succeeds"), 3);
        assert_eq!(waits, vec![Duration::from_secs(1), Duration::from_secs(2)]);
    }

    #[test]
    fn gives_up_after_the_retries_and_passes_other_errors() {
        let policy = RetryPolicy { retries: 0, max_wait: Duration::from_secs(5) };
        let e = policy.run(|| Err::<(), _>(limited()), |_| {}).unwrap_err();
        assert!(e.to_string().contains("still limited after 0 retries"), "{e}");
        let mut calls = 0;
        let e = RetryPolicy::default()
            .run(
                || {
                    calls += 1;
                    Err::<(), _>(ArtifactError::Registry { target: "x".into(), reason: "down".into() })
                },
                |_| {},
            )
            .unwrap_err();
        assert!(matches!(e, ArtifactError::Registry { .. }));
        assert_eq!(calls, 1);
    }
}
