#!/usr/bin/env bash
# Fuzz every parser for SECONDS each (default 60): scripts/fuzz.sh [SECONDS] [TARGET...]
#
# With cargo-fuzz and a nightly toolchain (cargo install cargo-fuzz; rustup toolchain
# install nightly), runs the coverage-guided libFuzzer targets in fuzz/; otherwise (or with
# MTSSH_FUZZ=random) the stable random harness, examples/fuzz_random.rs. New inputs
# libFuzzer finds go to fuzz/work/<target>/ (not committed); crashes to
# fuzz/artifacts/<target>/. Add a fixed crash's input to fuzz/corpus/<target>/ so `cargo
# test` replays it forever.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(host_file range known_hosts ssh_config shell pane)
fi

use_libfuzzer() {
    [ "${MTSSH_FUZZ:-}" != random ] &&
        cargo fuzz --version >/dev/null 2>&1 &&
        cargo +nightly --version >/dev/null 2>&1
}

status=0
if use_libfuzzer; then
    # The targets are safe Rust: no sanitizer keeps builds and runs fast on a small machine.
    for t in "${targets[@]}"; do
        mkdir -p "fuzz/work/$t"
        echo "== $t (libFuzzer, ${seconds}s)"
        if ! CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}" cargo +nightly fuzz run --sanitizer none "$t" "fuzz/work/$t" "fuzz/corpus/$t" -- \
            -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
            -print_final_stats=1 2>&1 | tee "fuzz/work/$t.log" | grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|==|SUMMARY|.*panicked)'; then
            :
        fi
        if grep -q 'SUMMARY\|panicked\|deadly signal' "fuzz/work/$t.log"; then
            echo "!! $t crashed: see fuzz/work/$t.log and fuzz/artifacts/$t/"
            status=1
        fi
    done
else
    echo "using the random harness (MTSSH_FUZZ=random, or cargo-fuzz/nightly missing)"
    cargo run --quiet --features fuzzing --example fuzz_random -- "$seconds" "${targets[@]}" || status=1
fi
exit $status
