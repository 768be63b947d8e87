//! One session's pane: its emulator, state and broadcast flag.

use std::ops::{ControlFlow, Range};

use super::emulator::Emulator;
use super::history::{Budget, History};
use super::inject::Hider;
use super::reply::Awaiting;
use super::result::{CommandResult, ResultTracker};
use crate::ssh::shell_integration::{ShellIntegration, install_line};
use crate::ssh::{SessionId, SessionState};

pub use super::emulator::in_guarded_emulator;
pub use super::history::LineNo;

/// Lines of history a pane keeps by default (`--scrollback`, `scrollback` in the config).
pub const DEFAULT_SCROLLBACK: usize = 10_000;
/// Memory for all panes' history together by default, in MiB (`--scrollback-memory`): a
/// thousand sessions share it, so they do not eat gigabytes.
pub const DEFAULT_SCROLLBACK_MEMORY_MIB: usize = 256;
/// vt100 has panicked on degenerate grids; no pane's emulator or PTY gets smaller than this.
pub const MIN_PTY_COLS: u16 = 10;
pub const MIN_PTY_ROWS: u16 = 3;

/// How much history the panes keep: lines per pane, and memory for all of them together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrollbackSetting {
    pub lines: usize,
    pub memory_bytes: usize,
}

impl Default for ScrollbackSetting {
    fn default() -> Self {
        ScrollbackSetting {
            lines: DEFAULT_SCROLLBACK,
            memory_bytes: DEFAULT_SCROLLBACK_MEMORY_MIB << 20,
        }
    }
}

/// One pane's history budget when `panes` panes share `setting`'s memory.
pub fn history_budget(setting: ScrollbackSetting, panes: usize) -> Budget {
    Budget {
        lines: setting.lines,
        bytes: setting.memory_bytes / panes.max(1),
    }
}

pub struct Pane {
    pub id: SessionId,
    pub name: String,
    pub state: SessionState,
    pub exit_status: Option<u32>,
    emulator: Emulator,
    /// A size the PTY was given that the emulator has not taken yet (cols, rows): a pane off
    /// screen reflows when output comes or it is shown, not on every resize.
    pending: Option<(u16, u16)>,
    /// Whether the broadcast line and keystroke broadcast reach this session.
    pub in_broadcast: bool,
    /// Input queued for the session that the remote side has not taken yet (bytes).
    pub pending_input: usize,
    /// What the last command answered, read from the output as it comes.
    results: ResultTracker,
    /// The cursor's line looks like a password prompt (`[sudo] password for`, …).
    pub asks_password: bool,
    /// The OSC 133 hook this pane's shell gets, typed in once with the shell's first output.
    shell_integration: ShellIntegration,
    installed: bool,
    /// Hides the install line's echo.
    hider: Hider,
    /// The loop records this session (asciicast): the title shows ● REC.
    pub recording: bool,
    /// Whether the pane reconnects by itself after a lost connection, and how often.
    pub reconnect: crate::ssh::reconnect::ReconnectPolicy,
    /// Where the pane is in reconnecting.
    pub retry: super::retry::Retry,
    /// Its part in the last upload or download (Alt-F, Alt-K): the title shows it.
    pub transfer: Option<super::transfer::TransferMark>,
    /// Rows the view is scrolled back into the history (0: the live screen).
    view: usize,
    /// The reply a broadcast's frame waits for ([`super::reply`]).
    awaiting: Option<Awaiting>,
}

impl Pane {
    pub fn new(id: SessionId, name: String, scrollback: usize) -> Self {
        Pane {
            id,
            name,
            state: SessionState::Connecting,
            exit_status: None,
            emulator: Emulator::new(
                24,
                80,
                Budget {
                    lines: scrollback,
                    bytes: usize::MAX,
                },
            ),
            pending: None,
            in_broadcast: true,
            pending_input: 0,
            results: ResultTracker::default(),
            asks_password: false,
            shell_integration: ShellIntegration::Off,
            installed: false,
            hider: Hider::default(),
            recording: false,
            reconnect: Default::default(),
            retry: Default::default(),
            transfer: None,
            awaiting: None,
            view: 0,
        }
    }

