//! `mtssh push` and `mtssh pull`: files to and from every selected host over SFTP, with
//! `mtssh run`'s host selection, authentication, known_hosts handling, folded report,
//! `--json` and exit codes.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};

use super::collect::StdoutWriter;
use super::report::{Summary, write_folded, write_json_host};
use super::{EXIT_INCOMPLETE, Verbosity, say, select_targets};
use crate::config::HostOptions;
use crate::lang::trf;
use crate::modes::{HostResult, RunObserver, Stream, Streams, TransferOptions, execute_transfers};
use crate::ssh::sftp::{Direction, SharedReads, TransferSpec};

/// Which way `mtssh push`/`pull` copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    Push,
    Pull,
}

/// What `mtssh push` or `mtssh pull` was asked to do.
#[derive(Debug, Clone)]
pub struct TransferRunOptions {
    pub hosts: HostOptions,
    pub way: Way,
    /// Local paths (push) or remote paths and globs (pull).
    pub sources: Vec<String>,
    /// The remote directory (push) or the local directory that gets `NAME/` per host (pull).
    pub destination: String,
    pub recursive: bool,
    pub preserve: bool,
    pub verify: bool,
    /// Hosts transferring at once.
    pub streams: Streams,
    pub json: bool,
    pub verbosity: Verbosity,
}

pub async fn run_transfer(args: TransferRunOptions) -> Result<ExitCode> {
    crate::logging::to_stderr(args.verbosity.log_level());
    crate::sys::keep_freed_memory();
    let (inventory, targets) = select_targets(&args.hosts, args.verbosity).await?;
    let bytes_per_host = if args.way == Way::Push {
        check_local_sources(&args.sources, args.recursive).await?;
        local_bytes(&args.sources).await
    } else {
        None
    };
    let mut jobs = Vec::with_capacity(targets.len());
    // Every host sends the same files: each is read once for all of them.
    let shared_reads = (args.way == Way::Push).then(|| SharedReads::new(targets.len()));
    for target in targets {
        let direction = match args.way {
            Way::Push => Direction::Push {
                locals: args.sources.iter().map(PathBuf::from).collect(),
                remote_dir: args.destination.clone(),
            },
            Way::Pull => Direction::Pull {
                remotes: args.sources.clone(),
                local_dir: host_dir(&args.destination, &target.name).await?,
            },
        };
        let spec = TransferSpec {
            direction,
            recursive: args.recursive,
            preserve: args.preserve,
            hash: args.verify,
            shared_reads: shared_reads.clone(),
        };
        jobs.push((target, spec));
    }
    let opts = TransferOptions {
        fanout: args.hosts.fanout,
        per_host: args.hosts.per_host,
        verify: args.verify,
        streams: args.streams,
        // `--json` is read by programs: no display beside it.
        show_progress: args.verbosity >= Verbosity::Normal && !args.json,
        bytes_per_host,
    };
    let stdout_tty = std::io::stdout().is_terminal();
    let mut out = StdoutWriter::new(stdout_tty);
    let pipe_closed = out.closed_signal();
    let interrupt = Box::pin(async move {
        tokio::select! {
            _ = crate::sys::shutdown_signal() => {}
            _ = pipe_closed.notified() => {}
        }
    });
    let mut observer = JsonObserver {
        out: &mut out,
        json: args.json,
    };
    let results = execute_transfers(jobs, &opts, &mut observer, interrupt).await;
    for store in &inventory.stores {
        store.flush().await;
    }
    if out.pipe_closed() {
        crate::sys::die_of_sigpipe();
    }
    if !args.json {
        out.whole(|w| write_folded(w, &results, stdout_tty));
    }
    out.flush();
    if out.pipe_closed() {
        crate::sys::die_of_sigpipe();
    }
    if let Some(e) = out.failure() {
        say(&trf(
            "mtssh: cannot write the report to standard output: {error}",
            &[("error", &e)],
        ));
    }
    let summary = Summary::of(&results);
    say(&summary.to_string());
    let code = match summary.exit_code() {
        130 => 130,
        _ if out.failure().is_some() => EXIT_INCOMPLETE,
        code => code,
    };
    Ok(ExitCode::from(code))
}

/// Every local source exists, and a directory comes with `-r`: said before anything
/// connects, as a bad invocation.
async fn check_local_sources(sources: &[String], recursive: bool) -> Result<()> {
    for source in sources {
        let meta = tokio::fs::metadata(source)
            .await
            .with_context(|| trf("{source}: cannot push it", &[("source", source)]))?;
        if meta.is_dir() && !recursive {
            anyhow::bail!(trf(
                "{source} is a directory: give -r to push it whole",
                &[("source", source)],
            ));
        }
    }
    Ok(())
}

/// The bytes of the regular files under the local sources, as a push sends them to each
/// host (for the progress display's total and time left); `None` when a path cannot be
/// read (the transfer then says why, per host).
async fn local_bytes(sources: &[String]) -> Option<u64> {
    let mut total = 0u64;
    let mut pending: Vec<PathBuf> = sources.iter().map(PathBuf::from).collect();
    // A symlink loop would never end: past this many paths the display goes without a total.
    let mut budget = 1_000_000u32;
    while let Some(path) = pending.pop() {
        budget = budget.checked_sub(1)?;
        let meta = tokio::fs::metadata(&path).await.ok()?;
        if meta.is_dir() {
            let mut entries = tokio::fs::read_dir(&path).await.ok()?;
            while let Some(entry) = entries.next_entry().await.ok()? {
                pending.push(entry.path());
            }
        } else if meta.is_file() {
            total = total.saturating_add(meta.len());
        }
    }
    Some(total)
}

/// `LOCAL_DIR/NAME` for one host's pulled files, made now (before anything connects).
async fn host_dir(local_dir: &str, name: &str) -> Result<PathBuf> {
    let dir = PathBuf::from(local_dir).join(crate::text::safe_file_name(name));
    tokio::fs::create_dir_all(&dir).await.with_context(|| {
        trf(
            "cannot make {dir} for {name}'s files",
            &[("dir", &dir.display()), ("name", &name)],
        )
    })?;
    Ok(dir)
}

/// Writes each host's `--json` object as soon as it is done.
struct JsonObserver<'o> {
    out: &'o mut StdoutWriter,
    json: bool,
}

impl RunObserver for JsonObserver<'_> {
    fn takes_lines(&self) -> bool {
        false
    }

    fn lines(&mut self, _name: &str, _stream: Stream, _lines: &[u8]) {}

    fn finished(&mut self, _index: usize, result: &HostResult) {
        if self.json {
            self.out.whole(|w| write_json_host(w, result));
            self.out.flush();
        }
    }
}
