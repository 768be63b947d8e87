//! The course's comparison: the same batch work done three ways.
//!
//! - `event-loop` (mtssh's way): every session a task on the one thread.
//! - `sequential`: the blocking client: one session at a time, each driven to completion
//!   by its own `block_on`, never overlapping.
//! - `threads`: one OS thread per session, each with its own small runtime.
//!
//! All three run the very same session actor, so the numbers compare IO models, not code.

use std::future::pending;
use std::time::Duration;

mod driver;
mod prompter;
mod stream_ramp;
mod times;
mod transfer;
mod transfer_bar;

use crate::ssh::Target;
pub use driver::{
    BatchOptions, HostResult, LineSink, Outcome, RunObserver, Stream, execute, execute_observed,
};
pub use prompter::{RunProgress, clear_status_line};
pub use stream_ramp::Streams;
pub use times::{HostTimes, Phases, millis};
pub use transfer::{TransferOptions, execute_transfers};

/// Set to `true` to stop the blocking modes' drivers (Ctrl-C, SIGTERM, SIGHUP): each keeps
/// what arrived, like the event loop's run.
pub type Stop = tokio::sync::watch::Receiver<bool>;

/// Lines of one host as the blocking modes' drivers hand them over (host name, stream,
/// one or more lines), for `--inline` and `--outdir` to stream as the event loop does.
/// Bounded: a driver thread that runs ahead of the writer waits (the blocking modes block by
/// design), and what it holds stays small.
pub type LineFeed = std::sync::mpsc::SyncSender<(String, Stream, Vec<u8>)>;

/// What every driver of one blocking run shares.
#[derive(Clone)]
struct Drive {
    stop: Stop,
    lines: Option<LineFeed>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    #[default]
    EventLoop,
    Sequential,
    Threads,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::EventLoop, Mode::Sequential, Mode::Threads];

    pub fn name(self) -> &'static str {
        match self {
            Mode::EventLoop => "event-loop",
            Mode::Sequential => "sequential",
            Mode::Threads => "threads",
        }
    }
}

/// Stack for per-session threads: sessions need little, and a thousand default 8 MB
/// stacks would reserve 8 GB of address space.
const THREAD_STACK: usize = 512 * 1024;

/// Runs the blocking modes off the event loop (their threads block by design) and hands
/// the results back to it. `stop` ends every driver early, and hosts not yet started are
/// reported interrupted.
pub async fn execute_blocking(
    mode: Mode,
    targets: Vec<Target>,
    opts: BatchOptions,
    stop: Stop,
    lines: Option<LineFeed>,
) -> Vec<HostResult> {
    let drive = Drive { stop, lines };
    let (done, results) = tokio::sync::oneshot::channel();
    // One bar for the whole run, whose drivers each see one host.
    let opts = BatchOptions {
        progress: RunProgress::default(),
        ..opts
    };
    opts.progress.start(targets.len());
    let spawned = std::thread::Builder::new()
        .name(format!("mtssh-{}", mode.name()))
        .spawn(move || {
            let results = match mode {
                Mode::Sequential => sequential(targets, &opts, &drive),
                Mode::Threads => threads(targets, &opts, &drive),
                Mode::EventLoop => on_own_runtime(targets, &opts, &drive),
            };
            let _ = done.send(results);
        });
    if spawned.is_err() {
        return Vec::new();
    }
    results.await.unwrap_or_default()
}

/// One session after another, each to completion.
fn sequential(targets: Vec<Target>, opts: &BatchOptions, drive: &Drive) -> Vec<HostResult> {
    targets
        .into_iter()
        .flat_map(|target| {
            if *drive.stop.borrow() {
                return vec![not_started(target.name)];
            }
            on_own_runtime(vec![target], opts, drive)
        })
        .collect()
}

/// A host the run was interrupted before.
fn not_started(name: String) -> HostResult {
    HostResult {
        outcome: Outcome::Interrupted,
        error_kind: Some(HostResult::INTERRUPTED),
        ..HostResult::failed(name, "interrupted".into())
    }
}

/// A thread per session.
fn threads(targets: Vec<Target>, opts: &BatchOptions, drive: &Drive) -> Vec<HostResult> {
    let handles: Vec<_> = targets
        .into_iter()
        .map(|target| {
            let opts = opts.clone();
            let name = target.name.clone();
            let drive = drive.clone();
            let spawned = std::thread::Builder::new()
                .stack_size(THREAD_STACK)
                .spawn(move || on_own_runtime(vec![target], &opts, &drive));
            (name, spawned)
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|(name, spawned)| match spawned.map(|h| h.join()) {
            Ok(Ok(results)) => results,
            Ok(Err(_)) | Err(_) => {
                vec![HostResult::failed(name, "its thread could not run".into())]
            }
        })
        .collect()
}

fn on_own_runtime(targets: Vec<Target>, opts: &BatchOptions, drive: &Drive) -> Vec<HostResult> {
    let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(1)
        .thread_keep_alive(Duration::from_millis(100))
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return names
                .into_iter()
                .map(|n| HostResult::failed(n, format!("no runtime: {e}")))
                .collect();
        }
    };
    let mut stop = drive.stop.clone();
    let interrupt = async move {
        // A dropped sender is no request to stop.
        if stop.wait_for(|stopped| *stopped).await.is_err() {
            pending::<()>().await;
        }
    };
    let mut forward = |name: &str, stream: Stream, lines: &[u8]| {
        if let Some(feed) = &drive.lines {
            // A gone reader (the run is ending) wants no more lines.
            let _ = feed.send((name.to_owned(), stream, lines.to_vec()));
        }
    };
    let sink: LineSink = if drive.lines.is_some() {
        Some(&mut forward)
    } else {
        None
    };
    runtime.block_on(execute(targets, opts, sink, Box::pin(interrupt)))
}
