//! `mtssh run`: one command on every selected host, over the same session actors as the TUI.
//!
//! Exit codes: 0 every host ran the command and it exited 0; 1 every host ran it but some
//! exited non-zero; 3 some host failed to connect or authenticate, or timed out;
//! 130 interrupted (Ctrl-C / SIGTERM); 2 bad invocation or host list (nothing ran).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::cli::RunArgs;
use crate::config::inventory;
use crate::modes::Mode;
use crate::ssh::{
    Engine, EngineSettings, Prompt, SessionCommand, SessionEvent, SessionState, Target, Work,
};

/// How one host's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Ok,
    NonZero,
    Failed,
    TimedOut,
    Interrupted,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NonZero => "non-zero exit",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed out",
            Outcome::Interrupted => "interrupted",
        }
    }
}

/// Everything kept about one host.
#[derive(Debug, Clone)]
pub struct HostResult {
    pub name: String,
    pub outcome: Outcome,
    pub exit_status: Option<u32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Bytes dropped beyond `max_output` (stdout, stderr).
    pub dropped: (u64, u64),
    pub error: Option<String>,
    pub duration: Duration,
}

impl HostResult {
    /// A host that never got to run.
    pub fn failed(name: String, error: String) -> HostResult {
        HostResult {
            name,
            outcome: Outcome::Failed,
            exit_status: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
            dropped: (0, 0),
            error: Some(error),
            duration: Duration::ZERO,
        }
    }
}

/// Knobs of one batch run.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub command: String,
    pub pty: bool,
    pub max_output: usize,
    pub timeout: Option<Duration>,
    pub fanout: usize,
    pub per_host: usize,
    /// Bytes sent to every command's stdin, followed by EOF (`--stdin`).
    pub stdin: Option<std::sync::Arc<Vec<u8>>>,
}

/// Where lines go as they arrive (`--inline`); `None` keeps everything for the end. Each call
/// carries one or more lines (all but the last end in `\n`), so that a chunk of output costs
/// one write, not one per line.
pub type LineSink<'a> = Option<&'a mut dyn FnMut(&str, Stream, &[u8])>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

