# loopback-sshd.sh: sourced by bench-peers.sh and bench-transfer.sh, not run.
#
# start_loopback_sshd N starts private OpenSSH sshd processes for N loopback addresses
# (16 ListenAddress on $SSHD_NET.x.y each, one free port, MaxStartups raised, UsePAM no, a
# private ed25519 host key, public-key login with a private client key, the sftp subsystem),
# pinned to core 0. Before calling: $work (scratch directory) and $SSHD_NET (say 127.61).
# If a function sshd_match_lines is defined, it is called as `sshd_match_lines IP INDEX`
# for every address and what it prints goes at the end of that sshd's config (Match blocks).
#
# Afterwards: $port, $user, $work/client (the client key), $work/known_hosts (every address's
# host key, for strict checking), the array ssh_opts (OpenSSH client options: -F /dev/null,
# BatchMode, the key, the known_hosts, the port) and the array sshd_pids (to stop them).
# ip_of I is the address of host I (0-based).

ip_of() { echo "$SSHD_NET.$(($1 / 250)).$(($1 % 250 + 1))"; }

start_loopback_sshd() {
  local max_n=$1 n=0 proc=0 ip cfg matches hostkey_pub
  sshd_pids=()
  user=$(id -un)
  ssh-keygen -q -N '' -t ed25519 -f "$work/host_key"
  ssh-keygen -q -N '' -t ed25519 -f "$work/client"
  cp "$work/client.pub" "$work/authorized_keys"
  mkdir -p /run/sshd
  port=$(python3 -c 'import socket, sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$(ip_of 0)")
  hostkey_pub=$(cut -d' ' -f1,2 "$work/host_key.pub")
  : >"$work/known_hosts"
  while [ $n -lt "$max_n" ]; do
    cfg="$work/sshd$proc.conf"; : >"$cfg"; matches=""
    for _ in $(seq 16); do
      [ $n -ge "$max_n" ] && break
      ip=$(ip_of $n)
      echo "ListenAddress $ip:$port" >>"$cfg"
      echo "[$ip]:$port $hostkey_pub" >>"$work/known_hosts"
      if declare -F sshd_match_lines >/dev/null; then matches+=$(sshd_match_lines "$ip" "$n")$'\n'; fi
      n=$((n + 1))
    done
    printf '%s\n' "HostKey $work/host_key" "PidFile none" "AuthorizedKeysFile $work/authorized_keys" \
      "UsePAM no" "StrictModes no" "PermitRootLogin yes" "PasswordAuthentication no" \
      "KbdInteractiveAuthentication no" "MaxStartups 4000" "MaxSessions 100" "UseDNS no" \
      "LogLevel ERROR" "PrintMotd no" "PrintLastLog no" \
      "Subsystem sftp /usr/lib/openssh/sftp-server" >>"$cfg"
    printf '%s' "$matches" >>"$cfg"
    taskset -c 0 /usr/sbin/sshd -D -e -f "$cfg" 2>>"$work/sshd.log" &
    sshd_pids+=($!)
    proc=$((proc + 1))
  done
  for _ in $(seq 50); do
    python3 - "$(ip_of $((max_n - 1)))" "$port" <<'EOF' 2>/dev/null && break
import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
EOF
    sleep 0.2
  done
  echo "started $proc sshd processes for $max_n addresses on port $port (core 0)" >&2
  ssh_opts=(-F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=yes
    -o "UserKnownHostsFile=$work/known_hosts" -o GlobalKnownHostsFile=/dev/null
    -o IdentitiesOnly=yes -o IdentityAgent=none -i "$work/client" -p "$port" -l "$user"
    -o ConnectTimeout=30 -o LogLevel=ERROR)
}

# write_mtssh_hosts N FILE: a host list for mtssh (TOML) of the first N addresses, strict
# host key checking against $work/known_hosts; and FILE with .txt for .toml: one address a line.
write_mtssh_hosts() {
  local n=$1 toml=$2 txt=${2%.toml}.txt i ip
  : >"$txt"
  printf '[defaults]\nuser = "%s"\nidentity_file = "%s"\nknown_hosts = "%s"\nhost_key_check = "strict"\nconnect_timeout = 30\n\n' \
    "$user" "$work/client" "$work/known_hosts" >"$toml"
  for i in $(seq 0 $((n - 1))); do
    ip=$(ip_of "$i")
    echo "$ip" >>"$txt"
    printf '[[hosts]]\nname = "h%03d"\nhost = "%s"\nport = %s\n\n' $((i + 1)) "$ip" "$port" >>"$toml"
  done
}
