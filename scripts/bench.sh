#!/usr/bin/env bash
# Builds the release server and load generator, then runs one scenario:
#   scripts/bench.sh --help | idle | fanout --subscribers 10000 | feed | http | soak
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bins -p leadbridge -p leadbridge-bench
exec "${CARGO_TARGET_DIR:-target}/release/leadbridge-bench" "$@"
