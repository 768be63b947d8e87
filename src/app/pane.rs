//! One session's pane: its emulator, state and broadcast flag.

use crate::ssh::{SessionId, SessionState};

/// Lines of scrollback a pane gets when there are few panes.
pub const DEFAULT_SCROLLBACK: usize = 1000;
/// Scrollback lines for all panes together, so a thousand sessions do not eat gigabytes.
pub const TOTAL_SCROLLBACK_BUDGET: usize = 200_000;
/// vt100 has panicked on degenerate grids; no pane's emulator or PTY gets smaller than this.
pub const MIN_PTY_COLS: u16 = 10;
pub const MIN_PTY_ROWS: u16 = 3;

/// Per-pane scrollback for `panes` panes: the default, cut down so the total stays within
/// the program-wide budget.
pub fn scrollback_per_pane(panes: usize) -> usize {
    DEFAULT_SCROLLBACK.min(TOTAL_SCROLLBACK_BUDGET / panes.max(1))
}

pub struct Pane {
    pub id: SessionId,
    pub name: String,
    pub state: SessionState,
    pub exit_status: Option<u32>,
    pub parser: vt100::Parser,
    /// Whether the broadcast line and keystroke broadcast reach this session.
    pub in_broadcast: bool,
    /// Input queued for the session that the remote side has not taken yet (bytes).
    pub pending_input: usize,
    scrollback_len: usize,
}

thread_local! {
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a panic now comes from an emulator call that [`Pane`] catches: the TUI's panic
/// hook then leaves the terminal alone.
pub fn in_guarded_emulator() -> bool {
    GUARDED.with(|g| g.get())
}

/// Runs an emulator call, catching its panic.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, ()> {
    GUARDED.with(|g| g.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(false));
    result.map_err(|_| ())
}

impl Pane {
    pub fn new(id: SessionId, name: String, scrollback: usize) -> Self {
        Pane {
            id,
            name,
            state: SessionState::Connecting,
            exit_status: None,
            parser: vt100::Parser::new(24, 80, scrollback),
            in_broadcast: true,
            pending_input: 0,
            scrollback_len: scrollback,
        }
    }

    /// Feeds remote output to the emulator. vt100 0.16 panics on some inputs (found by
    /// fuzzing: a wide character cut in half by a narrowing resize, then written over);
    /// such a panic is caught and the pane gets a fresh emulator showing what the screen
    /// held, rather than one host's output taking the whole program down.
    pub fn process(&mut self, bytes: &[u8]) {
        if guarded(|| self.parser.process(bytes)).is_err() {
            self.recover();
        }
    }

    /// A fresh emulator of the same size with the old screen's contents (scrollback and
    /// the hidden alternate screen are lost).
    fn recover(&mut self) {
        tracing::warn!(pane = %self.name, "terminal emulator panicked; pane reset");
        let (rows, cols) = self.parser.screen().size();
        let contents = guarded(|| self.parser.screen().contents_formatted()).unwrap_or_default();
        let scrollback = self.scrollback_len;
        self.parser = vt100::Parser::new(rows, cols, scrollback);
        if guarded(|| self.parser.process(&contents)).is_err() {
            self.parser = vt100::Parser::new(rows, cols, scrollback);
        }
    }

    /// The text of the emulator's live screen.
    pub fn screen_text(&self) -> String {
        self.parser.screen().contents()
    }

    /// The `rows` screen rows ending at the cursor's.
    pub fn text_at_cursor(&self, rows: u16) -> String {
        let screen = self.parser.screen();
        let (row, _) = screen.cursor_position();
        let (_, cols) = screen.size();
        let first = (row + 1).saturating_sub(rows);
        screen.contents_between(first, 0, row, cols)
    }

    /// The PTY size (cols, rows) the emulator currently has.
    pub fn pty_size(&self) -> (u16, u16) {
        let (rows, cols) = self.parser.screen().size();
        (cols, rows)
    }

    /// Resizes the emulator to fit `cols` x `rows` (clamped to the safe minimum) and returns
    /// the size when it changed, so the caller tells the remote side.
    pub fn fit(&mut self, cols: u16, rows: u16) -> Option<(u16, u16)> {
        let size = (cols.max(MIN_PTY_COLS), rows.max(MIN_PTY_ROWS));
        if size == self.pty_size() {
            return None;
        }
        if guarded(|| self.parser.screen_mut().set_size(size.1, size.0)).is_err() {
            self.recover();
            if guarded(|| self.parser.screen_mut().set_size(size.1, size.0)).is_err() {
                self.parser = vt100::Parser::new(size.1, size.0, self.scrollback_len);
            }
        }
        Some(size)
    }

