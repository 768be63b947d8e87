//! Files to and from the sessions, over SFTP on each session's own connection: Alt-F uploads
//! a local file or directory to the current broadcast receivers, Alt-K downloads a remote
//! path from the focused pane's host. Each asks two questions in a dialog (Esc cancels
//! either); while a transfer runs, the same key offers to cancel it.
//!
//! The model only keeps what the titles and the status line show: each pane's part
//! ([`TransferMark`]) and, once every pane has answered, one folded line ("uploaded to 3 of
//! 3" or the failures by name). The loop does the work ([`Effect::Upload`],
//! [`Effect::Download`]) and reports back as [`Msg::Transfer`](super::Msg::Transfer).

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};

use super::editor::LineEditor;
use super::{App, Effect, Overlay};
use crate::lang::{tr, trf};
use crate::ssh::SessionId;
use crate::ssh::sftp::Transferred;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferKind {
    Upload,
    Download,
}

impl TransferKind {
    /// The arrow a pane's title shows while its part runs.
    pub fn arrow(self) -> &'static str {
        match self {
            TransferKind::Upload => "⇡",
            TransferKind::Download => "⇣",
        }
    }
}

/// Alt-F's or Alt-K's two questions.
#[derive(Debug)]
pub struct TransferDialog {
    pub kind: TransferKind,
    /// The first answer once given: the local path (upload) or the remote path (download).
    pub first: Option<String>,
    /// A download's session: the pane focused when Alt-K was pressed.
    pub from: Option<SessionId>,
    pub input: LineEditor,
    pub error: Option<String>,
}

impl TransferDialog {
    /// The question now asked and what Enter on an empty line means.
    pub fn question(&self, from: &str) -> String {
        match (self.kind, self.first.is_some()) {
            (TransferKind::Upload, false) => tr("Local file or directory to upload:").into(),
            (TransferKind::Upload, true) => {
                tr("Remote directory (Enter alone: the home directory):").into()
            }
            (TransferKind::Download, false) => {
                trf("Remote file or directory on {name}:", &[("name", &from)])
            }
            (TransferKind::Download, true) => trf(
                "Local directory (Enter alone: the current one); saved as DIR/{name}/…",
                &[("name", &from)],
            ),
        }
    }
}

/// What the loop reports of one session's part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferEvent {
    /// Bytes moved so far, of `total` when known.
    Progress { done: u64, total: Option<u64> },
    /// The part ended: what it moved, or why not (the error names the path).
    Done(Result<Transferred, String>),
}

/// What a pane's title shows of its part in the transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferMark {
    Running {
        kind: TransferKind,
        done: u64,
        total: Option<u64>,
    },
    Done(TransferKind),
    Failed(TransferKind),
}

impl TransferMark {
    /// `⇡ 42%`, `⇣ 1.2 MB`, `⇡ ✓`, `⇡ ✗`.
    pub fn text(&self) -> String {
        match self {
            TransferMark::Running {
                kind,
                done,
                total: Some(total),
            } => {
                let percent = (*done).min(*total) * 100 / (*total).max(1);
                format!("{} {percent}%", kind.arrow())
            }
            TransferMark::Running {
                kind,
                done,
                total: None,
            } => format!("{} {}", kind.arrow(), crate::ssh::human_bytes(*done)),
            TransferMark::Done(kind) => format!("{} ✓", kind.arrow()),
            TransferMark::Failed(kind) => format!("{} ✗", kind.arrow()),
        }
    }
}

/// The transfer under way (one at a time).
#[derive(Debug)]
pub struct TransferRun {
    pub run: u64,
    pub kind: TransferKind,
    /// Every session taking part, in pane order.
    pub ids: Vec<SessionId>,
    /// Where a download goes (the host's own directory).
    pub local: Option<PathBuf>,
    /// The parts that ended, as they ended.
    pub ended: Vec<(SessionId, Result<Transferred, String>)>,
}

impl App {
    /// Alt-F: the upload dialog, or the offer to cancel the transfer under way.
    pub(super) fn open_upload(&mut self) {
        if self.transfer.is_some() {
            self.overlay = Some(Overlay::TransferCancel);
            return;
        }
        if self.target_count() == 0 {
            self.notice = Some(tr("no receivers to upload to (Alt-A selects all)").into());
            return;
        }
        self.overlay = Some(Overlay::Transfer(TransferDialog {
            kind: TransferKind::Upload,
            first: None,
            from: None,
            input: LineEditor::default(),
            error: None,
        }));
    }