    /// Sets how much history the pane keeps (the oldest lines go if it is less now).
    pub fn set_history_budget(&mut self, budget: Budget) {
        self.emulator.history_mut().set_budget(budget);
        self.clamp_view();
    }

    /// The lines that left the screen.
    pub fn history(&self) -> &History {
        self.emulator.history()
    }

    pub fn with_shell_integration(mut self, mode: ShellIntegration) -> Self {
        self.shell_integration = mode;
        self
    }

    /// Remote output as it came: what the pane shows of it goes to the emulator (see
    /// [`Pane::process`]). Returns the bytes for the session: answers to terminal queries,
    /// and the shell integration's install line once the shell first speaks.
    ///
    /// The first output (the motd, or the prompt) is the signal the shell is there: a line
    /// typed now waits in the PTY until the shell reads it, after its rc files. From here on
    /// the pane hides output until the line's sentinel, so its echo never shows.
    pub fn receive(&mut self, bytes: &[u8]) -> Vec<u8> {
        let shown = self.hider.filter(bytes);
        let mut reply = if shown.is_empty() {
            Vec::new()
        } else {
            self.process(&shown)
        };
        if !self.installed && !bytes.is_empty() && self.shell_integration.is_on() {
            self.installed = true;
            if let Some(line) = install_line(self.shell_integration) {
                self.hider.start();
                reply.extend_from_slice(line.as_bytes());
            }
        }
        reply
    }

    /// Whether output is held back (the loop then sends ticks).
    pub fn is_hiding(&self) -> bool {
        self.hider.is_hiding()
    }

    /// A tick: output held back past its deadline is shown; returns query answers in it.
    pub fn tick(&mut self, now: std::time::Instant) -> Vec<u8> {
        match self.hider.expire(now) {
            Some(held) if !held.is_empty() => self.process(&held),
            _ => Vec::new(),
        }
    }

    /// The emulated screen, for drawing and for the modes keys are encoded in.
    pub fn screen(&self) -> &vt100::Screen {
        self.emulator.screen()
    }

    /// Changes whenever the screen may have: what was drawn of it at one generation is still
    /// right at the same one (the frame's pane cache, `ui::PaneCache`).
    pub fn screen_generation(&self) -> u64 {
        self.emulator.generation()
    }

    /// Feeds remote output to the emulator; returns the answers to the terminal queries in
    /// it (cursor position, device attributes), which go back to the session.
    pub fn process(&mut self, bytes: &[u8]) -> Vec<u8> {
        // The remote side writes for the size it was given.
        self.take_size();
        let resets = self.emulator.resets;
        let taken = self.history().rows_taken;
        let replies = self.emulator.process(bytes);
        self.log_reset(resets);
        if self.view > 0 {
            // A view scrolled back stays on its lines as new ones arrive below.
            let moved = self.history().rows_taken - taken;
            self.view = self.view.saturating_add(moved as usize);
            self.clamp_view();
        }
        self.results.feed(bytes);
        if let Some(awaiting) = self.awaiting.take() {
            let alternate = self.screen().alternate_screen();
            self.awaiting = awaiting.after_output(bytes, alternate, || self.cursor_line());
        }
        replies
    }

    /// What this pane's last broadcast input still waits for, if anything.
    pub fn awaiting(&self) -> Option<&Awaiting> {
        self.awaiting.as_ref()
    }

    pub fn set_awaiting(&mut self, awaiting: Option<Awaiting>) {
        self.awaiting = awaiting;
    }

    /// The broadcast line sent `line` here: its answer is tracked from now on, and the
    /// cursor's line (the prompt, before the echo arrives) tells where the answer ends.
    pub fn command_sent(&mut self, line: &str) {
        let prompt = self.cursor_line();
        self.results.sent(line, &prompt);
    }

