//! One session's pane: its emulator, state and broadcast flag.

use super::emulator::Emulator;
use super::inject::Hider;
use super::result::{CommandResult, ResultTracker};
use crate::ssh::shell_integration::{ShellIntegration, install_line};
use crate::ssh::{SessionId, SessionState};

pub use super::emulator::in_guarded_emulator;

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
    /// Rows that have scrolled into the history since the pane was made (see
    /// [`Pane::line_span`]): what numbers lines stably as old ones fall off.
    rows_pushed: u64,
    /// Rows in the emulator's history now, kept as output and resizes change it (vt100 only
    /// tells through its scroll position, which `&self` cannot move).
    history_rows: usize,
}

impl Pane {
    pub fn new(id: SessionId, name: String, scrollback: usize) -> Self {
        Pane {
            id,
            name,
            state: SessionState::Connecting,
            exit_status: None,
            emulator: Emulator::new(24, 80, scrollback),
            pending: None,
            in_broadcast: true,
            pending_input: 0,
            results: ResultTracker::default(),
            asks_password: false,
            shell_integration: ShellIntegration::Off,
            installed: false,
            hider: Hider::default(),
            recording: false,
            rows_pushed: 0,
            history_rows: 0,
        }
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

    /// Feeds remote output to the emulator; returns the answers to the terminal queries in
    /// it (cursor position, device attributes), which go back to the session.
    pub fn process(&mut self, bytes: &[u8]) -> Vec<u8> {
        // The remote side writes for the size it was given.
        self.take_size();
        let resets = self.emulator.resets;
        let replies = self.feed_counted(bytes);
        self.log_reset(resets);
        self.results.feed(bytes);
        replies
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
            // The oldest line keeps its number: a taller pane takes rows back from the
            // history onto its screen, a shorter one pushes rows into it.
            let first = self.history_start();
            self.emulator.resize(rows, cols);
            self.log_reset(resets);
            self.history_rows = self.history_depth();
            self.rows_pushed = first + self.history_rows as u64;
        }
    }

    /// Lines scrolled back from the live screen.
    pub fn scroll_offset(&self) -> usize {
        self.screen().scrollback()
    }

    /// Scrolls by `delta` lines (positive = back into history); vt100 clamps to what exists.
    pub fn scroll_by(&mut self, delta: isize) {
        let offset = self.scroll_offset().saturating_add_signed(delta);
        self.emulator.set_scrollback(offset);
    }

