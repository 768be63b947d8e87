//! Whether a broadcast's receivers have answered yet. The loop holds the frame after a
//! broadcast until every receiver's reply is in (or a cap passes, `tui::frame_clock`), so
//! 100 replies arriving over 20 ms cost one frame, drawn as the last one lands, instead of
//! partial frames at the frame cap that the last replies then wait behind.
//!
//! A pane learns what it waits for when its input is sent: after a key, any output (its
//! echo); after a line (the input holds a CR or LF), the shell's next prompt: a line end,
//! then a cursor line that is a prefix of the one the line was typed on (`$ ` of
//! `$ echo hi`). A full-screen program (alternate screen) has no prompt: any output counts.
//! Guessing wrong costs a frame too early (one more follows) or the cap, never output.

use super::pane::Pane;
use super::{App, Effect};

/// What a pane's input waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Awaiting {
    /// Any output: the echo of a key.
    Echo,
    /// The next prompt after a line: `before` is the cursor line the line was sent from,
    /// `line_end` whether a line end came since.
    Prompt { before: String, line_end: bool },
}

impl Awaiting {
    /// What input `bytes` sent to `pane` waits for; an unanswered line keeps waiting for
    /// its prompt through keys typed after it.
    pub fn after_input(pane: &Pane, bytes: &[u8]) -> Awaiting {
        let submits = bytes.iter().any(|b| matches!(b, b'\r' | b'\n'));
        match pane.awaiting() {
            Some(prompt @ Awaiting::Prompt { .. }) if !submits => prompt.clone(),
            _ if submits && !pane.screen().alternate_screen() => Awaiting::Prompt {
                before: typed_line(pane.screen()),
                line_end: false,
            },
            _ => Awaiting::Echo,
        }
    }

    /// `shown` reached the screen, which has `cursor_line` now (asked only when needed):
    /// whether the reply is complete; otherwise what is still awaited.
    pub fn after_output(
        self,
        shown: &[u8],
        alternate: bool,
        cursor_line: impl FnOnce() -> String,
    ) -> Option<Awaiting> {
        match self {
            Awaiting::Echo => None,
            Awaiting::Prompt { .. } if alternate => None,
            Awaiting::Prompt { before, line_end } => {
                let line_end = line_end || shown.contains(&b'\n');
                if line_end {
                    let now = cursor_line();
                    if !now.is_empty() && before.starts_with(&now) {
                        return None;
                    }
                }
                Some(Awaiting::Prompt { before, line_end })
            }
        }
    }
}

/// The cursor's line from where it starts: a prompt and a command that filled the pane's
/// width wrapped (readline moves the cursor to the next row), and the row alone would then
/// be empty or the command's tail.
fn typed_line(screen: &vt100::Screen) -> String {
    let (row, col) = screen.cursor_position();
    let mut start = row;
    while start > 0 && screen.row_wrapped(start - 1) {
        start -= 1;
    }
    screen.contents_between(start, 0, row, col)
}

impl App {
    /// The panes `effects` send input to wait for its reply, when they are a broadcast
    /// (two panes or more: one pane's reply is a burst of its own, drawn when it pauses).
    /// Returns whether some now wait.
    pub fn await_replies(&mut self, effects: &[Effect]) -> bool {
        let sends = || {
            effects.iter().filter_map(|e| match e {
                Effect::Send { id, bytes } => Some((*id, bytes)),
                _ => None,
            })
        };
        let mut ids = sends().map(|(id, _)| id);
        let first = ids.next();
        if first.is_none() || ids.all(|id| Some(id) == first) {
            return false;
        }
        let mut waiting = false;
        for (id, bytes) in sends() {
            if let Some(pane) = self.pane_mut(id) {
                let awaiting = Awaiting::after_input(pane, bytes);
                pane.set_awaiting(Some(awaiting));
                waiting = true;
            }
        }
        waiting
    }

    /// Whether a pane still waits for the reply to a broadcast.
    pub fn replies_pending(&self) -> bool {
        self.panes.iter().any(|p| p.awaiting().is_some())
    }