    /// Grows whenever the last result may have changed (see [`ResultTracker::generation`]).
    pub fn results_generation(&self) -> u64 {
        self.results.generation()
    }

    /// The last command's result, if one was seen.
    pub fn last_result(&self) -> Option<&CommandResult> {
        self.results.last()
    }

    /// A `:CMD` run starts on this pane's connection.
    pub fn exec_started(&mut self, run: u64, line: &str) {
        self.results.exec_started(run, line);
    }

    /// The `:CMD` run still going on this pane, if one is.
    pub fn exec_run(&self) -> Option<u64> {
        self.results.exec_run()
    }

    pub fn exec_event(&mut self, run: u64, event: crate::ssh::ExecEvent) {
        self.results.exec_event(run, event);
    }

    /// The session failed or closed: a `:CMD` still running on it has ended too.
    pub fn session_ended(&mut self) {
        self.results.session_ended();
    }

    /// The output so far of the command still running.
    pub fn partial_output(&self) -> String {
        self.results.partial_output()
    }

    fn log_reset(&self, before: u64) {
        if self.emulator.resets != before {
            tracing::warn!(pane = %self.name, "terminal emulator panicked; pane reset");
        }
    }

    /// The cursor's row up to the cursor: where a prompt waits.
    pub fn cursor_line(&self) -> String {
        let screen = self.screen();
        let (row, col) = screen.cursor_position();
        screen.contents_between(row, 0, row, col)
    }

    /// The text of the emulator's live screen.
    pub fn screen_text(&self) -> String {
        self.screen().contents()
    }

    /// The `rows` screen rows ending at the cursor's.
    pub fn text_at_cursor(&self, rows: u16) -> String {
        let screen = self.screen();
        let (row, _) = screen.cursor_position();
        let (_, cols) = screen.size();
        let first = (row + 1).saturating_sub(rows);
        screen.contents_between(first, 0, row, cols)
    }

    /// The PTY size (cols, rows): the emulator's, or the one it is about to take.
    pub fn pty_size(&self) -> (u16, u16) {
        self.pending.unwrap_or_else(|| {
            let (rows, cols) = self.emulator.size();
            (cols, rows)
        })
    }

    /// Resizes the emulator to fit `cols` x `rows` (clamped to the safe minimum) and returns
    /// the size when it changed, so the caller tells the remote side. No line is lost: what
    /// a shrink pushes off goes to the scrollback and wrapped lines are rewrapped.
    pub fn fit(&mut self, cols: u16, rows: u16) -> Option<(u16, u16)> {
        let size = self.fit_later(cols, rows);
        self.take_size();
        size
    }

    /// [`Pane::fit`] for a pane off screen: the PTY size changes now, the emulator's when
    /// output comes or the pane is drawn ([`Pane::take_size`]). A reflow costs up to about a
    /// millisecond a full pane; a thousand panes resized on every step of a window drag
    /// would stall the loop.
    pub fn fit_later(&mut self, cols: u16, rows: u16) -> Option<(u16, u16)> {
        let size = (cols.max(MIN_PTY_COLS), rows.max(MIN_PTY_ROWS));
        if size == self.pty_size() {
            return None;
        }
        let (rows_now, cols_now) = self.emulator.size();
        self.pending = (size != (cols_now, rows_now)).then_some(size);
        Some(size)
    }

    /// Gives the emulator the size its PTY has, if it does not have it yet.
    pub fn take_size(&mut self) {
        if let Some((cols, rows)) = self.pending.take() {
            let resets = self.emulator.resets;
            self.emulator.resize(rows, cols);
            self.log_reset(resets);
            self.clamp_view();
        }
    }

    /// Rows scrolled back from the live screen.
    pub fn scroll_offset(&self) -> usize {
        self.view
    }

