#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set-up, formatting, lints, unit and integration
# tests (moto + PostgreSQL + MariaDB + the built function binaries under a Lambda Runtime API
# endpoint), then the SAM template checks and build.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

# `scripts/test.sh --unit`: the quick loop — every crate's own tests, no services, no set-up.
if [ "${1:-}" = "--unit" ]; then
    step "module cycles"
    python3 scripts/module-cycles.py
    step "unit tests (every crate but the integration crate)"
    exec cargo nextest run --workspace --exclude ecs-secrets-tests --locked
fi

step "set-up"
scripts/setup.sh
export PATH="$root/.tools/venv/bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-always}"

step "cargo fmt --check"
cargo fmt --all -- --check

step "module cycles (no module imports a module that imports it back)"
python3 scripts/module-cycles.py

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "build the function binaries (the end-to-end tests and the benchmarks run them)"
cargo build --workspace --bins --tests --locked

# Runs a command in a network namespace that has only loopback, so any attempt to reach an
# address outside this machine fails whatever makes it.
loopback_only() {
    if [ "$(id -u)" -eq 0 ] && unshare --net true 2>/dev/null; then
        unshare --net -- bash -c 'ip link set lo up && ECS_SECRETS_NETNS_CHECK=1 "$@"' _ "$@"
    else
        echo "warning: cannot create a network namespace here (needs root); running without the loopback-only guard" >&2
        "$@"
    fi
}

step "tests"
loopback_only cargo nextest run --workspace --locked --offline --no-fail-fast

step "benchmarks, smoke run (every figure can be measured; figures are not checked)"
bench_out="$(mktemp -d)"
loopback_only "${CARGO_TARGET_DIR:-$root/target}/debug/bench" --smoke --out "$bench_out" >/dev/null
rm -rf "$bench_out"

step "SAM template: sam validate --lint, cfn-lint, checkov"
sam validate --lint --template template.yaml --region us-east-1
cfn-lint template.yaml
# Every finding is fixed or skipped in the resource's Metadata with the reason; any other
# finding fails the run. --skip-download: no call to the vendor's API (offline CI).
"$root/.tools/checkov/bin/checkov" --framework cloudformation -f template.yaml \
    --quiet --compact --skip-download

step "sam build (cargo-lambda)"
# CI machines are x86_64; the template's default is arm64. Building for the host avoids a
# cross toolchain and checks the same template, metadata and binaries.
# The check is that SAM packages the functions, not how well they are optimised: skip the
# release profile's LTO and use more codegen units here (about half of this step's time).
# `sam build` for a deployment, and scripts/bench.sh, use the real profile.
arch="$(uname -m)"; [ "$arch" = "aarch64" ] && arch=arm64
CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    sam build --parameter-overrides "Architecture=$arch"

step "all checks passed"
