//! Catching the rows vt100 scrolls off its screen. vt100 (0.16) pushes each such row into its
//! own scrollback and, while the view is scrolled back, moves the view one row further. So
//! its scrollback is kept as a small conduit of [`CONDUIT_ROWS`] rows: before a piece of
//! output the view is set one row back, after it the view's offset minus one is the number
//! of rows pushed, and those rows (the newest of the conduit) are read into the [`History`].
//! The view goes back to the live screen afterwards; the pane keeps its own scroll position.
//!
//! Output is fed in pieces that cannot push more rows than the count stays exact for
//! ([`Scanner`]): each byte pushes at most one row, except `CSI n S`, which is rewritten as
//! several smaller scrolls. Mode switches (`CSI ? … h`, the alternate screen) and a reset
//! (`ESC c`) go alone, uncounted: they push nothing and change which grid the offset is on.
//! vte keeps its parser state between calls, so splitting anywhere is safe.

use super::{History, RowBuf};
use crate::app::emulator::Replies;
use crate::app::pen::Pen;
use crate::app::reflow::joined;

type Parser = vt100::Parser<Replies>;

/// Rows of vt100's own scrollback: each stays allocated (cols × 32 bytes), so few.
pub const CONDUIT_ROWS: usize = 8;
/// Most rows one piece may push so that the count read back is exact.
const MAX_PUSH: usize = CONDUIT_ROWS - 2;

/// Where the scanner is in an escape sequence; kept across chunks of output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum State {
    #[default]
    Ground,
    Esc,
    Csi {
        private: bool,
        /// The first parameter so far (for `CSI n S`).
        param: u16,
        /// Past the first parameter.
        later: bool,
    },
}

/// What to do with the next piece of output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// Feed it and read back the rows it pushed.
    Counted(usize),
    /// Feed it as it is: it pushes nothing.
    Alone(usize),
    /// A `CSI n S` of this length: scroll up `n` rows, a few at a time.
    ScrollUp(usize, u16),
}

/// Cuts output into [`Piece`]s.
#[derive(Debug, Default)]
pub struct Scanner {
    state: State,
}

impl Scanner {
    fn next_piece(&mut self, bytes: &[u8], cols: usize, rows: u16) -> Piece {
        // A glyph waiting to wrap may push a row with the first byte.
        let mut pushes = 1usize;
        let mut printed = 0usize;
        let mut esc_start = 0usize;
        for (i, &b) in bytes.iter().enumerate() {
            let before = self.state;
            let mut cost = 0;
            match self.state {
                State::Ground => match b {
                    0x1b => {
                        self.state = State::Esc;
                        esc_start = i;
                    }
                    0x0a..=0x0c => cost = 1,
                    // C1 IND and NEL, or a UTF-8 continuation byte: counting it is harmless.
                    0x84 | 0x85 => cost = 1,
                    // Bytes are at least as many as the columns they fill.
                    0x20.. => {
                        printed += 1;
                        if printed >= cols {
                            printed = 0;
                            cost = 1;
                        }
                    }
                    _ => {}
                },
                State::Esc => match b {
                    b'[' => {
                        self.state = State::Csi {
                            private: false,
                            param: 0,
                            later: false,
                        }
                    }
                    b'D' | b'E' => {
                        self.state = State::Ground;
                        cost = 1;
                    }
                    b'c' => {
                        self.state = State::Ground;
                        return self.alone(esc_start, i);
                    }
                    0x1b => esc_start = i,
                    _ => self.state = State::Ground,
                },
                State::Csi {
                    private,
                    param,
                    later,
                } => match b {
                    0x1b => {
                        self.state = State::Esc;
                        esc_start = i;
                    }
                    b'?' | b'<' | b'=' | b'>' => {
                        self.state = State::Csi {
                            private: true,
                            param,
                            later,
                        }
                    }
                    b'0'..=b'9' if !later => {
                        let param = param.saturating_mul(10).saturating_add(u16::from(b - b'0'));
                        self.state = State::Csi {
                            private,
                            param,
                            later,
                        };
                    }
                    b';' | b':' => {
                        self.state = State::Csi {
                            private,
                            param,
                            later: true,
                        }
                    }
                    0x40..=0x7e => {
                        self.state = State::Ground;
                        if private {
                            return self.alone(esc_start, i);
                        }
                        if b == b'S' {
                            // vt100 scrolls at most a screen.
                            let count = param.clamp(1, rows.max(1));
                            if usize::from(count) + pushes > MAX_PUSH {
                                if esc_start > 0 {
                                    self.state = State::Ground;
                                    return Piece::Counted(esc_start);
                                }
                                return Piece::ScrollUp(i + 1, count);
                            }
                            cost = usize::from(count);
                        }
                    }
                    _ => {}
                },
            }
            pushes += cost;
            if pushes > MAX_PUSH {
                self.state = before;
                return Piece::Counted(i.max(1));
            }
        }
        Piece::Counted(bytes.len())
    }

    /// A sequence from `start` to `end` (inclusive) goes alone; what comes before it first.
    fn alone(&mut self, start: usize, end: usize) -> Piece {
        self.state = State::Ground;
        if start > 0 {
            Piece::Counted(start)
        } else {
            Piece::Alone(end + 1)
        }
    }
}

