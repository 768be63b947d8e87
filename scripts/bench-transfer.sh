#!/usr/bin/env bash
# bench-transfer.sh: `mtssh push` / `mtssh pull` against other many-host copy tools, on
# loopback only.
#
# Starts private sshd processes for $N addresses (scripts/loopback-sshd.sh, as bench-peers.sh).
# Every address logs in as the same user, so that each "host" has a directory of its own a
# Match LocalAddress block gives each address a ForceCommand (enter.sh) that changes into
# $XFER_DIR/remote/hNNN before running the client's command or the sftp-server subsystem:
# relative remote paths are per host for every tool alike.
#
# Then, for $RUNS alternating rounds (the order rotates each round), it pushes one $SIZE_MB MB
# file of random bytes to push/ on every host and pulls pull/big back (pull/big is a hard
# link to the same file, so the pull sources cost no disk) with:
#   mtssh       mtssh push / mtssh pull -q -f hosts.toml (release build, default --fanout 64)
#   pdcp        pdcp / rpdcp -R ssh -f $FANOUT (Debian pdsh; pdcp runs on the remote side too)
#   clush       clush -f $FANOUT --copy / --rcopy (ClusterShell; copies with scp)
#   scp-loop    a sequential loop of `scp` (one host after another)
#   mtssh-loop  a sequential loop of one-host `mtssh push` / `pull` (not in the default TOOLS:
#               it shows what the one server core gains from one stream at a time)
#   scp-xargs   `xargs -P $FANOUT scp` (what people do for parallel scp)
# OpenSSH's tools share one ssh_config (-F): the key, the port, strict host key checking
# against a private known_hosts, BatchMode.
#   bssh        bssh upload / download -H HOST,HOST,... --parallel $FANOUT (lablup's bssh, not in
#               the default TOOLS: it needs rustc >= 1.97, `cargo +nightly install bssh`;
#               $BSSH names the binary); key, port and user as options, strict host key
#               checking against the same known_hosts, copied into a private HOME's ~/.ssh.
#
# Wall time and client CPU (user+sys of the client and all its children: GNU time) are the
# median of the rounds. Every copy is checked afterwards (sha256 of each host's file against
# the source: "ok" column), then deleted before the next tool runs, so at most one tool's
# N copies are on disk.
#
# Then one host, the same file: mtssh push/pull vs OpenSSH `sftp` (put/get) and `scp`,
# $RUNS_ONE alternating rounds, throughput = size / median wall.
#
# sshd runs pinned to core 0 (`taskset -c 0`), every client to core 1 (`taskset -c 1`).
# Missing tools are installed: `apt-get install openssh-server pdsh time` and
# `pip install ClusterShell` (run as root). Traffic goes to 127.0.0.0/8 only; every command
# is bounded by `timeout`. Everything lives under $XFER_DIR (default /work/bench-xfer, must
# not exist yet), removed at the end.
#
# Usage: scripts/bench-transfer.sh [OUT.md]
#   env: N=50 SIZE_MB=100 RUNS=3 RUNS_ONE=5 FANOUT=64 ONE_HOST=1 XFER_DIR=/work/bench-xfer
#        TOOLS="mtssh pdcp clush scp-loop scp-xargs"
#        WAYS="push pull"   which directions the N-host rounds measure (e.g. WAYS=push)
#        MTSSH_ARGS=""   more options for every 50-host mtssh push and pull (e.g. "--fanout 8")
set -euo pipefail

N=${N:-50}
SIZE_MB=${SIZE_MB:-100}
RUNS=${RUNS:-3}
RUNS_ONE=${RUNS_ONE:-5}
FANOUT=${FANOUT:-64}
ONE_HOST=${ONE_HOST:-1}
XFER_DIR=${XFER_DIR:-/work/bench-xfer}
TOOLS=${TOOLS:-"mtssh pdcp clush scp-loop scp-xargs"}
read -r -a ways <<<"${WAYS:-push pull}"
out_md=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${MTSSH_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/mtssh}"

# --- tools ---------------------------------------------------------------------------
need_apt=()
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v pdcp >/dev/null || need_apt+=(pdsh)
[ -x /usr/bin/time ] || need_apt+=(time)
command -v taskset >/dev/null || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing with apt-get: ${need_apt[*]}" >&2
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! command -v clush >/dev/null; then
  echo "installing with pip: ClusterShell" >&2
  pip install -q ClusterShell
fi
[ -x "$bin" ] || cargo build --release --manifest-path "$root/Cargo.toml"

