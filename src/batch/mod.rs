//! `mtssh run`: one command on every selected host, over the same session actors as the TUI.
//! Its exit codes: [`EXIT_CODES`].

mod collect;
mod outdir;
mod report;
mod trace;
mod transfer;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::config::{HostOptions, inventory};
use crate::modes::{BatchOptions, HostResult, Mode, RunObserver, Stream, execute_observed};
use crate::ssh::Target;
use collect::{Collector, StdoutWriter};
use outdir::Outdir;
pub use report::{EXIT_CODES, Summary, fold_results};
use report::{write_folded, write_json, write_json_host};
pub use transfer::{TransferRunOptions, Way, run_transfer};

/// The exit code when the hosts' output could not all be written (to stdout or `--outdir`).
const EXIT_INCOMPLETE: u8 = 4;

/// What `mtssh run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub hosts: HostOptions,
    pub mode: Mode,
    pub command: String,
    /// Stream `name: line` as lines arrive (and, on a terminal, end with the folded report
    /// too) instead of only a folded report at the end.
    pub inline: bool,
    pub json: bool,
    /// Bytes of stdout (and of stderr) kept per host.
    pub max_output: usize,
    /// Print remote bytes unchanged even on a terminal.
    pub raw: bool,
    /// `None`: the host list's command timeout, else none; zero: no limit.
    pub timeout: Option<Duration>,
    /// How much to say on stderr besides errors and the report.
    pub verbosity: Verbosity,
    pub tty: bool,
    pub stdin: bool,
    pub outdir: Option<PathBuf>,
    /// A line on stderr per wake-up of the event loop, and a summary (event-loop mode).
    pub trace_events: bool,
}

/// `-q`, nothing, `-v`, `-vv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors only: no warnings, notices or progress.
    Quiet,
    Normal,
    /// Also what was selected, and the log at info level.
    Verbose,
    /// The log at debug level.
    Debug,
}

impl Verbosity {
    /// The log level unless MTSSH_LOG says otherwise.
    pub(crate) fn log_level(self) -> &'static str {
        match self {
            Verbosity::Quiet => "error",
            Verbosity::Normal => "warn",
            Verbosity::Verbose => "info",
            Verbosity::Debug => "debug",
        }
    }
}

/// One line on stderr: neutralised on a terminal (host names and file names come from the
/// user's files), and never a panic when stderr is gone (`eprintln!` would panic).
pub(crate) fn say(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = if stderr.is_terminal() {
        writeln!(stderr, "{}", crate::text::neutralize(line.as_bytes()))
    } else {
        writeln!(stderr, "{line}")
    };
}

