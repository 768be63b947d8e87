//! The engine driver for `mtssh push` and `mtssh pull`: one session per target whose work is
//! the `sftp` subsystem, each host's transfer a task on the same thread
//! ([`crate::ssh::sftp::StartedSftp::run`]), `--verify`'s `sha256sum` on an exec channel of the same
//! connection, and each host's end as a [`HostResult`], so the report, `--json` and the exit
//! codes are `mtssh run`'s.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::driver::{HostResult, Outcome, RunObserver};
use super::prompter::spawn_prompter;
use super::stream_ramp::{StreamLimit, Streams};
use super::transfer_bar::{HostBytes, TransferBar};
use crate::lang::{tr, trf};
use crate::ssh::sftp::{ByteCounter, StartedSftp, TransferSpec, Transferred, start};
use crate::ssh::{
    Engine, EngineSettings, ExecEnd, ExecEvent, ExecRequest, SessionEvent, SessionState, Target,
    Work, human_bytes,
};

/// Knobs of one transfer run.
#[derive(Debug, Clone)]
pub struct TransferOptions {
    pub fanout: usize,
    pub per_host: usize,
    /// Compare a remote `sha256sum` of every file with the bytes sent or received.
    pub verify: bool,
    /// Hosts whose transfers run at once; the others keep their session open and wait in
    /// the order they opened.
    pub streams: Streams,
    /// Draw the progress display (on a terminal only).
    pub show_progress: bool,
    /// The bytes each host moves, when known before the start (push): the display then
    /// shows a bar, the total and the time left.
    pub bytes_per_host: Option<u64>,
}

impl HostResult {
    /// The SFTP session or a file operation failed (the error names the path).
    pub const TRANSFER: &'static str = "transfer";
    /// `--verify`: a remote hash differs from the local one.
    pub const VERIFY_MISMATCH: &'static str = "verify-mismatch";
    /// `--verify`: the remote `sha256sum` could not be run or said nothing usable.
    pub const VERIFY_FAILED: &'static str = "verify-failed";
}

/// How long `sha256sum` may take on the remote (it reads every file once).
const VERIFY_TIMEOUT: Duration = Duration::from_secs(600);

struct Host {
    result: HostResult,
    started: Instant,
    finished: bool,
    counter: ByteCounter,
    /// Its SFTP session has started (or it ended before): it no longer holds `auto`'s start
    /// gate.
    sftp_started: bool,
    /// The transfer's outcome while `--verify` runs, and the hash command's stdout.
    verifying: Option<(Transferred, Vec<u8>, Vec<u8>)>,
}

