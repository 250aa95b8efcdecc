#!/usr/bin/env bash
# Soak (not a test): two nodes + a private Redis under booking load with a Redis restart
# halfway; see examples/soak.rs. Usage: scripts/soak.sh [--seconds 180] [--help]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin leadbridge --example soak
exec "${CARGO_TARGET_DIR:-target}/release/examples/soak" "$@"
