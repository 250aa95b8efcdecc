#!/usr/bin/env bash
# Soak (not a test): two nodes + a private Redis under booking load with a Redis restart
# halfway. Usage: scripts/soak.sh [--seconds 180] [--rate 20] ...; scripts/bench.sh --help.
set -euo pipefail
exec "$(dirname "$0")/bench.sh" soak "$@"