# --- scratch space and cleanup -------------------------------------------------------
mkdir "$XFER_DIR"   # fails if it exists: never delete someone else's directory
work=$XFER_DIR
sshd_pids=()
cleanup() {
  for p in "${sshd_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${sshd_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
unset SSH_AUTH_SOCK

# --- per-host directories and the sshd processes ---------------------------------------
cat >"$work/enter.sh" <<'EOF'
#!/bin/sh
# ForceCommand of one address: run the client's command (or the sftp-server subsystem,
# which sshd passes as SSH_ORIGINAL_COMMAND) inside that host's own directory.
cd "$1" || exit 1
exec /bin/sh -c "${SSH_ORIGINAL_COMMAND:-exec /bin/sh}"
EOF
chmod +x "$work/enter.sh"
host_dir() { printf '%s/remote/h%03d' "$work" $(($1 + 1)); }
sshd_match_lines() {
  printf 'Match LocalAddress %s\n    ForceCommand %s %s\n' "$1" "$work/enter.sh" "$(host_dir "$2")"
}
SSHD_NET=127.62
# shellcheck source=scripts/loopback-sshd.sh
. "$root/scripts/loopback-sshd.sh"
start_loopback_sshd "$N"
write_mtssh_hosts "$N" "$work/hosts.toml"
write_mtssh_hosts 1 "$work/one.toml"
hosts_csv=$(paste -sd, "$work/hosts.txt")

cat >"$work/ssh_config" <<EOF
Host *
  Port $port
  User $user
  IdentityFile $work/client
  IdentitiesOnly yes
  IdentityAgent none
  BatchMode yes
  StrictHostKeyChecking yes
  UserKnownHostsFile $work/known_hosts
  GlobalKnownHostsFile /dev/null
  ConnectTimeout 30
  LogLevel ERROR
EOF

head -c $((SIZE_MB * 1000 * 1000)) /dev/urandom >"$work/big"
size=$(stat -c %s "$work/big")
want=$(sha256sum "$work/big" | cut -d' ' -f1)
for i in $(seq 0 $((N - 1))); do
  d=$(host_dir "$i")
  mkdir -p "$d/push" "$d/pull"
  ln "$work/big" "$d/pull/big"
done
mkdir -p "$work/got"

# --- checking and clearing the copies ---------------------------------------------------
# pushed_ok: how many hosts' push/big has the source's sha256; then removes them (and any
# temporary file a tool left).
pushed_ok() {
  local i ok=0
  for i in $(seq 0 $((N - 1))); do
    f="$(host_dir "$i")/push/big"
    [ -f "$f" ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$want" ] && ok=$((ok + 1))
    find "$(host_dir "$i")/push" -mindepth 1 -delete
  done
  echo "$ok"
}
# pulled_ok: how many files under got/ have the source's sha256 (each tool names them its own
# way: got/h001/big, got/big.127.62.0.1); then removes them.
pulled_ok() {
  local ok
  ok=$(find "$work/got" -type f -exec sha256sum {} + | grep -c "^$want " || true)
  find "$work/got" -mindepth 1 -delete
  echo "$ok"
}

pdsh_env=(env PDSH_RCMD_TYPE=ssh "PDSH_SSH_ARGS=-F $work/ssh_config %h")
scp_cmd=(scp -q -F "$work/ssh_config")
mkdir -p "$work/bssh-home/.ssh"
cp "$work/known_hosts" "$work/bssh-home/.ssh/known_hosts"
bssh_cmd=(env HOME="$work/bssh-home" "${BSSH:-bssh}" -H "$hosts_csv" -p "$port" -l "$user"
  -i "$work/client" --parallel "$FANOUT" --strict-host-key-checking yes)
read -r -a mtssh_args <<<"${MTSSH_ARGS:-}"

# --- one measurement -------------------------------------------------------------------
# measure TOOL WAY ROUND: appends "tool way round wall user sys rss ok" to results.tsv.
measure() {
  local tool=$1 way=$2 round=$3 t="$work/time.txt" ok
  local timed=(taskset -c 1 /usr/bin/time -o "$t" -f '%e %U %S %M' timeout 900)
  case $tool/$way in
    mtssh/push) "${timed[@]}" "$bin" push -q -f "$work/hosts.toml" --ssh-config none "${mtssh_args[@]}" "$work/big" push ;;
    mtssh/pull) "${timed[@]}" "$bin" pull -q -f "$work/hosts.toml" --ssh-config none "${mtssh_args[@]}" pull/big "$work/got" ;;
    pdcp/push) "${timed[@]}" "${pdsh_env[@]}" pdcp -R ssh -f "$FANOUT" -t 30 -w "^$work/hosts.txt" "$work/big" push ;;
    pdcp/pull) "${timed[@]}" "${pdsh_env[@]}" rpdcp -R ssh -f "$FANOUT" -t 30 -w "^$work/hosts.txt" pull/big "$work/got" ;;
    clush/push) "${timed[@]}" clush -S -f "$FANOUT" -o "-F $work/ssh_config" -w "$hosts_csv" --copy "$work/big" --dest push ;;
    clush/pull) "${timed[@]}" clush -S -f "$FANOUT" -o "-F $work/ssh_config" -w "$hosts_csv" --rcopy pull/big --dest "$work/got" ;;
    bssh/push) "${timed[@]}" "${bssh_cmd[@]}" upload "$work/big" push/ ;;
    bssh/pull) "${timed[@]}" "${bssh_cmd[@]}" download pull/big "$work/got/" ;;
    mtssh-loop/push)
      "${timed[@]}" bash -c 'b=$1; shift; for i in $(seq -f "h%03g" "$0"); do "$b" push -q -H "$i" "$@" push; done' \
        "$N" "$bin" -f "$work/hosts.toml" --ssh-config none "$work/big" ;;
    mtssh-loop/pull)
      "${timed[@]}" bash -c 'b=$1 d=$2; shift 2; for i in $(seq -f "h%03g" "$0"); do "$b" pull -q -H "$i" "$@" pull/big "$d"; done' \
        "$N" "$bin" "$work/got" -f "$work/hosts.toml" --ssh-config none ;;
    scp-loop/push)
      "${timed[@]}" bash -c 'f=$1; shift; while read -r h; do "$@" "$f" "$h:push/"; done <"$0"' \
        "$work/hosts.txt" "$work/big" "${scp_cmd[@]}" ;;
    scp-loop/pull)
      "${timed[@]}" bash -c 'd=$1; shift; while read -r h; do "$@" "$h:pull/big" "$d/big.$h"; done <"$0"' \
        "$work/hosts.txt" "$work/got" "${scp_cmd[@]}" ;;
    scp-xargs/push)
      "${timed[@]}" xargs -P "$FANOUT" -I{} "${scp_cmd[@]}" "$work/big" "{}:push/" <"$work/hosts.txt" ;;
    scp-xargs/pull)
      "${timed[@]}" xargs -P "$FANOUT" -I{} "${scp_cmd[@]}" "{}:pull/big" "$work/got/big.{}" <"$work/hosts.txt" ;;
  esac </dev/null >>"$work/out.txt" 2>>"$work/err.txt" || echo "$tool $way round $round: exit $?" >>"$work/err.txt"
  if [ "$way" = push ]; then ok=$(pushed_ok); else ok=$(pulled_ok); fi
  read -r wall usr sys rss < <(tail -1 "$t")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$way" "$round" "$wall" "$usr" "$sys" "$rss" "$ok" \
    | tee -a "$work/results.tsv" >&2
}

