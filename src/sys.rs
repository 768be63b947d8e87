//! Small OS facts and knobs.

pub mod wakeups;

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

/// Tells glibc's allocator to keep freed memory for bulk transfers (`push`, `pull`): every
/// SFTP request and answer is a fresh buffer of up to 255 KiB, and with glibc's defaults
/// the heap's top is trimmed back to the kernel (`brk`) whenever a few of them are freed
/// together, so the next ones land on fresh pages: a page fault and a page zeroed by the
/// kernel per 4 KiB, on every request. Here buffers up to 4 MiB come from the heap and up
/// to 64 MiB of free heap top is kept; the process still returns memory above that, so it
/// stays bounded by its peak in flight plus 64 MiB. A no-op off glibc.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets the allocator's tuning parameters; it is called before the
    // transfer starts, and glibc takes its own lock for it.
    unsafe {
        let _ = libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        let _ = libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
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

/// Time since this process first asked: `mtssh run` asks as it starts, so every host's
/// start and end times share one clock across modes and threads.
pub fn since_start() -> std::time::Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
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

/// Asks `prompt` on the controlling terminal and reads one line: with echo off for a
/// secret, on when `echo` (a keyboard-interactive question that may be shown). Blocking: call
/// it through `spawn_blocking`. Returns `None` when there is no terminal, reading fails or
/// ends (Ctrl-D), or `cancel` becomes readable or hung up (the front end stopped waiting:
/// Ctrl-C ended the run), so an interrupted prompt never waits for Enter. The terminal's
/// settings are restored either way.
pub fn read_answer(
    prompt: &str,
    echo: bool,
    cancel: std::os::fd::BorrowedFd<'_>,
) -> Option<String> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    read_answer_on(&tty, prompt, echo, cancel)
}

/// [`read_answer`] on a terminal already open.
fn read_answer_on(
    tty: &std::fs::File,
    prompt: &str,
    echo: bool,
    cancel: std::os::fd::BorrowedFd<'_>,
) -> Option<String> {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let fd = tty.as_raw_fd();
    // SAFETY: termios calls on a descriptor we hold open; the struct is fully initialised
    // by tcgetattr before use.
    let saved = unsafe {
        let mut term: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(fd, &mut term) != 0 {
            return None;
        }
        let saved = term;
        if echo {
            term.c_lflag |= libc::ECHO;
        } else {
            term.c_lflag &= !libc::ECHO;
            term.c_lflag |= libc::ECHONL;
        }
        // Canonical mode, so the person can correct the line before Enter.
        term.c_lflag |= libc::ICANON;
        libc::tcsetattr(fd, libc::TCSANOW, &term);
        saved
    };
    let mut writer = tty;
    // The prompt text comes from the server (keyboard-interactive): no escapes to the tty.
    let _ = write!(writer, "{} ", crate::text::neutralize(prompt.as_bytes()));
    let _ = writer.flush();
    let line = read_line_unless(fd, cancel.as_raw_fd());
    // SAFETY: restores the settings saved above on the same descriptor.
    unsafe {
        libc::tcsetattr(fd, libc::TCSANOW, &saved);
    }
    if line.is_none() {
        // Ends the prompt's line, so what is printed next starts on a line of its own.
        let _ = writer.write_all(b"\n");
    }
    let line = line?;
    Some(
        String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string(),
    )
}

/// Reads bytes from `fd` up to a newline, waiting with poll(2) on `fd` and `cancel` together:
/// `None` as soon as `cancel` is readable or hung up, or on end of file or an error.
fn read_line_unless(fd: libc::c_int, cancel: libc::c_int) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    loop {
        let mut fds = [
            libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: cancel,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: poll reads and writes only the two structs of the array we pass.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if ready < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return None;
        }
        if fds[1].revents != 0 || fds[0].revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
            return None;
        }
        if fds[0].revents == 0 {
            continue;
        }
        let mut buf = [0u8; 512];
        // SAFETY: reads at most buf.len() bytes into the buffer we own.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        match usize::try_from(n) {
            Ok(0) => return None,
            Ok(n) => {
                let got = &buf[..n];
                line.extend_from_slice(got);
                if got.contains(&b'\n') {
                    return Some(line);
                }
            }
            Err(_) if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {
            }
            Err(_) => return None,
        }
    }
}

