#!/usr/bin/env bash
# bench-shells.sh: many interactive sessions (PTY + shell) against the mock server, which
# runs in its own process (`mtssh mock --port 0`, pinned to core 0); the client is
# `examples/shells.rs` (pinned to core 1): one current_thread event loop that opens N shells
# and waits until each is Ready and its first prompt arrived. Also `mtssh run --count N`
# (exec, no PTY) for comparison. Runs each case $RUNS times, alternating, and prints every
# measurement (`wall_s`, `user_s`, `sys_s`, `peak_rss_kb` from inside the client; GNU time's
# view for `run`). Loopback only; every command is bounded by `timeout`.
#
# KEXES lists the client's key exchanges to compare (`default` = russh's, post-quantum
# mlkem768x25519-sha256 first; any other word is an `mtssh --kex` list).
#
# Usage: scripts/bench-shells.sh   env: SHELL_NS="1000 5000" KEYS="ed25519 rsa" RUNS=3
#                                       KEXES="default -mlkem768x25519-sha256"
set -euo pipefail
SHELL_NS=${SHELL_NS:-"1000 5000"}
KEYS=${KEYS:-"ed25519 rsa"}
RUNS=${RUNS:-3}
KEXES=${KEXES:-"default -mlkem768x25519-sha256"}
root=$(cd "$(dirname "$0")/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
bin="$target_dir/release/mtssh"
shells="$target_dir/release/examples/shells"
[ -x "$bin" ] || cargo build --release --manifest-path "$root/Cargo.toml"
[ -x "$shells" ] || cargo build --release --example shells --manifest-path "$root/Cargo.toml"
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

work=$(mktemp -d /tmp/bench-shells.XXXXXX)
mock_pids=()
cleanup() {
  for p in "${mock_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${mock_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export XDG_DATA_HOME="$work/data" HOME="$work/home" MTSSH_PASSWORD=123456
mkdir -p "$HOME"

declare -A addr
for key in $KEYS; do
  taskset -c 0 "$bin" mock --port 0 --host-key-type "$key" >"$work/mock-$key.out" 2>/dev/null &
  mock_pids+=($!)
  for _ in $(seq 100); do [ -s "$work/mock-$key.out" ] && break; sleep 0.1; done
  addr[$key]=$(awk '{print $3}' "$work/mock-$key.out")
  echo "mock ($key host key) at ${addr[$key]}" >&2
done

for round in $(seq "$RUNS"); do
  for n in $SHELL_NS; do
    for key in $KEYS; do
      for kex in $KEXES; do
        spec=$kex; [ "$kex" = default ] && spec=
        kex_arg=(); [ -n "$spec" ] && kex_arg=(--kex "$spec")
        line=$(SHELLS_KEX=$spec taskset -c 1 timeout 300 "$shells" "${addr[$key]}" "$n" 2>"$work/err.txt" || true)
        echo "shells key=$key kex=$kex round=$round $line"
        [ -s "$work/err.txt" ] && head -2 "$work/err.txt" >&2
        t=$(taskset -c 1 /usr/bin/time -f 'wall_s=%e user_s=%U sys_s=%S peak_rss_kb=%M' timeout 300 \
          "$bin" run -H "test@${addr[$key]}" --count "$n" --per-host 64 --known-hosts "$work/kh-$key" \
          "${kex_arg[@]}" --json -c 'echo hi' 2>&1 >"$work/run.txt" | tail -1 || true)
        echo "run-exec key=$key kex=$kex round=$round sessions=$n ok=$(grep -c '"exit_status":0,"stdout":"hi\\n"' "$work/run.txt" || true) $t"
      done
    done
  done
done
for i in "${!mock_pids[@]}"; do
  echo "mock pid ${mock_pids[$i]}: $(grep VmHWM /proc/"${mock_pids[$i]}"/status 2>/dev/null || echo gone)"
done
