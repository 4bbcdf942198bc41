#!/usr/bin/env bash
# Fuzzes the task-definition readers and offline rules with cargo-fuzz (libFuzzer) for
# SECONDS (default 300), seeded with the validator's fixtures. cargo-fuzz needs nightly
# features; on a stable toolchain RUSTC_BOOTSTRAP=1 enables them for this build only.
# Crashes land in fuzz/artifacts/parse/ (reproduce: cargo fuzz run parse <file>).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-300}"
cd "$root"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p fuzz/corpus/parse
cp functions/taskdef-validator/testdata/*.* functions/taskdef-validator/testdata/terraform/* fuzz/corpus/parse/
cp shared/testdata/events/*.json fuzz/corpus/parse/
cd fuzz
RUSTC_BOOTSTRAP=1 cargo fuzz run parse --sanitizer none -- -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=262144