    pub fn scroll_to_live(&mut self) {
        self.emulator.set_scrollback(0);
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
        let mut screen = self.screen().clone();
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

// The pane line API (search reads lines only through these four methods and `LineNo`).
// Over vt100 a line is a screen row: the history's rows, oldest first, then the screen's.
// vt100 keeps no count of the rows that fell off its history, so the pane counts the rows
// scrolled in ([`Pane::count_pushed_rows`]).

/// A line of a pane, numbered from the first line the pane ever kept: a number stays valid
/// (names the same line) while the line is kept, as new lines come and old ones fall off.
pub type LineNo = u64;

impl Pane {
    /// Feeds `bytes` to the emulator in pieces that each scroll fewer rows than the history
    /// holds, so [`Pane::count_pushed_rows`] counts them exactly (a CSI scroll of many rows
    /// aside). Most chunks are shorter than the history and go in whole.
    fn feed_counted(&mut self, bytes: &[u8]) -> Vec<u8> {
        let most = self.emulator.scrollback_limit().saturating_sub(2);
        let cols = usize::from(self.screen().size().1.max(1));
        // Rows a chunk can scroll: its line breaks plus its wraps (at most a row per `cols`
        // bytes). Counted with memchr, so the byte loop below runs only for floods.
        let most_rows =
            || memchr::memchr3_iter(b'\n', 0x0b, 0x0c, bytes).count() + bytes.len() / cols;
        if most == 0 || bytes.len() <= most || most_rows() < most {
            return self.count_pushed_rows(|emulator| emulator.process(bytes));
        }
        let mut replies = Vec::new();
        let (mut start, mut rows, mut column) = (0, 0, 0);
        for (i, byte) in bytes.iter().enumerate() {
            column += 1;
            if matches!(byte, b'\n' | 0x0b | 0x0c) || column >= cols {
                rows += 1;
                column = 0;
            }
            if rows >= most {
                let piece = &bytes[start..=i];
                replies.extend(self.count_pushed_rows(|emulator| emulator.process(piece)));
                (start, rows) = (i + 1, 0);
            }
        }
        let rest = &bytes[start..];
        replies.extend(self.count_pushed_rows(|emulator| emulator.process(rest)));
        replies
    }

    /// Runs `feed` on the emulator and adds the rows it scrolled into the history to
    /// `rows_pushed`. vt100 moves a scrolled-back view down one row per row scrolled in, so
    /// the view is held one row back while `feed` runs and the move read off; past the
    /// history's size the count is a lower bound (all of the history is new then anyway).
    fn count_pushed_rows<T>(&mut self, feed: impl FnOnce(&mut Emulator) -> T) -> T {
        let offset = self.scroll_offset();
        let depth_before = self.history_depth();
        let probe = usize::from(depth_before > 0);
        self.emulator.set_scrollback(probe);
        let out = feed(&mut self.emulator);
        let moved = if probe > 0 {
            self.scroll_offset().saturating_sub(probe)
        } else {
            self.history_depth().saturating_sub(depth_before)
        };
        // A view scrolled back stays on the rows it showed, as vt100 itself keeps it.
        self.emulator
            .set_scrollback(if offset == 0 { 0 } else { offset + moved });
        self.history_rows = self.history_depth();
        self.rows_pushed = (self.rows_pushed + moved as u64).max(self.history_rows as u64);
        out
    }

    /// Rows in the emulator's history now (the view is put back where it was).
    fn history_depth(&mut self) -> usize {
        let offset = self.scroll_offset();
        self.emulator.set_scrollback(usize::MAX);
        let depth = self.scroll_offset();
        self.emulator.set_scrollback(offset);
        depth
    }

    /// The number of the history's oldest row.
    fn history_start(&self) -> LineNo {
        self.rows_pushed - self.history_rows as u64
    }

    /// The numbers of the lines kept now, history first then the screen: `first..end`.
    pub fn line_span(&self) -> std::ops::Range<LineNo> {
        let depth = self.history_rows;
        let first = self.history_start();
        let rows = u64::from(self.screen().size().0);
        first..first + depth as u64 + rows
    }

    /// Calls `visit` with each kept line from `from` on (clamped to the span), oldest first,
    /// as plain text without trailing blanks; stops early when `visit` returns Break.
    pub fn visit_lines(
        &mut self,
        from: LineNo,
        visit: &mut dyn FnMut(LineNo, &str) -> std::ops::ControlFlow<()>,
    ) {
        let offset = self.scroll_offset();
        let depth = self.history_rows;
        let first = self.history_start();
        let (rows, cols) = self.screen().size();
        let mut index = from.saturating_sub(first) as usize;
        let total = depth + usize::from(rows);
        // A view `depth - index` rows back starts at history row `index`; the live view
        // (offset 0) at the screen's first row.
        'views: while index < total {
            let back = depth.saturating_sub(index);
            self.emulator.set_scrollback(back);
            let top = depth - back;
            let shown = self.screen().rows(0, cols).skip(index - top);
            let limit = if back > 0 {
                back.min(usize::from(rows))
            } else {
                usize::from(rows)
            };
            for row in shown.take(limit.saturating_sub(index - top)) {
                if visit(first + index as u64, row.trim_end()).is_break() {
                    break 'views;
                }
                index += 1;
            }
            if back == 0 {
                break;
            }
        }
        self.emulator.set_scrollback(offset);
    }

    /// Scrolls the pane's view so that line `n` shows (offset 0 when it is on the live screen).
    /// A history line shows a quarter of the view down, with what led to it above.
    pub fn scroll_to_line(&mut self, n: LineNo) {
        let depth = self.history_rows;
        let index = n.saturating_sub(self.history_start()) as usize;
        if index >= depth {
            self.emulator.set_scrollback(0);
            return;
        }
        let context = (usize::from(self.screen().size().0) / 4).min(index);
        self.emulator
            .set_scrollback((depth - index + context).min(depth));
    }

    /// Where character `char_index` (in chars, of the text `visit_lines` gave) of line `n`
    /// shows in the pane's current view: Some((view row, column)) when it is visible.
    pub fn view_cell_of(&self, n: LineNo, char_index: usize) -> Option<(u16, u16)> {
        let depth = self.history_rows;
        let index = usize::try_from(n.checked_sub(self.history_start())?).ok()?;
        let (rows, cols) = self.screen().size();
        let top = depth - self.scroll_offset();
        let row = index.checked_sub(top)?;
        if row >= usize::from(rows) {
            return None;
        }
        let text = self.screen().rows(0, cols).nth(row)?;
        let column: usize = text
            .chars()
            .take(char_index)
            .map(|c| unicode_width::UnicodeWidthChar::width(c).unwrap_or(0))
            .sum();
        (column < usize::from(cols)).then_some((row as u16, column as u16))
    }
}

#[cfg(test)]
#[path = "pane_line_tests.rs"]
mod line_tests;

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