pub async fn run(args: RunArgs) -> Result<ExitCode> {
    crate::logging::to_stderr("warn");
    let inventory = inventory::resolve(&args.hosts).await?;
    for warning in &inventory.warnings {
        eprintln!("warning: {warning}");
    }
    if inventory.unchecked {
        eprintln!(
            "warning: host key checking is off: these connections are not protected against impersonation"
        );
    }
    let opts = BatchOptions {
        command: args.command.clone(),
        pty: args.tty,
        max_output: args.max_output,
        timeout: args
            .timeout
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .filter(|d| !d.is_zero())
            .or(inventory.command_timeout),
        fanout: args.hosts.fanout,
        per_host: args.hosts.per_host,
        stdin: if args.stdin {
            Some(std::sync::Arc::new(read_stdin().await?))
        } else {
            None
        },
    };
    let stdout_tty = std::io::stdout().is_terminal();
    let neutralize = stdout_tty && !args.raw;
    // One buffer, reused: a chunk of lines is formatted into it and written at once
    // (stdout is line-buffered; a write per line would cost a syscall per line).
    let mut chunk = Vec::new();
    let mut inline = |name: &str, _stream: Stream, lines: &[u8]| {
        chunk.clear();
        push_inline_lines(&mut chunk, name, lines, neutralize);
        let _ = std::io::stdout().lock().write_all(&chunk);
    };
    let sink: LineSink = if args.inline { Some(&mut inline) } else { None };
    let results = match args.mode {
        Mode::EventLoop => {
            let interrupt = Box::pin(interrupted());
            execute(inventory.targets, &opts, sink, interrupt).await
        }
        mode => {
            // The blocking modes run on threads of their own; the loop only waits, and
            // Ctrl-C ends the process (their sessions cannot be told to stop midway).
            tokio::select! {
                results = crate::modes::execute_blocking(mode, inventory.targets, opts.clone()) => results,
                _ = interrupted() => return Ok(ExitCode::from(130)),
            }
        }
    };
    for store in &inventory.stores {
        store.flush().await;
    }
    let results = match &args.outdir {
        Some(dir) => write_outdir(dir, results).await?,
        None => results,
    };
    if args.json {
        print_json(&results)?;
    } else if !args.inline {
        let _ = write_folded(&mut std::io::stdout().lock(), &results, neutralize);
    } else if args.mode != Mode::EventLoop {
        // The blocking modes cannot stream; their lines come when each host is done.
        for r in &results {
            for (stream, bytes) in [(Stream::Stdout, &r.stdout), (Stream::Stderr, &r.stderr)] {
                if !bytes.is_empty() {
                    inline(&r.name, stream, bytes);
                }
            }
        }
    }
    let summary = Summary::of(&results);
    eprintln!("{summary}");
    Ok(ExitCode::from(summary.exit_code()))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn interrupted() {
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

struct Running {
    result: HostResult,
    started: Instant,
    deadline: Option<Instant>,
    finished: bool,
    /// Partial line per stream for `--inline`.
    partial: [Vec<u8>; 2],
}

/// Runs the command on every target and returns one result per target, in target order.
/// `interrupt` resolving closes every channel and keeps what arrived so far.
pub async fn execute(
    targets: Vec<Target>,
    opts: &BatchOptions,
    mut sink: LineSink<'_>,
    mut interrupt: std::pin::Pin<Box<dyn Future<Output = ()> + '_>>,
) -> Vec<HostResult> {
    let (engine, mut events) = Engine::new(EngineSettings {
        fanout: opts.fanout,
        per_host: opts.per_host,
        ..Default::default()
    });
    let prompts = spawn_prompter();
    let work = Work::Exec {
        command: opts.command.clone(),
        pty: opts.pty.then_some((80, 24)),
    };
    let now = Instant::now();
    let mut running: Vec<Running> = targets
        .iter()
        .map(|t| Running {
            result: HostResult {
                error: None,
                ..HostResult::failed(t.name.clone(), String::new())
            },
            started: now,
            deadline: None,
            finished: false,
            partial: [Vec::new(), Vec::new()],
        })
        .collect();
    let handles: Vec<_> = targets
        .into_iter()
        .enumerate()
        .map(|(id, target)| engine.spawn(id, target, work.clone()))
        .collect();
    let mut progress = Progress::new(running.len());
    let mut pending = running.len();
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    while pending > 0 {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                let id = event.session_id();
                let Some(host) = running.get_mut(id) else { continue };
                if host.finished {
                    continue;
                }
                match event {
                    SessionEvent::State { state, .. } => match state {
                        SessionState::Connecting | SessionState::Authenticating => {}
                        SessionState::Ready => {
                            host.deadline = opts.timeout.map(|t| Instant::now() + t);
                            if let Some(data) = &opts.stdin {
                                feed_stdin(handles[id].clone(), data.clone());
                            }
                        }
                        SessionState::Closed { exit_status } => {
                            host.result.exit_status = host.result.exit_status.or(exit_status);
                            let outcome = match host.result.exit_status {
                                Some(0) => Outcome::Ok,
                                Some(_) => Outcome::NonZero,
                                None if host.result.outcome == Outcome::TimedOut => Outcome::TimedOut,
                                None => {
                                    host.result.error = Some("the channel closed without an exit status".into());
                                    Outcome::Failed
                                }
                            };
                            finish(host, outcome, &mut sink);
                            pending -= 1;
                        }
                        SessionState::Failed { reason } => {
                            host.result.error = Some(reason);
                            let outcome = if host.result.outcome == Outcome::TimedOut { Outcome::TimedOut } else { Outcome::Failed };
                            finish(host, outcome, &mut sink);
                            pending -= 1;
                        }
                    },
                    SessionEvent::Output { data, .. } => keep(host, Stream::Stdout, &data, opts.max_output, &mut sink),
                    SessionEvent::Stderr { data, .. } => keep(host, Stream::Stderr, &data, opts.max_output, &mut sink),
                    SessionEvent::ExitStatus { status, .. } => host.result.exit_status = Some(status),
                    SessionEvent::Prompt { prompt, .. } => {
                        let _ = prompts.send(prompt);
                    }
                }
                progress.done(running.len() - pending);
            }
            _ = ticker.tick() => {
                let now = Instant::now();
                for (id, host) in running.iter_mut().enumerate() {
                    if !host.finished && host.deadline.is_some_and(|d| now >= d) {
                        host.deadline = None;
                        host.result.outcome = Outcome::TimedOut;
                        host.result.error = Some(format!(
                            "timed out after {}; the channel was closed",
                            crate::ssh::humantime(opts.timeout.unwrap_or_default())
                        ));
                        handles[id].send(SessionCommand::Close);
                    }
                }
                progress.draw();
            }
            _ = &mut interrupt => {
                for handle in &handles {
                    handle.send(SessionCommand::Close);
                }
                for host in running.iter_mut().filter(|h| !h.finished) {
                    host.result.error = Some("interrupted".into());
                    finish(host, Outcome::Interrupted, &mut sink);
                }
                break;
            }
        }
    }
    progress.clear();
    running.into_iter().map(|r| r.result).collect()
}

