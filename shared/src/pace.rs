//! A client-side token bucket: how our callers of ECS's metered read APIs stay under the
//! account's shared rate (the redeployer's discovery, `ecs-secrets validate --account`).
//!
//! ECS meters its APIs per account and region with token buckets shared by every caller
//! (DescribeTaskDefinition: burst 50, 20/s); the SDK's retry gives up after a few seconds of
//! throttling. Waiting for a token of a smaller bucket of our own keeps a long scan under the
//! rate and leaves headroom for the account's other callers.

use std::sync::Mutex;

use tokio::time::{Duration, Instant};

#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// A bucket of `burst` tokens refilled at `rate` a second. A rate below 0.001 (or not a
    /// number) is 0.001 and a burst below one is one: a bucket that never refills, or never
    /// holds a whole token, would wait forever, and a zero rate would panic computing the wait.
    pub fn new(rate: f64, burst: f64) -> Self {
        let rate = if rate >= 0.001 && rate.is_finite() {
            rate
        } else {
            0.001
        };
        let burst = if burst >= 1.0 && burst.is_finite() {
            burst
        } else {
            1.0
        };
        Self {
            rate,
            burst,
            state: Mutex::new((burst, Instant::now())),
        }
    }

    /// Waits until a token is available and takes it.
    pub async fn take(&self) {
        loop {
            let wait = {
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                let (tokens, last) = *state;
                let tokens =
                    (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst);
                if tokens >= 1.0 {
                    *state = (tokens - 1.0, now);
                    return;
                }
                *state = (tokens, now);
                Duration::from_secs_f64((1.0 - tokens) / self.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_the_rate() {
        let bucket = TokenBucket::new(10.0, 5.0);
        let start = Instant::now();
        for _ in 0..5 {
            bucket.take().await;
        }
        assert!(
            start.elapsed() < Duration::from_millis(1),
            "the burst is free"
        );
        for _ in 0..20 {
            bucket.take().await;
        }
        let elapsed = start.elapsed().as_secs_f64();
        assert!((1.9..2.2).contains(&elapsed), "20 more at 10/s: {elapsed}");
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_takers_share_the_rate() {
        let bucket = std::sync::Arc::new(TokenBucket::new(20.0, 1.0));
        let start = Instant::now();
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let b = bucket.clone();
                tokio::spawn(async move {
                    for _ in 0..10 {
                        b.take().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let elapsed = start.elapsed().as_secs_f64();
        assert!((3.9..4.2).contains(&elapsed), "80 takes at 20/s: {elapsed}");
    }

    #[tokio::test(start_paused = true)]
    async fn nonsense_settings_neither_panic_nor_hang() {
        for (rate, burst) in [
            (0.0, 0.0),
            (f64::NAN, f64::NAN),
            (-5.0, 0.5),
            (f64::INFINITY, 2.0),
        ] {
            let bucket = TokenBucket::new(rate, burst);
            // The first token is there at once (burst at least one).
            tokio::time::timeout(Duration::from_millis(1), bucket.take())
                .await
                .expect("a first token");
        }
    }
}
