//! The engine driver for headless work: run one command on every target over the session
//! actors, keep each host's output (up to a cap), and end each host with an [`Outcome`].
//! `mtssh run` (`crate::batch`) and the three IO modes (`super`) all go through [`execute`].

use std::time::{Duration, Instant};

use serde::Serialize;

use super::prompter::{Progress, RunProgress, spawn_prompter};
use super::times::HostTimes;
use crate::ssh::{Engine, EngineSettings, SessionEvent, SessionState, Target, Work};

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
    /// The signal that killed the command (`TERM`), when the server said so.
    pub signal: Option<String>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Bytes dropped beyond `max_output` (stdout, stderr).
    pub dropped: (u64, u64),
    /// What went wrong, as the user reads it.
    pub error: Option<String>,
    /// What kind of thing went wrong, a stable kebab-case name beside `error` (set exactly
    /// when `error` is): a session's [`crate::ssh::SessionError::kind`], or one of the driver's own
    /// ([`HostResult::COMMAND_TIMEOUT`], [`HostResult::NO_EXIT_STATUS`],
    /// [`HostResult::INTERRUPTED`]).
    pub error_kind: Option<&'static str>,
    pub duration: Duration,
    /// When its session reached each phase, on the run's clock.
    pub times: HostTimes,
}

impl HostResult {
    /// `--timeout` ran out and the channel was closed.
    pub const COMMAND_TIMEOUT: &'static str = "command-timeout";
    /// The channel closed without an exit status.
    pub const NO_EXIT_STATUS: &'static str = "no-exit-status";
    /// The run was interrupted (Ctrl-C) before the host finished.
    pub const INTERRUPTED: &'static str = "interrupted";

    /// A host that never got to run (its thread or runtime could not start): kind `other`.
    pub fn failed(name: String, error: String) -> HostResult {
        HostResult {
            name,
            outcome: Outcome::Failed,
            exit_status: None,
            signal: None,
            stdout: Vec::new(),
            stderr: Vec::new(),
            dropped: (0, 0),
            error: Some(error),
            error_kind: Some("other"),
            duration: Duration::ZERO,
            times: HostTimes::default(),
        }
    }

    /// Records an error and its kind together.
    pub(super) fn set_error(&mut self, kind: &'static str, error: String) {
        self.error = Some(error);
        self.error_kind = Some(kind);
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
    /// Bytes sent to every command's stdin, followed by EOF (`--stdin`); one buffer shared
    /// by every host's input queue, however many hosts.
    pub stdin: Option<bytes::Bytes>,
    /// The run's progress bar counts, shared by its drivers (default: a new count).
    pub progress: RunProgress,
    /// Draw the progress line (on a terminal only); `mtssh run -q` turns it off.
    pub show_progress: bool,
}

/// Where lines go as they arrive (`--inline`); `None` keeps everything for the end. Each call
/// carries one or more lines (all but the last end in `\n`), so that a chunk of output costs
/// one write, not one per line.
pub type LineSink<'a> = Option<&'a mut dyn FnMut(&str, Stream, &[u8])>;

/// What a front end learns of a run while it goes on: output lines (when it takes them, the
/// driver forgets them: memory stays bounded by the longest line) and each host's end, as
/// soon as that host is done (`--json` writes it then).
pub trait RunObserver {
    /// Whether output goes to [`RunObserver::lines`] rather than into the results.
    fn takes_lines(&self) -> bool;
    /// One or more lines of one host, as [`LineSink`] gets them.
    fn lines(&mut self, name: &str, stream: Stream, lines: &[u8]);
    /// Host `index` (in target order) is done; its result is final but for the output a
    /// line-taking observer was given.
    fn finished(&mut self, index: usize, result: &HostResult);
}

/// A [`LineSink`] as an observer that only takes lines.
struct LinesOnly<'a>(LineSink<'a>);

impl RunObserver for LinesOnly<'_> {
    fn takes_lines(&self) -> bool {
        self.0.is_some()
    }

    fn lines(&mut self, name: &str, stream: Stream, lines: &[u8]) {
        if let Some(sink) = self.0.as_mut() {
            sink(name, stream, lines);
        }
    }

    fn finished(&mut self, _index: usize, _result: &HostResult) {}
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
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
    sink: LineSink<'_>,
    interrupt: std::pin::Pin<Box<dyn Future<Output = ()> + '_>>,
) -> Vec<HostResult> {
    execute_observed(targets, opts, &mut LinesOnly(sink), interrupt).await
}