/// Runs each target's transfer; one result per target, in target order. `interrupt`
/// resolving closes every session and reports the hosts not done as interrupted.
pub async fn execute_transfers(
    jobs: Vec<(Target, TransferSpec)>,
    opts: &TransferOptions,
    observer: &mut dyn RunObserver,
    mut interrupt: std::pin::Pin<Box<dyn Future<Output = ()> + '_>>,
) -> Vec<HostResult> {
    let (engine, mut events) = Engine::new(EngineSettings {
        fanout: opts.fanout,
        per_host: opts.per_host,
        ..Default::default()
    });
    let prompts = spawn_prompter();
    let (streams, mut opened) = mpsc::unbounded_channel();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(usize, Result<Transferred, String>)>();
    let (started_tx, mut started_rx) =
        mpsc::unbounded_channel::<(usize, Result<StartedSftp, String>)>();
    let work = Work::Subsystem {
        name: "sftp".into(),
        streams,
    };
    let now = Instant::now();
    let mut hosts: Vec<Host> = jobs
        .iter()
        .map(|(t, _)| Host {
            result: HostResult {
                error: None,
                error_kind: None,
                ..HostResult::failed(t.name.clone(), String::new())
            },
            started: now,
            finished: false,
            counter: Arc::new(AtomicU64::new(0)),
            sftp_started: false,
            verifying: None,
        })
        .collect();
    let mut specs = Vec::with_capacity(jobs.len());
    let handles: Vec<_> = jobs
        .into_iter()
        .enumerate()
        .map(|(id, (target, spec))| {
            specs.push(spec);
            engine.spawn(id, target, work.clone())
        })
        .collect();
    // The engine's own copy of `streams` lives in `work`: drop ours so the channel's end is
    // seen once every session has ended.
    drop(work);
    let mut progress = TransferBar::new(opts.bytes_per_host, hosts.len(), opts.show_progress);
    let mut pending = hosts.len();
    // Started SFTP sessions waiting for a place (`--streams`), and the transfers running.
    let mut queued: std::collections::VecDeque<(usize, StartedSftp)> = Default::default();
    let mut running = 0usize;
    let mut limit = StreamLimit::new(
        opts.streams,
        hosts.len(),
        opts.bytes_per_host,
        Instant::now(),
    );
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    while pending > 0 {
        tokio::select! {
            Some((id, stream)) = opened.recv() => {
                // Every host's SFTP session starts as soon as its channel is open, whatever
                // waits for a place: the server's side is up before bulk bytes compete.
                let started = started_tx.clone();
                tokio::spawn(async move {
                    let _ = started.send((id, start(stream).await));
                });
            }
            Some((id, result)) = started_rx.recv() => {
                let Some(host) = hosts.get_mut(id) else { continue };
                host.sftp_started = true;
                if !host.finished {
                    match result {
                        Ok(sftp) => queued.push_back((id, sftp)),
                        Err(error) => {
                            host.result.set_error(HostResult::TRANSFER, error);
                            finish(id, host, Outcome::Failed, observer);
                            handles[id].close();
                            pending -= 1;
                        }
                    }
                }
                limit.session_opened(Instant::now());
                host_settled(&mut limit, &mut queued, &mut running, &hosts, &specs, &done_tx);
            }
            Some((id, result)) = done_rx.recv() => {
                running = running.saturating_sub(1);
                start_queued(&mut queued, &mut running, limit.limit(), &hosts, &specs, &done_tx);
                let Some(host) = hosts.get_mut(id) else { continue };
                if host.finished {
                    continue;
                }
                match result {
                    Ok(moved) if opts.verify && !moved.hashes.is_empty() => {
                        let command = hash_command(&moved.hashes);
                        host.verifying = Some((moved, Vec::new(), Vec::new()));
                        handles[id].exec(ExecRequest { run: id as u64, command, timeout: VERIFY_TIMEOUT });
                    }
                    Ok(moved) => {
                        host.result.stdout = summary(&moved).into_bytes();
                        finish(id, host, Outcome::Ok, observer);
                        handles[id].close();
                        pending -= 1;
                    }
                    Err(error) => {
                        host.result.set_error(HostResult::TRANSFER, error);
                        finish(id, host, Outcome::Failed, observer);
                        handles[id].close();
                        pending -= 1;
                    }
                }
            }
            event = events.recv() => {
                let Some(event) = event else { break };
                let id = event.session_id();
                let Some(host) = hosts.get_mut(id) else { continue };
                if host.finished {
                    continue;
                }
                match event {
                    SessionEvent::State { state: SessionState::Failed { error }, .. } => {
                        host.result.set_error(error.kind(), error.to_string());
                        finish(id, host, Outcome::Failed, observer);
                        pending -= 1;
                        host_settled(&mut limit, &mut queued, &mut running, &hosts, &specs, &done_tx);
                    }
                    SessionEvent::State { state: SessionState::Closed { .. }, .. } => {
                        // Only a close we asked for ends a session that transfers; one that
                        // ended before its stream came never got to transfer.
                        host.result.set_error(HostResult::TRANSFER, tr("the connection closed before the SFTP session started").into());
                        finish(id, host, Outcome::Failed, observer);
                        pending -= 1;
                        host_settled(&mut limit, &mut queued, &mut running, &hosts, &specs, &done_tx);
                    }
                    SessionEvent::State { .. } | SessionEvent::Output { .. } | SessionEvent::Stderr { .. } | SessionEvent::ExitStatus { .. } => {}
                    SessionEvent::Prompt { prompt, .. } => {
                        let _ = prompts.send(prompt);
                    }
                    SessionEvent::Exec { event, .. } => {
                        let Some((_, stdout, stderr)) = host.verifying.as_mut() else { continue };
                        match event {
                            ExecEvent::Stdout(data) => stdout.extend_from_slice(&data),
                            ExecEvent::Stderr(data) => stderr.extend_from_slice(&data),
                            ExecEvent::End(end) => {
                                let Some((moved, stdout, stderr)) = host.verifying.take() else { continue };
                                let outcome = match verdict(&moved, &stdout, &stderr, &end) {
                                    Ok(()) => {
                                        let mut text = summary(&moved);
                                        text.push_str(&trf("verified: {n} sha256 match", &[("n", &moved.hashes.len())]));
                                        text.push('\n');
                                        host.result.stdout = text.into_bytes();
                                        Outcome::Ok
                                    }
                                    Err((kind, error)) => {
                                        host.result.set_error(kind, error);
                                        Outcome::Failed
                                    }
                                };
                                finish(id, host, outcome, observer);
                                handles[id].close();
                                pending -= 1;
                            }
                        }
                    }
                }
            }
            _ = ticker.tick() => {
                let counts: Vec<HostBytes<'_>> = hosts
                    .iter()
                    .map(|h| HostBytes {
                        name: &h.result.name,
                        moved: h.counter.load(Ordering::Relaxed),
                        finished: h.finished,
                    })
                    .collect();
                progress.update(&counts);
                let moved = counts.iter().map(|c| c.moved).sum();
                if let Some(most) = limit.tick(Instant::now(), moved, !queued.is_empty(), running) {
                    tracing::debug!(streams = most, running, waiting = queued.len(), "--streams auto: new limit");
                    start_queued(&mut queued, &mut running, most, &hosts, &specs, &done_tx);
                }
            }
            _ = &mut interrupt => {
                for handle in &handles {
                    handle.close();
                }
                for (id, host) in hosts.iter_mut().enumerate().filter(|(_, h)| !h.finished) {
                    host.result.set_error(HostResult::INTERRUPTED, tr("interrupted").into());
                    finish(id, host, Outcome::Interrupted, observer);
                }
                break;
            }
        }
    }
    progress.finish();
    hosts.into_iter().map(|h| h.result).collect()
}