/// Sends the shared stdin bytes, then EOF, waiting for room as the session drains them.
fn feed_stdin(handle: crate::ssh::SessionHandle, data: std::sync::Arc<Vec<u8>>) {
    tokio::spawn(async move {
        for chunk in data.chunks(32 * 1024) {
            if !handle
                .send_wait(SessionCommand::Input(chunk.to_vec()))
                .await
            {
                return;
            }
        }
        handle.send_wait(SessionCommand::Eof).await;
    });
}

async fn read_stdin() -> Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut data = Vec::new();
    tokio::io::stdin().read_to_end(&mut data).await?;
    Ok(data)
}

/// `--outdir`: NAME.out and NAME.err per host (names made safe for file names). The results
/// go to the blocking pool and come back, rather than having their output copied.
async fn write_outdir(dir: &std::path::Path, results: Vec<HostResult>) -> Result<Vec<HostResult>> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || -> Result<Vec<HostResult>> {
        std::fs::create_dir_all(&dir)?;
        for r in &results {
            let safe: String = r
                .name
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() || "-_.@#".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            std::fs::write(dir.join(format!("{safe}.out")), &r.stdout)?;
            std::fs::write(dir.join(format!("{safe}.err")), &r.stderr)?;
        }
        Ok(results)
    })
    .await?
}

fn keep(host: &mut Running, stream: Stream, data: &[u8], max: usize, sink: &mut LineSink<'_>) {
    let (buffer, dropped, partial) = match stream {
        Stream::Stdout => (
            &mut host.result.stdout,
            &mut host.result.dropped.0,
            &mut host.partial[0],
        ),
        Stream::Stderr => (
            &mut host.result.stderr,
            &mut host.result.dropped.1,
            &mut host.partial[1],
        ),
    };
    if let Some(sink) = sink.as_mut() {
        // Inline mode prints and forgets: memory stays bounded by the longest line. Every
        // complete line goes out in one call, straight from `data` when nothing is pending,
        // so bulk output is not copied through `partial`.
        let last_newline = data.iter().rposition(|b| *b == b'\n');
        match last_newline {
            Some(end) if partial.is_empty() => sink(&host.result.name, stream, &data[..=end]),
            Some(end) => {
                partial.extend_from_slice(&data[..=end]);
                sink(&host.result.name, stream, partial);
                partial.clear();
            }
            None => {}
        }
        partial.extend_from_slice(&data[last_newline.map_or(0, |end| end + 1)..]);
        if partial.len() > max {
            let line: Vec<u8> = std::mem::take(partial);
            sink(&host.result.name, stream, &line);
        }
        return;
    }
    let room = max.saturating_sub(buffer.len());
    let taken = room.min(data.len());
    buffer.extend_from_slice(&data[..taken]);
    *dropped += (data.len() - taken) as u64;
}

