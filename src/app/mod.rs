//! The model: everything the TUI knows, changed only through [`App::update`]. No IO here:
//! what should happen outside is returned as [`Effect`]s for the event loop to carry out.

mod answer;
mod charset;
mod command;
pub mod editor;
mod emulator;
pub mod events;
pub mod help;
pub mod help_layout;
pub mod history;
mod inject;
mod input;
pub mod keys;
pub mod layout;
mod mouse;
pub mod overview;
pub mod pane;
mod pen;
pub mod receivers;
pub mod record;
mod reflow;
pub mod reply;
pub mod result;
pub mod results;
pub mod results_diff;
pub mod retry;
#[cfg(test)]
mod retry_tests;
pub mod safe;
pub mod search;
mod search_keys;
#[cfg(test)]
mod search_tests;
pub mod select;
#[cfg(test)]
mod tests;
pub mod transfer;
#[cfg(test)]
mod transfer_tests;

use std::collections::VecDeque;

use crossterm::event::{KeyEvent, KeyEventKind, MouseEvent};
use ratatui::layout::Rect;

use crate::ssh::{SessionId, SessionState};
use editor::LineEditor;
use layout::PaneLayout;
use pane::Pane;

/// Everything that can happen to the model.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize {
        cols: u16,
        rows: u16,
    },
    State {
        id: SessionId,
        state: SessionState,
    },
    Output {
        id: SessionId,
        data: Vec<u8>,
    },
    ExitStatus {
        id: SessionId,
        status: u32,
    },
    /// From a `:CMD` exec channel of a session.
    Exec {
        id: SessionId,
        run: u64,
        event: crate::ssh::ExecEvent,
    },
    /// A session asks a question; `token` names the reply channel the loop keeps.
    Prompt {
        id: SessionId,
        token: u64,
        text: String,
        echo: bool,
    },
    Mock(MockStatus),
    /// A one-line report for the status bar (a file saved, a host that could not be parsed).
    Notice(String),
    /// The event loop's lag gauge: how late its 10 ms probe timer fired, worst of the last
    /// second or so.
    Lag(std::time::Duration),
    /// Input still queued for these sessions (bytes), as it changed.
    InputPending(Vec<(SessionId, usize)>),
    /// Open one pane per entry, in order; each gets an [`Effect::Connect`] at the size it
    /// has once the layout holds them all.
    OpenPanes(Vec<NewPane>),
    /// The loop's clock, while some pane hides output or waits to reconnect
    /// ([`App::needs_clock`]): held output past its deadline shows, due tries start.
    Tick(std::time::Instant),
    /// A pane's recording could not start or was stopped by a failure: why, for the
    /// status bar.
    RecordStopped {
        id: SessionId,
        why: String,
    },
    /// The event loop's own record, sampled while the F12 view is open.
    EventLoop(Box<events::EventSample>),
    /// How a session's part of upload or download `run` goes (Alt-F, Alt-K).
    Transfer {
        run: u64,
        id: SessionId,
        event: transfer::TransferEvent,
    },
    /// The loop has a moment: the search scans on for about [`search::SLICE_BUDGET`]
    /// (sent while [`App::search_pending`]).
    SearchSlice,
}

/// A pane to open: its title and the loop's ticket for the session behind it (the model
/// never holds connection details; the loop keeps them under this ticket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPane {
    pub ticket: u64,
    pub name: String,
    pub shell_integration: crate::ssh::shell_integration::ShellIntegration,
    /// Whether the pane reconnects by itself after a lost connection.
    pub reconnect: crate::ssh::reconnect::ReconnectPolicy,
}

