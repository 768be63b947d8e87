//! `mtssh run`: one command on every selected host, over the same session actors as the TUI.
//! Its exit codes: [`EXIT_CODES`].

mod report;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;

use crate::config::{HostOptions, inventory};
use crate::modes::{BatchOptions, HostResult, LineSink, Mode, Stream, execute};
pub use report::{EXIT_CODES, Summary, fold_results};
use report::{print_json, push_inline_lines, write_folded};

/// What `mtssh run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub hosts: HostOptions,
    pub mode: Mode,
    pub command: String,
    /// Stream `name | line` as lines arrive instead of a folded report at the end.
    pub inline: bool,
    pub json: bool,
    /// Bytes of stdout (and of stderr) kept per host.
    pub max_output: usize,
    /// Print remote bytes unchanged even on a terminal.
    pub raw: bool,
    /// `None`: the host list's command timeout, else none.
    pub timeout: Option<Duration>,
    pub tty: bool,
    pub stdin: bool,
    pub outdir: Option<PathBuf>,
}

pub async fn run(args: RunOptions) -> Result<ExitCode> {
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
        timeout: args.timeout.or(inventory.command_timeout),
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
            let interrupt = Box::pin(crate::sys::shutdown_signal());
            execute(inventory.targets, &opts, sink, interrupt).await
        }
        mode => {
            // The blocking modes run on threads of their own; the loop only waits, and
            // Ctrl-C ends the process (their sessions cannot be told to stop midway).
            tokio::select! {
                results = crate::modes::execute_blocking(mode, inventory.targets, opts.clone()) => results,
                _ = crate::sys::shutdown_signal() => return Ok(ExitCode::from(130)),
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
            let safe = crate::text::safe_file_name(&r.name);
            std::fs::write(dir.join(format!("{safe}.out")), &r.stdout)?;
            std::fs::write(dir.join(format!("{safe}.err")), &r.stderr)?;
        }
        Ok(results)
    })
    .await?
}