/// Feeds `bytes` to `parser`, moving every row it scrolls off the primary screen into
/// `history`.
pub fn feed(parser: &mut Parser, history: &mut History, scanner: &mut Scanner, bytes: &[u8]) {
    let mut row = RowBuf::default();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (rows, cols) = parser.screen().size();
        match scanner.next_piece(rest, usize::from(cols.max(1)), rows) {
            Piece::Alone(n) => {
                parser.process(&rest[..n]);
                rest = &rest[n..];
            }
            Piece::Counted(n) => {
                counted(parser, history, &mut row, |p| p.process(&rest[..n]));
                rest = &rest[n..];
            }
            Piece::ScrollUp(n, count) => {
                let mut left = usize::from(count);
                while left > 0 {
                    let step = left.min(MAX_PUSH - 1);
                    let seq = format!("\x1b[{step}S");
                    counted(parser, history, &mut row, |p| p.process(seq.as_bytes()));
                    left -= step;
                }
                rest = &rest[n..];
            }
        }
    }
}

/// Runs `f` on `parser` and moves the rows it pushed into `history`.
fn counted(
    parser: &mut Parser,
    history: &mut History,
    row: &mut RowBuf,
    f: impl FnOnce(&mut Parser),
) {
    if parser.screen().alternate_screen() {
        // The alternate screen has no scrollback: nothing leaves it.
        f(parser);
        return;
    }
    let screen = parser.screen_mut();
    screen.set_scrollback(usize::MAX);
    let before = screen.scrollback();
    screen.set_scrollback(before.min(1));
    f(parser);
    let screen = parser.screen_mut();
    let pushed = if before > 0 {
        screen.scrollback().saturating_sub(1)
    } else {
        screen.set_scrollback(usize::MAX);
        screen.scrollback()
    };
    let (_, cols) = screen.size();
    for i in 0..pushed {
        // The row `pushed - i` back is on the view's first row, the next one below it.
        screen.set_scrollback(pushed - i);
        read_row(screen, 0, cols, row);
        let wrapped = joined(screen, 0, cols);
        history.push_row(row, wrapped);
    }
    screen.set_scrollback(0);
}

/// Reads view row `r` into `out`: blanks between glyphs as spaces, no trailing blanks.
pub fn read_row(screen: &vt100::Screen, r: u16, cols: u16, out: &mut RowBuf) {
    out.clear();
    // vt100's text of the row ends at its last glyph: only the cells up to there are read,
    // one call each (shell output leaves most of a row blank). A cell holds at least one
    // character, or is the second half of a wide one.
    let Some(text) = screen.rows(0, cols).nth(usize::from(r)) else {
        return;
    };
    if text.is_ascii() {
        // Every cell up to the last glyph is one byte of that text (a wide or combined
        // glyph is not ASCII), so the text is taken whole and only the pens are read.
        let used = u16::try_from(text.len()).unwrap_or(u16::MAX).min(cols);
        for col in 0..used {
            let pen = screen.cell(r, col).map(Pen::of_cell).unwrap_or_default();
            out.pen_from(u32::from(col), pen);
        }
        out.width = u32::from(used);
        out.text = text;
        return;
    }
    let used = text.chars().count() * 2;
    read_cells(
        screen,
        r,
        cols.min(u16::try_from(used).unwrap_or(u16::MAX)),
        out,
    );
}

/// Reads the first `cols` cells of view row `r` into `out`, one cell at a time.
fn read_cells(screen: &vt100::Screen, r: u16, cols: u16, out: &mut RowBuf) {
    // The first blank cell since the last glyph: blanks are written only if a glyph follows.
    let mut blank_from = None;
    for col in 0..cols {
        let Some(cell) = screen.cell(r, col) else {
            break;
        };
        if cell.has_contents() {
            if let Some(from) = blank_from.take() {
                for c in from..col {
                    let pen = screen.cell(r, c).map(Pen::of_cell).unwrap_or_default();
                    out.push(" ", 1, pen);
                }
            }
            let width = if cell.is_wide() { 2 } else { 1 };
            out.push(cell.contents(), width, Pen::of_cell(cell));
        } else if !cell.is_wide_continuation() {
            blank_from.get_or_insert(col);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ASCII fast path gives the same text, width and runs as reading every cell, for
    /// every kind of pen (and non-ASCII rows, read cell by cell, too).
    #[test]
    fn ascii_rows_read_as_every_cell_does() {
        let lines: [&[u8]; 11] = [
            b"plain text",
            b"\x1b[1;31mred\x1b[0m and \x1b[44m blue bg \x1b[0m end",
            b"gap\x1b[10Cafter\x1b[7m  \x1b[0m",
            b"\x1b[42m\x1b[K\x1b[0mx",
            b"a\x1b[41m\x1b[3X\x1b[3C\x1b[0mb\x1b[45m\x1b[2X\x1b[2C\x1b[46m\x1b[2X",
            b"\x1b[38;5;208mcolour\x1b[48;2;1;2;3m rgb \x1b[39;49m\x1b[91;102mbright",
            b"\x1b[1mbold\x1b[2mdim\x1b[22mnormal\x1b[3;4mit ul\x1b[23;24;27m plain",
            b"   ",
            b"",
            "h\u{e9}llo \u{4e2d}\u{6587} wide".as_bytes(),
            b"\x1b[5Cindented\x1b[44m\x1b[K",
        ];
        let mut styled = 0;
        for line in lines {
            let mut parser = vt100::Parser::new(4, 30, 0);
            parser.process(line);
            let screen = parser.screen();
            let mut fast = RowBuf::default();
            let mut slow = RowBuf::default();
            read_row(screen, 0, 30, &mut fast);
            read_cells(screen, 0, 30, &mut slow);
            assert_eq!(fast, slow, "{}", String::from_utf8_lossy(line));
            styled += usize::from(fast.runs.len() > 1);
        }
        // The rows really have pens to get right.
        assert!(styled >= 5, "{styled}");
    }
}