/// A host's SFTP session started, or the host ended: one fewer to start, which may open
/// `auto`'s start gate; then the queue moves up to the limit.
fn host_settled(
    limit: &mut StreamLimit,
    queued: &mut std::collections::VecDeque<(usize, StartedSftp)>,
    running: &mut usize,
    hosts: &[Host],
    specs: &[TransferSpec],
    done: &mpsc::UnboundedSender<(usize, Result<Transferred, String>)>,
) {
    let still_starting = hosts
        .iter()
        .filter(|h| !h.finished && !h.sftp_started)
        .count();
    limit.host_started(Instant::now(), still_starting);
    start_queued(queued, running, limit.limit(), hosts, specs, done);
}

/// Starts queued transfers while fewer than `most` run. A host that failed or was
/// interrupted while it waited is skipped (its channel closes when dropped).
fn start_queued(
    queued: &mut std::collections::VecDeque<(usize, StartedSftp)>,
    running: &mut usize,
    most: usize,
    hosts: &[Host],
    specs: &[TransferSpec],
    done: &mpsc::UnboundedSender<(usize, Result<Transferred, String>)>,
) {
    while *running < most {
        let Some((id, sftp)) = queued.pop_front() else {
            return;
        };
        let (Some(host), Some(spec)) = (hosts.get(id), specs.get(id)) else {
            continue;
        };
        if host.finished {
            continue;
        }
        let (spec, counter, done) = (spec.clone(), host.counter.clone(), done.clone());
        *running += 1;
        tokio::spawn(async move {
            let result = sftp.run(&spec, counter).await;
            let _ = done.send((id, result));
        });
    }
}

/// What a host's report shows: files, directories and bytes (no times, so that hosts that
/// moved the same fold together; `--json` has each host's duration).
fn summary(moved: &Transferred) -> String {
    let dirs = match moved.dirs {
        0 => String::new(),
        1 => tr(", 1 directory").to_string(),
        n => trf(", {n} directories", &[("n", &n)]),
    };
    let files = if moved.files == 1 {
        "{files} file{dirs}, {bytes}"
    } else {
        "{files} files{dirs}, {bytes}"
    };
    let mut text = trf(
        files,
        &[
            ("files", &moved.files),
            ("dirs", &dirs),
            ("bytes", &human_bytes(moved.bytes)),
        ],
    );
    text.push('\n');
    text
}

/// `sha256sum -- 'a' 'b'`, each path quoted for a POSIX shell.
fn hash_command(hashes: &[(String, String)]) -> String {
    let mut command = String::from("sha256sum --");
    for (path, _) in hashes {
        command.push(' ');
        command.push_str(&crate::ssh::sftp::remote_quote(path));
    }
    command
}