pub async fn run(args: RunOptions) -> Result<ExitCode> {
    // The hosts' start and end times (`--json`) count from here.
    crate::sys::since_start();
    crate::logging::to_stderr(args.verbosity.log_level());
    if args.stdin && args.hosts.query().reads_stdin() {
        anyhow::bail!(
            "-H - reads the host names from standard input, so it cannot also go to the command with --stdin; put the hosts in a file and give -H ^FILE"
        );
    }
    if args.trace_events && args.mode != Mode::EventLoop {
        anyhow::bail!(
            "--trace-events shows the one event loop's wake-ups: use it with --mode event-loop (the default); --mode {} runs its sessions on runtimes of their own",
            args.mode.name()
        );
    }
    let (inventory, targets) = select_targets(&args.hosts, args.verbosity).await?;
    let chatty = args.verbosity >= Verbosity::Normal;
    let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    // Before anything connects: a directory that cannot be written refuses the run.
    let outdir = match &args.outdir {
        Some(dir) => {
            let (dir, names) = (dir.clone(), names.clone());
            Some(
                tokio::task::spawn_blocking(move || Outdir::prepare(&dir, &names))
                    .await
                    .context("--outdir: the preparing task failed")??,
            )
        }
        None => None,
    };
    let opts = BatchOptions {
        command: args.command.clone(),
        pty: args.tty,
        max_output: args.max_output,
        timeout: match args.timeout {
            Some(zero) if zero.is_zero() => None,
            given => given.or(inventory.command_timeout),
        },
        fanout: args.hosts.fanout,
        per_host: args.hosts.per_host,
        progress: Default::default(),
        stdin: if args.stdin {
            Some(bytes::Bytes::from(read_stdin().await?))
        } else {
            None
        },
        // The trace's lines would cut through the progress line.
        show_progress: chatty && !args.trace_events,
    };
    let stdout_tty = std::io::stdout().is_terminal();
    let neutralize = stdout_tty && !args.raw;
    let mut out = StdoutWriter::new(stdout_tty);
    // On a terminal `--inline` ends with the folded report too (clush -bL), so a capped copy
    // is kept for it, as for `--outdir` without `--inline`.
    let fold_at_end = !args.json && (!args.inline || stdout_tty);
    let keep = (outdir.is_some() && !args.inline) || (args.inline && fold_at_end);
    let mut collector = Collector::new(&names, outdir.as_ref(), args.inline, keep, args.max_output);
    let mut notes = Vec::new();
    // `--json` objects are written as each host ends in the event loop; the blocking modes
    // end all at once.
    let mut json_at_end = args.json;
    let results = match args.mode {
        Mode::EventLoop => {
            let pipe_closed = out.closed_signal();
            let interrupt = Box::pin(async move {
                tokio::select! {
                    _ = crate::sys::shutdown_signal() => {}
                    _ = pipe_closed.notified() => {}
                }
            });
            json_at_end = false;
            let mut observer = Observer {
                collector: &mut collector,
                out: &mut out,
                neutralize,
                json: args.json,
                done: (0..names.len()).map(|_| None).collect(),
            };
            let trace = if args.trace_events {
                Some(trace::Trace::start().context("--trace-events: cannot start its printer")?)
            } else {
                None
            };
            let results = execute_observed(targets, &opts, &mut observer, interrupt).await;
            if let Some(trace) = trace {
                trace.finish().await;
            }
            let done = observer.done;
            results
                .into_iter()
                .zip(done)
                .map(|(r, done)| done.unwrap_or(r))
                .collect()
        }
        mode => {
            // The blocking modes run on threads of their own; the loop only waits, writing
            // the lines their drivers hand over as they come. A signal (or a closed stdout)
            // tells the drivers to stop, and what arrived until then is reported.
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let (feed, lines) = if collector.takes_lines() {
                let (feed, lines) = std::sync::mpsc::sync_channel(LINE_QUEUE);
                (Some(feed), Some(lines))
            } else {
                (None, None)
            };
            let work = crate::modes::execute_blocking(mode, targets, opts.clone(), stopped, feed);
            tokio::pin!(work);
            let signal = crate::sys::shutdown_signal();
            tokio::pin!(signal);
            let pipe_closed = out.closed_signal();
            let mut poll = tokio::time::interval(LINE_POLL);
            let mut stopping = false;
            let mut results = loop {
                tokio::select! {
                    results = &mut work => break results,
                    _ = &mut signal, if !stopping => {
                        stopping = true;
                        let _ = stop.send(true);
                    }
                    _ = pipe_closed.notified(), if !stopping => {
                        stopping = true;
                        let _ = stop.send(true);
                    }
                    _ = poll.tick(), if lines.is_some() => {
                        drain_lines(lines.as_ref(), &mut collector, &mut out, neutralize);
                    }
                }
            };
            // Every line was sent before its host's result: what is queued is the rest.
            drain_lines(lines.as_ref(), &mut collector, &mut out, neutralize);
            if collector.takes_lines() {
                for (index, r) in results.iter_mut().enumerate() {
                    collector.finish_host(index, r);
                }
            }
            results
        }
    };
    for store in &inventory.stores {
        store.flush().await;
    }
    if let Some(outdir) = outdir {
        let problems = tokio::task::spawn_blocking(move || outdir.finish())
            .await
            .unwrap_or_else(|e| vec![format!("--outdir: its writer failed: {e}")]);
        notes.extend(problems);
    }
    if out.pipe_closed() {
        // `mtssh run … | head`: the reader is gone; end like ssh does, quietly (the output
        // directory and learned host keys are written by now).
        crate::sys::die_of_sigpipe();
    }
    if json_at_end {
        out.whole(|w| write_json(w, &results));
    } else if fold_at_end {
        out.whole(|w| write_folded(w, &results, neutralize));
    }
    out.flush();
    if out.pipe_closed() {
        crate::sys::die_of_sigpipe();
    }
    let incomplete = out.failure().is_some() || !notes.is_empty();
    if let Some(e) = out.failure() {
        say(&crate::lang::trf(
            "mtssh: cannot write the report to standard output: {error}",
            &[("error", &e)],
        ));
    }
    for note in &notes {
        say(&format!("mtssh: {note}"));
    }
    let summary = Summary::of(&results);
    say(&summary.to_string());
    let code = match summary.exit_code() {
        130 => 130,
        _ if incomplete => EXIT_INCOMPLETE,
        code => code,
    };
    Ok(ExitCode::from(code))
}

