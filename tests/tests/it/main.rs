//! The one integration-test binary of ecs-secrets. Each module is an area; each test builds its
//! own [`harness::World`] (moto, databases, function binaries), so tests are independent.
//!
//! Run with `scripts/test.sh` (which builds the function binaries first) or, after
//! `cargo build --workspace --bins`, with `cargo nextest run -p ecs-secrets-tests`.

mod aws_world;
mod databases;
mod network;
mod propagation;
mod redeployer;
mod rotator;
mod rotator_attacks;
mod rotator_mysql;
mod rotator_postgres;
mod runtime_api;
mod template;
mod validator;
mod validator_baseline;
mod validator_real;
