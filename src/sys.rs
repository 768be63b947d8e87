//! Small OS facts and knobs.

/// Raises the soft open-file limit to the hard limit: every session is a socket, and the
/// usual soft limit of 1024 caps a run at about a thousand hosts.
pub fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Peak resident memory of this process, in KiB (Linux `ru_maxrss`).
pub fn peak_rss_kib() -> u64 {
    usage(libc::RUSAGE_SELF).2
}

/// (user CPU seconds, system CPU seconds, peak RSS KiB) of this process or its children.
pub fn usage(who: libc::c_int) -> (f64, f64, u64) {
    // SAFETY: getrusage fills the struct we pass and nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(who, &mut usage) != 0 {
            return (0.0, 0.0, 0);
        }
        usage
    };
    (
        timeval_secs(usage.ru_utime),
        timeval_secs(usage.ru_stime),
        u64::try_from(usage.ru_maxrss).unwrap_or(0),
    )
}

/// A `timeval` (rusage CPU times) in seconds.
pub fn timeval_secs(t: libc::timeval) -> f64 {
    t.tv_sec as f64 + t.tv_usec as f64 / 1e6
}

/// Number of OS threads of this process (Linux), for "one thread runs everything" claims.
pub fn thread_count() -> usize {
    thread_count_of("self")
}

/// Number of OS threads of process `pid` (a number, or `self`); 0 when it cannot be read.
pub fn thread_count_of(pid: &str) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Reads a secret from the controlling terminal with echo off. Blocking: call it through
/// `spawn_blocking`. `None` when there is no terminal or reading fails.
pub fn read_secret(prompt: &str) -> Option<String> {
    use std::io::{BufRead, Write};
    use std::os::fd::AsRawFd;
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios calls on a descriptor we hold open; the struct is fully initialised
    // by tcgetattr before use.
    let saved = unsafe {
        let mut term: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut term) != 0 {
            return None;
        }
        let saved = term;
        term.c_lflag &= !libc::ECHO;
        term.c_lflag |= libc::ECHONL;
        libc::tcsetattr(fd, libc::TCSANOW, &term);
        saved
    };
    let mut writer = &tty;
    // The prompt text comes from the server (keyboard-interactive): no escapes to the tty.
    let _ = write!(writer, "{} ", crate::text::neutralize(prompt.as_bytes()));
    let _ = writer.flush();
    let mut line = String::new();
    let read = std::io::BufReader::new(&tty).read_line(&mut line);
    // SAFETY: restores the settings saved above on the same descriptor.
    unsafe {
        libc::tcsetattr(fd, libc::TCSANOW, &saved);
    }
    read.ok()?;
    Some(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM: how a headless front end (`mtssh run`,
/// `mtssh mock`) is asked to stop.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Opens a file only its owner may read (0600), whatever the umask: host keys, known_hosts,
/// host lists holding the practice password. `create_new` refuses an existing file (a key
/// must never be overwritten); otherwise an existing one is truncated (`truncate`) or
/// appended to. Blocking.
pub fn open_private_file(
    path: &std::path::Path,
    how: PrivateOpen,
) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    match how {
        PrivateOpen::CreateNew => options.write(true).create_new(true),
        PrivateOpen::Truncate => options.write(true).create(true).truncate(true),
        PrivateOpen::Append => options.read(true).append(true).create(true),
    };
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// How [`open_private_file`] treats a file that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrivateOpen {
    CreateNew,
    Truncate,
    Append,
}

/// Creates `dir` and its parents, new ones only its owner may enter (0700). Blocking.
pub fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