/// [`execute`], telling `observer` of lines and of each host's end as they happen.
pub async fn execute_observed(
    targets: Vec<Target>,
    opts: &BatchOptions,
    observer: &mut dyn RunObserver,
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
        echo: opts.stdin.is_none(),
    };
    let now = Instant::now();
    let clock = HostTimes::now();
    let mut running: Vec<Running> = targets
        .iter()
        .map(|t| Running {
            result: HostResult {
                error: None,
                error_kind: None,
                times: HostTimes {
                    started: clock,
                    ..HostTimes::default()
                },
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
    let mut progress = Progress::new(opts.progress.clone(), running.len(), opts.show_progress);
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
                        SessionState::Connecting => {}
                        SessionState::Authenticating => host.result.times.authenticating = Some(HostTimes::now()),
                        SessionState::Ready => {
                            host.result.times.ready = Some(HostTimes::now());
                            host.deadline = opts.timeout.map(|t| Instant::now() + t);
                            match &opts.stdin {
                                Some(data) => feed_stdin(handles[id].clone(), data.clone()),
                                // A command that reads stdin (`cat`) gets EOF, as with
                                // clush and pdsh, instead of waiting for ever.
                                None => handles[id].eof(),
                            }
                        }
                        SessionState::Closed { exit_status, signal } => {
                            host.result.exit_status = host.result.exit_status.or(exit_status);
                            host.result.signal = signal;
                            // A command killed by a signal ran and failed, like a non-zero
                            // exit (a shell reports it as 128+N): not a connection failure.
                            let outcome = match (host.result.exit_status, &host.result.signal) {
                                (_, Some(_)) if host.result.outcome == Outcome::TimedOut => Outcome::TimedOut,
                                (_, Some(_)) => Outcome::NonZero,
                                (Some(0), None) => Outcome::Ok,
                                (Some(_), None) => Outcome::NonZero,
                                (None, None) if host.result.outcome == Outcome::TimedOut => Outcome::TimedOut,
                                (None, None) => {
                                    host.result.set_error(HostResult::NO_EXIT_STATUS, "the channel closed without an exit status".into());
                                    Outcome::Failed
                                }
                            };
                            finish(id, host, outcome, observer);
                            pending -= 1;
                            progress.finished_one();
                        }
                        SessionState::Failed { error } => {
                            host.result.set_error(error.kind(), error.localized());
                            let outcome = if host.result.outcome == Outcome::TimedOut { Outcome::TimedOut } else { Outcome::Failed };
                            finish(id, host, outcome, observer);
                            pending -= 1;
                            progress.finished_one();
                        }
                    },
                    SessionEvent::Output { data, .. } => keep(host, Stream::Stdout, &data, opts.max_output, observer),
                    SessionEvent::Stderr { data, .. } => keep(host, Stream::Stderr, &data, opts.max_output, observer),
                    SessionEvent::ExitStatus { status, .. } => {
                        host.result.exit_status = Some(status);
                        host.result.times.exited.get_or_insert_with(HostTimes::now);
                    }
                    SessionEvent::Prompt { prompt, .. } => {
                        let _ = prompts.send(prompt);
                    }
                    // Batch runs ask for no extra exec channels.
                    SessionEvent::Exec { .. } => {}
                }
            }
            _ = ticker.tick() => {
                let now = Instant::now();
                for (id, host) in running.iter_mut().enumerate() {
                    if !host.finished && host.deadline.is_some_and(|d| now >= d) {
                        host.deadline = None;
                        host.result.outcome = Outcome::TimedOut;
                        host.result.set_error(HostResult::COMMAND_TIMEOUT, format!(
                            "timed out after {}; the channel was closed",
                            crate::ssh::humantime(opts.timeout.unwrap_or_default())
                        ));
                        handles[id].close();
                    }
                }
                progress.draw();
            }
            _ = &mut interrupt => {
                for handle in &handles {
                    handle.close();
                }
                for (id, host) in running.iter_mut().enumerate().filter(|(_, h)| !h.finished) {
                    host.result.set_error(HostResult::INTERRUPTED, "interrupted".into());
                    finish(id, host, Outcome::Interrupted, observer);
                }
                break;
            }
        }
    }
    progress.clear();
    running.into_iter().map(|r| r.result).collect()
}

/// Sends the shared stdin bytes, then EOF, as the session's channel takes them (its output
/// is read all the while). Stops when the session ends: a remote that exits without
/// reading its input ends the feed, not the other way round.
fn feed_stdin(handle: crate::ssh::SessionHandle, data: bytes::Bytes) {
    tokio::spawn(async move {
        if handle.input_wait(data).await.is_ok() {
            handle.eof();
        }
    });
}

fn keep(
    host: &mut Running,
    stream: Stream,
    data: &[u8],
    max: usize,
    observer: &mut dyn RunObserver,
) {
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
    if observer.takes_lines() {
        let mut sink = |name: &str, stream, lines: &[u8]| observer.lines(name, stream, lines);
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

fn finish(id: usize, host: &mut Running, outcome: Outcome, observer: &mut dyn RunObserver) {
    host.finished = true;
    host.result.outcome = outcome;
    host.result.duration = host.started.elapsed();
    host.result.times.ended = HostTimes::now();
    if observer.takes_lines() {
        for (i, stream) in [Stream::Stdout, Stream::Stderr].into_iter().enumerate() {
            let rest = std::mem::take(&mut host.partial[i]);
            if !rest.is_empty() {
                observer.lines(&host.result.name, stream, &rest);
            }
        }
        if let Some(error) = &host.result.error {
            observer.lines(
                &host.result.name,
                Stream::Stderr,
                format!("mtssh: {error}").as_bytes(),
            );
        }
    }
    observer.finished(id, &host.result);
}