    /// A frame showed the replies so far: whatever is still awaited (a host that does not
    /// answer) no longer holds frames back.
    pub fn forget_replies(&mut self) {
        for pane in &mut self.panes {
            pane.set_awaiting(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Msg;
    use crate::app::tests::app_with as app;
    use bytes::Bytes;

    fn output(app: &mut App, id: usize, data: &str) {
        let _ = app.update(Msg::Output {
            id,
            data: data.as_bytes().to_vec(),
        });
    }

    fn sends(ids: &[usize], bytes: &str) -> Vec<Effect> {
        let bytes = Bytes::copy_from_slice(bytes.as_bytes());
        ids.iter()
            .map(|&id| Effect::Send {
                id,
                bytes: bytes.clone(),
            })
            .collect()
    }

    #[test]
    fn a_line_waits_for_the_next_prompt_on_every_receiver() {
        let mut app = app(2);
        output(&mut app, 0, "$ ");
        output(&mut app, 1, "$ ");
        assert!(app.await_replies(&sends(&[0, 1], "echo hi\r")));
        output(&mut app, 0, "echo hi");
        output(&mut app, 0, "\r\n");
        output(&mut app, 0, "hi");
        assert!(app.replies_pending(), "no prompt yet");
        output(&mut app, 0, "\r\n$ ");
        output(&mut app, 1, "echo hi\r\nhi\r\n");
        assert!(app.replies_pending(), "pane 1 has no prompt yet");
        output(&mut app, 1, "$ ");
        assert!(!app.replies_pending());
    }

    #[test]
    fn a_line_typed_key_by_key_waits_from_the_line_it_was_typed_on() {
        let mut app = app(2);
        for id in 0..2 {
            output(&mut app, id, "$ echo hi");
        }
        assert!(app.await_replies(&sends(&[0, 1], "\r")));
        for id in 0..2 {
            output(&mut app, id, "\r\nhi\r\n$ ");
        }
        assert!(!app.replies_pending());
    }

    #[test]
    fn a_line_that_filled_the_width_waits_for_the_prompt_it_was_typed_after() {
        let mut app = app(2);
        let cols = app.panes[0].screen().size().1;
        let typed = format!("$ echo {}", "x".repeat(usize::from(cols) - 7));
        for id in 0..2 {
            // As readline does at the last column: the space wraps, the CR returns.
            output(&mut app, id, &format!("{typed} \r"));
        }
        assert!(app.await_replies(&sends(&[0, 1], "\r")));
        for id in 0..2 {
            output(&mut app, id, "\r\nxx\r\n");
        }
        assert!(app.replies_pending());
        for id in 0..2 {
            output(&mut app, id, "$ ");
        }
        assert!(!app.replies_pending());
    }

    #[test]
    fn a_key_waits_for_any_output_and_one_pane_is_no_broadcast() {
        let mut app = app(2);
        assert!(!app.await_replies(&sends(&[0], "x")));
        assert!(!app.replies_pending());
        assert!(app.await_replies(&sends(&[0, 1], "x")));
        output(&mut app, 0, "x");
        output(&mut app, 1, "x");
        assert!(!app.replies_pending());
    }

    #[test]
    fn keys_after_an_unanswered_line_still_wait_for_its_prompt() {
        let mut app = app(2);
        for id in 0..2 {
            output(&mut app, id, "$ ");
        }
        assert!(app.await_replies(&sends(&[0, 1], "sleep 1\r")));
        assert!(app.await_replies(&sends(&[0, 1], "x")));
        for id in 0..2 {
            output(&mut app, id, "sleep 1\r\nx");
        }
        assert!(app.replies_pending());
        app.forget_replies();
        assert!(!app.replies_pending());
    }

    #[test]
    fn a_full_screen_program_answers_with_any_output() {
        let mut app = app(2);
        for id in 0..2 {
            output(&mut app, id, "\x1b[?1049h~\r\n~");
        }
        assert!(app.await_replies(&sends(&[0, 1], "\r")));
        for id in 0..2 {
            output(&mut app, id, "\x1b[2;1Hx");
        }
        assert!(!app.replies_pending());
    }
}