/// The event loop's observer of `mtssh run`: lines to the collector (stdout, `--outdir`, the
/// copy kept for the report), and each host's `--json` object as soon as it is done.
struct Observer<'c, 'o> {
    collector: &'c mut Collector<'o>,
    out: &'c mut StdoutWriter,
    neutralize: bool,
    json: bool,
    /// Results completed with the collector's copies (when it takes the lines).
    done: Vec<Option<HostResult>>,
}

impl RunObserver for Observer<'_, '_> {
    fn takes_lines(&self) -> bool {
        self.collector.takes_lines()
    }

    fn lines(&mut self, name: &str, stream: Stream, lines: &[u8]) {
        self.collector
            .lines(name, stream, lines, self.neutralize, self.out);
    }

    fn finished(&mut self, index: usize, result: &HostResult) {
        // When the driver handed its output over it kept none, so the clone is cheap; when
        // it kept the output itself, the result is complete as it is.
        let completed = self.collector.takes_lines().then(|| {
            let mut r = result.clone();
            self.collector.finish_host(index, &mut r);
            r
        });
        if self.json {
            let shown = completed.as_ref().unwrap_or(result);
            self.out.whole(|w| write_json_host(w, shown));
            self.out.flush();
        }
        if let (Some(r), Some(slot)) = (completed, self.done.get_mut(index)) {
            *slot = Some(r);
        }
    }
}

/// The hosts a batch command works on: the inventory resolved, the whole default list
/// refused without `-a`, its warnings and notices said (as `verbosity` allows), and names
/// made unique. Shared by `run`, `push` and `pull`.
pub(crate) async fn select_targets(
    hosts: &HostOptions,
    verbosity: Verbosity,
) -> Result<(inventory::Inventory, Vec<Target>)> {
    let mut inventory = inventory::resolve(hosts).await?;
    refuse_whole_default_list(hosts, &inventory)?;
    let chatty = verbosity >= Verbosity::Normal;
    for warning in inventory.warnings.iter().filter(|_| chatty) {
        say(&crate::lang::trf("warning: {text}", &[("text", warning)]));
    }
    for notice in inventory.notices.iter().filter(|_| chatty) {
        say(&crate::lang::trf("note: {text}", &[("text", notice)]));
    }
    if inventory.unchecked && chatty {
        say(
            "warning: host key checking is off: these connections are not protected against impersonation",
        );
    }
    if verbosity >= Verbosity::Verbose {
        let names: Vec<&str> = inventory.targets.iter().map(|t| t.name.as_str()).collect();
        say(&format!(
            "selected {} hosts: {}",
            names.len(),
            crate::config::fold_to_string(&names)
        ));
    }
    let mut targets = std::mem::take(&mut inventory.targets);
    unique_names(&mut targets);
    Ok((inventory, targets))
}

/// `mtssh run` with nothing naming hosts would run on the whole default host list, which
/// may be every machine someone has: as clush and pdsh, it wants `-a` for that.
fn refuse_whole_default_list(hosts: &HostOptions, inventory: &inventory::Inventory) -> Result<()> {
    let Some(path) = &inventory.default_list else {
        return Ok(());
    };
    if hosts.all || !hosts.hosts.is_empty() || !hosts.groups.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "no hosts chosen: this would run on all {} hosts of the default host list {}; add -a (--all) to mean that, or choose hosts with -H, -g or -f",
        inventory.targets.len(),
        path.display()
    )
}

/// Names the report and the output files tell hosts apart by: a name that repeats (`-H a,a`)
/// gets `#2`, `#3` like `--count` copies, so no host's output lands in another's file.
fn unique_names(targets: &mut [Target]) {
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    for target in targets.iter_mut() {
        if seen.insert(target.name.clone()) {
            continue;
        }
        let mut n = 2;
        while !seen.insert(format!("{}#{n}", target.name)) {
            n += 1;
        }
        target.name = format!("{}#{n}", target.name);
    }
}

/// Lines the blocking modes' drivers may queue before they wait for the writer.
const LINE_QUEUE: usize = 1024;

/// How often the loop takes the blocking modes' queued lines.
const LINE_POLL: Duration = Duration::from_millis(20);

/// Hands every queued line of the blocking modes to the collector, without waiting.
fn drain_lines(
    lines: Option<&std::sync::mpsc::Receiver<(String, Stream, Vec<u8>)>>,
    collector: &mut Collector<'_>,
    out: &mut StdoutWriter,
    neutralize: bool,
) {
    let Some(lines) = lines else {
        return;
    };
    while let Ok((name, stream, bytes)) = lines.try_recv() {
        collector.lines(&name, stream, &bytes, neutralize, out);
    }
}

async fn read_stdin() -> Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut data = Vec::new();
    tokio::io::stdin().read_to_end(&mut data).await?;
    Ok(data)
}
