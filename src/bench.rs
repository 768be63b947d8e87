//! `mtssh bench`: the same work in each IO mode, each mode in a fresh child process, against
//! the mock server in a process of its own (or the hosts given), measured from outside.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::config::HostOptions;
use crate::lang::{tr, trf};
use crate::mock::HostKeyType;
use crate::modes::{Mode, Phases};

mod svg;
mod timeline;
pub use svg::svg_chart;
pub use timeline::svg_timeline;

/// What `mtssh bench` was asked to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The hosts to measure against; none named: the mock server, in its own process.
    pub hosts: HostOptions,
    /// Sessions to open against the mock server.
    pub sessions: usize,
    pub command: String,
    /// Milliseconds the mock server waits before each reply.
    pub latency_ms: u64,
    /// Empty: all three.
    pub modes: Vec<Mode>,
    pub host_key_type: HostKeyType,
    /// How long a mode may take before it is stopped (and marked capped).
    pub time_cap: Duration,
    pub json: bool,
    pub svg: Option<std::path::PathBuf>,
    /// Also write each session's phases per mode as an SVG timeline.
    pub timeline: Option<std::path::PathBuf>,
}

/// One session of a measured run, as the child's `mtssh run --json` told it: when it started
/// and ended on that run's clock, and its phases.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionTimes {
    pub name: String,
    pub outcome: String,
    pub start_ms: f64,
    pub end_ms: f64,
    pub phases_ms: Phases,
}

/// What one mode measured.
#[derive(Debug, Clone, Serialize)]
pub struct ModeResult {
    pub mode: Mode,
    pub sessions: usize,
    pub ok: usize,
    pub wall_s: f64,
    pub cpu_user_s: f64,
    pub cpu_sys_s: f64,
    pub peak_threads: usize,
    pub peak_rss_kb: u64,
    pub sessions_per_s: f64,
    /// Wall time of `sequential` divided by this mode's (when sequential ran).
    pub speedup_vs_sequential: Option<f64>,
    /// Killed at the time cap before finishing.
    pub capped: bool,
    /// Every session that ended, in the order they ended.
    pub hosts: Vec<SessionTimes>,
}

