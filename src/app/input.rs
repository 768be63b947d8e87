//! Keys and pastes: what each one does in each input mode and dialog.

use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::editor::LineEditor;
use super::keys::{TermModes, encode_key};
use super::safe::{Outgoing, SendHow};
use super::{App, Effect, InputMode, Overlay};
use crate::lang::{tr, trf};
use crate::ssh::SessionId;

/// Ctrl-] leaves keystroke and focus mode. Terminals send it as byte 0x1d, which crossterm
/// reports as Ctrl-5, so both spellings count.
pub fn is_escape_key(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && matches!(key.code, KeyCode::Char(']' | '5'))
}

fn ctrl(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c) if key.modifiers.contains(KeyModifiers::CONTROL) => {
            Some(c.to_ascii_lowercase())
        }
        _ => None,
    }
}

fn alt(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c) if key.modifiers == KeyModifiers::ALT => Some(c.to_ascii_lowercase()),
        _ => None,
    }
}

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if let Some(overlay) = self.overlay.take() {
            let effects = self.overlay_key(overlay, key);
            self.show_next_prompt();
            return effects;
        }
        if let Some(search) = self.search.take() {
            return self.search_key(search, key);
        }
        match self.mode {
            InputMode::Line => self.line_key(key),
            InputMode::Keystroke if is_escape_key(&key) => self.set_mode(InputMode::Line),
            InputMode::Focus if is_escape_key(&key) => self.set_mode(InputMode::Line),
            InputMode::Keystroke => self.send_key_to(self.targets(), &key),
            InputMode::Focus => {
                let focused = self.focused().map(|p| p.id).into_iter().collect();
                self.send_key_to(focused, &key)
            }
        }
    }

    fn set_mode(&mut self, mode: InputMode) -> Vec<Effect> {
        if mode == InputMode::Focus && self.panes.is_empty() {
            return Vec::new();
        }
        self.mode = mode;
        Vec::new()
    }

    /// Encodes `key` for each session in the way its own terminal modes ask for.
    fn send_key_to(&mut self, ids: Vec<SessionId>, key: &KeyEvent) -> Vec<Effect> {
        let mut effects = Vec::new();
        for id in ids {
            let Some(pane) = self.pane_mut(id) else {
                continue;
            };
            let modes = TermModes {
                application_cursor: pane.screen().application_cursor(),
            };
            if let Some(bytes) = encode_key(key, modes) {
                pane.scroll_to_live();
                let bytes = Bytes::from(bytes);
                effects.push(Effect::Send {
                    id,
                    bytes: bytes.clone(),
                });
                self.record_typed(id, &bytes, &mut effects);
            }
        }
        effects
    }

    /// Sends the same bytes to every target and brings those panes back to the live screen.
    pub(super) fn broadcast(&mut self, bytes: &[u8]) -> Vec<Effect> {
        // One buffer shared by every target: a paste to a thousand sessions is held once.
        let bytes = Bytes::copy_from_slice(bytes);
        let mut effects = Vec::new();
        let mut ids = Vec::new();
        for pane in self.panes.iter_mut().filter(|p| p.is_target()) {
            pane.scroll_to_live();
            ids.push(pane.id);
        }
        for id in ids {
            effects.push(Effect::Send {
                id,
                bytes: bytes.clone(),
            });
            self.record_typed(id, &bytes, &mut effects);
        }
        if effects.is_empty() {
            self.notice = Some(tr("no active session to send to (Alt-A selects all)").into());
        }
        effects
    }

    fn line_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        // Alt-Enter: a canary send, or the rest of one whose canary succeeded.
        if key.code == KeyCode::Enter && key.modifiers.contains(KeyModifiers::ALT) {
            if let Some(effects) = self.canary_key() {
                return effects;
            }
            return self.send_line(SendHow::Canary);
        }
        if let Some(effects) = self.overview_key(&key) {
            return effects;
        }
        if let Some(c) = ctrl(&key) {
            return self.line_ctrl(c);
        }
        if let Some(c) = alt(&key) {
            return self.line_alt(c);
        }
        if key.modifiers.contains(KeyModifiers::ALT) {
            return self.move_focus_key(key.code);
        }
        if key.modifiers.contains(KeyModifiers::SHIFT) && self.scroll_key(key.code) {
            return Vec::new();
        }
        if key.code == KeyCode::F(5) && key.modifiers.contains(KeyModifiers::SHIFT) {
            return self.reconnect_ended();
        }
        // `/` opens the search on an empty line only: a line that starts with `/` is typed
        // as `//` (the search prompt says so).
        if key.code == KeyCode::Char('/')
            && self.editor.text().is_empty()
            && !self.editor.is_hidden()
        {
            return self.open_search(true);
        }
        match key.code {
            KeyCode::Enter => self.send_line(SendHow::All),
            KeyCode::Esc if self.drop_staged() => Vec::new(),
            KeyCode::F(n) => self.function_key(n),
            KeyCode::Tab => self.cycle_focus(1),
            KeyCode::BackTab => self.cycle_focus(-1),
            KeyCode::PageUp => self.flip_page(-1),
            KeyCode::PageDown => self.flip_page(1),
            code => {
                edit_key(&mut self.editor, code, true);
                Vec::new()
            }
        }
    }

    fn send_line(&mut self, how: SendHow) -> Vec<Effect> {
        // Taking the line ends hidden mode: asked first.
        let hidden = self.editor.is_hidden();
        let what = match super::command::classify(self.editor.take()) {
            super::command::LineKind::Command(command) if command.is_empty() => {
                return self.run_command(command);
            }
            super::command::LineKind::Command(command) => Outgoing::Command(command),
            super::command::LineKind::Shell(line) if hidden => Outgoing::Secret(line),
            super::command::LineKind::Shell(line) => Outgoing::Line(line),
        };
        self.send_guarded(what, how)
    }

    fn line_ctrl(&mut self, c: char) -> Vec<Effect> {
        match c {
            'q' => self.request_quit(),
            ']' | '5' => self.set_mode(InputMode::Focus),
            'c' => {
                self.editor.clear();
                if let Some(effects) = self.cancel_command() {
                    return effects;
                }
                self.broadcast(b"\x03")
            }
            'd' => self.broadcast(b"\x04"),
            'z' => vec![Effect::Suspend],
            'u' => {
                self.editor.clear();
                Vec::new()
            }
            'f' => self.open_search(false),
            _ => Vec::new(),
        }
    }

    fn line_alt(&mut self, c: char) -> Vec<Effect> {
        if self.pick_key(c) {
            return Vec::new();
        }
        match c {
            'z' => return self.broadcast(b"\x1a"),
            't' => {
                let focus = self.focus;
                if let Some(p) = self.panes.get_mut(focus) {
                    p.in_broadcast = !p.in_broadcast;
                }
            }
            'a' => self.panes.iter_mut().for_each(|p| p.in_broadcast = true),
            'n' => self.panes.iter_mut().for_each(|p| p.in_broadcast = false),
            'i' => self.invert_selection(),
            'g' => self.open_broadcast_to(),
            's' => self.open_save_group(),
            'x' => return self.discard_pending_input(),
            'b' => return self.send_line(SendHow::Rolling),
            'w' => self.ask_prompt_answer(),
            'v' => return self.toggle_recording(),
            'p' => {
                let hidden = !self.editor.is_hidden();
                self.editor.clear();
                self.editor.set_hidden(hidden);
            }
            'm' => {
                self.zoom = !self.zoom && !self.panes.is_empty();
                return self.relayout();
            }
            'o' => return self.toggle_overview(),
            'f' => self.open_upload(),
            'k' => self.open_download(),
            _ => {}
        }
        Vec::new()
    }

    /// Alt-X: gives up on input not yet sent (a paste a slow or stuck session has not
    /// taken), in every pane that has some.
    fn discard_pending_input(&mut self) -> Vec<Effect> {
        let ids: Vec<SessionId> = self
            .panes
            .iter()
            .filter(|p| p.pending_input > 0)
            .map(|p| p.id)
            .collect();
        if ids.is_empty() {
            self.notice = Some(tr("no unsent input to discard").into());
            return Vec::new();
        }
        vec![Effect::DiscardInput { ids }]
    }

    fn function_key(&mut self, n: u8) -> Vec<Effect> {
        match n {
            1 => self.overlay = Some(Overlay::Help { top: 0 }),
            2 => return vec![Effect::StartMock],
            3 => return self.set_mode(InputMode::Keystroke),
            4 => {
                self.mouse_capture = !self.mouse_capture;
                return vec![Effect::SetMouseCapture(self.mouse_capture)];
            }
            5 => return self.reconnect_focused(),
            6 => self.overlay = Some(Overlay::AddHost(LineEditor::default())),
            7 => return self.save_focused(),
            8 if !self.panes.is_empty() => return self.remove_pane(self.focus),
            9 => self.open_results(),
            12 => self.open_event_view(),
            _ => {}
        }
        Vec::new()
    }

    fn reconnect_focused(&mut self) -> Vec<Effect> {
        let focus = self.focus;
        let Some(pane) = self.panes.get_mut(focus) else {
            return Vec::new();
        };
        if pane.is_live() {
            self.notice = Some(trf(
                "{name} is still live; F8 closes it",
                &[("name", &pane.name)],
            ));
            return Vec::new();
        }
        self.panes_epoch += 1;
        vec![super::retry::reconnect(pane, 0)]
    }

    /// Shift-F5: reconnects every pane whose session failed or closed.
    fn reconnect_ended(&mut self) -> Vec<Effect> {
        let effects: Vec<Effect> = self
            .panes
            .iter_mut()
            .filter(|p| !p.is_live())
            .map(|pane| super::retry::reconnect(pane, 0))
            .collect();
        self.panes_epoch += 1;
        self.notice = Some(match effects.len() {
            0 => tr("no failed or closed pane to reconnect").into(),
            1 => tr("reconnecting 1 pane").into(),
            n => trf("reconnecting {n} panes", &[("n", &n)]),
        });
        effects
    }

    fn save_focused(&mut self) -> Vec<Effect> {
        let Some(id) = self.focused().map(|p| p.id) else {
            return Vec::new();
        };
        vec![Effect::SaveScrollback { id }]
    }

    fn request_quit(&mut self) -> Vec<Effect> {
        if self.any_live() {
            self.overlay = Some(Overlay::QuitConfirm);
            Vec::new()
        } else {
            vec![Effect::Quit]
        }
    }

    /// Shift + arrows/PgUp/PgDn/End scroll the focused pane; false when `code` is not one.
    fn scroll_key(&mut self, code: KeyCode) -> bool {
        let focus = self.focus;
        let Some(pane) = self.panes.get_mut(focus) else {
            return false;
        };
        let page = (pane.pty_size().1 as isize / 2).max(1);
        match code {
            KeyCode::Up => pane.scroll_by(1),
            KeyCode::Down => pane.scroll_by(-1),
            KeyCode::PageUp => pane.scroll_by(page),
            KeyCode::PageDown => pane.scroll_by(-page),
            KeyCode::End => pane.scroll_to_live(),
            _ => return false,
        }
        true
    }

    pub(super) fn on_paste(&mut self, text: String) -> Vec<Effect> {
        if let Some(overlay) = &mut self.overlay {
            if let Overlay::Prompt(d) = overlay {
                d.input.insert_str(first_line(&text));
            } else if let Overlay::AddHost(e) = overlay {
                e.insert_str(first_line(&text));
            } else if let Overlay::SaveGroup(d) | Overlay::BroadcastTo(d) = overlay {
                d.input.insert_str(first_line(&text));
            } else if let Overlay::Transfer(d) = overlay {
                d.input.insert_str(first_line(&text));
            }
            return Vec::new();
        }
        // A paste while the search is open is (its first line) more of the query.
        if let Some(search) = &mut self.search {
            search.phase = super::search::Phase::Typing;
            search.query.insert_str(first_line(&text));
            search.restart();
            return Vec::new();
        }
        // Terminals send pasted line breaks as LF or as CR (tmux, xterm and VTE send CR):
        // either way it is several commands, and several sessions get them only when asked.
        let multi_line = text.trim_end_matches(['\r', '\n']).contains(['\r', '\n']);
        let targets = match self.mode {
            InputMode::Line if !multi_line => {
                // The line break a one-line paste ends with is not part of the command:
                // Enter sends it.
                self.editor.insert_str(text.trim_end_matches(['\r', '\n']));
                return Vec::new();
            }
            InputMode::Focus => self.focused().map(|p| p.id).into_iter().collect(),
            InputMode::Line | InputMode::Keystroke => self.targets(),
        };
        if multi_line && targets.len() > 1 {
            let text = text.replace("\r\n", "\n").replace('\r', "\n");
            let lines = text.trim_end_matches('\n').lines().count();
            self.overlay = Some(Overlay::PasteConfirm {
                text,
                lines,
                targets,
            });
            return Vec::new();
        }
        self.paste_to(&text, targets)
    }

    /// Sends a paste the way a terminal does: newlines as CR, wrapped in bracketed-paste
    /// markers for programs that turned that mode on.
    pub(super) fn paste_to(&mut self, text: &str, ids: Vec<SessionId>) -> Vec<Effect> {
        let body = text.replace("\r\n", "\r").replace('\n', "\r");
        // Each form built once and shared by every target (a large paste is held twice at
        // most, however many sessions get it).
        let plain = Bytes::from(body.clone().into_bytes());
        let bracketed = std::cell::OnceCell::new();
        let mut effects = Vec::new();
        for id in ids {
            let Some(pane) = self.pane_mut(id) else {
                continue;
            };
            pane.scroll_to_live();
            let bytes = if pane.screen().bracketed_paste() {
                bracketed
                    .get_or_init(|| Bytes::from(format!("\x1b[200~{body}\x1b[201~").into_bytes()))
                    .clone()
            } else {
                plain.clone()
            };
            effects.push(Effect::Send {
                id,
                bytes: bytes.clone(),
            });
            self.record_typed(id, &bytes, &mut effects);
        }
        effects
    }

    fn overlay_key(&mut self, overlay: Overlay, key: KeyEvent) -> Vec<Effect> {
        let yes = matches!(key.code, KeyCode::Char('y' | 'Y') | KeyCode::Enter);
        let no = matches!(key.code, KeyCode::Char('n' | 'N') | KeyCode::Esc);
        match overlay {
            Overlay::Help { top } => {
                self.help_key(top, key.code);
                Vec::new()
            }
            Overlay::QuitConfirm if yes || ctrl(&key) == Some('q') => vec![Effect::Quit],
            Overlay::PasteConfirm { text, targets, .. } if yes => self.paste_to(&text, targets),
            Overlay::QuitConfirm | Overlay::PasteConfirm { .. } if no => Vec::new(),
            Overlay::Prompt(dialog) => self.prompt_key(dialog, key),
            Overlay::AddHost(editor) => self.add_host_key(editor, key),
            Overlay::Results(view) => self.results_key(view, key),
            Overlay::SendConfirm(confirm) if yes => {
                self.send_how(confirm.what, confirm.how, confirm.targets)
            }
            Overlay::SendConfirm(_) if no => {
                self.notice = Some(tr("not sent").into());
                Vec::new()
            }
            Overlay::AnswerPrompts { ids, input } => self.answer_prompts_key(ids, input, key),
            Overlay::SaveGroup(dialog) => self.save_group_key(dialog, key),
            Overlay::BroadcastTo(dialog) => self.broadcast_to_key(dialog, key),
            Overlay::Transfer(dialog) => self.transfer_key(dialog, key),
            Overlay::TransferCancel if yes || no => self.transfer_cancel_key(yes),
            // Any key closes it, as the help: the view only watches.
            Overlay::Events(_) => Vec::new(),
            open => {
                self.overlay = Some(open);
                Vec::new()
            }
        }
    }

    /// Scrolling keys move the help; any other key closes it, as it always did.
    pub(super) fn help_key(&mut self, top: usize, code: KeyCode) {
        let view = self.help_view();
        let top = top.min(view.max_top());
        let top = match code {
            KeyCode::Up => top.saturating_sub(1),
            KeyCode::Down => top + 1,
            KeyCode::PageUp => top.saturating_sub(view.page()),
            KeyCode::PageDown | KeyCode::Char(' ') => top + view.page(),
            KeyCode::Home => 0,
            KeyCode::End => view.max_top(),
            _ => return,
        };
        self.overlay = Some(Overlay::Help {
            top: top.min(view.max_top()),
        });
    }

    fn prompt_key(&mut self, mut dialog: super::PromptDialog, key: KeyEvent) -> Vec<Effect> {
        let answer = match key.code {
            KeyCode::Enter => Some(dialog.input.take()),
            KeyCode::Esc => None,
            code => {
                edit_key(&mut dialog.input, code, false);
                self.overlay = Some(Overlay::Prompt(dialog));
                return Vec::new();
            }
        };
        vec![Effect::AnswerPrompt {
            token: dialog.token,
            answer,
        }]
    }

    fn add_host_key(&mut self, mut editor: LineEditor, key: KeyEvent) -> Vec<Effect> {
        match key.code {
            KeyCode::Enter => {
                let spec = editor.take().trim().to_string();
                if spec.is_empty() {
                    return Vec::new();
                }
                vec![Effect::AddHost(spec)]
            }
            KeyCode::Esc => Vec::new(),
            code => {
                edit_key(&mut editor, code, false);
                self.overlay = Some(Overlay::AddHost(editor));
                Vec::new()
            }
        }
    }
}

/// Plain editing keys shared by the broadcast line and dialog inputs.
pub(super) fn edit_key(editor: &mut LineEditor, code: KeyCode, history: bool) {
    match code {
        KeyCode::Char(c) => editor.insert(c),
        KeyCode::Backspace => editor.backspace(),
        KeyCode::Delete => editor.delete(),
        KeyCode::Left => editor.left(),
        KeyCode::Right => editor.right(),
        KeyCode::Home => editor.home(),
        KeyCode::End => editor.end(),
        KeyCode::Up if history => editor.history_up(),
        KeyCode::Down if history => editor.history_down(),
        _ => {}
    }
}

/// A paste's first line, whichever line break the terminal sent.
fn first_line(text: &str) -> &str {
    text.split(['\r', '\n']).next().unwrap_or_default()
}