    /// Scrolls by `delta` rows (positive = back into history), within what exists.
    pub fn scroll_by(&mut self, delta: isize) {
        self.view = self.view.saturating_add_signed(delta);
        self.clamp_view();
    }

    pub fn scroll_to_live(&mut self) {
        self.view = 0;
    }

    fn clamp_view(&mut self) {
        if self.view > 0 {
            self.view = self.view.min(self.history_rows());
        }
    }

    /// The emulator's columns: the width history is wrapped at.
    fn cols(&self) -> u16 {
        self.emulator.size().1
    }

    /// Rows the history takes at the pane's width.
    pub fn history_rows(&self) -> usize {
        self.history().rows(self.cols())
    }

    /// Whether the session may still take input.
    pub fn is_live(&self) -> bool {
        !self.state.is_finished()
    }

    /// Selected, live and not coming back from a lost connection: the broadcast line
    /// reaches it. A pane that is down leaves the broadcast without losing its selection,
    /// and rejoins once its new session is ready.
    pub fn is_target(&self) -> bool {
        self.in_broadcast && self.is_live() && !self.retry.is_active()
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

    /// The whole scrollback plus the screen as plain text, oldest line first, history
    /// wrapped at the pane's width as the view shows it.
    pub fn scrollback_text(&self) -> String {
        let cols = self.cols();
        let history = self.history();
        let mut lines: Vec<String> = Vec::with_capacity(history.len() + 24);
        for n in history.span() {
            let Some(line) = history.line(n) else {
                continue;
            };
            let first = lines.len();
            line.layout(cols, |_, glyph, row, _, _| {
                while lines.len() <= first + row {
                    lines.push(String::new());
                }
                lines[first + row].push_str(glyph);
            });
            if lines.len() == first {
                lines.push(String::new());
            }
        }
        lines.extend(self.screen().rows(0, cols));
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

    /// The numbers of the lines kept now, history first then the screen: `first..end`.
    /// History lines are logical lines (wrapped rows joined); screen lines are its rows.
    pub fn line_span(&self) -> Range<LineNo> {
        let span = self.history().span();
        let (rows, _) = self.emulator.size();
        span.start..span.end + LineNo::from(rows)
    }

    /// Calls `visit` with each kept line from `from` on (clamped to the span), oldest first,
    /// as plain text without trailing blanks; stops early when `visit` returns Break.
    pub fn visit_lines(
        &mut self,
        from: LineNo,
        visit: &mut dyn FnMut(LineNo, &str) -> ControlFlow<()>,
    ) {
        let history = self.emulator.history();
        if history.visit(from, visit).is_break() {
            return;
        }
        let screen_first = history.span().end;
        let cols = self.cols();
        for (r, row) in self.screen().rows(0, cols).enumerate() {
            let n = screen_first + r as LineNo;
            if n >= from && visit(n, row.trim_end_matches(' ')).is_break() {
                return;
            }
        }
    }

    /// Scrolls the pane's view so that line `n` shows (offset 0 when it is on the live screen).
    pub fn scroll_to_line(&mut self, n: LineNo) {
        let history = self.history();
        self.view = if n >= history.span().end {
            0
        } else {
            // The line's first row at the top of the view.
            history.rows_from(n, self.cols())
        };
        self.clamp_view();
    }

    /// The text of row `row` of the pane's current view (history rows above the screen's when
    /// scrolled back), without trailing blanks: what the pane shows there.
    pub fn view_row_text(&self, row: u16) -> Option<String> {
        let (rows, cols) = self.emulator.size();
        if row >= rows {
            return None;
        }
        let row = usize::from(row);
        let history = self.history();
        let shown = history.view_rows(self.view, usize::from(rows), cols);
        if let Some(&(n, sub)) = shown.get(row) {
            let line = history.line(n)?;
            let mut text = String::new();
            line.layout(cols, |_, glyph, r, _, _| {
                if r == sub {
                    text.push_str(glyph);
                }
            });
            return Some(text.trim_end_matches(' ').to_string());
        }
        let r = row - shown.len();
        let text = self.screen().rows(0, cols).nth(r)?;
        Some(text.trim_end_matches(' ').to_string())
    }

    /// Where character `char_index` (in chars, of the text `visit_lines` gave) of line `n`
    /// shows in the pane's current view: Some((view row, column)) when it is visible.
    pub fn view_cell_of(&self, n: LineNo, char_index: usize) -> Option<(u16, u16)> {
        let (rows, cols) = self.emulator.size();
        let history = self.history();
        let end = history.span().end;
        let view = self.view;
        let (row, col) = if n >= end {
            // A screen row, below the history rows the view shows.
            let r = usize::try_from(n - end).ok()?;
            let text = self.screen().rows(0, cols).nth(r)?;
            let col = crate::app::history::cell_column(&text, char_index)?;
            (r + view, col)
        } else {
            let line = history.line(n)?;
            let mut at = None;
            let mut chars = 0;
            line.layout(cols, |_, glyph, row, col, _| {
                if at.is_none() && chars + glyph.chars().count() > char_index {
                    at = Some((row, col));
                }
                chars += glyph.chars().count();
            });
            let (sub, col) = at?;
            // Rows from this line's first to the end of the history, counted from the view's top.
            let below = history.rows_from(n, cols);
            // The view's top is `view` rows up from the end of the history.
            ((sub + view).checked_sub(below)?, col)
        };
        (row < usize::from(rows) && (n >= end || row < view)).then_some((row as u16, col as u16))
    }
}

#[cfg(test)]
#[path = "pane_line_tests.rs"]
mod line_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panes_share_the_memory_cap() {
        let setting = ScrollbackSetting {
            lines: 500,
            memory_bytes: 1000 << 20,
        };
        assert_eq!(history_budget(setting, 0).bytes, 1000 << 20);
        assert_eq!(history_budget(setting, 1000).bytes, 1 << 20);
        assert_eq!(history_budget(setting, 1000).lines, 500);
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
        // whose second half its own narrowing resize cut off. Resizes replay the screen now
        // (the primary and the alternate one), so the character moves down whole; the panic
        // guard stays for whatever else vt100 panics on (`emulator::tests`).
        for setup in ["", "\x1b[?1049h"] {
            let mut pane = Pane::new(0, "a".into(), 10);
            pane.process(format!("{setup}kept\x1b[1;10H中").as_bytes());
            pane.fit(10, 3);
            pane.process(b"\x1b[1;10Hx");
            assert_eq!(pane.pty_size(), (10, 3));
            pane.process(b"\r\nworking");
            let contents = pane.screen().contents();
            assert!(
                contents.contains("kept") && contents.contains("working"),
                "{contents}"
            );
        }
    }

    #[test]
    fn a_deferred_size_is_taken_before_output() {
        let mut pane = Pane::new(0, "a".into(), 10);
        pane.process(b"one\r\ntwo");
        assert_eq!(pane.fit_later(30, 5), Some((30, 5)));
        assert_eq!(pane.pty_size(), (30, 5));
        assert_eq!(pane.screen().size(), (24, 80));
        // Back to the emulator's own size before it took the other: nothing to do.
        assert_eq!(pane.fit_later(80, 24), Some((80, 24)));
        assert_eq!(pane.fit_later(80, 24), None);
        pane.fit_later(30, 5);
        pane.process(b"\r\nthree");
        assert_eq!(pane.screen().size(), (5, 30));
        assert_eq!(pane.screen_text(), "one\ntwo\nthree");
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
            pane.process(format!("line {i}\r\n").as_bytes());
        }
        pane.scroll_by(2);
        let text = pane.scrollback_text();
        let expected: String = (0..10).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text, expected);
        assert_eq!(pane.scroll_offset(), 2);
    }
}
