#!/usr/bin/env bash
# bench-peers.sh: mtssh against other many-host SSH clients, on loopback only.
#
# Starts private OpenSSH sshd processes (16 ListenAddress on 127.61.x.y each, one port,
# MaxStartups raised, UsePAM no, a private ed25519 host key, public-key login with a private
# client key), then for each N in $NS runs `echo ok` on N hosts with:
#   ssh-loop   a sequential loop of OpenSSH `ssh -F /dev/null` (BatchMode, own known_hosts)
#   pdsh       pdsh -R ssh -f $FANOUT (PDSH_SSH_ARGS: -F /dev/null, same options)
#   pssh       parallel-ssh (pssh.clients.ParallelSSHClient, libssh2), pool_size=$FANOUT
#   asyncssh   asyncssh, asyncio.gather of connections, at most $FANOUT handshakes at once
#   mtssh      mtssh run -f hosts.toml (release build, default --fanout 64)
# $RUNS alternating rounds (client order rotates each round); the table shows medians of
# wall time, client CPU (user+sys, children included) and peak RSS, from GNU time. Every
# host's output is counted ("ok" column: hosts that answered `ok`, of N). The median's RSS
# for pdsh / ssh-loop is the largest single process (GNU time's %M), not their sum.
# Then one session streams a 200 MB text file: `ssh host cat F` vs `mtssh run --inline`.
# Finally it reports the key exchange each client negotiated.
#
# sshd runs pinned to core 0 (`taskset -c 0`), every client to core 1 (`taskset -c 1`).
# Hosts keys are pre-written to a known_hosts file that ssh, pdsh and mtssh check strictly;
# pssh (no host key check in its API) and asyncssh (known_hosts=None) do not check.
#
# Missing tools are installed: `apt-get install openssh-server pdsh time` and
# `pip install parallel-ssh asyncssh` (run as root). Traffic goes to 127.0.0.0/8 only;
# every command is bounded by `timeout`.
#
# Usage: scripts/bench-peers.sh [OUT.md]      env: NS="50 200" RUNS=3 FANOUT=64 THROUGHPUT=1
set -euo pipefail

NS=${NS:-"50 200"}
RUNS=${RUNS:-3}
FANOUT=${FANOUT:-64}
THROUGHPUT=${THROUGHPUT:-1}
CLIENTS=${CLIENTS:-"ssh-loop pdsh pssh asyncssh mtssh"}
out_md=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${MTSSH_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/mtssh}"

# --- tools ---------------------------------------------------------------------------
need_apt=()
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v pdsh >/dev/null || need_apt+=(pdsh)
[ -x /usr/bin/time ] || need_apt+=(time)
command -v taskset >/dev/null || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing with apt-get: ${need_apt[*]}" >&2
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! python3 -c 'import pssh.clients, asyncssh' 2>/dev/null; then
  echo "installing with pip: parallel-ssh asyncssh" >&2
  pip install -q parallel-ssh asyncssh
fi
[ -x "$bin" ] || cargo build --release --manifest-path "$root/Cargo.toml"

