#!/usr/bin/env bash
# The benchmarks: installs what they need (scripts/setup.sh: moto, PostgreSQL, MariaDB,
# detect-secrets), builds the release binaries (what Lambda runs), prints the tables and writes
# bench/results/bench-<time>.json. A full run takes about 15 minutes on 2 cores; `--smoke`
# (what CI runs, on debug binaries) under a minute. Extra arguments go to the bench binary
# (`--only cold,rotation,redeployer,validator`, `--out DIR`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh
export PATH="$root/.tools/venv/bin:$PATH"
target="${CARGO_TARGET_DIR:-$root/target}"
if [[ " $* " == *" --smoke "* ]]; then
    cargo build --workspace --bins --locked --quiet
    exec "$target/debug/bench" "$@"
fi
cargo build --release --workspace --bins --locked --quiet
ECS_SECRETS_BIN_DIR="$target/release" exec "$target/release/bench" "$@"
