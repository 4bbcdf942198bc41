#!/usr/bin/env bash
# The local demo: starts the embedded environment (moto + PostgreSQL + MariaDB on loopback),
# runs every function binary end to end under a Lambda Runtime API endpoint, and prints what
# happened. No AWS account is used.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/setup.sh
export PATH="$root/.tools/venv/bin:$PATH"
cargo build --workspace --bins --locked --quiet
exec "${CARGO_TARGET_DIR:-$root/target}/debug/local-demo" "$@"