    /// Alt-K: the download dialog for the focused pane, or the offer to cancel.
    pub(super) fn open_download(&mut self) {
        if self.transfer.is_some() {
            self.overlay = Some(Overlay::TransferCancel);
            return;
        }
        let Some(pane) = self.focused().filter(|p| p.is_live()) else {
            self.notice = Some(tr("no live focused pane to download from").into());
            return;
        };
        self.overlay = Some(Overlay::Transfer(TransferDialog {
            kind: TransferKind::Download,
            first: None,
            from: Some(pane.id),
            input: LineEditor::default(),
            error: None,
        }));
    }

    pub(super) fn transfer_key(
        &mut self,
        mut dialog: TransferDialog,
        key: KeyEvent,
    ) -> Vec<Effect> {
        match key.code {
            KeyCode::Esc => {
                self.notice = Some(tr("transfer not started").into());
                Vec::new()
            }
            KeyCode::Enter => {
                let answer = dialog.input.take().trim().to_string();
                match dialog.first.take() {
                    None if answer.is_empty() => {
                        dialog.error = Some(match dialog.kind {
                            TransferKind::Upload => tr("name a local file or directory").into(),
                            TransferKind::Download => tr("name a remote file or directory").into(),
                        });
                        self.overlay = Some(Overlay::Transfer(dialog));
                        Vec::new()
                    }
                    None => {
                        dialog.first = Some(answer);
                        dialog.error = None;
                        self.overlay = Some(Overlay::Transfer(dialog));
                        Vec::new()
                    }
                    Some(first) => self.start_transfer(&dialog, first, answer),
                }
            }
            code => {
                super::input::edit_key(&mut dialog.input, code, false);
                dialog.error = None;
                self.overlay = Some(Overlay::Transfer(dialog));
                Vec::new()
            }
        }
    }

    /// Both answers given: the effect that starts the work, and each pane's mark.
    fn start_transfer(
        &mut self,
        dialog: &TransferDialog,
        first: String,
        second: String,
    ) -> Vec<Effect> {
        self.transfer_run += 1;
        let run = self.transfer_run;
        let (ids, effect, local) = match dialog.kind {
            TransferKind::Upload => {
                // The receivers as they are now: the dialog may have been open a while.
                let ids = self.targets();
                if ids.is_empty() {
                    self.notice = Some(tr("no receivers to upload to (Alt-A selects all)").into());
                    return Vec::new();
                }
                let remote_dir = if second.is_empty() {
                    ".".into()
                } else {
                    second
                };
                let effect = Effect::Upload {
                    run,
                    ids: ids.clone(),
                    local: PathBuf::from(first),
                    remote_dir,
                };
                (ids, effect, None)
            }
            TransferKind::Download => {
                let Some(pane) = dialog
                    .from
                    .and_then(|id| self.pane(id))
                    .filter(|p| p.is_live())
                else {
                    self.notice = Some(tr("the pane to download from has ended").into());
                    return Vec::new();
                };
                let dir = if second.is_empty() {
                    ".".into()
                } else {
                    second
                };
                let local_dir = PathBuf::from(dir).join(crate::text::safe_file_name(&pane.name));
                let effect = Effect::Download {
                    run,
                    id: pane.id,
                    remote: first,
                    local_dir: local_dir.clone(),
                };
                (vec![pane.id], effect, Some(local_dir))
            }
        };
        for &id in &ids {
            if let Some(pane) = self.pane_mut(id) {
                pane.transfer = Some(TransferMark::Running {
                    kind: dialog.kind,
                    done: 0,
                    total: None,
                });
            }
        }
        self.notice = Some(match dialog.kind {
            TransferKind::Upload if ids.len() == 1 => {
                tr("uploading to 1 receiver… (Alt-F again cancels)").into()
            }
            TransferKind::Upload => trf(
                "uploading to {n} receivers… (Alt-F again cancels)",
                &[("n", &ids.len())],
            ),
            TransferKind::Download => tr("downloading… (Alt-K again cancels)").into(),
        });
        self.transfer = Some(TransferRun {
            run,
            kind: dialog.kind,
            ids,
            local,
            ended: Vec::new(),
        });
        vec![effect]
    }

