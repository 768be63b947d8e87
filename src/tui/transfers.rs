//! The loop's side of Alt-F (upload to the receivers) and Alt-K (download from the focused
//! pane): each session's part opens an `sftp` channel on that session's own connection
//! (`SessionHandle::open_subsystem`: no new handshake, no new authentication) and runs
//! [`crate::ssh::sftp::transfer_cancellable`] in a task of its own on the same thread. Local
//! files are read and written through `tokio::fs` (the blocking pool), as `mtssh push` does,
//! so the loop never waits on the disk. Progress goes back every [`PROGRESS_EVERY`] as a
//! [`Msg::Transfer`], through the runner's finished channel.
//!
//! Cancelling (the key again, then y) sets the part's cancel signal: the file under way
//! loses its temporary name (`.NAME.mtssh-XXXXXXXX.part`, removed) and nothing is left
//! under its final name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{OnceCell, mpsc, watch};

use super::effects::Finished;
use crate::app::transfer::TransferEvent;
use crate::app::{Effect, Msg};
use crate::lang::tr;
use crate::ssh::sftp::{Direction, SharedReads, TransferSpec, transfer_cancellable};
use crate::ssh::{SessionHandle, SessionId};

/// How often a running part tells the model how far it is.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// The parts running, by (run, session): each one's cancel signal.
#[derive(Default)]
pub struct Transfers {
    cancels: HashMap<(u64, SessionId), watch::Sender<bool>>,
}

/// One part to start: the session (none when it has gone) and what to move.
struct Part<'h> {
    id: SessionId,
    handle: Option<&'h SessionHandle>,
}

impl Transfers {
    /// Carries out an upload, download or cancel effect; `handle` finds a session's handle.
    pub fn apply<'h>(
        &mut self,
        effect: Effect,
        handle: impl Fn(SessionId) -> Option<&'h SessionHandle>,
        finished: &mpsc::UnboundedSender<Finished>,
    ) {
        match effect {
            Effect::Upload {
                run,
                ids,
                local,
                remote_dir,
            } => {
                let parts = ids
                    .into_iter()
                    .map(|id| Part {
                        id,
                        handle: handle(id),
                    })
                    .collect();
                self.upload(run, parts, &local, remote_dir, finished);
            }
            Effect::Download {
                run,
                id,
                remote,
                local_dir,
            } => {
                let part = Part {
                    id,
                    handle: handle(id),
                };
                self.download(run, part, remote, &local_dir, finished);
            }
            Effect::CancelTransfer { run, ids } => self.cancel(run, &ids),
            _ => {}
        }
    }

    /// Starts an upload of `local` into `remote_dir` on every session in `parts`. The size
    /// to go is measured once, for all of them.
    fn upload(
        &mut self,
        run: u64,
        parts: Vec<Part<'_>>,
        local: &Path,
        remote_dir: String,
        finished: &mpsc::UnboundedSender<Finished>,
    ) {
        let local = local_path(local);
        let spec = TransferSpec {
            direction: Direction::Push {
                locals: vec![local.clone()],
                remote_dir,
            },
            recursive: true,
            preserve: false,
            hash: false,
            // Every receiver sends the same file: it is read once for all of them.
            shared_reads: Some(SharedReads::new(parts.len())),
        };
        let total = Arc::new(OnceCell::new());
        for part in parts {
            let total = total.clone();
            let local = local.clone();
            let measure = async move {
                *total
                    .get_or_init(|| async move { local_size(local).await })
                    .await
            };
            self.start(run, part, spec.clone(), measure, None, finished);
        }
    }

    /// Starts a download of `remote` from one session into `local_dir` (made if missing).
    fn download(
        &mut self,
        run: u64,
        part: Part<'_>,
        remote: String,
        local_dir: &Path,
        finished: &mpsc::UnboundedSender<Finished>,
    ) {
        let local_dir = local_path(local_dir);
        let spec = TransferSpec {
            direction: Direction::Pull {
                remotes: vec![remote],
                local_dir: local_dir.clone(),
            },
            recursive: true,
            preserve: false,
            hash: false,
            shared_reads: None,
        };
        self.start(
            run,
            part,
            spec,
            std::future::ready(None),
            Some(local_dir),
            finished,
        );
    }

    /// Asks these parts of `run` to stop.
    fn cancel(&mut self, run: u64, ids: &[SessionId]) {
        for id in ids {
            if let Some(cancel) = self.cancels.remove(&(run, *id)) {
                let _ = cancel.send(true);
            }
        }
    }

    fn start(
        &mut self,
        run: u64,
        part: Part<'_>,
        spec: TransferSpec,
        total: impl Future<Output = Option<u64>> + Send + 'static,
        make_dir: Option<PathBuf>,
        finished: &mpsc::UnboundedSender<Finished>,
    ) {
        let id = part.id;
        let tx = finished.clone();
        let report = move |event: TransferEvent| {
            let _ = tx.send(Finished::Msg(Msg::Transfer { run, id, event }));
        };
        let Some(handle) = part.handle else {
            report(TransferEvent::Done(Err(tr("the session ended").into())));
            return;
        };
        // Ended parts leave their senders here until the run's next cancel or the next run.
        self.cancels.retain(|_, cancel| !cancel.is_closed());
        let (cancel_tx, cancel) = watch::channel(false);
        self.cancels.insert((run, id), cancel_tx);
        let opened = handle.open_subsystem("sftp");
        tokio::spawn(async move {
            let result = run_part(opened, spec, total, make_dir, cancel, &report).await;
            report(TransferEvent::Done(result));
        });
    }
}