fn finish(host: &mut Running, outcome: Outcome, sink: &mut LineSink<'_>) {
    host.finished = true;
    host.result.outcome = outcome;
    host.result.duration = host.started.elapsed();
    if let Some(sink) = sink.as_mut() {
        for (i, stream) in [Stream::Stdout, Stream::Stderr].into_iter().enumerate() {
            let rest = std::mem::take(&mut host.partial[i]);
            if !rest.is_empty() {
                sink(&host.result.name, stream, &rest);
            }
        }
        if let Some(error) = &host.result.error {
            sink(
                &host.result.name,
                Stream::Stderr,
                format!("mtssh: {error}").as_bytes(),
            );
        }
    }
}

/// Answers prompts one at a time from the controlling terminal, off the event loop; without
/// a terminal every prompt is declined at once. A password typed once is reused for the
/// following hosts (like `pssh -A`).
fn spawn_prompter() -> mpsc::UnboundedSender<Prompt> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Prompt>();
    tokio::spawn(async move {
        let mut remembered: Option<String> = None;
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        while let Some(prompt) = rx.recv().await {
            if !interactive {
                let _ = prompt.reply.send(None);
                continue;
            }
            let is_password = prompt.text.starts_with("Password");
            if is_password && let Some(answer) = &remembered {
                let _ = prompt.reply.send(Some(answer.clone()));
                continue;
            }
            let text = prompt.text.clone();
            let answer = tokio::task::spawn_blocking(move || crate::sys::read_secret(&text))
                .await
                .ok()
                .flatten();
            if is_password {
                remembered.clone_from(&answer);
            }
            let _ = prompt.reply.send(answer);
        }
    });
    tx
}

/// A one-line progress display on stderr, only when stderr is a terminal.
struct Progress {
    total: usize,
    done: usize,
    enabled: bool,
    drawn: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        Progress {
            total,
            done: 0,
            enabled: std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    fn done(&mut self, done: usize) {
        self.done = done;
    }

    fn draw(&mut self) {
        if !self.enabled || self.done == self.total {
            return;
        }
        let width = 30;
        let filled = width * self.done / self.total.max(1);
        let bar = format!("{}{}", "#".repeat(filled), "-".repeat(width - filled));
        eprint!("\r\x1b[K[{bar}] {}/{} hosts done", self.done, self.total);
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[K");
        }
    }
}

/// Counts by outcome, and the exit code they imply.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub ok: usize,
    pub non_zero: usize,
    pub failed: usize,
    pub timed_out: usize,
    pub interrupted: usize,
}

impl Summary {
    pub fn of(results: &[HostResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match r.outcome {
                Outcome::Ok => s.ok += 1,
                Outcome::NonZero => s.non_zero += 1,
                Outcome::Failed => s.failed += 1,
                Outcome::TimedOut => s.timed_out += 1,
                Outcome::Interrupted => s.interrupted += 1,
            }
        }
        s
    }

