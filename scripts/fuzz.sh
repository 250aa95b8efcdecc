#!/usr/bin/env bash
# Fuzzing (not a test, not in CI): runs each cargo-fuzz target in fuzz/ for a while, starting
# from the seed corpus in fuzz/corpus. Needs a nightly toolchain (libFuzzer's sanitizer
# flags); installs cargo-fuzz when missing.
#
#   scripts/fuzz.sh [seconds per target, default 60] [target ...]
#   scripts/fuzz.sh --check     # builds the targets on stable, without running them
#
# A crash leaves its input in fuzz/artifacts/<target>/; replay it with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
set -euo pipefail
cd "$(dirname "$0")/.."
# The targets build the server's code with the versions the server is tested with.
[[ -f fuzz/Cargo.lock ]] || cp Cargo.lock fuzz/Cargo.lock

if [[ "${1:-}" == "--check" ]]; then
    exec cargo build --manifest-path fuzz/Cargo.toml --bins
fi

seconds="${1:-60}"
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(ws_message webhook)

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz.sh: needs a nightly toolchain (rustup toolchain install nightly)." >&2
    echo "         'scripts/fuzz.sh --check' builds the targets on stable meanwhile." >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
for target in "${targets[@]}"; do
    # A copy of the seeds: libFuzzer adds what it finds to the corpus directory it is given.
    work="fuzz/corpus-work/$target"
    mkdir -p "$work"
    cp -n "fuzz/corpus/$target"/* "$work"/ 2>/dev/null || true
    echo "== $target for ${seconds}s"
    cargo +nightly fuzz run "$target" "$work" -- -max_total_time="$seconds"
done