/// What the model asks the outside world to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Input for a session; shared (`Bytes`) when many sessions get the same.
    Send {
        id: SessionId,
        bytes: bytes::Bytes,
    },
    /// Throw away the input still queued for these sessions (a paste given up on).
    DiscardInput {
        ids: Vec<SessionId>,
    },
    Resize {
        id: SessionId,
        cols: u16,
        rows: u16,
    },
    Close {
        id: SessionId,
    },
    /// `:CMD`: run `command` on a new exec channel of each session's connection.
    Exec {
        ids: Vec<SessionId>,
        run: u64,
        command: String,
        timeout: std::time::Duration,
    },
    /// Stop the exec channels of `run` on these sessions.
    CancelExec {
        ids: Vec<SessionId>,
        run: u64,
    },
    /// Alt-F: upload `local` (a directory whole) into `remote_dir` of each session, over
    /// an SFTP channel of its own connection.
    Upload {
        run: u64,
        ids: Vec<SessionId>,
        local: std::path::PathBuf,
        remote_dir: String,
    },
    /// Alt-K: download `remote` (a directory whole) from a session into `local_dir`.
    Download {
        run: u64,
        id: SessionId,
        remote: String,
        local_dir: std::path::PathBuf,
    },
    /// Stop these sessions' parts of transfer `run` (nothing is left under a final name).
    CancelTransfer {
        run: u64,
        ids: Vec<SessionId>,
    },
    /// Start the session of a pane opened by [`Msg::OpenPanes`] at its pane's size.
    Connect {
        ticket: u64,
        id: SessionId,
        cols: u16,
        rows: u16,
    },
    Reconnect {
        id: SessionId,
    },
    /// Connect to a host typed as `user@host:port`.
    AddHost(String),
    /// Start the embedded mock server if needed and open a practice pane on it.
    StartMock,
    /// Save a pane's scrollback to a new file (the loop picks the folder and the name).
    SaveScrollback {
        id: SessionId,
    },
    AnswerPrompt {
        token: u64,
        answer: Option<String>,
    },
    /// Start or stop recording a session (asciicast); `announce`: say where it goes.
    Record {
        id: SessionId,
        on: bool,
        announce: bool,
    },
    /// Input sent visibly to a recording session, for its input events (`--record-input`).
    RecordInput {
        id: SessionId,
        bytes: bytes::Bytes,
    },
    SetMouseCapture(bool),
    /// Stop the program like a shell job (Ctrl-Z).
    Suspend,
    Quit,
}

/// Where typed keys go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    /// Keys edit the broadcast line; Enter sends it to every session in the broadcast.
    Line,
    /// Every key goes raw to every session in the broadcast.
    Keystroke,
    /// Every key goes raw to the focused session only.
    Focus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MockStatus {
    Off,
    Starting,
    Listening(String),
    Failed(String),
}

/// A question from a session, shown as a dialog.
#[derive(Debug)]
pub struct PromptDialog {
    pub token: u64,
    pub id: SessionId,
    pub text: String,
    pub input: LineEditor,
}

/// A dialog drawn over the panes; while one is open it gets every key.
#[derive(Debug)]
pub enum Overlay {
    /// The key table, scrolled so that row `top` is its first visible row.
    Help {
        top: usize,
    },
    QuitConfirm,
    Prompt(PromptDialog),
    AddHost(LineEditor),
    /// Alt-S: the name to save the current receivers under.
    SaveGroup(receivers::ExprDialog),
    /// Alt-G: a node-set expression over the panes that picks the receivers.
    BroadcastTo(receivers::ExprDialog),
    /// F9: the panes grouped by their last command's answer.
    Results(select::ResultsView),
    /// F12: the event loop's wake-ups, live.
    Events(events::EventView),
    /// `text` with its line breaks as LF, whatever the terminal sent; `lines` counted once
    /// (the dialog is drawn every frame, and a paste may be megabytes).
    PasteConfirm {
        text: String,
        lines: usize,
        targets: Vec<SessionId>,
    },
    /// A broadcast held until the user confirms it (many receivers, a destructive line).
    SendConfirm(safe::SendConfirm),
    /// One hidden answer for every pane showing a password prompt.
    AnswerPrompts {
        ids: Vec<SessionId>,
        input: LineEditor,
    },
    /// Alt-F / Alt-K: the paths of an upload or a download.
    Transfer(transfer::TransferDialog),
    /// Alt-F / Alt-K while a transfer runs: stop it? [y/n]
    TransferCancel,
}