pub async fn run(args: BenchOptions) -> Result<ExitCode> {
    crate::logging::to_stderr("warn");
    let exe = std::env::current_exe().context("finding the mtssh binary")?;
    let scratch = tempfile::Builder::new().prefix("mtssh-bench").tempdir()?;
    let mut mock = None;
    let mut hosts = args.hosts.clone();
    if !hosts.names_hosts() {
        let (child, addr) = start_mock(&exe, &args, scratch.path()).await?;
        mock = Some(child);
        hosts.hosts = vec![format!("{}@{addr}", crate::mock::DEFAULT_USER)];
        hosts.count = Some(args.sessions);
        hosts.known_hosts = Some(scratch.path().join("known_hosts"));
        // The per-host cap guards OpenSSH's MaxStartups. The bench's own mock has no such
        // limit, and the threads mode gives every session its own engine (so no shared cap):
        // keeping the cap (default 10) there would throttle only the event loop and compare
        // unequal work.
        hosts.per_host = hosts.per_host.max(hosts.fanout);
    }
    // Everything the user said about the hosts reaches each child, as they said it.
    let host_args = hosts.to_args();
    let modes = if args.modes.is_empty() {
        vec![Mode::Sequential, Mode::Threads, Mode::EventLoop]
    } else {
        args.modes.clone()
    };
    let mut results = Vec::new();
    for mode in modes {
        let mut command = Command::new(&exe);
        command
            .arg("run")
            .args(&host_args)
            .args(["--mode", mode.name(), "--json", "-c", &args.command])
            .env(
                "MTSSH_PASSWORD",
                std::env::var("MTSSH_PASSWORD")
                    .unwrap_or_else(|_| crate::mock::DEFAULT_PASSWORD.into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let cap = args.time_cap.max(Duration::from_secs(1));
        let sessions = if mock.is_some() { args.sessions } else { 0 };
        let result = tokio::task::spawn_blocking(move || measure(mode, command, cap, sessions))
            .await
            .context("measuring task failed")??;
        let ok = trf(
            "{ok} of {sessions} ok",
            &[("ok", &result.ok), ("sessions", &result.sessions)],
        );
        eprintln!(
            "{:<11} {:>6.2} s  {ok}{}",
            mode.name(),
            result.wall_s,
            if result.capped {
                tr("  (stopped at the time cap)")
            } else {
                ""
            }
        );
        results.push(result);
    }
    if let Some(mut child) = mock {
        let _ = child.kill();
        let _ = child.wait();
    }
    fill_speedups(&mut results);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    } else {
        print!("{}", table(&results, &args));
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, svg_chart(&results, &args))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!(
            "{}",
            trf("chart written to {path}", &[("path", &path.display())])
        );
    }
    if let Some(path) = &args.timeline {
        std::fs::write(path, svg_timeline(&results, args.latency_ms))
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("timeline written to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// The mock server in a process of its own, so its CPU is not counted as the client's.
async fn start_mock(
    exe: &std::path::Path,
    args: &BenchOptions,
    scratch: &std::path::Path,
) -> Result<(Child, String)> {
    let key_type = args.host_key_type.name();
    let mut child = Command::new(exe)
        .args(["mock", "--port", "0", "--host-key-type", key_type])
        .args(["--latency", &args.latency_ms.to_string()])
        .arg("--host-key")
        .arg(scratch.join(format!("host_key_{key_type}")))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("starting the mock server")?;
    let stdout = child.stdout.take().context("mock stdout")?;
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await??;
    match line.split_whitespace().nth(2) {
        Some(addr) if line.starts_with("listening ") => Ok((child, addr.to_string())),
        _ => {
            let _ = child.kill();
            bail!("the mock server did not start: {line:?}")
        }
    }
}

/// Runs one mode's child to completion (or the cap), polling its thread count, and reads
/// its CPU time and peak RSS from the kernel's accounting (wait4).
fn measure(mode: Mode, mut command: Command, cap: Duration, sessions: usize) -> Result<ModeResult> {
    let started = Instant::now();
    let mut child = command.spawn().context("starting a measuring run")?;
    let pid = i32::try_from(child.id()).unwrap_or(0);
    let stdout = child.stdout.take().context("child stdout")?;
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
            .collect::<Vec<_>>()
    });
    let mut peak_threads = 0;
    let mut capped = false;
    // SAFETY: zeroed rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut status = 0;
    loop {
        // SAFETY: wait4 on our own child with valid pointers.
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if done == pid || done < 0 {
            break;
        }
        peak_threads = peak_threads.max(crate::sys::thread_count_of(&pid.to_string()));
        if started.elapsed() > cap && !capped {
            capped = true;
            let _ = child.kill();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let wall = started.elapsed().as_secs_f64();
    let hosts = reader.join().unwrap_or_default();
    let ok = hosts.iter().filter(|h| h["outcome"] == "ok").count();
    let sessions = if sessions == 0 { hosts.len() } else { sessions };
    Ok(ModeResult {
        mode,
        sessions,
        ok,
        wall_s: wall,
        cpu_user_s: crate::sys::timeval_secs(usage.ru_utime),
        cpu_sys_s: crate::sys::timeval_secs(usage.ru_stime),
        peak_threads,
        peak_rss_kb: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        sessions_per_s: if wall > 0.0 { ok as f64 / wall } else { 0.0 },
        speedup_vs_sequential: None,
        capped,
        hosts: hosts
            .into_iter()
            .filter_map(|h| serde_json::from_value(h).ok())
            .collect(),
    })
}

fn fill_speedups(results: &mut [ModeResult]) {
    let Some(base) = results
        .iter()
        .find(|r| r.mode == Mode::Sequential && !r.capped)
        .map(|r| r.wall_s)
    else {
        return;
    };
    for r in results.iter_mut() {
        if r.wall_s > 0.0 {
            r.speedup_vs_sequential = Some(base / r.wall_s);
        }
    }
}

/// `text` padded with spaces to `width` display columns, on the left when `right`-aligned.
fn pad(text: &str, width: usize, right: bool) -> String {
    let fill = " ".repeat(width.saturating_sub(unicode_width::UnicodeWidthStr::width(text)));
    if right {
        format!("{fill}{text}")
    } else {
        format!("{text}{fill}")
    }
}

/// The table and a bar chart of wall time, for a terminal.
pub fn table(results: &[ModeResult], args: &BenchOptions) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let sessions = results.first().map(|r| r.sessions).unwrap_or(0);
    let heading = trf(
        "{sessions} sessions, command {command}, server latency {latency} ms",
        &[
            ("sessions", &sessions),
            ("command", &format!("{:?}", args.command)),
            ("latency", &args.latency_ms),
        ],
    );
    let _ = writeln!(out, "\n{heading}\n");
    // Padded by display width: Chinese headings take two columns a character.
    let columns = [
        ("mode", 11, false),
        ("wall s", 9, true),
        ("CPU s", 9, true),
        ("threads", 8, true),
        ("peak RSS", 10, true),
        ("sessions/s", 11, true),
        ("speed-up", 9, true),
    ];
    let header: Vec<String> = columns
        .iter()
        .map(|&(name, width, right)| pad(tr(name), width, right))
        .collect();
    let _ = writeln!(out, "{}", header.join(" ").trim_end());
    for r in results {
        let _ = writeln!(
            out,
            "{:<11} {:>9.3} {:>9.3} {:>8} {:>7} MB {:>11.1} {:>9}{}",
            r.mode.name(),
            r.wall_s,
            r.cpu_user_s + r.cpu_sys_s,
            r.peak_threads,
            r.peak_rss_kb / 1024,
            r.sessions_per_s,
            r.speedup_vs_sequential
                .map(|s| format!("{s:.1}x"))
                .unwrap_or_else(|| "-".into()),
            if r.capped { tr("  (capped)") } else { "" }
        );
    }
    let longest = results.iter().map(|r| r.wall_s).fold(0.0, f64::max);
    let _ = writeln!(out, "\n{}", tr("wall time"));
    for r in results {
        let width = if longest > 0.0 {
            (r.wall_s / longest * 50.0).round() as usize
        } else {
            0
        };
        let _ = writeln!(
            out,
            "{:<11} {} {:.2} s",
            r.mode.name(),
            "█".repeat(width.max(1)),
            r.wall_s
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pad;
    use crate::lang::{Lang, tr, with};

    #[test]
    fn chinese_headings_keep_the_columns_aligned() {
        assert_eq!(pad("mode", 6, false), "mode  ");
        assert_eq!(pad("线程", 8, true), "    线程");
        with(Lang::Zh, || {
            for name in ["mode", "wall s", "threads", "peak RSS", "speed-up"] {
                let width = unicode_width::UnicodeWidthStr::width(pad(tr(name), 11, true).as_str());
                assert_eq!(width, 11, "{name}");
            }
        });
    }
}