/// One session's part: the channel, the directory, then the transfer with its progress.
async fn run_part(
    opened: tokio::sync::oneshot::Receiver<crate::ssh::SubsystemReply>,
    spec: TransferSpec,
    total: impl Future<Output = Option<u64>>,
    make_dir: Option<PathBuf>,
    cancel: watch::Receiver<bool>,
    report: &impl Fn(TransferEvent),
) -> Result<crate::ssh::sftp::Transferred, String> {
    let cancelled = || {
        let mut cancel = cancel.clone();
        async move {
            let _ = cancel.wait_for(|stop| *stop).await;
        }
    };
    let stream = tokio::select! {
        opened = opened => match opened {
            Ok(Ok(stream)) => stream,
            Ok(Err(why)) => return Err(why),
            Err(_) => return Err(tr("the session ended").into()),
        },
        () = cancelled() => return Err(tr(crate::ssh::sftp::CANCELLED).into()),
    };
    if let Some(dir) = make_dir {
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let total = total.await;
    let counter = Arc::new(AtomicU64::new(0));
    let work = transfer_cancellable(stream, &spec, counter.clone(), cancel.clone());
    let mut work = std::pin::pin!(work);
    let mut ticker = tokio::time::interval(PROGRESS_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut told = None;
    loop {
        tokio::select! {
            result = &mut work => return result,
            _ = ticker.tick() => {
                let done = counter.load(Ordering::Relaxed);
                if told != Some(done) {
                    told = Some(done);
                    report(TransferEvent::Progress { done, total });
                }
            }
        }
    }
}

/// `~/…` from the home directory; the rest as typed (relative to the current directory).
fn local_path(path: &Path) -> PathBuf {
    crate::config::inventory::expand_tilde(path, &crate::config::inventory::home_dir())
}

/// The bytes of the regular files under `path` (it too, when a file), on the blocking pool;
/// none when it cannot be read (the transfer then says why).
async fn local_size(path: PathBuf) -> Option<u64> {
    fn size(path: &Path) -> std::io::Result<u64> {
        let meta = std::fs::metadata(path)?;
        if !meta.is_dir() {
            return Ok(if meta.is_file() { meta.len() } else { 0 });
        }
        let mut sum = 0;
        for entry in std::fs::read_dir(path)? {
            sum += size(&entry?.path())?;
        }
        Ok(sum)
    }
    tokio::task::spawn_blocking(move || size(&path).ok())
        .await
        .ok()
        .flatten()
}