    pub fn exit_code(&self) -> u8 {
        if self.interrupted > 0 {
            130
        } else if self.failed > 0 || self.timed_out > 0 {
            3
        } else if self.non_zero > 0 {
            1
        } else {
            0
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total = self.ok + self.non_zero + self.failed + self.timed_out + self.interrupted;
        write!(
            f,
            "{total} hosts: {} ok, {} non-zero exit, {} failed, {} timed out",
            self.ok, self.non_zero, self.failed, self.timed_out
        )?;
        if self.interrupted > 0 {
            write!(f, ", {} interrupted", self.interrupted)?;
        }
        Ok(())
    }
}

/// Hosts with identical output, exit status and error, folded together like `dshbak -c`.
pub fn fold_results(results: &[HostResult]) -> Vec<(String, &HostResult)> {
    // Everything a reader compares: output, status, error and outcome.
    type Key<'a> = (&'a [u8], &'a [u8], Option<u32>, Option<&'a str>, u8);
    let mut groups: BTreeMap<Key<'_>, Vec<&HostResult>> = BTreeMap::new();
    for r in results {
        let key = (
            r.stdout.as_slice(),
            r.stderr.as_slice(),
            r.exit_status,
            r.error.as_deref(),
            r.outcome as u8,
        );
        groups.entry(key).or_default().push(r);
    }
    let mut folded: Vec<(String, &HostResult)> = groups
        .into_values()
        .map(|members| {
            let names: Vec<&str> = members.iter().map(|r| r.name.as_str()).collect();
            (crate::config::fold_to_string(&names), members[0])
        })
        .collect();
    folded.sort_by(|a, b| crate::config::range::natural_cmp(&a.0, &b.0));
    folded
}

/// Shows remote bytes: neutralised for a terminal, as they are (lossy UTF-8) otherwise.
fn show(bytes: &[u8], neutralize: bool) -> std::borrow::Cow<'_, str> {
    if neutralize {
        crate::text::neutralize(bytes).into()
    } else {
        String::from_utf8_lossy(bytes)
    }
}

/// Appends `--inline` output lines, `name | text` each: neutralised for a terminal, as they
/// are (lossy UTF-8) otherwise, like the folded report.
fn push_inline_lines(out: &mut Vec<u8>, name: &str, lines: &[u8], neutralize: bool) {
    out.reserve(lines.len() + 16);
    for line in lines.split_inclusive(|b| *b == b'\n') {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b" | ");
        let end = line
            .iter()
            .rposition(|b| !matches!(b, b'\n' | b'\r'))
            .map_or(0, |i| i + 1);
        // Valid UTF-8 (the common case) is borrowed, not copied into a String.
        out.extend_from_slice(show(&line[..end], neutralize).as_bytes());
        out.push(b'\n');
    }
}