# --- scratch space and cleanup -------------------------------------------------------
work=$(mktemp -d /tmp/bench-peers.XXXXXX)
sshd_pids=()
cleanup() {
  for p in "${sshd_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${sshd_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
unset SSH_AUTH_SOCK

max_n=0
for n in $NS; do [ "$n" -gt "$max_n" ] && max_n=$n; done

# --- sshd processes, 16 addresses each (scripts/loopback-sshd.sh) ---------------------
SSHD_NET=127.61
# shellcheck source=scripts/loopback-sshd.sh
. "$root/scripts/loopback-sshd.sh"
start_loopback_sshd "$max_n"

# --- per-N host lists ----------------------------------------------------------------
for n in $NS; do write_mtssh_hosts "$n" "$work/hosts$n.toml"; done

# --- python drivers --------------------------------------------------------------------
cat >"$work/pssh_driver.py" <<'EOF'
# parallel-ssh: run CMD on every host of HOSTS_FILE; print ok=COUNT (and the kex with -k).
import sys
from pssh.clients import ParallelSSHClient
hosts_file, port, user, key, cmd, pool = sys.argv[1:7]
hosts = [line.strip() for line in open(hosts_file) if line.strip()]
client = ParallelSSHClient(hosts, user=user, pkey=key, port=int(port),
                           pool_size=int(pool), num_retries=1, timeout=60)
output = client.run_command(cmd, stop_on_errors=False)
client.join(output)
ok = 0
for host_out in output:
    if host_out.exception is None and list(host_out.stdout) == ["ok"] and host_out.exit_code == 0:
        ok += 1
print(f"ok={ok}")
if "-k" in sys.argv[7:]:
    from ssh2.session import LIBSSH2_METHOD_KEX, LIBSSH2_METHOD_CRYPT_CS
    session = output[0].client.session
    print("kex:", session.methods(LIBSSH2_METHOD_KEX), "cipher:", session.methods(LIBSSH2_METHOD_CRYPT_CS))
EOF
cat >"$work/asyncssh_driver.py" <<'EOF'
# asyncssh: asyncio.gather of one connection + exec per host; print ok=COUNT.
import asyncio, logging, sys
import asyncssh
hosts_file, port, user, key, cmd, fanout = sys.argv[1:7]
hosts = [line.strip() for line in open(hosts_file) if line.strip()]
limit = asyncio.Semaphore(int(fanout))
kex = []

async def one(host):
    async with limit:  # bounds handshakes in flight, like the other clients' fanout
        conn = await asyncssh.connect(host, port=int(port), username=user, client_keys=[key],
                                      known_hosts=None, agent_path=None, connect_timeout=60)
    async with conn:
        result = await conn.run(cmd, check=False)
        return result.exit_status == 0 and result.stdout == "ok\n"

class KexLog(logging.Handler):  # asyncssh logs the chosen algorithms at debug level 2
    def emit(self, record):
        text = record.getMessage()
        if "Key exchange alg:" in text or "Encryption alg:" in text:
            kex.append(text.strip())

if "-k" in sys.argv[7:]:
    asyncssh.set_debug_level(2)
    logging.getLogger("asyncssh").setLevel(logging.DEBUG)
    logging.getLogger("asyncssh").addHandler(KexLog())

async def main():
    results = await asyncio.gather(*(one(h) for h in hosts), return_exceptions=True)
    print(f"ok={sum(1 for r in results if r is True)}")
    if "-k" in sys.argv[7:]:
        print("kex:", "; ".join(dict.fromkeys(kex)))

asyncio.run(main())
EOF

# --- one measurement -------------------------------------------------------------------
# measure CLIENT N ROUND: appends "client n round wall user sys rss ok" to results.tsv.
measure() {
  local client=$1 n=$2 round=$3 out="$work/out.txt" t="$work/time.txt" ok
  local hosts="$work/hosts$n.txt"
  : >"$out"
  case $client in
    ssh-loop)
      taskset -c 1 /usr/bin/time -o "$t" -f '%e %U %S %M' timeout 600 \
        bash -c 'while read -r h; do ssh "${@:2}" "$h" echo ok </dev/null; done <"$1"' _ "$hosts" "${ssh_opts[@]}" \
        >"$out" 2>>"$work/err.txt" || true
      ok=$(grep -c '^ok$' "$out" || true) ;;
    pdsh)
      PDSH_SSH_ARGS="${ssh_opts[*]} -l%u %h" PDSH_RCMD_TYPE=ssh \
        taskset -c 1 /usr/bin/time -o "$t" -f '%e %U %S %M' timeout 300 \
        pdsh -R ssh -f "$FANOUT" -t 30 -w "^$hosts" echo ok >"$out" 2>>"$work/err.txt" || true
      ok=$(grep -c ': ok$' "$out" || true) ;;
    pssh)
      taskset -c 1 /usr/bin/time -o "$t" -f '%e %U %S %M' timeout 300 \
        python3 "$work/pssh_driver.py" "$hosts" "$port" "$user" "$work/client" "echo ok" "$FANOUT" \
        >"$out" 2>>"$work/err.txt" || true
      ok=$(sed -n 's/^ok=//p' "$out") ;;
    asyncssh)
      taskset -c 1 /usr/bin/time -o "$t" -f '%e %U %S %M' timeout 300 \
        python3 "$work/asyncssh_driver.py" "$hosts" "$port" "$user" "$work/client" "echo ok" "$FANOUT" \
        >"$out" 2>>"$work/err.txt" || true
      ok=$(sed -n 's/^ok=//p' "$out") ;;
    mtssh)
      taskset -c 1 /usr/bin/time -o "$t" -f '%e %U %S %M' timeout 300 \
        "$bin" run -f "$work/hosts$n.toml" --ssh-config none --json -c 'echo ok' \
        >"$out" 2>>"$work/err.txt" || true
      # the JSON has other fields (exit_signal) between the two
      ok=$(grep '"exit_status":0,' "$out" | grep -c '"stdout":"ok\\n"' || true) ;;
  esac
  read -r wall usr sys rss < <(tail -1 "$t")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$client" "$n" "$round" "$wall" "$usr" "$sys" "$rss" "${ok:-0}" \
    | tee -a "$work/results.tsv" >&2
}

