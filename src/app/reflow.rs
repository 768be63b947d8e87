//! Resizing without losing lines. vt100's own `set_size` cuts rows off the bottom and columns
//! off the right; instead the primary screen is read back cell by cell, wrapped rows joined
//! into lines, and the lines replayed into an emulator of the new size, which wraps them
//! afresh (as tmux reflows), after the history's newest lines (taken back out of the
//! [`History`]: a screenful, and the line the screen's first row continues). What no longer
//! fits on the screen goes back to the history, the cursor's row stays visible, and growing
//! brings lines out of the history again. The rest of the history needs no rewrap: it keeps
//! logical lines and the view wraps them when drawing.
//!
//! Kept: text, colours and attributes, the cursor position, the pen, the input modes
//! (keypad, cursor keys, bracketed paste, mouse) and whether the cursor is hidden. Not kept
//! (vt100 does not expose them): a scroll region, origin mode, and a cursor saved with DECSC
//! on the primary screen outside the alternate screen.

use super::emulator::{Replies, fresh};
use super::history::capture::{self, CONDUIT_ROWS, Scanner};
use super::history::{History, RowBuf, cells};
use super::pen::Pen;

type Parser = vt100::Parser<Replies>;

/// A new emulator of `rows` x `cols` holding what `old` held. `old` is left in an unspecified
/// state (its scroll position moved, maybe its size changed).
///
/// The history's newest lines are taken back and replayed above the screen, so that growing
/// fills the new screen from them (and a line wrapped from the history onto the screen is
/// rewrapped whole); what no longer fits goes back into `history` as it is pushed off.
pub fn resized(old: &mut Parser, history: &mut History, rows: u16, cols: u16) -> Parser {
    let alternate = old.screen().alternate_screen();
    if alternate {
        // Read the primary screen from under the full-screen program: leave the alternate
        // grid (without the restore that 1049 does) and come back to it afterwards.
        old.process(b"\x1b[?47l");
    }
    // The line going on in the screen's first row, then enough lines to fill a screen.
    let open = history.is_open();
    let mut taken = Vec::new();
    let mut taken_rows = 0;
    while (open && taken.is_empty()) || taken_rows < usize::from(rows) {
        let Some(line) = history.pop_last() else {
            break;
        };
        taken_rows += rows_of(&line, cols);
        taken.push(line);
    }
    taken.reverse();
    let primary = replay(old.screen_mut(), &taken, open, rows, cols);
    let mut new = fresh(rows, cols, CONDUIT_ROWS);
    let budget = history.lift_budget();
    capture::feed(&mut new, history, &mut Scanner::default(), &primary);
    history.restore_budget(budget);
    if alternate {
        old.process(b"\x1b[?47h");
        old.screen_mut().set_size(rows, cols);
        // 1049 saves the replayed cursor, so the program's exit puts the shell's cursor back.
        new.process(b"\x1b[?1049h");
        new.process(&old.screen().contents_formatted());
    }
    let screen = old.screen();
    let mut modes = screen.input_mode_formatted();
    modes.extend_from_slice(if screen.hide_cursor() {
        b"\x1b[?25l"
    } else {
        b"\x1b[?25h"
    });
    new.process(&modes);
    new
}

/// Where the old cursor lands in the new layout.
#[derive(Debug, Clone, Copy)]
struct Spot {
    /// New row, counted from the first row written.
    row: usize,
    /// New column; `cols` means "waiting to wrap" after a full row.
    col: usize,
}

/// Writes lines for a `cols`-wide emulator, tracking where its cursor goes the way vt100
/// moves it, so the old cursor can be placed in the new layout.
struct Writer {
    out: Vec<u8>,
    cols: usize,
    /// Rows written so far (the current one included).
    rows: usize,
    /// Column of the next glyph in the current row (`cols`: waiting to wrap).
    col: usize,
    pen: Pen,
    /// Cells without contents since the last glyph: written as spaces if a glyph follows on
    /// the same line (by [`write_row`], which knows their attributes).
    blanks: usize,
    /// The background of a line's trailing blanks, kept as an erase to the end of the row.
    fill: Option<vt100::Color>,
}