/// The folded report. Error text can come from the server (a disconnect reason), so it is
/// neutralised like output.
fn write_folded(
    out: &mut impl Write,
    results: &[HostResult],
    neutralize: bool,
) -> std::io::Result<()> {
    for (names, r) in fold_results(results) {
        let status = match (&r.error, r.exit_status) {
            (Some(error), _) => format!(
                "{}: {}",
                r.outcome.label(),
                show(error.as_bytes(), neutralize)
            ),
            (None, Some(code)) => format!("exit {code}"),
            (None, None) => "no exit status".into(),
        };
        let rule = "-".repeat(names.chars().count().clamp(15, 60));
        writeln!(out, "{rule}\n{names} ({status})\n{rule}")?;
        out.write_all(show(&r.stdout, neutralize).as_bytes())?;
        if !r.stderr.is_empty() {
            out.write_all(show(&r.stderr, neutralize).as_bytes())?;
        }
        if r.dropped.0 + r.dropped.1 > 0 {
            writeln!(
                out,
                "[output cut: {} more bytes not kept; raise --max-output]",
                r.dropped.0 + r.dropped.1
            )?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct JsonHost<'a> {
    name: &'a str,
    outcome: Outcome,
    exit_status: Option<u32>,
    /// Output as UTF-8; bytes that are not valid UTF-8 become U+FFFD.
    stdout: std::borrow::Cow<'a, str>,
    stderr: std::borrow::Cow<'a, str>,
    stdout_dropped_bytes: u64,
    stderr_dropped_bytes: u64,
    error: Option<&'a str>,
    duration_ms: u128,
}

/// One JSON object per host, one per line (JSON Lines).
fn print_json(results: &[HostResult]) -> Result<()> {
    write_json(&mut std::io::stdout().lock(), results)
}

/// JSON Lines, one object per host.
fn write_json(out: &mut impl Write, results: &[HostResult]) -> Result<()> {
    use serde::Serialize;
    for r in results {
        let host = JsonHost {
            name: &r.name,
            outcome: r.outcome,
            exit_status: r.exit_status,
            stdout: String::from_utf8_lossy(&r.stdout),
            stderr: String::from_utf8_lossy(&r.stderr),
            stdout_dropped_bytes: r.dropped.0,
            stderr_dropped_bytes: r.dropped.1,
            error: r.error.as_deref(),
            duration_ms: r.duration.as_millis(),
        };
        host.serialize(&mut serde_json::Serializer::with_formatter(
            &mut *out, C1Escaping,
        ))?;
        writeln!(out)?;
    }
    Ok(())
}

/// serde_json's compact output with C1 controls (U+0080–U+009F) escaped as well as C0: JSON
/// Lines end up printed on terminals, and some act on UTF-8-encoded C1 (CSI, OSC, DCS).
struct C1Escaping;

impl serde_json::ser::Formatter for C1Escaping {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if ('\u{80}'..='\u{9f}').contains(&c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &[u8] = b"ok\x1b]0;pwned\x07\x1b]52;c;aGk=\x1b\\\x1bP1$q\x1b\\\x1b_x\x1b\\\x1b^y\x1b\\\xc2\x9d2;t\xc2\x9c\x9b2J\x07\r\n";

    fn result(stdout: &[u8], error: Option<&str>) -> HostResult {
        HostResult {
            name: "web01".into(),
            outcome: if error.is_some() {
                Outcome::Failed
            } else {
                Outcome::Ok
            },
            exit_status: Some(0),
            stdout: stdout.to_vec(),
            stderr: stdout.to_vec(),
            dropped: (0, 0),
            error: error.map(String::from),
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn run_on_a_terminal_neutralizes_remote_output_and_errors() {
        let results = [
            result(HOSTILE, None),
            result(b"", Some("disconnected: \x1b]0;pwned\x07")),
        ];
        let mut out = Vec::new();
        write_folded(&mut out, &results, true).unwrap();
        push_inline_lines(&mut out, "web01", HOSTILE, true);
        crate::fuzzing::check_terminal_output(&out)
            .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&out)));
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("ok^[]0;pwned^G"), "{text}");
        assert!(text.contains("web01 | ok^[]0;pwned^G"), "{text}");
        assert!(
            text.contains("failed: disconnected: ^[]0;pwned^G"),
            "{text}"
        );
    }

    #[test]
    fn json_escapes_c0_and_c1_controls() {
        let mut out = Vec::new();
        write_json(&mut out, &[result(HOSTILE, Some("bye\u{9d}0;x\u{9c}"))]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(
            text.contains("\\u009d2;t\\u009c") && text.contains("\\u001b]0;pwned"),
            "{text}"
        );
        // Still the same strings once parsed.
        let v: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(v["stdout"], String::from_utf8_lossy(HOSTILE).as_ref());
        assert_eq!(v["error"], "bye\u{9d}0;x\u{9c}");
    }

    #[test]
    fn run_into_a_pipe_keeps_output_as_it_is() {
        // Not a terminal (a pipe, a file): output is data, passed on unchanged (lossy UTF-8).
        let mut out = Vec::new();
        write_folded(&mut out, &[result(b"a\x1b[1mb\tc\r\n", None)], false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("a\x1b[1mb\tc\r\n"), "{text:?}");
        let mut inline = Vec::new();
        push_inline_lines(&mut inline, "h", b"x\x1b]0;t\x07\r\n\xffy\n", false);
        assert_eq!(inline, "h | x\x1b]0;t\x07\nh | \u{fffd}y\n".as_bytes());
    }
}
