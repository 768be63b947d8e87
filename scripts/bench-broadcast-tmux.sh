#!/usr/bin/env bash
# bench-broadcast-tmux.sh: one broadcast line to N sessions on OpenSSH sshd, timed until every
# pane shows its output: mtssh (running in one big tmux pane) against tmux itself with
# `synchronize-panes` over N `ssh` panes. Same machine, same run, rounds alternating.
#
# Set-up (loopback only, every step bounded by `timeout`):
#   sshd     one private OpenSSH sshd (-D), ListenAddress 127.62.0.1-$ADDRS on one port,
#            private ed25519 host key, public-key login with a private client key, UsePAM no,
#            MaxStartups raised. `ForceCommand` gives every session the same cheap shell
#            (`bash --noprofile --norc -i`, PS1='$ '), and `SetEnv HOME` an empty home (Debian's
#            bash sources ~/.bashrc even for sshd's `bash -c`), so the login user's start-up
#            files stay out of every case. Pinned to core $SERVER_CPU with its sessions.
#   clients  own HOME, no agent (SSH_AUTH_SOCK unset), known_hosts pre-written and checked
#            strictly. Every tmux server (and so every ssh and mtssh it runs) and the driver
#            are pinned to core $CLIENT_CPU.
#   tmux     a tmux server (own socket, -f of its own) with one window of $TMUX_SIZE, N tiled
#            panes each running `ssh -F /dev/null -tt ... host`, `synchronize-panes on`.
#   mtssh    for each binary of MTSSH_BINS, a tmux server with one pane of $MTSSH_SIZE
#            running `mtssh -f hosts.toml --ssh-config none --confirm-over N` (N hosts, all on
#            one page; without the last option the safe broadcast asks before a line goes to
#            more than 50 receivers, and line mode shows nothing).
#
# One round, the same for every case (scripts/bench-broadcast-tmux.py does it through a tmux
# control-mode client, `tmux -C attach`, which reports `%output %PANE data` as tmux reads each
# pane's bytes): type `echo mark$((K))x` (`send-keys -l`: one input to tmux, which the
# sync option fans out to every pane, or which mtssh puts in its broadcast line), wait until
# the panes are quiet, then hand Enter to tmux (`send-keys Enter`, written to the control
# client: the clock starts just before that write). Stop the clock when every pane shows the
# command's output `markKx` (the echo shows `mark$((K))x`, never `markKx`;
# with the prompt `$ ` it is 21 columns, so it fits mtssh's 23-column panes at 250x80 and
# the remote readline never wraps it: a wrapped line is redrawn at Enter, ~100 B more a
# session, which made sshd work ~1 ms more a round for mtssh's narrower panes than for tmux's):
#   tmux   when each of the N panes' output (unescaped %output) has contained `markKx`;
#   mtssh  its pane's %output chunks, timestamped at receipt, are replayed afterwards through
#          a terminal emulator (pyte) started from the pane's screen just before Enter
#          (`capture-pane`); the time is that of the first chunk after which the emulated
#          screen shows `markKx` N times. The replayed screen is checked against tmux's own
#          (`capture-pane` after the round): the counts must agree.
# Every round reads for 1 s after Enter whatever the case; per round it records the client's
# CPU (schedstat: the tmux server and N ssh, or the tmux server and mtssh), the server's (sshd
# and every session under it), what the server's processes did by command name (CPU, time
# slices, read and write calls: /proc/PID/schedstat and io), each core's busy and steal time
# (/proc/stat), the bytes tmux read from the pane(s), and how the panes filled (ms : panes
# showing the output).
#
# Usage: scripts/bench-broadcast-tmux.sh [OUT.md]     (OUT.md and OUT.tsv: report, rounds)
#   env: N=100 ROUNDS=10 WARMUP=2 ADDRS=10 SERVER_CPU=0 CLIENT_CPU=1
#        MTSSH_BINS="after=target/release/mtssh before=/path/to/old/mtssh"  (label=binary ...)
#        TMUX_SIZE=400x200 MTSSH_SIZE=250x80
#        KEYS_MODE=0   1, or some labels of MTSSH_BINS: also run those binaries with F3 (every
#                      keystroke broadcast), so that Enter sends only CR, as tmux's does
#        LINE_MODE=1   0: leave out the line-mode cases (with KEYS_MODE: twice the rounds of
#                      the like-for-like case in the same time)
#        TRACE=0       R: R more rounds per mtssh case under `perf trace` (socket writes and
#                      reads, terminal writes after mtssh read Enter), reported apart
#        PROFILE=0     R: R more rounds per mtssh case under `perf record -g` (cpu-clock) and
#                      `perf stat` (syscall counts); perf-LABEL-KIND.data stays in the scratch
#                      directory (use with KEEP=1, then `perf report --no-children -i ...`)
#        SCHED=0       1: record every context switch of both cores (`perf record -e
#                      sched:sched_switch`) through the timed rounds and report, per case, when
#                      the server core last ran sshd or a session, and how idle each core was
#                      before: which side bounds the round
#        KEEP=0        1: keep the scratch directory (traces, mtssh stderr, sshd log)
#        TMUX_LAST=0   1: start the tmux case's sessions after mtssh's (the server's processes
#                      for the sessions started first are the older ones: does it matter?)
#        SHOWN=0       1: also a case `tmux-shown`: the same synchronized panes on a tmux server
#                      of their own, shown by a tmux client (`tmux attach`) running in a pane
#                      of $TMUX_SIZE of the case's tmux server, and timed as mtssh is (that
#                      pane's %output replayed). The `tmux` case stops the clock when tmux
#                      reads the panes' output, before it draws anything for a client; here
#                      tmux too pays for showing it, as mtssh does.
# Needs: sshd, ssh, tmux, python3 with pyte (installed with pip if missing), taskset; perf for
# TRACE, PROFILE and SCHED.
set -euo pipefail