pub struct App {
    pub(crate) panes: Vec<Pane>,
    next_id: SessionId,
    /// Index into `panes` of the focused pane.
    pub(crate) focus: usize,
    pub(crate) mode: InputMode,
    pub(crate) zoom: bool,
    pub(crate) overlay: Option<Overlay>,
    prompts: VecDeque<PromptDialog>,
    pub(crate) editor: LineEditor,
    /// Terminal size (cols, rows).
    pub(crate) size: (u16, u16),
    pub(crate) mouse_capture: bool,
    pub(crate) mock: MockStatus,
    pub(crate) notice: Option<String>,
    /// The event loop's lag gauge, once the loop has measured it.
    pub(crate) lag: Option<std::time::Duration>,
    /// Pane count the scrollback budget is planned for (panes made later share it).
    planned_panes: usize,
    /// Lines per pane and memory for all panes' history (`--scrollback`, `--scrollback-memory`).
    pub scrollback: pane::ScrollbackSetting,
    /// The results view folds outputs that differ only by host name, numbers, times.
    pub(crate) fuzzy: bool,
    /// The last `:CMD` run's number (0: none yet).
    pub(crate) exec_run: u64,
    /// Canary, rolling and confirmation settings.
    pub safety: safe::Safety,
    /// `--record` and `--record-input`.
    pub record: record::RecordSettings,
    /// A canary or rolling send still going out.
    pub(crate) staged: Option<safe::Staged>,
    /// Receivers saved under a name (Alt-S) for this run, oldest first.
    pub(crate) saved_groups: Vec<receivers::SavedGroup>,
    /// Grows when a pane is added or removed or its state changes: with the panes' result
    /// generations, what the results view's groups are made from.
    pub(crate) panes_epoch: u64,
    pub(crate) groups_cache: results::GroupsCache,
    /// Overview or grid (Alt-O), or whichever suits the pane count.
    pub(crate) view_choice: overview::ViewChoice,
    /// The panes by name, for the overview's order: emptied when the panes change, built
    /// again at the end of the update (or on the fly until then).
    name_order: overview::NameOrder,
    /// The loop's time at its last [`Msg::Tick`]: what reconnect countdowns count from.
    pub(crate) now: Option<std::time::Instant>,
    /// The upload or download under way (Alt-F, Alt-K).
    pub(crate) transfer: Option<transfer::TransferRun>,
    /// The last transfer's number (0: none yet).
    transfer_run: u64,
    /// `/` or Ctrl-F: the search across the panes, while it is open.
    pub(crate) search: Option<search::Search>,
}

impl App {
    /// A model for a `cols` x `rows` terminal that expects about `planned_panes` sessions.
    pub fn new(cols: u16, rows: u16, planned_panes: usize) -> Self {
        App {
            panes: Vec::new(),
            next_id: 0,
            focus: 0,
            mode: InputMode::Line,
            zoom: false,
            overlay: None,
            prompts: VecDeque::new(),
            editor: LineEditor::default(),
            size: (cols, rows),
            mouse_capture: true,
            mock: MockStatus::Off,
            notice: None,
            lag: None,
            planned_panes,
            scrollback: pane::ScrollbackSetting::default(),
            fuzzy: false,
            exec_run: 0,
            safety: safe::Safety::default(),
            record: record::RecordSettings::default(),
            staged: None,
            saved_groups: Vec::new(),
            panes_epoch: 0,
            groups_cache: Default::default(),
            view_choice: Default::default(),
            name_order: Default::default(),
            now: None,
            transfer: None,
            transfer_run: 0,
            search: None,
        }
    }

    /// Adds a pane in the connecting state, without a session: for tests and benchmarks
    /// that feed it messages themselves (the loop opens panes with [`Msg::OpenPanes`]).
    /// Returns its id and the resizes the other panes need now that the grid changed; the
    /// new pane's size is [`App::pty_size`].
    pub fn add_pane(&mut self, name: impl Into<String>) -> (SessionId, Vec<Effect>) {
        let id = self.push_pane(name.into(), Default::default(), Default::default());
        self.name_order = Default::default();
        let mut effects = self.relayout();
        effects.retain(|e| !matches!(e, Effect::Resize { id: rid, .. } if *rid == id));
        (id, effects)
    }

    fn push_pane(
        &mut self,
        name: String,
        shell_integration: crate::ssh::shell_integration::ShellIntegration,
        reconnect: crate::ssh::reconnect::ReconnectPolicy,
    ) -> SessionId {
        let id = self.next_id;
        self.next_id += 1;
        self.panes_epoch += 1;
        self.planned_panes = self.planned_panes.max(self.panes.len() + 1);
        let budget = pane::history_budget(self.scrollback, self.planned_panes);
        let mut pane = Pane::new(id, name, budget.lines).with_shell_integration(shell_integration);
        pane.set_history_budget(budget);
        pane.reconnect = reconnect;
        self.panes.push(pane);
        id
    }