# measure_one TOOL WAY ROUND: one host (h001), the same file.
measure_one() {
  local tool=$1 way=$2 round=$3 t="$work/time.txt" ok ip
  local timed=(taskset -c 1 /usr/bin/time -o "$t" -f '%e %U %S %M' timeout 300)
  ip=$(ip_of 0)
  case $tool/$way in
    mtssh/push) "${timed[@]}" "$bin" push -q -f "$work/one.toml" --ssh-config none "$work/big" push ;;
    mtssh/pull) "${timed[@]}" "$bin" pull -q -f "$work/one.toml" --ssh-config none pull/big "$work/got" ;;
    scp/push) "${timed[@]}" "${scp_cmd[@]}" "$work/big" "$ip:push/" ;;
    scp/pull) "${timed[@]}" "${scp_cmd[@]}" "$ip:pull/big" "$work/got/" ;;
    sftp/push) echo "put $work/big push/" | "${timed[@]}" sftp -q -F "$work/ssh_config" -b - "$ip" ;;
    sftp/pull) echo "get pull/big $work/got/" | "${timed[@]}" sftp -q -F "$work/ssh_config" -b - "$ip" ;;
  esac >>"$work/out.txt" 2>>"$work/err.txt" || echo "one $tool $way round $round: exit $?" >>"$work/err.txt"
  if [ "$way" = push ]; then
    ok=0; f="$(host_dir 0)/push/big"
    [ -f "$f" ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$want" ] && ok=1
    find "$(host_dir 0)/push" -mindepth 1 -delete
  else
    ok=$(pulled_ok)
  fi
  read -r wall usr sys rss < <(tail -1 "$t")
  printf 'one-%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$way" "$round" "$wall" "$usr" "$sys" "$rss" "$ok" \
    | tee -a "$work/results.tsv" >&2
}

