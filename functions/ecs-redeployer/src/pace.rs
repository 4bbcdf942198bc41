//! Client-side token buckets for ECS's read APIs.
//!
//! ECS meters DescribeServices/ListServices (burst 100, 20/s) and DescribeTaskDefinition
//! (burst 50, 20/s) per account and region, shared with every other caller. Bounded
//! concurrency alone does not keep a discovery of thousands of services under those rates,
//! and the SDK's retry gives up after a few seconds of throttling (the benchmark's 1,000-service
//! fleet showed it). So reads wait for a token of a smaller bucket of our own —
//! `MAX_READS_PER_SECOND` (default 15), burst 40 — leaving headroom for the account's other
//! callers; the SDK's retry still absorbs the throttling their traffic causes. The buckets live
//! as long as the process, so warm invocations share them.

pub use ecs_secrets_shared::pace::TokenBucket;

/// Burst of each of our buckets: below both ECS buckets.
pub const READ_BURST: f64 = 40.0;

/// The two read buckets discovery draws on.
#[derive(Debug)]
pub struct ReadPace {
    /// ListClusters, ListServices, DescribeServices.
    pub services: TokenBucket,
    pub task_definitions: TokenBucket,
}

impl ReadPace {
    pub fn new(rate: f64) -> Self {
        Self {
            services: TokenBucket::new(rate, READ_BURST),
            task_definitions: TokenBucket::new(rate, READ_BURST),
        }
    }
}