impl Writer {
    fn new(cols: u16) -> Writer {
        Writer {
            out: Vec::new(),
            cols: usize::from(cols),
            rows: 0,
            col: 0,
            pen: Pen::default(),
            blanks: 0,
            fill: None,
        }
    }

    fn set_pen(&mut self, pen: Pen) {
        if pen != self.pen {
            pen.write(&mut self.out);
            self.pen = pen;
        }
    }

    fn start_line(&mut self) {
        if self.rows > 0 {
            self.end_line();
            self.out.extend_from_slice(b"\r\n");
        }
        self.rows += 1;
        self.col = 0;
    }

    fn end_line(&mut self) {
        if let Some(bg) = self.fill.take()
            && self.blanks > 0
        {
            self.set_pen(Pen {
                bg,
                ..Pen::default()
            });
            self.out.extend_from_slice(b"\x1b[K");
        }
        self.blanks = 0;
    }

    fn put(&mut self, text: &str, width: usize, pen: Pen) {
        // vt100 wraps before a glyph that does not fit in what is left of the row.
        if self.col + width > self.cols {
            self.rows += 1;
            self.col = 0;
        }
        self.set_pen(pen);
        self.out.extend_from_slice(text.as_bytes());
        self.col += width;
    }

    /// Whether old row `row` goes on in the next; if so, the empty cell a wide character
    /// left at its end is not part of the line.
    fn joined(&mut self, screen: &vt100::Screen, row: u16, cols: u16) -> bool {
        let joined = joined(screen, row, cols);
        if joined {
            self.blanks = 0;
            self.fill = None;
        }
        joined
    }

    /// Where a cursor standing here (after the pending blanks) is.
    fn spot(&self) -> Spot {
        let col = self.col + self.blanks;
        if col > self.cols || (col == self.cols && self.blanks > 0) {
            Spot {
                row: self.rows,
                col: (col - self.cols).min(self.cols.saturating_sub(1)),
            }
        } else {
            Spot {
                row: self.rows - 1,
                col,
            }
        }
    }
}

/// One old row into the writer; returns the cursor's new spot if the cursor is on it.
fn write_row(
    w: &mut Writer,
    screen: &vt100::Screen,
    row: u16,
    cols: u16,
    cursor_col: Option<u16>,
) -> Option<Spot> {
    let mut spot = None;
    // The first blank cell of the run since the last glyph.
    let mut blank_from = None;
    for col in 0..cols {
        if cursor_col == Some(col) {
            spot = Some(w.spot());
        }
        let Some(cell) = screen.cell(row, col) else {
            break;
        };
        if cell.has_contents() {
            if let Some(from) = blank_from.take() {
                for c in from..col {
                    let pen = screen.cell(row, c).map(Pen::of_cell).unwrap_or_default();
                    w.put(" ", 1, pen);
                }
                w.blanks = 0;
            }
            let width = if cell.is_wide() { 2 } else { 1 };
            w.put(cell.contents(), width, Pen::of_cell(cell));
        } else if !cell.is_wide_continuation() {
            blank_from.get_or_insert(col);
            w.blanks += 1;
        }
    }
    if cursor_col.is_some_and(|c| c >= cols) {
        spot = Some(w.spot());
    }
    if blank_from.is_some() {
        let bg = screen
            .cell(row, cols.saturating_sub(1))
            .map_or(vt100::Color::Default, vt100::Cell::bgcolor);
        w.fill = (bg != vt100::Color::Default).then_some(bg);
    }
    spot
}