    /// The cancel offer's answer: y/Enter stops every part still running.
    pub(super) fn transfer_cancel_key(&mut self, yes: bool) -> Vec<Effect> {
        let Some(run) = self.transfer.as_ref().filter(|_| yes) else {
            return Vec::new();
        };
        let ended: Vec<SessionId> = run.ended.iter().map(|(id, _)| *id).collect();
        let ids: Vec<SessionId> = run
            .ids
            .iter()
            .copied()
            .filter(|id| !ended.contains(id))
            .collect();
        self.notice = Some(tr("cancelling the transfer…").into());
        vec![Effect::CancelTransfer { run: run.run, ids }]
    }

    /// A session's report on its part of run `run`.
    pub(super) fn on_transfer(
        &mut self,
        run: u64,
        id: SessionId,
        event: TransferEvent,
    ) -> Vec<Effect> {
        let Some(current) = self.transfer.as_mut().filter(|t| t.run == run) else {
            return Vec::new();
        };
        if current.ended.iter().any(|(ended, _)| *ended == id) {
            return Vec::new();
        }
        let kind = current.kind;
        match event {
            TransferEvent::Progress { done, total } => {
                if let Some(pane) = self.pane_mut(id) {
                    pane.transfer = Some(TransferMark::Running { kind, done, total });
                }
            }
            TransferEvent::Done(result) => {
                let mark = match result {
                    Ok(_) => TransferMark::Done(kind),
                    Err(_) => TransferMark::Failed(kind),
                };
                current.ended.push((id, result));
                if let Some(pane) = self.pane_mut(id) {
                    pane.transfer = Some(mark);
                }
                self.fold_transfer();
            }
        }
        Vec::new()
    }

    /// A session that ended fails its part at once (its SFTP requests would only time out).
    pub(super) fn transfer_session_ended(&mut self, id: SessionId) -> Vec<Effect> {
        let Some(run) = self.transfer.as_ref() else {
            return Vec::new();
        };
        if !run.ids.contains(&id) || run.ended.iter().any(|(e, _)| *e == id) {
            return Vec::new();
        }
        let cancel = Effect::CancelTransfer {
            run: run.run,
            ids: vec![id],
        };
        let run = run.run;
        self.on_transfer(
            run,
            id,
            TransferEvent::Done(Err(tr("the session ended").into())),
        );
        vec![cancel]
    }

    /// Once every part has ended: one line for the status bar, and the run is over.
    fn fold_transfer(&mut self) {
        let Some(run) = self.transfer.as_ref() else {
            return;
        };
        if run.ended.len() < run.ids.len() {
            return;
        }
        let Some(run) = self.transfer.take() else {
            return;
        };
        let ok = run.ended.iter().filter(|(_, r)| r.is_ok()).count();
        let failures: Vec<String> = run
            .ended
            .iter()
            .filter_map(|(id, r)| {
                let why = r.as_ref().err()?;
                let name = self.pane_name(*id).unwrap_or("?");
                Some(format!("{name}: {why}"))
            })
            .collect();
        let head = match run.kind {
            TransferKind::Upload => trf(
                "uploaded to {ok} of {all}",
                &[("ok", &ok), ("all", &run.ids.len())],
            ),
            TransferKind::Download if ok == 1 => {
                let moved = run.ended.first().and_then(|(_, r)| r.as_ref().ok());
                let (files, bytes) = moved.map_or((0, 0), |m| (m.files, m.bytes));
                let local = run
                    .local
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                let template = if files == 1 {
                    "downloaded 1 file, {bytes} to {dir}"
                } else {
                    "downloaded {files} files, {bytes} to {dir}"
                };
                trf(
                    template,
                    &[
                        ("files", &files),
                        ("bytes", &crate::ssh::human_bytes(bytes)),
                        ("dir", &local),
                    ],
                )
            }
            TransferKind::Download => tr("download failed").into(),
        };
        self.notice = Some(if failures.is_empty() {
            head
        } else {
            format!("{head}; {}", failures.join("; "))
        });
    }

    /// Whether a transfer is under way (its key then offers to cancel it).
    pub fn transfer_running(&self) -> bool {
        self.transfer.is_some()
    }

    /// What a pane's title shows of its transfer.
    pub fn pane_transfer(&self, id: SessionId) -> Option<&TransferMark> {
        self.pane(id).and_then(|p| p.transfer.as_ref())
    }
}