/// A pipe whose read end tells a blocking reader ([`read_answer`]) to give up: dropping (or
/// writing to) the write end wakes it. (read end, write end)
pub fn cancel_pipe() -> std::io::Result<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the array we pass.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created by pipe2 and are owned by nobody else.
    Ok(unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(fds[0]),
            std::os::fd::OwnedFd::from_raw_fd(fds[1]),
        )
    })
}

/// Resolves on Ctrl-C (SIGINT), SIGTERM or SIGHUP: how a headless front end (`mtssh run`,
/// `mtssh mock`) is asked to stop. SIGHUP is what a dropped SSH link to a jump box (or a
/// closed terminal) sends: it keeps partial results like the other two.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut term), Ok(mut hangup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
                _ = hangup.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Ends the process the way a write to a closed pipe ends `ssh` or `cat`: killed by
/// SIGPIPE (status 141 in a shell), quietly, and `set -o pipefail` still sees it.
pub fn die_of_sigpipe() -> ! {
    // SAFETY: restores the default action of SIGPIPE and raises it on ourselves.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(141)
}

/// The largest configuration file read whole (host lists, ssh_config and its includes,
/// known_hosts): far above any real one, and `-f /dev/zero` cannot eat memory.
pub const MAX_CONFIG_FILE: u64 = 64 * 1024 * 1024;

/// Reads a whole file, refusing what is neither a regular file nor a pipe (`/dev/zero`, a
/// directory, a terminal; `/dev/null` reads as empty) and anything larger than `cap` bytes,
/// so a wrong path never grows memory without bound. Pipes (`-f <(command)`) are read up to
/// the cap. A missing file keeps
/// its `NotFound` kind (callers treat it as empty); the other errors say what is wrong, and
/// the caller names the file. Blocking.
pub fn read_file_capped(path: &std::path::Path, cap: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    // Checked before opening: opening a device can have effects of its own.
    let meta = std::fs::metadata(path)?;
    let kind = meta.file_type();
    // /dev/null (character device 1:3) is the usual "no such file" (`UserKnownHostsFile
    // /dev/null`, `-F /dev/null`): it reads as empty.
    let dev_null = kind.is_char_device() && meta.rdev() == libc::makedev(1, 3);
    let refused = if kind.is_file() || kind.is_fifo() || dev_null {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else {
        Some("a socket")
    };
    if let Some(what) = refused {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a regular file ({what})"),
        ));
    }
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "larger than {} MiB, the most mtssh reads of such a file",
                cap / (1024 * 1024)
            ),
        ));
    }
    Ok(bytes)
}

/// The largest private key or certificate file read: real ones are a few KiB.
pub const MAX_KEY_FILE: u64 = 1024 * 1024;

