"""Driver of scripts/bench-broadcast-tmux.sh (read its header for the method).

Starts one tmux server per case, talks to each through a control-mode client (`tmux -C
attach`), runs warm-up rounds then timed rounds (cases alternating, order rotating), and
writes the report (markdown) and every round's figures (rounds.tsv) into --work.

A case is `tmux` (N ssh panes, synchronize-panes), `mtssh:LABEL=BIN` (mtssh in one pane,
broadcast line) or `mtssh-keys:LABEL=BIN` (mtssh in one pane, F3: every key broadcast).
"""

import argparse
import bisect
import os
import re
import select
import statistics
import subprocess
import sys
import time

import pyte

OCTAL = re.compile(rb"\\([0-7]{3})")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def now_ns():
    return time.perf_counter_ns()


def unescape(data):
    """%output data: tmux writes bytes below 32 and backslash as \\ooo."""
    return OCTAL.sub(lambda m: bytes([int(m.group(1), 8)]), data)


class Control:
    """One `tmux -C attach` client: commands in, timestamped lines out."""

    def __init__(self, sock, conf):
        self.proc = subprocess.Popen(
            ["tmux", "-S", sock, "-f", conf, "-C", "attach", "-t", "bench"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.partial = b""
        self.lines = []  # complete lines not yet consumed: (t_ns, bytes)
        self.block = None  # lines of the command reply being read
        self.replies = []  # finished replies to our commands: (ok, [lines])
        self.bytes_read = 0

    def send(self, cmd):
        """Hands a command line to tmux; returns the time just before the write."""
        t = now_ns()
        self.proc.stdin.write(cmd.encode() + b"\n")
        self.proc.stdin.flush()
        return t

    def pump(self, timeout):
        """Reads what tmux wrote within `timeout` s; returns the new output lines."""
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return []
        try:
            data = os.read(self.fd, 1 << 20)
        except BlockingIOError:
            return []
        t = now_ns()
        if not data:
            raise RuntimeError("tmux control client exited")
        self.bytes_read += len(data)
        parts = (self.partial + data).split(b"\n")
        self.partial = parts.pop()
        out = []
        for line in parts:
            if self.block is not None:
                if line.startswith((b"%end ", b"%error ")):
                    fields = line.split(b" ")
                    if fields[-1] == b"1":  # flags 1: a command of this client
                        self.replies.append((line.startswith(b"%end "), self.block))
                    self.block = None
                else:
                    self.block.append(line)
                continue
            if line.startswith(b"%begin "):
                self.block = []
                continue
            if line.startswith(b"%output "):
                out.append((t, line))
            elif line.startswith(b"%exit"):
                raise RuntimeError("tmux control client: %exit")
        return out

    def command(self, cmd, timeout=20, sink=None):
        """Runs one command and returns its reply lines; output lines read meanwhile go to
        `sink` (a list) when given."""
        self.replies.clear()
        self.send(cmd)
        deadline = time.monotonic() + timeout
        while not self.replies:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"tmux did not answer: {cmd}")
            got = self.pump(left)
            if sink is not None:
                sink.extend(got)
        ok, lines = self.replies.pop(0)
        if not ok:
            raise RuntimeError(f"tmux refused {cmd}: {b' '.join(lines).decode(errors='replace')}")
        return [x.decode(errors="replace") for x in lines]

    def drain(self, quiet, cap, sink=None):
        """Reads until nothing came for `quiet` s (at most `cap` s)."""
        end = time.monotonic() + cap
        last = time.monotonic()
        while time.monotonic() < end:
            got = self.pump(min(quiet, end - time.monotonic()))
            if got:
                last = time.monotonic()
                if sink is not None:
                    sink.extend(got)
            elif time.monotonic() - last >= quiet:
                return True
        return False

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def output_of(line):
    """(pane id, data) of one %output line."""
    _, pane, data = line.split(b" ", 2) if line.count(b" ") >= 2 else (line, b"", b"")
    return pane.decode(), unescape(data)


def descendants(pid):
    """Every process under `pid` (by /proc's ppid), `pid` included."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_ns(pids):
    """Time on CPU so far, summed over `pids` (schedstat, ns)."""
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


WORK_FIELDS = 5  # CPU ns, time slices, read calls, write calls, minor page faults


def proc_work(pids):
    """What `pids` did so far, by command name: CPU ns and time slices (schedstat), read and
    write system calls (/proc/PID/io), minor page faults (/proc/PID/stat). Which side's
    sessions cost the server more, and in what: bash's reads and writes, sshd's packets, or
    wake-ups; and on the client, fresh memory touched (a fault is a page zeroed)."""
    work = {}
    for p in pids:
        try:
            with open(f"/proc/{p}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{p}/schedstat") as f:
                ns, _, slices = (int(x) for x in f.read().split()[:3])
        except (OSError, ValueError):
            continue
        try:
            with open(f"/proc/{p}/io") as f:
                io = dict(line.split(": ") for line in f.read().splitlines())
            calls = (int(io["syscr"]), int(io["syscw"]))
        except (OSError, ValueError, KeyError):
            calls = (0, 0)  # not ours to read: its CPU still counts
        try:
            with open(f"/proc/{p}/stat") as f:
                # after "(comm)", which may hold spaces: state is field 3, minflt field 10
                faults = int(f.read().rsplit(")", 1)[1].split()[7])
        except (OSError, ValueError, IndexError):
            faults = 0
        w = work.setdefault(comm, [0] * WORK_FIELDS)
        for i, v in enumerate((ns, slices) + calls + (faults,)):
            w[i] += v
    return work


def work_delta(before, after):
    """What each command did between two `proc_work` readings."""
    return {comm: [b - a for a, b in zip(before.get(comm, [0] * WORK_FIELDS), w)]
            for comm, w in after.items()}


def core_busy_ticks():
    """Busy clock ticks per core from /proc/stat (every process, ours or not)."""
    busy = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                v = [int(x) for x in line.split()[1:]]
                # user nice system irq softirq (guest is inside user; idle, iowait, steal out)
                core = int(line[3:line.index(" ")])
                busy[core] = v[0] + v[1] + v[2] + v[5] + v[6]
                busy[f"steal{core}"] = v[7]  # time the VM's host gave this core to others
    return busy


def wait_idle(limit=90, busy_max=0.2):
    """Waits (at most `limit` s) for a second in which no core was busier than `busy_max`:
    the cases' own logins (every remote shell starting) must be over before timing."""
    hz = os.sysconf("SC_CLK_TCK")
    end = time.monotonic() + limit
    while time.monotonic() < end:
        b0 = core_busy_ticks()
        time.sleep(1)
        b1 = core_busy_ticks()
        worst = max((b1[c] - b0.get(c, 0)) / hz for c in b1 if isinstance(c, int))
        if worst <= busy_max:
            log(f"idle: busiest core {worst:.0%} over 1 s; load average "
                f"{' '.join(open('/proc/loadavg').read().split()[:3])}")
            return
    log("machine not idle: timing anyway")


server_pids = []  # sshd and every session process under it, once all are logged in


class Case:
    """One tmux server and what runs in it."""

    def __init__(self, spec, args):
        self.args = args
        self.kind, _, rest = spec.partition(":")
        self.label, _, self.bin = rest.partition("=")
        self.name = self.kind if self.kind.startswith("tmux") else f"{self.kind} {self.label}"
        tag = re.sub(r"[^A-Za-z0-9_.-]", "_", self.name)
        self.sock = os.path.join(args.work, f"tmux-{tag}.sock")
        # tmux-shown: the synchronized panes live on a server of their own, shown by a tmux
        # client that runs in this case's (outer) pane, as mtssh does
        self.inner_sock = os.path.join(args.work, f"tmux-{tag}-inner.sock")
        self.inner_pid = None
        self.conf = os.path.join(args.work, "tmux.conf")
        self.ctl = None
        self.panes = []  # pane ids
        self.pids = []  # client processes: tmux server and what runs under it

    def tmux(self, *argv, sock=None):
        subprocess.run(["timeout", "20", "tmux", "-S", sock or self.sock, "-f", self.conf, *argv],
                       check=True, stdout=subprocess.DEVNULL)

    def synchronized_panes(self, sock):
        """N tiled panes, each running one `ssh`, with synchronize-panes on, on server `sock`;
        returns its control client."""
        w, h = self.args.tmux_size.split("x")
        with open(os.path.join(self.args.work, "ssh-cmds.txt")) as f:
            cmds = [line.strip() for line in f if line.strip()]
        self.tmux("new-session", "-d", "-s", "bench", "-x", w, "-y", h, cmds[0],
                  ";", "set", "-g", "window-size", "manual", sock=sock)
        ctl = Control(sock, self.conf)
        for cmd in cmds[1:]:
            ctl.command(f"split-window -t bench '{cmd}'")
            ctl.command("select-layout -t bench tiled")
        ctl.command("setw -t bench synchronize-panes on")
        return ctl

    def start(self):
        a = self.args
        if self.kind == "tmux":
            self.ctl = self.synchronized_panes(self.sock)
        elif self.kind == "tmux-shown":
            inner = self.synchronized_panes(self.inner_sock)
            self.inner_pid = int(inner.command("display -p '#{pid}'")[0])
            inner.close()  # a control client would cost the inner server %output lines
            w, h = a.tmux_size.split("x")
            cmd = f"env -u TMUX tmux -S {self.inner_sock} -f {self.conf} attach -t bench"
            self.tmux("new-session", "-d", "-s", "bench", "-x", w, "-y", h, cmd,
                      ";", "set", "-g", "window-size", "manual")
            self.ctl = Control(self.sock, self.conf)
        else:
            w, h = a.mtssh_size.split("x")
            copies = a.n // int(os.environ.get("ADDRS", "10"))
            cmd = (f"{self.bin} -f {a.work}/hosts-mtssh.toml --count {copies} --ssh-config none "
                   f"--confirm-over {a.n} "
                   f"2>>{a.work}/mtssh-{self.label}.stderr")
            self.tmux("new-session", "-d", "-s", "bench", "-x", w, "-y", h, cmd,
                      ";", "set", "-g", "window-size", "manual")
            self.ctl = Control(self.sock, self.conf)
        lines = self.ctl.command("list-panes -t bench -F '#{pane_id} #{pane_width}x#{pane_height}'")
        self.panes = [x.split()[0] for x in lines]
        self.sizes = sorted({x.split()[1] for x in lines})
        self.server_pid = int(self.ctl.command("display -p '#{pid}'")[0])

    def wait_ready(self, deadline):
        """Every session shows its shell's prompt (tmux: in every pane; mtssh: N prompts)."""
        ok = 0
        while time.monotonic() < deadline:
            if self.kind == "tmux":
                ok = 0
                for p in self.panes:
                    screen = self.ctl.command(f"capture-pane -p -t {p}")
                    text = [x for x in screen if x.strip()]
                    ok += bool(text) and text[-1].rstrip().endswith("$")
                if ok == len(self.panes):
                    break
            else:
                screen = self.ctl.command(f"capture-pane -p -t {self.panes[0]}")
                ok = sum(x.count("$ ") + x.rstrip().endswith("$") for x in screen)
                if ok >= self.args.n:
                    break
            self.ctl.drain(0.5, 0.5)
        else:
            raise RuntimeError(f"{self.name}: {ok} of {self.args.n} sessions ready")
        self.ctl.drain(0.3, 3)
        if self.kind == "mtssh-keys":  # F3: every keystroke goes to every session
            self.ctl.command(f"send-keys -t {self.panes[0]} F3")
            self.ctl.drain(0.3, 3)
        # every process of this case's client side, for its CPU per round
        self.pids = descendants(self.server_pid)
        if self.inner_pid:
            self.pids += descendants(self.inner_pid)

    def screen_now(self):
        """tmux's own view of the mtssh pane."""
        return self.ctl.command(f"capture-pane -p -t {self.panes[0]}")

    def round(self, k):
        """One timed round; returns a dict of figures (ms, bytes, CPU, frames)."""
        a = self.args
        marker = f"mark{k}x".encode()
        target = self.panes[0]
        self.ctl.command(f"send-keys -t {target} -l 'echo mark$(({k}))x'")
        if not self.ctl.drain(a.quiet, 10):
            log(f"{self.name}: panes still busy 10 s after typing")
        if self.kind != "tmux":
            screen = pyte.Screen(*map(int, self.sizes[0].split("x")))
            stream = pyte.ByteStream(screen)
            early = []
            lines = self.ctl.command(f"capture-pane -p -t {target}", sink=early)
            if early:  # output after the quiet period: the captured screen may miss it
                log(f"{self.name}: {len(early)} output lines during the capture")
            for row, text in enumerate(lines):
                stream.feed(f"\x1b[{row + 1};1H{text}".encode())
        rig = [os.getpid(), self.ctl.proc.pid]  # this driver and its control client
        work0, client0 = proc_work(server_pids), proc_work(self.pids)
        cpu0, busy0 = cpu_ns(self.pids), core_busy_ticks()
        rig0 = cpu_ns(rig)
        got = []
        self.ctl.replies.clear()
        t0 = self.ctl.send(f"send-keys -t {target} Enter")
        # Every case reads for the same window, so the CPU figures cover the same time.
        end = t0 + a.window * 1e9
        while (left := end - now_ns()) > 0:
            got.extend(self.ctl.pump(left / 1e9))
        cpu1, busy1 = cpu_ns(self.pids), core_busy_ticks()
        work1, client1 = proc_work(server_pids), proc_work(self.pids)
        rig1 = cpu_ns(rig)
        self.ctl.drain(a.quiet, 5)
        res = {
            "bytes": sum(len(output_of(line)[1]) for _, line in got),
            "cpu_ms": (cpu1 - cpu0) / 1e6,
            "server_cpu_ms": sum(w[0] for w in work1.values()) / 1e6
            - sum(w[0] for w in work0.values()) / 1e6,
            "rig_cpu_ms": (rig1 - rig0) / 1e6,
            "cores": {c: (busy1[c] - busy0.get(c, 0)) * 1000 / os.sysconf("SC_CLK_TCK")
                      for c in busy1},
            "frames": [],  # (ms, panes showing the output)
            # comm -> [CPU ns, time slices, read calls, write calls, faults] in the window
            "server_work": work_delta(work0, work1),
            "client_work": work_delta(client0, client1),
            "ms": None,
            "t0": t0,
        }
        if self.kind == "tmux":
            pending = set(self.panes)
            seen = {p: b"" for p in self.panes}
            for t, line in got:
                pane, data = output_of(line)
                if pane in pending:
                    seen[pane] = seen[pane][-64:] + data  # the marker may span two reads
                    if marker in seen[pane]:
                        pending.discard(pane)
                        res["frames"].append(((t - t0) / 1e6, len(self.panes) - len(pending)))
                        if not pending:
                            res["ms"] = (t - t0) / 1e6
            res["shown"] = len(self.panes) - len(pending)
            return res
        # mtssh: replay its pane's bytes, find the first chunk after which N panes show it
        count = 0
        for t, line in got:
            stream.feed(output_of(line)[1])
            count = sum(row.count(marker.decode()) for row in screen.display)
            res["frames"].append(((t - t0) / 1e6, count))
            if count >= a.n and res["ms"] is None:
                res["ms"] = (t - t0) / 1e6
        res["shown"] = count
        res["tmux_shown"] = sum(x.count(marker.decode()) for x in self.screen_now())
        return res


TRACE_LINE = re.compile(
    r"^\s*([0-9.]+) \(\s*([0-9.]*) ms\): [^ ]+ (\w+)\((?:fd: (\d+))?[^)]*\)\s+= (-?\d+)")


def stop_perf(perf, timeout):
    """Lets a perf that records see the last events, then stops it as Ctrl-C would (it writes
    its data out), killed if it takes longer than `timeout` s."""
    time.sleep(0.5)
    perf.send_signal(2)
    try:
        perf.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        perf.kill()


def traced_rounds(c, k, rounds):
    """Extra rounds with `perf trace` on the mtssh process: when it read Enter, wrote to the
    sessions' sockets, read their replies and wrote frames to its terminal. Returns lines of
    the report (one per round, ms after the read of Enter)."""
    a = c.args
    pid = mtssh_pid(c)
    if pid is None:
        return [f"- {c.name}: no mtssh process found"]
    kinds = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kinds[int(fd)] = "socket" if target.startswith("socket:") else \
            "tty" if target.startswith("/dev/pts/") or target == "/dev/tty" else "other"
    path = os.path.join(a.work, f"trace-{c.label}-{c.kind}.txt")
    perf = subprocess.Popen(["perf", "trace", "-T", "-p", str(pid), "-o", path, "-e",
                             "read,write,writev,sendto,recvfrom,sendmsg,recvmsg"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)  # perf attaches
    results = []
    for i in range(rounds):
        results.append(c.round(k + i))
    stop_perf(perf, 30)
    events = []
    with open(path, errors="replace") as f:
        for line in f:
            m = TRACE_LINE.match(line)
            if m:
                t, _, call, fd, ret = m.groups()
                # perf trace leaves out arguments that are 0, so a read without fd is fd 0
                events.append((float(t), call, kinds.get(int(fd or 0), "other"), int(ret)))
    events.sort()  # per-CPU buffers: lines of two threads may come out of order
    # Enter: a one-byte read from the terminal (the typed text came earlier, in one read)
    enters = [i for i, e in enumerate(events) if e[2] == "tty" and e[1] == "read" and e[3] == 1]
    out = [] if enters else [f"- {c.name}: no read of Enter in {path} (perf trace attached late?)"]
    for n, i in enumerate(enters[:rounds]):
        t0 = events[i][0]
        end = events[enters[n + 1]][0] if n + 1 < len(enters) else t0 + 1000
        span = [e for e in events[i + 1:] if e[0] < min(end, t0 + 500)]
        sent = [e[0] - t0 for e in span if e[2] == "socket" and e[1] in ("write", "writev",
                                                                         "sendto", "sendmsg")]
        got = [e[0] - t0 for e in span if e[2] == "socket" and e[1] in ("read", "recvfrom",
                                                                        "recvmsg") and e[3] > 0]
        drawn = [(e[0] - t0, e[3]) for e in span if e[2] == "tty" and e[1] in ("write", "writev")
                 and e[3] > 0]
        ms = results[n]["ms"] if n < len(results) else None

        def rng(xs):
            return f"{len(xs)} at {xs[0]:.1f}-{xs[-1]:.1f}" if xs else "none"
        out.append(f"- {c.name}, round {n + 1} ({fmt(ms)} ms by the control client): socket "
                   f"writes {rng(sent)}; socket reads with data {rng(got)}; terminal writes "
                   + ", ".join(f"{t:.1f} ({b} B)" for t, b in drawn[:12]))
    return out


def mtssh_pid(c):
    """The mtssh process of an mtssh case, or None."""
    return next((p for p in c.pids
                 if open(f"/proc/{p}/comm").read().strip().startswith("mtssh")), None)


def perf_counting(cmd, work, tag):
    """Starts `perf record`/`perf stat` CMD with its events disabled and enables them through
    its control FIFO, returning once perf acknowledges that it counts (None, perf killed,
    if it does not within 30 s): the profiled rounds start then, not after a guessed delay."""
    ctl, ack = (os.path.join(work, f"perf-{tag}.{end}") for end in ("ctl", "ack"))
    for fifo in (ctl, ack):
        os.mkfifo(fifo)
    proc = subprocess.Popen(cmd + ["-D", "-1", "--control", f"fifo:{ctl},{ack}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Non-blocking opens, so a perf that died never leaves this waiting on a FIFO.
    deadline = time.monotonic() + 30
    ctl_fd = ack_fd = None
    try:
        ack_fd = os.open(ack, os.O_RDONLY | os.O_NONBLOCK)
        while ctl_fd is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                ctl_fd = os.open(ctl, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: perf has not opened its end yet
                select.select([], [], [], 0.02)
        if ctl_fd is not None:
            os.write(ctl_fd, b"enable\n")
            while time.monotonic() < deadline and proc.poll() is None:
                ready, _, _ = select.select([ack_fd], [], [], deadline - time.monotonic())
                answer = os.read(ack_fd, 16) if ready else b"?"
                if answer.startswith(b"ack"):
                    return proc
                if not answer:  # perf closed its end without an answer
                    break
    finally:
        for fd in (ctl_fd, ack_fd):
            if fd is not None:
                os.close(fd)
    proc.kill()
    proc.wait()
    return None


PROFILED_SYSCALLS = ["write", "writev", "read", "recvfrom", "sendto", "epoll_wait",
                     "sched_yield", "futex"]


def profiled_rounds(c, k, rounds):
    """Extra rounds with `perf record -g` (cpu-clock) and `perf stat` (syscall counts) on the
    mtssh process. Leaves perf-LABEL-KIND.data in --work for `perf report --no-children`;
    returns lines of the report: per-round syscalls and bytes written to the terminal."""
    a = c.args
    pid = mtssh_pid(c)
    if pid is None:
        return [f"- {c.name}: no mtssh process found"]
    tag = f"{c.label}-{c.kind}"
    data = os.path.join(a.work, f"perf-{tag}.data")
    stat_out = os.path.join(a.work, f"perf-stat-{tag}.txt")
    record = perf_counting(["perf", "record", "-e", "cpu-clock", "-F", "4000", "-g",
                            "-p", str(pid), "-o", data], a.work, f"record-{tag}")
    events = ",".join(f"syscalls:sys_enter_{s}" for s in PROFILED_SYSCALLS)
    stat = perf_counting(["perf", "stat", "-x", ",", "-e", events, "-p", str(pid),
                          "-o", stat_out], a.work, f"stat-{tag}")
    if record is None or stat is None:
        for proc in (record, stat):
            if proc is not None:
                proc.kill()
        return [f"- {c.name}: perf did not start counting within 30 s"]
    t = time.monotonic()
    results = [c.round(k + i) for i in range(rounds)]
    span = time.monotonic() - t
    for proc in (record, stat):
        proc.send_signal(2)
    for proc in (record, stat):
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    counts = {}
    try:
        with open(stat_out) as f:
            for line in f:
                fields = line.strip().split(",")
                if len(fields) > 2 and fields[2].startswith("syscalls:sys_enter_"):
                    counts[fields[2][len("syscalls:sys_enter_"):]] = fields[0]
    except OSError:
        pass
    per = ", ".join(f"{name} {counts.get(name, '?')}" for name in PROFILED_SYSCALLS)
    ms = " ".join(fmt(x["ms"]) for x in results)
    byts = statistics.median(x["bytes"] for x in results)
    cpu = statistics.median(x["cpu_ms"] for x in results)
    return [f"- {c.name}: {rounds} profiled rounds ({ms} ms) over {span:.1f} s, median "
            f"{byts:.0f} B to the terminal and {cpu:.1f} ms client CPU per round; syscalls "
            f"in those {span:.1f} s: {per}; profile in {data}"]


def start_sched(a):
    """`perf record` of every context switch on every core, on CLOCK_MONOTONIC (the clock of
    time.perf_counter_ns, which stamps each round's Enter)."""
    path = os.path.join(a.work, "sched.data")
    perf = subprocess.Popen(["perf", "record", "-q", "-a", "-k", "CLOCK_MONOTONIC", "-e",
                             "sched:sched_switch", "-o", path],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)  # perf attaches
    return perf, path


SWITCH = re.compile(r"\[(\d+)\]\s+([0-9.]+): sched:sched_switch: .* ==> next_comm=.* next_pid=(\d+)")


def sched_report(a, sched, cases, rows):
    """Which core bounds a round: per case, medians over its rounds (ms after Enter) of when
    the server core last ran sshd or one of its sessions, the server core's idle time before
    that, the client core's idle time before every pane showed the output, and the time from
    the server's last run to the output shown."""
    perf, path = sched
    stop_perf(perf, 60)
    text = subprocess.run(["perf", "script", "-i", path], capture_output=True, text=True,
                          errors="replace").stdout
    runs = {}  # core -> [(start ns, pid running from then)]
    for line in text.splitlines():
        m = SWITCH.search(line)
        if m:
            runs.setdefault(int(m.group(1)), []).append((round(float(m.group(2)) * 1e9),
                                                         int(m.group(3))))
    server = set(server_pids)
    client_cpu = int(a.client_cpu.split(",")[0])

    for ev in runs.values():
        ev.sort()  # perf script orders by time; kept sorted for the bisection below
    starts = {core: [t for t, _ in ev] for core, ev in runs.items()}

    def spans(core, lo, hi):
        """(start, end, pid) of what ran on `core` within [lo, hi]: from the switch before
        `lo` (found by bisection, not by walking the whole run's switches each round)."""
        ev = runs.get(core, [])
        i = max(bisect.bisect_right(starts.get(core, []), lo) - 1, 0)
        out = []
        for (t, pid), nxt in zip(ev[i:], ev[i + 1:] + [(hi, None)]):
            if t >= hi:
                break
            s, e = max(t, lo), min(nxt[0], hi)
            if e > s:
                out.append((s, e, pid))
        return out

    by = {}
    for _, name, res in rows:
        if res["ms"] is None:
            continue
        t0 = res["t0"]
        done = t0 + res["ms"] * 1e6
        srv = [x for x in spans(a.server_cpu, t0, t0 + 200e6) if x[2] in server]
        if not srv:
            continue
        last = max(e for _, e, _ in srv)
        first = min(s for s, _, _ in srv)
        idle0 = sum(e - s for s, e, pid in spans(a.server_cpu, first, last) if pid == 0)
        idle1 = sum(e - s for s, e, pid in spans(client_cpu, t0, done) if pid == 0)
        by.setdefault(name, []).append(((first - t0) / 1e6, (last - t0) / 1e6, idle0 / 1e6,
                                        idle1 / 1e6, (done - last) / 1e6))
    out = ["Context switches (`SCHED=1`, `perf record -a -e sched:sched_switch` through the "
           "timed rounds; medians, ms after Enter): when the server core first and last ran "
           "sshd or a session, its idle time between, the client core's idle time until every "
           "pane showed the output, and the time from the server's last run to that:", ""]
    med = statistics.median
    for c in cases:
        xs = by.get(c.name)
        if not xs:
            out.append(f"- {c.name}: no rounds with server runs found")
            continue
        f = [med(x[i] for x in xs) for i in range(5)]
        out.append(f"- {c.name} ({len(xs)} rounds): server {f[0]:.1f}-{f[1]:.1f}, server core "
                   f"idle {f[2]:.1f}; client core idle {f[3]:.1f}; shown {f[4]:.1f} after the "
                   f"server's last run")
    return out


def fmt(x):
    return "-" if x is None else f"{x:.1f}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--work", required=True)
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--tmux-size", default="400x200")
    p.add_argument("--mtssh-size", default="250x80")
    p.add_argument("--client-cpu", default="1")
    p.add_argument("--quiet", type=float, default=0.3, help="s without output that ends typing")
    p.add_argument("--window", type=float, default=1.0, help="s each round reads after Enter")
    p.add_argument("--sshd-pid", type=int, default=0)
    p.add_argument("--load-before", default="")
    p.add_argument("--trace", type=int, default=0, help="extra rounds under perf trace")
    p.add_argument("--profile", type=int, default=0,
                   help="extra rounds under perf record and perf stat")
    p.add_argument("--sched", type=int, default=0,
                   help="1: record context switches of every core through the timed rounds")
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--out", required=True)
    p.add_argument("cases", nargs="+")
    a = p.parse_args()

    cases = [Case(spec, a) for spec in a.cases]
    rows = []
    sched = None
    try:
        for c in cases:  # one case at a time: N logins at once on the server core, not all
            t = time.monotonic()
            c.start()
            c.wait_ready(time.monotonic() + 120)
            log(f"{c.name}: {len(c.panes)} pane(s) of {', '.join(c.sizes)}; {a.n} sessions "
                f"ready after {time.monotonic() - t:.1f} s")
        server_pids.extend(descendants(a.sshd_pid) if a.sshd_pid else [])
        wait_idle()
        sched = start_sched(a) if a.sched else None
        k = 1000
        for r in range(-a.warmup, a.rounds):
            shift = r % len(cases)
            for c in cases[shift:] + cases[:shift]:
                k += 1
                res = c.round(k)
                log(f"round {r:>2} {c.name:<18} {fmt(res['ms']):>7} ms  shown {res['shown']}/{a.n}"
                    f"  {res['bytes']:>7} B  CPU client {res['cpu_ms']:.1f} ms"
                    f" server {res['server_cpu_ms']:.1f} ms")
                if r >= 0:
                    rows.append((r, c.name, res))
                if c.kind != "tmux" and res["tmux_shown"] != res["shown"]:
                    log(f"  emulator replay shows {res['shown']}, tmux's screen "
                        f"{res['tmux_shown']}")
        switches = sched_report(a, sched, cases, rows) if sched else []
        traces = []
        if a.trace:
            for c in cases:
                if c.kind.startswith("mtssh"):
                    traces += traced_rounds(c, k + 1, a.trace)
                    k += a.trace
        if a.profile:
            for c in cases:
                if c.kind.startswith("mtssh"):
                    traces += profiled_rounds(c, k + 1, a.profile)
                    k += a.profile
    finally:
        for c in cases:
            if c.ctl:
                c.ctl.close()
        if sched and sched[0].poll() is None:  # a round failed: perf must not outlive us
            sched[0].kill()
    report(a, cases, rows, traces, switches)


def report(a, cases, rows, traces, switches):
    with open(os.path.join(a.work, "rounds.tsv"), "w") as f:
        f.write("round\tcase\tms\tshown\tbytes\tclient_cpu_ms\tserver_cpu_ms\trig_cpu_ms\t"
                "core0_busy_ms\tcore1_busy_ms\tsteal0_ms\tsteal1_ms\tframes\n")
        for r, name, res in rows:
            frames = " ".join(f"{t:.1f}:{n}" for t, n in res["frames"])
            f.write(f"{r}\t{name}\t{fmt(res['ms'])}\t{res['shown']}\t{res['bytes']}\t"
                    f"{res['cpu_ms']:.1f}\t{res['server_cpu_ms']:.1f}\t{res['rig_cpu_ms']:.1f}\t"
                    f"{res['cores'].get(0, 0):.0f}\t"
                    f"{res['cores'].get(1, 0):.0f}\t{res['cores'].get('steal0', 0):.0f}\t"
                    f"{res['cores'].get('steal1', 0):.0f}\t{frames}\n")
    load_after = open("/proc/loadavg").read().split()[:3]
    by = {}
    for r, name, res in rows:
        by.setdefault(name, []).append(res)
    tmux_med = statistics.median(x["ms"] for x in by["tmux"] if x["ms"] is not None) \
        if "tmux" in by and any(x["ms"] is not None for x in by["tmux"]) else None
    out = [f"N = {a.n} sessions, {a.rounds} rounds per case after {a.warmup} warm-up, "
           f"cases alternating (order rotating each round). Load average before "
           f"{a.load_before}, after {' '.join(load_after)}. CPU columns: medians over the "
           f"{a.window:g} s after each Enter; client = the case's tmux server and what runs "
           f"in it (N ssh, or mtssh), server = sshd and every session under it.", "",
           "| case | median ms | min | max | rounds ok | median / tmux's | client CPU ms/round "
           "| server CPU ms/round | bytes tmux read/round |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in cases:
        res = by.get(c.name, [])
        ms = [x["ms"] for x in res if x["ms"] is not None]
        if not ms:
            out.append(f"| {c.name} | - | - | - | 0/{len(res)} | - | - | - | - |")
            continue
        med = statistics.median(ms)
        ratio = f"{med / tmux_med:.2f}" if tmux_med else "-"
        out.append(f"| {c.name} | {med:.1f} | {min(ms):.1f} | {max(ms):.1f} | "
                   f"{len(ms)}/{len(res)} | {ratio} | "
                   f"{statistics.median(x['cpu_ms'] for x in res):.1f} | "
                   f"{statistics.median(x['server_cpu_ms'] for x in res):.1f} | "
                   f"{statistics.median(x['bytes'] for x in res):.0f} |")
    if rows:
        med = statistics.median
        c0 = med(r[2]["cores"].get(0, 0) for r in rows)
        c1 = med(r[2]["cores"].get(1, 0) for r in rows)
        ours0 = med(r[2]["server_cpu_ms"] for r in rows)
        ours1 = med(r[2]["cpu_ms"] + r[2]["rig_cpu_ms"] for r in rows)
        steal = [max(r[2]["cores"].get(f"steal{c}", 0) for r in rows) for c in (0, 1)]
        out += ["", f"Machine during the {a.window:g} s windows (medians over all rounds, "
                f"/proc/stat, 10 ms ticks): core 0 busy {c0:.0f} ms, of which sshd and its "
                f"sessions {ours0:.0f} ms; core 1 busy {c1:.0f} ms, of which the case's client "
                f"and this driver with its control client {ours1:.0f} ms; the rest is other work. "
                f"Steal (the VM's host running others on our cores), worst window: core 0 "
                f"{steal[0]:.0f} ms, core 1 {steal[1]:.0f} ms."]
    for side, key in (("server", "server_work"), ("client", "client_work")):
        out += ["", f"What the {side}'s processes did per round (medians over the window after "
                "Enter; /proc/PID/schedstat, io and stat, by command name): CPU ms, time "
                "slices, read and write system calls, minor page faults:", ""]
        for c in cases:
            res = by.get(c.name, [])
            comms = sorted({comm for x in res for comm in x[key]})
            parts = []
            for comm in comms:
                w = [[x[key].get(comm, [0] * WORK_FIELDS)[i] for x in res]
                     for i in range(WORK_FIELDS)]
                cpu, slices, reads, writes, faults = (statistics.median(v) for v in w)
                if cpu or slices:
                    parts.append(f"{comm} {cpu / 1e6:.1f} ms, {slices:.0f} slices, "
                                 f"{reads:.0f} reads, {writes:.0f} writes, {faults:.0f} faults")
            out.append(f"- {c.name}: " + ("; ".join(parts) or "none"))
    out += ["", "Every round (ms, Enter to every pane showing the output):", ""]
    for c in cases:
        res = by.get(c.name, [])
        out.append(f"- {c.name}: " + " ".join(fmt(x["ms"]) for x in res))
    out += ["", "Progress in each case's median round (ms after Enter : panes showing the output; "
            "tmux: as each pane's output arrives, summarised by tenths; mtssh: after each "
            "%output chunk that changed the count on the replayed screen):", ""]
    for c in cases:
        ok = sorted((x for x in by.get(c.name, []) if x["ms"] is not None), key=lambda x: x["ms"])
        if not ok:
            continue
        med = ok[len(ok) // 2]
        steps, last = [], -1
        for t, n in med["frames"]:
            if c.kind == "tmux" and n % max(a.n // 10, 1) and n != a.n and n != 1:
                continue
            if n != last:
                steps.append(f"{t:.1f}:{n}")
                last = n
        out.append(f"- {c.name} ({fmt(med['ms'])} ms): {' '.join(steps)}")
    if switches:
        out += [""] + switches
    if traces:
        out += ["", "Traced and profiled rounds (`perf trace`, `perf record`/`perf stat` on "
                "mtssh, not in the table above; traced: ms after mtssh read Enter from its "
                "terminal):", ""] + traces
    text = "\n".join(out) + "\n"
    with open(a.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