/// Whether on-screen row `row` goes on in the next one. vt100 marks a row wrapped only when
/// its last cell was filled; a wide character that found one column left moved down without
/// the mark, leaving that cell empty, so that case counts too.
pub(super) fn joined(screen: &vt100::Screen, row: u16, cols: u16) -> bool {
    if screen.row_wrapped(row) {
        return true;
    }
    let cell = |r: u16, c: u16| screen.cell(r, c);
    let last_empty = cell(row, cols.saturating_sub(1)).is_some_and(|c| !c.has_contents());
    let before_full = cols >= 2
        && cell(row, cols - 2).is_some_and(|c| c.has_contents() || c.is_wide_continuation());
    let next_wide = row < u16::MAX && cell(row + 1, 0).is_some_and(vt100::Cell::is_wide);
    last_empty && before_full && next_wide
}

fn rows_of(line: &RowBuf, cols: u16) -> usize {
    let mut rows = 1;
    crate::app::history::layout_text(&line.text, cols, |_, _, row, _, _| rows = row + 1);
    rows
}

/// Bytes that draw the history lines `taken` and `screen`, rewrapped, into a fresh `rows` x
/// `cols` emulator and put its cursor and pen where the old ones were. `open`: the last of
/// `taken` goes on in the screen's first row.
fn replay(
    screen: &mut vt100::Screen,
    taken: &[RowBuf],
    open: bool,
    rows: u16,
    cols: u16,
) -> Vec<u8> {
    let (old_rows, old_cols) = screen.size();
    let mut w = Writer::new(cols);
    for line in taken {
        w.start_line();
        for (text, pen) in line.spans() {
            for (_, glyph, width) in cells(text) {
                w.put(glyph, width, pen);
            }
        }
    }
    let mut wrapped = open && !taken.is_empty();
    screen.set_scrollback(0);

    // The screen, up to the cursor's row or the last row with something on it.
    let (cursor_row, cursor_col) = screen.cursor_position();
    let last = (0..old_rows)
        .rev()
        .find(|&r| (0..old_cols).any(|c| screen.cell(r, c).is_some_and(|c| c.has_contents())))
        .unwrap_or(0)
        .max(cursor_row);
    // Where each line after the cursor's starts: (bytes, rows) so far, to cut them off.
    let mut cuts = Vec::new();
    let mut cursor = Spot { row: 0, col: 0 };
    for r in 0..=last {
        if !wrapped {
            if r > cursor_row {
                cuts.push((w.out.len(), w.rows));
            }
            w.start_line();
        }
        let at = (r == cursor_row).then_some(cursor_col);
        if let Some(spot) = write_row(&mut w, screen, r, old_cols, at) {
            cursor = spot;
        }
        wrapped = w.joined(screen, r, old_cols);
    }
    // Below the cursor at most a screenful minus its row: lines below that are dropped,
    // as tmux drops them, so the cursor's row stays on the screen.
    let room = usize::from(rows).saturating_sub(1);
    let mut end_rows = w.rows;
    while end_rows.saturating_sub(1) > cursor.row + room {
        let Some((bytes, rows_before)) = cuts.pop() else {
            break;
        };
        w.out.truncate(bytes);
        w.blanks = 0;
        w.fill = None;
        end_rows = rows_before;
    }
    let at_end = end_rows == w.rows && cursor.row + 1 == w.rows && cursor.col == w.col;
    w.rows = end_rows;
    if !at_end {
        w.end_line();
    }
    // A cursor past the end of what was written needs its row to exist.
    while w.rows <= cursor.row {
        w.out.extend_from_slice(b"\r\n");
        w.rows += 1;
    }
    let pen = Pen::of_screen(screen);
    let out = &mut w.out;
    if !at_end {
        // The new screen shows the last `rows` rows written.
        let top = w.rows.saturating_sub(usize::from(rows));
        let row = cursor.row.saturating_sub(top) + 1;
        let col = cursor.col.min(w.cols.saturating_sub(1)) + 1;
        out.extend_from_slice(format!("\x1b[{row};{col}H").as_bytes());
    }
    pen.write(out);
    w.out
}

#[cfg(test)]
mod tests {
    use crate::app::pane::Pane;