: >"$work/results.tsv"
load_before=$(uptime)
read -r -a tools <<<"$TOOLS"
for round in $(seq "$RUNS"); do
  # rotate the order each round so no tool always runs first (cold caches) or last
  k=$(( (round - 1) % ${#tools[@]} ))
  order=("${tools[@]:k}" "${tools[@]:0:k}")
  for way in "${ways[@]}"; do
    for tool in "${order[@]}"; do measure "$tool" "$way" "$round"; done
  done
done
if [ "$ONE_HOST" = 1 ]; then
  one_tools=(mtssh scp sftp)
  for round in $(seq "$RUNS_ONE"); do
    k=$(( (round - 1) % 3 ))
    order=("${one_tools[@]:k}" "${one_tools[@]:0:k}")
    for way in push pull; do
      for tool in "${order[@]}"; do measure_one "$tool" "$way" "$round"; done
    done
  done
fi
load_after=$(uptime)

# --- ciphers negotiated -------------------------------------------------------------------
ip=$(ip_of 0)
kex_ssh=$(timeout 30 ssh -v -F "$work/ssh_config" -o LogLevel=DEBUG1 "$ip" true 2>&1 | grep -E 'kex: algorithm:|kex: server->client cipher' | tr '\n' ' ' | sed 's/debug1: //g' || true)
kex_mtssh=$(MTSSH_LOG=russh=debug timeout 30 "$bin" run -f "$work/one.toml" --ssh-config none -c true 2>&1 >/dev/null \
  | grep -o 'kex: Name("[^"]*"), key: [^,]*, cipher: Name("[^"]*")' | head -1 || true)

# --- report ----------------------------------------------------------------------------
report=$(python3 - "$work/results.tsv" "$RUNS" "$RUNS_ONE" "$FANOUT" "$N" "$size" <<'EOF'
import sys, statistics as st
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines() if l]
runs, runs_one, fanout, n, size = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
groups = {}
for tool, way, r, wall, usr, sys_, rss, ok in rows:
    groups.setdefault((tool, way), []).append((float(wall), float(usr) + float(sys_), int(rss), int(ok)))
med = lambda g, i: st.median(x[i] for x in g)
order = "mtssh pdcp clush bssh scp-loop scp-xargs mtssh-loop".split()
print(f"{n} hosts, one {size / 1e6:.0f} MB file each way; sshd on core 0, client on core 1; "
      f"fanout {fanout}; median of {runs} alternating rounds.\n")
print("| way | tool | wall s | MB/s (all hosts) | client CPU s (user+sys) | peak RSS MB | copies ok | wall vs mtssh | CPU vs mtssh |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for way in ("push", "pull"):
    base = groups.get(("mtssh", way))
    for tool in order:
        g = groups.get((tool, way))
        if not g: continue
        w, c = med(g, 0), med(g, 1)
        rw = f"{w / med(base, 0):.2f}x" if base else "-"
        rc = f"{c / med(base, 1):.2f}x" if base and med(base, 1) else "-"
        print(f"| {way} | {tool} | {w:.2f} | {n * size / 1e6 / w:.0f} | {c:.2f} | {med(g, 2) / 1024:.1f} | "
              f"{min(x[3] for x in g)}/{n} | {rw} | {rc} |")
ones = [k for k in groups if k[0].startswith("one-")]
if ones:
    print(f"\nOne host, the same file, median of {runs_one} alternating rounds:\n")
    print("| way | tool | wall s | MB/s | client CPU s | copies ok | mtssh throughput vs this |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for way in ("push", "pull"):
        base = groups.get(("one-mtssh", way))
        for tool in ("one-mtssh", "one-scp", "one-sftp"):
            g = groups.get((tool, way))
            if not g: continue
            w = med(g, 0)
            ratio = f"{w / med(base, 0):.2f}" if base else "-"
            print(f"| {way} | {tool[4:]} | {w:.2f} | {size / 1e6 / w:.0f} | {med(g, 1):.2f} | "
                  f"{sum(x[3] for x in g)}/{len(g)} | {ratio} |")
EOF
)
report+=$'\n\n'"Load: before \`${load_before# }\`, after \`${load_after# }\`."$'\n\n'
report+="Ciphers negotiated: OpenSSH: ${kex_ssh:-?}; mtssh (russh): ${kex_mtssh:-?}"$'\n'
echo "$report"
[ -n "$out_md" ] && { echo "$report" >"$out_md"; cp "$work/results.tsv" "${out_md%.md}.tsv"; }
if [ -s "$work/err.txt" ]; then
  echo "--- client stderr (first lines) ---" >&2; sort "$work/err.txt" | uniq -c | sort -rn | head -8 >&2
fi
# Hosts a tool's own report says failed (mtssh folds them as "NAME (failed: why)").
if grep -q "(failed" "$work/out.txt" 2>/dev/null; then
  echo "--- failed hosts ---" >&2; grep "(failed" "$work/out.txt" | sort | uniq -c | sort -rn | head -20 >&2
fi
