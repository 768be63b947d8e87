#!/usr/bin/env bash
# Measures `mtssh run` (release) on loopback: N sessions against the mock server (its own
# process) and H hosts served by private sshd processes (16 addresses each).
# Usage: scripts/measure-run.sh [SESSIONS=1000] [SSHD_HOSTS=200]
# Prints client wall / CPU / peak RSS (GNU time) and the mock server's peak RSS.
set -euo pipefail
sessions=${1:-1000}
hosts=${2:-200}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/target/release/mtssh"
[ -x "$bin" ] || cargo build --release --manifest-path "$root/Cargo.toml"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
export HOME="$work/home" XDG_DATA_HOME="$work/home/data" XDG_CONFIG_HOME="$work/home/config"
mkdir -p "$HOME/.ssh"
unset SSH_AUTH_SOCK
timefmt='wall %e s, user %U s, sys %S s, peak RSS %M KB'

echo "== $sessions sessions against the mock server (separate process)"
"$bin" mock --bind 127.0.0.9 --port 0 >"$work/mock.out" 2>/dev/null &
mock_pid=$!
for _ in $(seq 100); do [ -s "$work/mock.out" ] && break; sleep 0.1; done
addr=$(awk '{print $3}' "$work/mock.out")
MTSSH_PASSWORD=123456 /usr/bin/time -f "client: $timefmt" "$bin" run -H "test@$addr" --count "$sessions" \
  --per-host 64 --known-hosts "$work/kh" -c 'echo tok' >"$work/out.txt"
echo "mock server: $(grep VmHWM /proc/$mock_pid/status)"
grep -c '^tok' "$work/out.txt" >/dev/null && echo "folded report: $(grep -c 'exit 0' "$work/out.txt") group(s)"
kill $mock_pid

if [ -x /usr/sbin/sshd ]; then
  echo "== $hosts hosts served by sshd"
  mkdir -p /run/sshd
  ssh-keygen -q -N '' -t ed25519 -f "$work/host_key"
  ssh-keygen -q -N '' -t ed25519 -f "$work/client"
  cp "$work/client.pub" "$work/authorized_keys"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.50.1",0)); print(s.getsockname()[1])')
  printf '[defaults]\nuser = "%s"\nidentity_file = "%s"\nknown_hosts = "%s"\nconnect_timeout = 30\n\n' \
    "$(id -un)" "$work/client" "$work/kh2" >"$work/hosts.toml"
  n=0; proc=0
  while [ $n -lt "$hosts" ]; do
    cfg="$work/sshd$proc.conf"; : >"$cfg"
    for _ in $(seq 16); do
      [ $n -ge "$hosts" ] && break
      ip="127.50.$((n / 250)).$((n % 250 + 1))"
      echo "ListenAddress $ip:$port" >>"$cfg"
      printf '[[hosts]]\nname = "h%03d"\nhost = "%s"\nport = %s\n\n' $((n + 1)) "$ip" "$port" >>"$work/hosts.toml"
      n=$((n + 1))
    done
    printf 'HostKey %s\nPidFile %s/sshd%s.pid\nAuthorizedKeysFile %s/authorized_keys\nUsePAM no\nStrictModes no\nPermitRootLogin yes\nPasswordAuthentication no\nMaxStartups 2000\nUseDNS no\nLogLevel ERROR\n' \
      "$work/host_key" "$work" "$proc" "$work" >>"$cfg"
    /usr/sbin/sshd -D -e -f "$cfg" 2>/dev/null &
    proc=$((proc + 1))
  done
  sleep 1
  /usr/bin/time -f "client: $timefmt" "$bin" run -f "$work/hosts.toml" -c 'echo tok' --json >"$work/out2.txt"
  python3 -c "import json,sys; d=[json.loads(l)['duration_ms'] for l in open(sys.argv[1])]; d.sort(); print('per-host ms: min', d[0], 'median', d[len(d)//2], 'max', d[-1])" "$work/out2.txt"
fi