    fn pane(cols: u16, rows: u16) -> Pane {
        let mut pane = Pane::new(0, "p".into(), 1000);
        pane.fit(cols, rows);
        pane
    }

    fn lines(from: usize, to: usize) -> String {
        (from..to).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn a_shrink_pushes_rows_to_the_scrollback_and_growing_brings_them_back() {
        let mut p = pane(80, 24);
        for i in 0..30 {
            p.process(format!("line {i}\r\n").as_bytes());
        }
        p.process(b"$ ");
        let before = p.screen_text();
        let all = format!("{}$\n", lines(0, 30));
        assert_eq!(p.scrollback_text(), all);
        p.fit(20, 5);
        assert_eq!(p.scrollback_text(), all);
        assert_eq!(p.screen_text(), "line 26\nline 27\nline 28\nline 29\n$ ");
        assert_eq!(p.screen().cursor_position(), (4, 2));
        p.fit(80, 24);
        assert_eq!(p.scrollback_text(), all);
        assert_eq!(p.screen_text(), before);
        assert_eq!(p.screen().cursor_position(), (23, 2));
        // Still a working shell: output goes on after the prompt.
        p.process(b"ls\r\nout\r\n");
        assert!(p.scrollback_text().ends_with("$ ls\nout\n"));
    }

    #[test]
    fn a_cursor_near_the_top_stays_where_it_is() {
        let mut p = pane(80, 24);
        p.process(b"one\r\ntwo\r\n$ ");
        p.fit(20, 5);
        assert_eq!(p.screen_text(), "one\ntwo\n$ ");
        assert_eq!(p.screen().cursor_position(), (2, 2));
        p.fit(80, 24);
        assert_eq!(p.screen().cursor_position(), (2, 2));
        assert_eq!(p.scrollback_text(), "one\ntwo\n$\n");
    }

    #[test]
    fn a_width_change_rewraps_a_long_line_and_loses_nothing() {
        let mut p = pane(80, 24);
        let long: String = (0..230)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        p.process(format!("{long}\r\n$ ").as_bytes());
        let before = p.screen_text();
        p.fit(30, 24);
        let text = p.scrollback_text();
        assert_eq!(text.lines().count(), 9, "{text}");
        assert_eq!(text.replace('\n', ""), format!("{long}$"));
        p.fit(10, 3);
        assert_eq!(p.scrollback_text().replace('\n', ""), format!("{long}$"));
        p.fit(80, 24);
        assert_eq!(p.screen_text(), before);
        assert_eq!(p.screen().cursor_position(), (3, 2));
    }

    #[test]
    fn wide_characters_rewrap_whole() {
        let mut p = pane(12, 5);
        p.process("中文中文中文中文\r\n".as_bytes());
        p.fit(10, 5);
        assert_eq!(p.screen_text(), "中文中文中文中文");
        assert_eq!(p.scrollback_text(), "中文中文中\n文中文\n");
        // At an odd width the last column stays empty; the line is still one line.
        p.fit(11, 5);
        assert_eq!(p.scrollback_text(), "中文中文中\n文中文\n");
        p.fit(40, 5);
        assert_eq!(p.scrollback_text(), "中文中文中文中文\n");
    }

    #[test]
    fn colours_and_the_pen_survive() {
        let mut p = pane(20, 5);
        p.process(b"\x1b[1;31mred\x1b[0m plain \x1b[44m  \x1b[0m\r\n\x1b[4;38;5;200m");
        p.fit(12, 4);
        let s = p.screen();
        let red = s.cell(0, 0).unwrap();
        assert_eq!((red.fgcolor(), red.bold()), (vt100::Color::Idx(1), true));
        assert_eq!(s.cell(0, 4).unwrap().fgcolor(), vt100::Color::Default);
        assert_eq!(s.cell(0, 10).unwrap().bgcolor(), vt100::Color::Idx(4));
        assert_eq!(s.cell(0, 11).unwrap().bgcolor(), vt100::Color::Idx(4));
        assert_eq!(s.cell(1, 0).unwrap().bgcolor(), vt100::Color::Default);
        assert!(s.underline() && s.fgcolor() == vt100::Color::Idx(200));
    }

    #[test]
    fn a_cursor_waiting_to_wrap_still_waits() {
        let mut p = pane(10, 5);
        p.process(b"$ 34567890");
        p.fit(10, 4);
        p.process(b"x");
        assert_eq!(p.screen_text(), "$ 34567890x");
        assert!(p.screen().row_wrapped(0));
    }

    #[test]
    fn the_cursor_in_the_middle_of_output_keeps_its_place() {
        let mut p = pane(20, 6);
        p.process(b"top\r\nmid\r\nbottom\x1b[2;2H");
        p.fit(15, 4);
        assert_eq!(p.screen_text(), "top\nmid\nbottom");
        assert_eq!(p.screen().cursor_position(), (1, 1));
        // Lines below the cursor that cannot fit with it are dropped, as tmux does.
        let mut p = pane(20, 6);
        p.process(b"a\r\nb\r\nc\r\nd\r\ne\x1b[1;1H");
        p.fit(20, 3);
        assert_eq!(p.screen_text(), "a\nb\nc");
        assert_eq!(p.screen().cursor_position(), (0, 0));
    }

    #[test]
    fn modes_survive() {
        let mut p = pane(20, 6);
        p.process(b"\x1b[?2004h\x1b[?1h\x1b[?25l\x1b[?1000h\x1b[?1006h");
        p.fit(30, 8);
        let s = p.screen();
        assert!(s.bracketed_paste() && s.application_cursor() && s.hide_cursor());
        assert_eq!(
            s.mouse_protocol_mode(),
            vt100::MouseProtocolMode::PressRelease
        );
        assert_eq!(
            s.mouse_protocol_encoding(),
            vt100::MouseProtocolEncoding::Sgr
        );
    }

    #[test]
    fn a_full_screen_program_is_resized_and_the_shell_below_it_reflowed() {
        let mut p = pane(20, 6);
        for i in 0..8 {
            p.process(format!("line {i}\r\n").as_bytes());
        }
        p.process(b"$ vi\x1b[?1049h\x1b[H\x1b[2Jediting\x1b[3;5H");
        p.fit(10, 3);
        assert!(p.screen().alternate_screen());
        assert_eq!(p.screen_text(), "editing");
        assert_eq!(p.screen().cursor_position(), (2, 4));
        p.fit(30, 10);
        p.process(b"\x1b[?1049l\r\n$ ");
        assert!(!p.screen().alternate_screen());
        assert_eq!(p.scrollback_text(), format!("{}$ vi\n$\n", lines(0, 8)));
    }

    #[test]
    fn a_full_history_survives_narrowing_and_widening_back() {
        // 20 lines of history, all of them full rows: at half the width each takes two.
        let mut p = Pane::new(0, "p".into(), 20);
        p.fit(40, 5);
        for i in 0..24 {
            p.process(format!("{i:02}{}\r\n", "x".repeat(38)).as_bytes());
        }
        let before = p.scrollback_text();
        assert_eq!(before.lines().count(), 24, "{before}");
        p.fit(20, 5);
        p.fit(10, 5);
        assert_eq!(
            p.scrollback_text().replace('\n', ""),
            before.replace('\n', "")
        );
        p.fit(40, 5);
        assert_eq!(p.scrollback_text(), before);
        // The budget holds again for what comes after.
        for i in 0..50 {
            p.process(format!("new {i}\r\n").as_bytes());
        }
        assert_eq!(p.scrollback_text().lines().count(), 20 + 4);
    }

    #[test]
    fn the_scroll_position_is_kept() {
        let mut p = pane(20, 5);
        for i in 0..30 {
            p.process(format!("line {i}\r\n").as_bytes());
        }
        p.scroll_by(3);
        p.fit(20, 4);
        assert_eq!(p.scroll_offset(), 3);
    }
}