    /// Adds all the panes first, then lays them out once: each session is started at the
    /// size its pane has with all of them in the grid (adding a pane shrinks the others on
    /// its page). The other panes get the resizes the new grid needs.
    fn open_panes(&mut self, new: Vec<NewPane>) -> Vec<Effect> {
        let opened: Vec<(u64, SessionId)> = new
            .into_iter()
            .map(|p| {
                let id = self.push_pane(p.name, p.shell_integration, p.reconnect);
                (p.ticket, id)
            })
            .collect();
        self.name_order = Default::default();
        let mut resizes = self.relayout();
        resizes.retain(
            |e| !matches!(e, Effect::Resize { id, .. } if opened.iter().any(|(_, o)| o == id)),
        );
        let mut effects = Vec::new();
        for (ticket, id) in opened {
            let (cols, rows) = self.pty_size(id).unwrap_or((80, 24));
            if self.record.on_open
                && let Some(pane) = self.pane_mut(id)
            {
                pane.recording = true;
                effects.push(Effect::Record {
                    id,
                    on: true,
                    announce: false,
                });
            }
            effects.push(Effect::Connect {
                ticket,
                id,
                cols,
                rows,
            });
        }
        effects.extend(resizes);
        effects
    }

    pub fn pty_size(&self, id: SessionId) -> Option<(u16, u16)> {
        self.pane(id).map(Pane::pty_size)
    }

    /// A pane's whole scrollback and screen as text (the pane's scroll position stays).
    pub fn scrollback_text(&self, id: SessionId) -> Option<String> {
        self.pane(id).map(Pane::scrollback_text)
    }

    /// What a pane's last command answered, as its badge shows it.
    pub fn pane_last_result(&self, id: SessionId) -> Option<&result::CommandResult> {
        self.pane(id).and_then(Pane::last_result)
    }

    /// The text on a pane's emulator screen (its live screen, whatever is drawn).
    pub fn pane_screen_text(&self, id: SessionId) -> Option<String> {
        self.pane(id).map(Pane::screen_text)
    }

    /// The `rows` screen rows that end at the cursor's (joined by `\n`): what just arrived,
    /// cheaper to look at than the whole screen.
    pub fn pane_text_at_cursor(&self, id: SessionId, rows: u16) -> Option<String> {
        self.pane(id).map(|p| p.text_at_cursor(rows))
    }

    /// Every pane, in order.
    pub fn pane_ids(&self) -> Vec<SessionId> {
        self.panes.iter().map(|p| p.id).collect()
    }

    /// Input queued for a pane's session that its remote side has not taken (bytes).
    pub fn pane_pending_input(&self, id: SessionId) -> Option<usize> {
        self.pane(id).map(|p| p.pending_input)
    }

    /// Where a pane's session is in its life.
    pub fn pane_state(&self, id: SessionId) -> Option<&SessionState> {
        self.pane(id).map(|p| &p.state)
    }

    /// The F1 help as it is laid out on this screen.
    pub fn help_view(&self) -> help_layout::HelpView {
        let screen = Rect::new(0, 0, self.size.0, self.size.1);
        help_layout::HelpView::new(layout::screen_areas(screen).panes)
    }