: >"$work/results.tsv"
read -r -a clients <<<"$CLIENTS"
for round in $(seq "$RUNS"); do
  # rotate the order each round so no client always runs first (cold caches) or last
  k=$(( (round - 1) % ${#clients[@]} ))
  order=("${clients[@]:k}" "${clients[@]:0:k}")
  for n in $NS; do
    for c in "${order[@]}"; do measure "$c" "$n" "$round"; done
  done
done

# --- throughput: one session, a 200 MB file ---------------------------------------------
if [ "$THROUGHPUT" = 1 ]; then
  head -c 150000000 /dev/urandom | base64 -w 76 >"$work/big.txt"   # ~200 MB of text lines
  size=$(stat -c %s "$work/big.txt")
  ip=$(ip_of 0)
  for round in $(seq "$RUNS"); do
    for c in ssh mtssh; do
      t="$work/time.txt"
      if [ $c = ssh ]; then
        taskset -c 1 /usr/bin/time -o "$t" -f '%e %U %S %M' timeout 300 \
          ssh "${ssh_opts[@]}" "$ip" cat "$work/big.txt" >/dev/null
      else
        taskset -c 1 /usr/bin/time -o "$t" -f '%e %U %S %M' timeout 300 \
          "$bin" run -H "$user@$ip:$port" -i "$work/client" --known-hosts "$work/known_hosts" \
          --host-key-check strict --ssh-config none --inline -c "cat $work/big.txt" >/dev/null
      fi
      read -r wall usr sys rss < <(tail -1 "$t")
      printf 'cat-%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$size" "$round" "$wall" "$usr" "$sys" "$rss" 1 \
        | tee -a "$work/results.tsv" >&2
    done
  done
fi

# --- key exchange each client negotiated -------------------------------------------------
ip=$(ip_of 0); echo "$ip" >"$work/one.txt"
kex_ssh=$(timeout 30 ssh -v "${ssh_opts[@]}" -o LogLevel=DEBUG1 "$ip" true 2>&1 | grep -E 'kex: algorithm:|kex: server->client cipher' | tr '\n' ' ' | sed 's/debug1: //g')
kex_mtssh=$(MTSSH_LOG=russh=debug timeout 30 "$bin" run -H "$user@$ip:$port" -i "$work/client" --known-hosts "$work/known_hosts" \
  --ssh-config none -c true 2>&1 >/dev/null | grep -o 'kex: Name("[^"]*"), key: [^,]*, cipher: Name("[^"]*")' | head -1 || true)
kex_pssh=$(timeout 30 python3 "$work/pssh_driver.py" "$work/one.txt" "$port" "$user" "$work/client" "echo ok" 1 -k | sed -n 's/^kex: //p')
kex_async=$(timeout 30 python3 "$work/asyncssh_driver.py" "$work/one.txt" "$port" "$user" "$work/client" "echo ok" 1 -k | sed -n 's/^kex: //p')

# --- report ----------------------------------------------------------------------------
report=$(python3 - "$work/results.tsv" "$RUNS" "$FANOUT" <<'EOF'
import sys, statistics as st
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines() if l]
runs, fanout = sys.argv[2], sys.argv[3]
groups = {}
for c, n, r, wall, usr, sys_, rss, ok in rows:
    groups.setdefault((c, int(n)), []).append((float(wall), float(usr) + float(sys_), int(rss), int(ok)))
print(f"Hosts: sshd on core 0, client on core 1; fanout {fanout}; median of {runs} alternating runs.\n")
print("| N | client | wall s | CPU s (user+sys) | peak RSS MB | hosts ok | CPU vs mtssh |")
print("|---:|---|---:|---:|---:|---:|---:|")
order = "ssh-loop pdsh pssh asyncssh mtssh".split()
for n in sorted({k[1] for k in groups if not k[0].startswith("cat-")}):
    base = st.median(x[1] for x in groups.get(("mtssh", n), [(0, 0, 0, 0)]))
    for c in order:
        if (c, n) not in groups: continue
        g = groups[(c, n)]
        cpu = st.median(x[1] for x in g)
        ratio = f"{cpu / base:.1f}x" if base else "-"
        print(f"| {n} | {c} | {st.median(x[0] for x in g):.2f} | {cpu:.2f} | "
              f"{st.median(x[2] for x in g) / 1024:.1f} | {min(x[3] for x in g)}/{n} | {ratio} |")
cats = [k for k in groups if k[0].startswith("cat-")]
if cats:
    size = cats[0][1]
    print(f"\nOne session streaming {size / 1e6:.0f} MB (cat FILE > /dev/null), median of {runs}:\n")
    print("| client | wall s | MB/s | CPU s (user+sys) | peak RSS MB |")
    print("|---|---:|---:|---:|---:|")
    walls = {}
    for c in ("cat-ssh", "cat-mtssh"):
        g = groups[(c, size)]
        w = st.median(x[0] for x in g); walls[c] = w
        print(f"| {c[4:]} | {w:.2f} | {size / 1e6 / w:.0f} | {st.median(x[1] for x in g):.2f} | {st.median(x[2] for x in g) / 1024:.1f} |")
    print(f"\nmtssh throughput / ssh throughput = {walls['cat-ssh'] / walls['cat-mtssh']:.2f}")
EOF
)
report+=$'\n\nKey exchange negotiated (against this sshd):\n\n'
report+="- ssh / pdsh: ${kex_ssh:-?}"$'\n'
report+="- mtssh (russh): ${kex_mtssh:-?}"$'\n'
report+="- parallel-ssh (libssh2): ${kex_pssh:-?}"$'\n'
report+="- asyncssh: ${kex_async:-?}"$'\n'
echo "$report"
[ -n "$out_md" ] && { echo "$report" >"$out_md"; cp "$work/results.tsv" "${out_md%.md}.tsv"; }
if [ -s "$work/err.txt" ]; then
  echo "--- client stderr (first lines) ---" >&2; sort "$work/err.txt" | uniq -c | sort -rn | head -5 >&2
fi