N=${N:-100}
ROUNDS=${ROUNDS:-10}
WARMUP=${WARMUP:-2}
ADDRS=${ADDRS:-10}
export ADDRS
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
TMUX_SIZE=${TMUX_SIZE:-400x200}
MTSSH_SIZE=${MTSSH_SIZE:-250x80}
KEYS_MODE=${KEYS_MODE:-0}
TMUX_LAST=${TMUX_LAST:-0}
LINE_MODE=${LINE_MODE:-1}
TRACE=${TRACE:-0}
PROFILE=${PROFILE:-0}
SCHED=${SCHED:-0}
out_md=${1:-}
root=$(cd "$(dirname "$0")/.." && pwd)
default_bin="${CARGO_TARGET_DIR:-$root/target}/release/mtssh"
MTSSH_BINS=${MTSSH_BINS:-"mtssh=$default_bin"}

# --- tools ---------------------------------------------------------------------------
need_apt=()
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v ssh >/dev/null || need_apt+=(openssh-client)
command -v tmux >/dev/null || need_apt+=(tmux)
command -v taskset >/dev/null || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing with apt-get: ${need_apt[*]}" >&2
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! python3 -c 'import pyte' 2>/dev/null; then
  echo "installing with pip: pyte" >&2
  pip install -q pyte
fi
if { [ "$TRACE" != 0 ] || [ "$PROFILE" != 0 ] || [ "$SCHED" != 0 ]; } && ! command -v perf >/dev/null; then
  echo "TRACE, PROFILE and SCHED need perf (apt-get install linux-perf)" >&2; exit 2