    /// Lines scrolled back from the live screen.
    pub fn scroll_offset(&self) -> usize {
        self.parser.screen().scrollback()
    }

    /// Scrolls by `delta` lines (positive = back into history); vt100 clamps to what exists.
    pub fn scroll_by(&mut self, delta: isize) {
        let offset = self.scroll_offset().saturating_add_signed(delta);
        self.parser.screen_mut().set_scrollback(offset);
    }

    pub fn scroll_to_live(&mut self) {
        self.parser.screen_mut().set_scrollback(0);
    }

    /// Whether the session may still take input.
    pub fn is_live(&self) -> bool {
        !self.state.is_finished()
    }

    /// Selected and live: the broadcast line reaches it.
    pub fn is_target(&self) -> bool {
        self.in_broadcast && self.is_live()
    }

    /// The group a pane belongs to: its name without the trailing number (`web03` → `web`).
    pub fn group(&self) -> &str {
        let trimmed = self.name.trim_end_matches(|c: char| c.is_ascii_digit());
        let trimmed = trimmed.trim_end_matches(['-', '_', '.']);
        if trimmed.is_empty() {
            &self.name
        } else {
            trimmed
        }
    }

    /// The whole scrollback plus the screen as plain text, oldest line first. Reads a copy
    /// of the screen: vt100 only exposes history through the scroll position, and moving
    /// the pane's own would change the model outside `App::update`.
    pub fn scrollback_text(&self) -> String {
        let mut screen = self.parser.screen().clone();
        let (_, cols) = screen.size();
        // Walk the history one row at a time.
        screen.set_scrollback(usize::MAX);
        let depth = screen.scrollback();
        let mut lines = Vec::with_capacity(depth + 24);
        for offset in (1..=depth).rev() {
            screen.set_scrollback(offset);
            let row = screen.rows(0, cols).next().unwrap_or_default();
            lines.push(row);
        }
        screen.set_scrollback(0);
        lines.extend(screen.rows(0, cols));
        while lines.last().is_some_and(|l| l.trim().is_empty()) {
            lines.pop();
        }
        let mut text = lines
            .iter()
            .map(|l| l.trim_end())
            .collect::<Vec<_>>()
            .join("\n");
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrollback_budget_is_bounded() {
        assert_eq!(scrollback_per_pane(0), DEFAULT_SCROLLBACK);
        assert_eq!(scrollback_per_pane(4), DEFAULT_SCROLLBACK);
        assert_eq!(scrollback_per_pane(200), DEFAULT_SCROLLBACK);
        assert_eq!(scrollback_per_pane(1000), 200);
        for n in [1, 7, 300, 1000, 5000, 100_000] {
            assert!(n * scrollback_per_pane(n) <= TOTAL_SCROLLBACK_BUDGET.max(DEFAULT_SCROLLBACK));
        }
    }

    #[test]
    fn fit_clamps_to_safe_minimum() {
        let mut pane = Pane::new(0, "a".into(), 10);
        assert_eq!(pane.fit(2, 1), Some((MIN_PTY_COLS, MIN_PTY_ROWS)));
        assert_eq!(pane.fit(3, 2), None);
        assert_eq!(pane.fit(40, 10), Some((40, 10)));
        assert_eq!(pane.pty_size(), (40, 10));
    }

    #[test]
    fn a_wide_character_cut_by_a_resize_does_not_panic() {
        // Found by fuzzing: vt100 panics writing over the first half of a wide character
        // whose second half a narrowing resize cut off.
        let mut pane = Pane::new(0, "a".into(), 10);
        pane.process("kept\x1b[1;10H中".as_bytes());
        pane.fit(10, 3);
        // This chunk makes vt100 panic: it is lost, the pane is reset with its contents.
        pane.process(b"\x1b[1;10Hx");
        assert_eq!(pane.pty_size(), (10, 3));
        pane.process(b"\r\nworking");
        let contents = pane.parser.screen().contents();
        assert!(
            contents.contains("kept") && contents.contains("working"),
            "{contents}"
        );
    }

    #[test]
    fn groups_strip_trailing_numbers() {
        let group = |name: &str| Pane::new(0, name.into(), 0).group().to_string();
        assert_eq!(group("web03"), "web");
        assert_eq!(group("db-12"), "db");
        assert_eq!(group("42"), "42");
    }

    #[test]
    fn scrollback_text_has_history_and_screen() {
        let mut pane = Pane::new(0, "a".into(), 100);
        pane.fit(20, 3);
        for i in 0..10 {
            pane.parser.process(format!("line {i}\r\n").as_bytes());
        }
        pane.scroll_by(2);
        let text = pane.scrollback_text();
        let expected: String = (0..10).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text, expected);
        assert_eq!(pane.scroll_offset(), 2);
    }
}