/// Locks `mutex`, going on after a panic elsewhere poisoned it: for state that is consistent
/// at every step a lock holder takes (no await, no half-done update), so one panicking user
/// must not take every later user down with it.
pub fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31) in the proleptic
/// Gregorian calendar. Counting years from March puts the leap day last, so
/// month lengths follow a fixed 153-days-per-5-months pattern.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // shift epoch to 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `at` in UTC as `2026-12-02T17:02:44.123Z` (ISO 8601, milliseconds), for log lines.
pub fn utc_timestamp(at: std::time::SystemTime) -> String {
    let since = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    // u64::MAX / 86400 is about 2.1e14, well inside i64.
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let (year, month, day) = civil_from_days(days);
    let rest = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// Creates a new file only its owner may read in `dir` (made 0700 if missing), under the
/// first free name of `name(1)`, `name(2)`, …: never over an existing file (this run's or an
/// earlier one's), never through a planted symlink (an exclusive create does not follow
/// one). Blocking.
pub fn create_numbered_file(
    dir: &std::path::Path,
    name: impl Fn(usize) -> String,
) -> anyhow::Result<(std::path::PathBuf, std::fs::File)> {
    use anyhow::Context;
    create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
    for n in 1..=10_000 {
        let path = dir.join(name(n));
        match open_private_file(&path, PrivateOpen::CreateNew) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }
    anyhow::bail!("{} has no free name for {}", dir.display(), name(1))
}

/// `at` as the local time of day, `14:03:27` (the zone the process runs in, `TZ`
/// included); UTC when the C library cannot say.
pub fn local_time_of_day(at: std::time::SystemTime) -> String {
    let secs = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let time = libc::time_t::try_from(secs).unwrap_or_default();
    // SAFETY: localtime_r writes only into `tm`, which lives for the call; a zeroed `tm` is
    // a valid value of the plain C struct.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&time, &mut tm).is_null() };
    if ok {
        format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec)
    } else {
        let rest = secs % 86_400;
        format!("{:02}:{:02}:{:02}", rest / 3600, rest / 60 % 60, rest % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::{AsFd, FromRawFd, OwnedFd};
    use std::path::Path;

    /// A terminal pair: (the side a person types on, the side a program reads).
    fn pty() -> (std::fs::File, std::fs::File) {
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty writes two descriptors; no name, settings or size are passed.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0);
        // SAFETY: both were just made by openpty and are owned by nobody else.
        unsafe {
            (
                std::fs::File::from(OwnedFd::from_raw_fd(master)),
                std::fs::File::from(OwnedFd::from_raw_fd(slave)),
            )
        }
    }

    /// Everything the person's side shows until `needle` (or 5 s).
    fn read_until(master: &mut std::fs::File, needle: &str) -> String {
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut buf = [0u8; 256];
        while !String::from_utf8_lossy(&seen).contains(needle) {
            assert!(std::time::Instant::now() < deadline, "{seen:?}");
            let n = master.read(&mut buf).unwrap();
            seen.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&seen).into_owned()
    }

    #[test]
    fn an_echoed_question_shows_its_answer_and_a_secret_does_not() {
        for (echo, shown) in [(true, true), (false, false)] {
            let (mut master, slave) = pty();
            let (cancel_read, _cancel_write) = cancel_pipe().unwrap();
            let asking = std::thread::spawn(move || {
                read_answer_on(&slave, "Code:", echo, cancel_read.as_fd())
            });
            read_until(&mut master, "Code: ");
            master.write_all(b"s3cret\n").unwrap();
            let answer = asking.join().unwrap();
            assert_eq!(answer.as_deref(), Some("s3cret"));
            let mut rest = [0u8; 64];
            // What the terminal echoed back after the prompt (the ECHONL newline at least).
            let n = master.read(&mut rest).unwrap();
            let echoed = String::from_utf8_lossy(&rest[..n]).into_owned();
            assert_eq!(echoed.contains("s3cret"), shown, "echo {echo}: {echoed:?}");
        }
    }

    #[test]
    fn a_cancelled_question_returns_at_once() {
        let (mut master, slave) = pty();
        let (cancel_read, cancel_write) = cancel_pipe().unwrap();
        let asking = std::thread::spawn(move || {
            read_answer_on(&slave, "Password:", false, cancel_read.as_fd())
        });
        read_until(&mut master, "Password: ");
        let started = std::time::Instant::now();
        drop(cancel_write);
        assert_eq!(asking.join().unwrap(), None);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn only_regular_files_pipes_and_dev_null_are_read_and_only_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"12345").unwrap();
        assert_eq!(read_file_capped(&file, 5).unwrap(), b"12345");
        let big = read_file_capped(&file, 4).unwrap_err();
        assert_eq!(big.kind(), std::io::ErrorKind::FileTooLarge);
        assert!(
            read_file_capped(Path::new("/dev/null"), 4)
                .unwrap()
                .is_empty()
        );
        for path in ["/dev/zero", "/dev/urandom"] {
            let e = read_file_capped(Path::new(path), 4).unwrap_err();
            assert!(
                e.to_string()
                    .contains("not a regular file (a character device)"),
                "{e}"
            );
        }
        let e = read_file_capped(dir.path(), 4).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        let missing = read_file_capped(&dir.path().join("nope"), 4).unwrap_err();
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    }
}