fi
for spec in $MTSSH_BINS; do
  b=${spec#*=}
  if [ ! -x "$b" ]; then
    [ "$b" = "$default_bin" ] || { echo "not an executable: $b" >&2; exit 2; }
    cargo build --release --bin mtssh --manifest-path "$root/Cargo.toml"
  fi
done

# --- scratch space and cleanup -------------------------------------------------------
work=$(mktemp -d /tmp/bench-tmux.XXXXXX)
sshd_pid=
cleanup() {
  # tmux servers first (their ssh clients and mtssh go with them), then sshd
  for s in "$work"/tmux-*.sock; do
    [ -S "$s" ] && timeout 10 tmux -S "$s" kill-server 2>/dev/null || true
  done
  if [ -n "$sshd_pid" ]; then kill "$sshd_pid" 2>/dev/null || true; wait "$sshd_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
unset SSH_AUTH_SOCK TMUX TMUX_PANE
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_DATA_HOME="$work/home/.local/share" \
  XDG_STATE_HOME="$work/home/.local/state"
mkdir -p "$HOME"
user=$(id -un)

ssh-keygen -q -N '' -t ed25519 -f "$work/host_key"
ssh-keygen -q -N '' -t ed25519 -f "$work/client"
cp "$work/client.pub" "$work/authorized_keys"
mkdir -p /run/sshd
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.62.0.1",0)); print(s.getsockname()[1])')
ip_of() { echo "127.62.0.$(($1 % ADDRS + 1))"; }

# --- sshd ------------------------------------------------------------------------------
[ "$ADDRS" -le 16 ] || { echo "ADDRS: at most 16 (sshd's ListenAddress limit)" >&2; exit 2; }
hostkey_pub=$(cut -d' ' -f1,2 "$work/host_key.pub")
cfg="$work/sshd.conf"; : >"$cfg"; : >"$work/known_hosts"
for a in $(seq 0 $((ADDRS - 1))); do
  ip=$(ip_of "$a")
  echo "ListenAddress $ip:$port" >>"$cfg"
  echo "[$ip]:$port $hostkey_pub" >>"$work/known_hosts"
done
# The cases run together: N sessions each, all connecting at start-up.
printf '%s\n' "HostKey $work/host_key" "PidFile none" "AuthorizedKeysFile $work/authorized_keys" \
  "UsePAM no" "StrictModes no" "PermitRootLogin yes" "PasswordAuthentication no" \
  "KbdInteractiveAuthentication no" "MaxStartups 4000" "MaxSessions 100" "UseDNS no" \
  "LogLevel ERROR" "PrintMotd no" "PrintLastLog no" "Banner none" \
  "SetEnv HOME=$work/remote-home" \
  "ForceCommand exec env PS1='\$ ' HISTFILE=/dev/null bash --noprofile --norc -i" >>"$cfg"
mkdir -p "$work/remote-home"
taskset -c "$SERVER_CPU" /usr/sbin/sshd -D -e -f "$cfg" 2>>"$work/sshd.log" &
sshd_pid=$!
for _ in $(seq 50); do
  python3 - "$(ip_of $((ADDRS - 1)))" "$port" <<'EOF' 2>/dev/null && break
import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
EOF
  sleep 0.2
done
echo "sshd on $ADDRS addresses 127.62.0.1-$ADDRS port $port (core $SERVER_CPU)" >&2

# --- clients' files ----------------------------------------------------------------------
# ssh for the tmux panes: one line per pane in ssh-cmds.txt
ssh_base="ssh -F /dev/null -tt -o BatchMode=yes -o StrictHostKeyChecking=yes \
-o UserKnownHostsFile=$work/known_hosts -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes \
-o IdentityAgent=none -i $work/client -p $port -l $user -o ConnectTimeout=30 -o LogLevel=ERROR"
: >"$work/ssh-cmds.txt"
printf '[defaults]\nuser = "%s"\nidentity_file = "%s"\nknown_hosts = "%s"\nhost_key_check = "strict"\nconnect_timeout = 30\n\n' \
  "$user" "$work/client" "$work/known_hosts" >"$work/hosts.toml"
for i in $(seq 0 $((N - 1))); do
  ip=$(ip_of "$i")
  echo "$ssh_base $ip" >>"$work/ssh-cmds.txt"
  printf '[[hosts]]\nname = "h%03d"\nhost = "%s"\nport = %s\n\n' $((i + 1)) "$ip" "$port" >>"$work/hosts.toml"
done
# mtssh runs one session per destination once (`user@host:port` twice is one host, as in
# clush), and the N sessions share ADDRS destinations: it gets the first ADDRS hosts with
# `--count N/ADDRS` (copies are kept), the same N sessions spread the same way.
[ $((N % ADDRS)) = 0 ] || { echo "N must be a multiple of ADDRS ($ADDRS)" >&2; exit 2; }
head -n $((7 + 5 * ADDRS)) "$work/hosts.toml" >"$work/hosts-mtssh.toml"
# tmux: no user config; escape-time 0 (keys are never held back). window-size manual is set
# after new-session (in the config file, tmux 3.3a exits at start-up).
printf '%s\n' "set -g status off" "set -g escape-time 0" \
  "set -g history-limit 2000" "set -g remain-on-exit on" "set -g default-terminal tmux-256color" \
  >"$work/tmux.conf"

cases=()
[ "$TMUX_LAST" = 1 ] || cases+=(tmux)
[ "${SHOWN:-0}" != 1 ] || cases+=(tmux-shown)
for spec in $MTSSH_BINS; do
  label=${spec%%=*} b=$(readlink -f "${spec#*=}")
  [ "$LINE_MODE" = 0 ] || cases+=("mtssh:$label=$b")
  case " $KEYS_MODE " in *" 1 "* | *" $label "*) cases+=("mtssh-keys:$label=$b") ;; esac
done
[ "$TMUX_LAST" != 1 ] || cases+=(tmux)

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $load_before" >&2
status=0
timeout $((600 + ROUNDS * 60)) taskset -c "$CLIENT_CPU" python3 "$root/scripts/bench-broadcast-tmux.py" \
  --work "$work" --n "$N" --rounds "$ROUNDS" --warmup "$WARMUP" \
  --tmux-size "$TMUX_SIZE" --mtssh-size "$MTSSH_SIZE" --client-cpu "$CLIENT_CPU" \
  --sshd-pid "$sshd_pid" --load-before "$load_before" --trace "$TRACE" --profile "$PROFILE" --sched "$SCHED" --server-cpu "$SERVER_CPU" --out "$work/report.md" "${cases[@]}" || status=$?
if [ -s "$work/report.md" ]; then
  cat "$work/report.md"
  if [ -n "$out_md" ]; then
    cp "$work/report.md" "$out_md"
    cp "$work/rounds.tsv" "${out_md%.md}.tsv"
  fi
fi
grep -v kex_exchange_identification "$work/sshd.log" >"$work/sshd.err" || true  # minus our port probe
if [ -s "$work/sshd.err" ]; then
  echo "--- sshd log (first lines) ---" >&2; sort "$work/sshd.err" | uniq -c | sort -rn | head -5 >&2
fi
exit "$status"