    /// The status bar's one-line notice, if one is shown.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    pub fn pane_name(&self, id: SessionId) -> Option<&str> {
        self.pane(id).map(|p| p.name.as_str())
    }

    pub fn mode(&self) -> InputMode {
        self.mode
    }

    /// The last lag gauge reading the loop reported.
    pub fn lag(&self) -> Option<std::time::Duration> {
        self.lag
    }

    /// Whether a pane holds output back (shell integration's install line under way).
    pub fn hiding(&self) -> bool {
        self.panes.iter().any(Pane::is_hiding)
    }

    /// How many panes hold output back: a tick that changes it showed held output.
    pub fn panes_hiding(&self) -> usize {
        self.panes.iter().filter(|p| p.is_hiding()).count()
    }

    pub fn mouse_capture(&self) -> bool {
        self.mouse_capture
    }

    // `panes` is sorted by id (ids only grow, `add_pane` pushes, removal keeps the order), so
    // a lookup per output chunk is a binary search, not a scan of every pane.
    pub(crate) fn pane(&self, id: SessionId) -> Option<&Pane> {
        let index = self.panes.binary_search_by_key(&id, |p| p.id).ok()?;
        self.panes.get(index)
    }

    pub(crate) fn pane_mut(&mut self, id: SessionId) -> Option<&mut Pane> {
        let index = self.panes.binary_search_by_key(&id, |p| p.id).ok()?;
        self.panes.get_mut(index)
    }

    pub(crate) fn focused(&self) -> Option<&Pane> {
        self.panes.get(self.focus)
    }

    /// Sessions the broadcast line reaches: selected and still live.
    pub fn targets(&self) -> Vec<SessionId> {
        self.panes
            .iter()
            .filter(|p| p.is_target())
            .map(|p| p.id)
            .collect()
    }

    /// How many sessions `targets` would give, without building the list (status bar).
    pub fn target_count(&self) -> usize {
        self.panes.iter().filter(|p| p.is_target()).count()
    }

    pub(crate) fn any_live(&self) -> bool {
        self.panes.iter().any(Pane::is_live)
    }

    pub(crate) fn panes_area(&self) -> Rect {
        layout::screen_areas(Rect::new(0, 0, self.size.0, self.size.1)).panes
    }

    pub fn layout(&self) -> PaneLayout {
        layout::pane_layout(self.panes_area(), self.panes.len(), self.focus, self.zoom)
    }

    /// Fits every pane's emulator to its rect and reports the PTYs that must change. Hidden
    /// panes keep the size of their slot on their own page, so paging does not resize them;
    /// a zoomed pane takes the whole area.
    pub(crate) fn relayout(&mut self) -> Vec<Effect> {
        let area = self.panes_area();
        let mut rects = layout::all_pane_rects(area, self.panes.len());
        if self.zoom
            && let Some(r) = rects.get_mut(self.focus)
        {
            *r = area;
        }
        let mut effects = Vec::new();
        for (pane, rect) in self.panes.iter_mut().zip(rects) {
            let inner = layout::pane_inner(rect);
            // Panes off screen take their new size when output comes or they are shown.
            if let Some((cols, rows)) = pane.fit_later(inner.width, inner.height) {
                effects.push(Effect::Resize {
                    id: pane.id,
                    cols,
                    rows,
                });
            }
        }
        self.take_visible_sizes();
        effects
    }

    /// The panes on screen take the size their PTYs were given (see [`Pane::fit_later`]).
    fn take_visible_sizes(&mut self) {
        for (index, _) in self.layout().visible {
            if let Some(pane) = self.panes.get_mut(index) {
                pane.take_size();
            }
        }
    }

    /// The one way the model changes. The effects returned are what must happen outside
    /// for the change to be complete (bytes to send, sessions to resize or start).
    #[must_use = "the effects are the rest of the change: carry them out"]
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        // Output (the busiest message) takes its pane's size itself; anything else may have
        // brought other panes on screen (a page flip, a focus move, a zoom).
        let shows = !matches!(
            msg,
            Msg::Output { .. } | Msg::Lag(_) | Msg::Tick(_) | Msg::EventLoop(_) | Msg::SearchSlice
        );
        let answers = matches!(
            msg,
            Msg::Output { .. } | Msg::Exec { .. } | Msg::State { .. }
        );
        let mut effects = self.apply(msg);
        if answers && self.staged.is_some() {
            effects.extend(self.advance_staged());
        }
        if shows {
            self.take_visible_sizes();
        }
        if !self.name_order.is_for(&self.panes) {
            self.name_order = overview::NameOrder::of(&self.panes);
        }
        effects
    }

    fn apply(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::OpenPanes(new) => self.open_panes(new),
            Msg::Key(key) if key.kind != KeyEventKind::Release => {
                self.notice = None;
                self.on_key(key)
            }
            Msg::Key(_) => Vec::new(),
            Msg::Mouse(event) => self.on_mouse(event),
            Msg::Paste(text) => self.on_paste(text),
            Msg::Resize { cols, rows } => {
                self.size = (cols, rows);
                let effects = self.relayout();
                if let Some(search) = &mut self.search {
                    self.panes.iter().for_each(|p| search.resized(p.id));
                }
                effects
            }
            Msg::SearchSlice => self.search_slice(),
            Msg::Prompt {
                id,
                token,
                text,
                echo,
            } => self.on_prompt(id, token, text, echo),
            Msg::Mock(status) => {
                self.mock = status;
                Vec::new()
            }
            Msg::Notice(text) => {
                self.notice = Some(text);
                Vec::new()
            }
            Msg::Tick(now) => {
                let mut effects: Vec<Effect> = self
                    .panes
                    .iter_mut()
                    .filter_map(|pane| {
                        let bytes = pane.tick(now);
                        (!bytes.is_empty()).then(|| Effect::Send {
                            id: pane.id,
                            bytes: bytes.into(),
                        })
                    })
                    .collect();
                effects.extend(self.retry_tick(now));
                effects
            }
            Msg::RecordStopped { id, why } => self.recording_stopped(id, why),
            Msg::Lag(lag) => {
                self.lag = Some(lag);
                Vec::new()
            }
            Msg::EventLoop(sample) => {
                self.event_sample(*sample);
                Vec::new()
            }
            Msg::InputPending(changes) => {
                for (id, bytes) in changes {
                    if let Some(pane) = self.pane_mut(id) {
                        pane.pending_input = bytes;
                    }
                }
                Vec::new()
            }
            // Every message is named: a new one cannot be ignored by accident.
            Msg::State { id, state } => {
                if let Some(pane) = self.pane_mut(id) {
                    if let SessionState::Closed {
                        exit_status: Some(s),
                        ..
                    } = state
                    {
                        pane.exit_status = Some(s);
                    }
                    let ended = state.is_finished();
                    if ended {
                        pane.session_ended();
                    }
                    self.panes_epoch += 1;
                    self.retry_state(id, &state);
                    if let Some(pane) = self.pane_mut(id) {
                        pane.state = state;
                    }
                    if ended {
                        return self.transfer_session_ended(id);
                    }
                }
                Vec::new()
            }
            // Answers to the terminal queries in the output (a cursor position report, the
            // device attributes) go straight back: programs wait for them.
            Msg::Output { id, data } => {
                let Ok(index) = self.panes.binary_search_by_key(&id, |p| p.id) else {
                    return Vec::new();
                };
                if let Some(search) = &mut self.search {
                    search.output_came(id);
                }
                let pane = &mut self.panes[index];
                let bytes = pane.receive(&data);
                // One row looked at: cheap enough per chunk, and the mark is always current.
                pane.asks_password = self.safety.is_password_prompt(&pane.cursor_line());
                if bytes.is_empty() {
                    Vec::new()
                } else {
                    vec![Effect::Send {
                        id,
                        bytes: bytes.into(),
                    }]
                }
            }
            Msg::ExitStatus { id, status } => {
                if let Some(pane) = self.pane_mut(id) {
                    pane.exit_status = Some(status);
                }
                Vec::new()
            }
            Msg::Exec { id, run, event } => {
                if let Some(pane) = self.pane_mut(id) {
                    pane.exec_event(run, event);
                }
                Vec::new()
            }
            Msg::Transfer { run, id, event } => self.on_transfer(run, id, event),
        }
    }

    fn on_prompt(&mut self, id: SessionId, token: u64, text: String, echo: bool) -> Vec<Effect> {
        let mut input = LineEditor::default();
        input.set_hidden(!echo);
        let dialog = PromptDialog {
            token,
            id,
            text,
            input,
        };
        self.prompts.push_back(dialog);
        self.show_next_prompt();
        Vec::new()
    }

    /// Opens the oldest waiting prompt when no other dialog is up.
    pub(crate) fn show_next_prompt(&mut self) {
        if self.overlay.is_none()
            && let Some(dialog) = self.prompts.pop_front()
        {
            self.overlay = Some(Overlay::Prompt(dialog));
        }
    }

    /// Removes a pane; answers its waiting prompts with "declined" so its actor is not stuck.
    fn remove_pane(&mut self, index: usize) -> Vec<Effect> {
        let mut effects = match self.panes.get(index) {
            Some(pane) => self.transfer_session_ended(pane.id),
            None => Vec::new(),
        };
        let pane = self.panes.remove(index);
        self.panes_epoch += 1;
        effects.push(Effect::Close { id: pane.id });
        let mut declined = |d: &PromptDialog| {
            effects.push(Effect::AnswerPrompt {
                token: d.token,
                answer: None,
            })
        };
        self.prompts.retain(|d| {
            let keep = d.id != pane.id;
            if !keep {
                declined(d);
            }
            keep
        });
        if let Some(Overlay::Prompt(d)) = &self.overlay
            && d.id == pane.id
        {
            declined(d);
            self.overlay = None;
            self.show_next_prompt();
        }
        self.focus = self.focus.min(self.panes.len().saturating_sub(1));
        self.name_order = Default::default();
        if self.panes.is_empty() {
            self.zoom = false;
            self.mode = InputMode::Line;
        }
        effects.extend(self.relayout());
        effects
    }
}