/// Whether the remote's `sha256sum` output agrees with the hashes taken while transferring.
fn verdict(
    moved: &Transferred,
    stdout: &[u8],
    stderr: &[u8],
    end: &ExecEnd,
) -> Result<(), (&'static str, String)> {
    let stderr_text = String::from_utf8_lossy(stderr);
    if !matches!(end, ExecEnd::Exited(0)) {
        let why = match end {
            ExecEnd::Exited(code) => trf("exit {code}", &[("code", code)]),
            ExecEnd::Signal(signal) => trf("signal {signal}", &[("signal", signal)]),
            ExecEnd::Failed(why) => why.clone(),
            ExecEnd::Cancelled => tr("cancelled").into(),
            ExecEnd::TimedOut(after) => trf(
                "timed out after {after}",
                &[("after", &crate::ssh::humantime(*after))],
            ),
        };
        return Err((
            HostResult::VERIFY_FAILED,
            trf(
                "--verify: the remote sha256sum failed ({why}): {stderr}",
                &[("why", &why), ("stderr", &stderr_text.trim())],
            ),
        ));
    }
    let text = String::from_utf8_lossy(stdout);
    let remote: Vec<&str> = text
        .lines()
        .filter_map(|line| line.trim_start_matches('\\').split_whitespace().next())
        .collect();
    if remote.len() != moved.hashes.len() {
        return Err((
            HostResult::VERIFY_FAILED,
            trf(
                "--verify: the remote sha256sum gave {hashes} hashes for {files} files",
                &[("hashes", &remote.len()), ("files", &moved.hashes.len())],
            ),
        ));
    }
    let differ: Vec<&str> = moved
        .hashes
        .iter()
        .zip(&remote)
        .filter(|((_, local), remote)| !local.eq_ignore_ascii_case(remote))
        .map(|((path, _), _)| path.as_str())
        .collect();
    if differ.is_empty() {
        Ok(())
    } else {
        Err((
            HostResult::VERIFY_MISMATCH,
            trf(
                if differ.len() == 1 {
                    "--verify: sha256 differs for {n} file: {paths}"
                } else {
                    "--verify: sha256 differs for {n} files: {paths}"
                },
                &[("n", &differ.len()), ("paths", &differ.join(", "))],
            ),
        ))
    }
}

fn finish(id: usize, host: &mut Host, outcome: Outcome, observer: &mut dyn RunObserver) {
    host.finished = true;
    host.result.outcome = outcome;
    host.result.duration = host.started.elapsed();
    if outcome == Outcome::Ok {
        host.result.exit_status = Some(0);
    }
    observer.finished(id, &host.result);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moved(hashes: &[(&str, &str)]) -> Transferred {
        Transferred {
            files: hashes.len() as u64,
            hashes: hashes
                .iter()
                .map(|(p, h)| (p.to_string(), h.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_verdict_compares_hashes_in_order_and_names_what_differs() {
        let m = moved(&[("a", "aa11"), ("b c", "bb22")]);
        let ok = b"aa11  a\nBB22  b c\n";
        assert_eq!(verdict(&m, ok, b"", &ExecEnd::Exited(0)), Ok(()));
        let bad = b"aa11  a\nffff  b c\n";
        let (kind, text) = verdict(&m, bad, b"", &ExecEnd::Exited(0)).unwrap_err();
        assert_eq!(kind, HostResult::VERIFY_MISMATCH);
        assert!(text.contains("b c") && !text.contains("a,"), "{text}");
        let (kind, text) =
            verdict(&m, b"", b"sha256sum: not found", &ExecEnd::Exited(127)).unwrap_err();
        assert_eq!(kind, HostResult::VERIFY_FAILED);
        assert!(text.contains("not found"), "{text}");
    }

    #[test]
    fn the_hash_command_quotes_every_path() {
        let m = moved(&[("it's", "x"), ("/tmp/a b", "y")]);
        assert_eq!(
            hash_command(&m.hashes),
            "sha256sum -- 'it'\\''s' '/tmp/a b'"
        );
    }

    #[test]
    fn a_hosts_report_reads_the_same_in_english_and_naturally_in_chinese() {
        let m = Transferred {
            files: 2,
            dirs: 1,
            bytes: 2048,
            ..moved(&[("a", "aa11"), ("b", "bb22")])
        };
        let bytes = human_bytes(2048);
        assert_eq!(summary(&m), format!("2 files, 1 directory, {bytes}\n"));
        crate::lang::with(crate::lang::Lang::Zh, || {
            assert_eq!(summary(&m), format!("2 个文件，1 个目录，{bytes}\n"));
            let bad = b"aa11  a\nffff  b\n";
            let (_, text) = verdict(&m, bad, b"", &ExecEnd::Exited(0)).unwrap_err();
            assert_eq!(text, "--verify：1 个文件的 sha256 不一致：b");
        });
    }
}
