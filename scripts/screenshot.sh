#!/usr/bin/env bash
# Renders a screenshot of the release binary in tmux at 160x42 against the practice mock
# server (on free ports, so a taken 2222 does not matter):
#
#   scripts/screenshot.sh [OUT]            assets/screenshot.png: four panes after a few
#                                          broadcasts
#   scripts/screenshot.sh --results [OUT]  assets/results.png: twelve hosts, three of them
#                                          differing on purpose, and the F9 results view
#
# Needs tmux, python3 and ImageMagick (`convert`) with the DejaVu fonts; when ImageMagick or
# the fonts are missing it installs them with apt-get (Debian/Ubuntu, as root).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cols=160
rows=42
scene=grid
if [ "${1:-}" = --results ]; then
    scene=results
    shift
fi
default_out=assets/screenshot.png
[ "$scene" = results ] && default_out=assets/results.png
out=${1:-$default_out}
font=/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf
bold=/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf

if ! convert -version 2>/dev/null | grep -q ImageMagick || [ ! -f "$font" ]; then
    echo "screenshot.sh: installing imagemagick and fonts-dejavu-core with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq imagemagick fonts-dejavu-core
fi
command -v tmux >/dev/null || { echo "screenshot.sh: tmux is needed" >&2; exit 1; }

cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$root/target}/release/mtssh"

work=$(mktemp -d)
socket="mtssh-shot-$$"
mock_pid=
cleanup() {
    tmux -L "$socket" kill-server 2>/dev/null || true
    [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
# A home of its own: the mock's host key and mtssh's known_hosts stay out of the user's.
export HOME="$work" XDG_DATA_HOME="$work/data" XDG_STATE_HOME="$work/state" \
    XDG_CONFIG_HOME="$work/config"
unset SSH_AUTH_SOCK MTSSH_PASSWORD

hosts=4
mock_args=()
if [ "$scene" = results ]; then
    hosts=12
    # Two kinds of wrong answer: a full disk on 9-10, a missing package on 12.
    mock_args=(--differ '9-10:1:df: /var: No space left on device' --differ '12:127:nginx: command not found')
fi
"$bin" mock --hosts "$hosts" --port 0 --write-hosts "$work/hosts.toml" "${mock_args[@]}" \
    >"$work/mock.out" 2>/dev/null &
mock_pid=$!
for _ in $(seq 100); do
    [ "$(grep -c '^listening' "$work/mock.out" 2>/dev/null)" = "$hosts" ] && break
    sleep 0.1
done

capture() { tmux -L "$socket" capture-pane -p -t shot; }
wait_for() { # wait_for TEXT [COUNT]: until TEXT shows at least COUNT times
    for _ in $(seq 200); do
        [ "$(capture | grep -oF -- "$1" | wc -l)" -ge "${2:-1}" ] && return 0
        sleep 0.1
    done
    echo "screenshot.sh: timed out waiting for '$1'" >&2
    capture >&2
    exit 1
}
keys() { tmux -L "$socket" send-keys -t shot "$@"; }

tmux -L "$socket" -f /dev/null new-session -d -s shot -x "$cols" -y "$rows" \
    "TERM=xterm-256color '$bin' -f '$work/hosts.toml' --known-hosts '$work/known_hosts'; sleep 60"
tmux -L "$socket" set-option -t shot -g default-terminal xterm-256color >/dev/null
wait_for ':~$' "$hosts"
if [ "$scene" = results ]; then
    keys -l 'echo deploy v2.4 ok'
    keys Enter
    wait_for '✓' 9
    keys F9
    wait_for 'in 3 groups'
    keys Down # the full disks' group: its output under the list
    wait_for 'No space left'
else
    for cmd in 'hostname' 'uptime' 'echo "hello from one event loop"'; do
        keys -l "$cmd"
        keys Enter
    done
    wait_for 'hello from one event loop' 8
    # Take mock-04 out of the broadcast (○) and show a command that skips it.
    keys Tab Tab Tab M-t
    keys -l 'whoami'
    keys Enter
    wait_for '○ mock-04'
    wait_for 'whoami' 3
    keys Tab
fi
sleep 0.5 # let the last frame land

tmux -L "$socket" capture-pane -e -p -t shot >"$work/screen.ansi"
python3 scripts/ansi2mvg.py "$work/screen.ansi" "$cols" "$rows" "$font" "$bold" >"$work/screen.mvg"
mkdir -p "$(dirname "$out")"
# MVG as an input format: Debian's ImageMagick policy forbids -draw @file.
convert "mvg:$work/screen.mvg" "$out"
echo "wrote $out"
