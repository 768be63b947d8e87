//! Answering password prompts where they appear: one hidden answer, asked once, sent only
//! to the panes whose cursor line shows a prompt. The answer is never drawn, kept in
//! history, logged or shown by `Debug`; its text is wiped once sent.

use crossterm::event::{KeyCode, KeyEvent};
use zeroize::Zeroize;

use super::editor::LineEditor;
use super::{App, Effect, Overlay};
use crate::config::fold_to_string;
use crate::lang::{tr, trf};
use crate::ssh::SessionId;

impl App {
    /// Panes whose screen shows a password prompt now.
    pub fn asking_panes(&self) -> Vec<SessionId> {
        self.panes
            .iter()
            .filter(|p| p.asks_password && p.is_live())
            .map(|p| p.id)
            .collect()
    }

    /// Alt-W: asks once, hidden, for the answer to every prompt on screen.
    pub(super) fn ask_prompt_answer(&mut self) {
        let ids = self.asking_panes();
        if ids.is_empty() {
            self.notice = Some(tr("no pane shows a password prompt").into());
            return;
        }
        let mut input = LineEditor::default();
        input.set_hidden(true);
        self.overlay = Some(Overlay::AnswerPrompts { ids, input });
    }

    /// The dialog's text: which panes get the answer.
    pub fn answer_prompt_text(&self, ids: &[SessionId]) -> String {
        let names: Vec<&str> = ids.iter().filter_map(|&id| self.pane_name(id)).collect();
        trf(
            "{count} asking: {names}. Enter sends, Esc cancels",
            &[("count", &ids.len()), ("names", &fold_to_string(&names))],
        )
    }

    pub(super) fn answer_prompts_key(
        &mut self,
        ids: Vec<SessionId>,
        mut input: LineEditor,
        key: KeyEvent,
    ) -> Vec<Effect> {
        match key.code {
            KeyCode::Enter => {
                let mut answer = input.take();
                answer.push('\r');
                let bytes = bytes::Bytes::copy_from_slice(answer.as_bytes());
                answer.zeroize();
                let mut effects = Vec::new();
                for id in ids {
                    let Some(pane) = self.pane_mut(id) else {
                        continue;
                    };
                    // Until the pane shows something new, it is not asking any more.
                    pane.asks_password = false;
                    effects.push(Effect::Send {
                        id,
                        bytes: bytes.clone(),
                    });
                }
                self.notice = Some(trf(
                    "answer sent to {count} panes",
                    &[("count", &effects.len())],
                ));
                effects
            }
            KeyCode::Esc => {
                input.wipe();
                Vec::new()
            }
            code => {
                super::input::edit_key(&mut input, code, false);
                self.overlay = Some(Overlay::AnswerPrompts { ids, input });
                Vec::new()
            }
        }
    }
}
