//! A pane's compact history: the lines that left its screen, kept as text plus style runs
//! instead of vt100's 32-byte cells (about a tenth of the memory for shell output).
//!
//! A line here is a logical line: the rows vt100 wrapped are joined, so a resize needs no
//! rewrap (the view wraps at draw time, [`Line::layout`]) and a line's number stays the same
//! while it is kept. Lines live in blocks of [`LINES_PER_BLOCK`]; a full block is sealed
//! (shrunk, never changed again), so it could be compressed later without touching the rest.
//! Old lines fall off the front when the pane's [`Budget`] (lines, bytes) is exceeded.
//!
//! [`capture`] takes the rows vt100 scrolls off its screen into the store.

use std::collections::VecDeque;
use std::ops::{ControlFlow, Range};

use unicode_width::UnicodeWidthChar;

use super::pen::Pen;

/// The drawing attributes a history run keeps (for the view to draw with).
pub use super::pen::Pen as HistoryPen;

pub mod capture;
#[cfg(test)]
mod tests;

/// A line of a pane, numbered from the first line the pane ever kept: a number stays valid
/// (names the same line) while the line is kept, as new lines come and old ones fall off.
pub type LineNo = u64;

/// Lines per block: small enough that an evicted block frees memory soon, big enough that
/// the per-block overhead vanishes.
pub const LINES_PER_BLOCK: usize = 256;

/// How much history a pane keeps: whichever limit is hit first evicts the oldest lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub lines: usize,
    pub bytes: usize,
}

#[derive(Debug, Clone, Copy, Default)]
struct Meta {
    /// End of the line's text in its block's text.
    text_end: u32,
    /// End of the line's runs in its block's runs.
    runs_end: u32,
    /// Cells the line takes unwrapped.
    width: u32,
}

/// From byte `at` of the block's text on, text is drawn with style `style`.
#[derive(Debug, Clone, Copy)]
struct Run {
    at: u32,
    style: u32,
}

#[derive(Debug, Default)]
struct Block {
    text: String,
    runs: Vec<Run>,
    /// The distinct pens of this block's runs.
    styles: Vec<Pen>,
    lines: Vec<Meta>,
    sealed: bool,
}

impl Block {
    fn bytes(&self) -> usize {
        use std::mem::size_of;
        size_of::<Block>()
            + self.text.capacity()
            + self.runs.capacity() * size_of::<Run>()
            + self.styles.capacity() * size_of::<Pen>()
            + self.lines.capacity() * size_of::<Meta>()
    }

    fn start(&self, i: usize) -> Meta {
        if i == 0 {
            Meta::default()
        } else {
            self.lines[i - 1]
        }
    }

    fn line(&self, i: usize) -> Line<'_> {
        let start = self.start(i);
        let end = self.lines[i];
        Line {
            text: &self.text[start.text_end as usize..end.text_end as usize],
            base: start.text_end,
            runs: &self.runs[start.runs_end as usize..end.runs_end as usize],
            styles: &self.styles,
            width: end.width,
        }
    }

    fn style_index(&mut self, pen: Pen) -> u32 {
        match self.styles.iter().rposition(|p| *p == pen) {
            Some(i) => i as u32,
            None => {
                self.styles.push(pen);
                (self.styles.len() - 1) as u32
            }
        }
    }

    fn seal(&mut self) {
        self.text.shrink_to_fit();
        self.runs.shrink_to_fit();
        self.styles.shrink_to_fit();
        self.lines.shrink_to_fit();
        self.sealed = true;
    }
}

/// One kept line, borrowed from its block.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// The text, blanks between glyphs as spaces, no trailing blanks.
    pub text: &'a str,
    base: u32,
    runs: &'a [Run],
    styles: &'a [Pen],
    /// Cells the line takes unwrapped.
    pub width: u32,
}

impl<'a> Line<'a> {
    /// The text in pieces of one pen each, in order.
    pub fn spans(&self) -> impl Iterator<Item = (&'a str, Pen)> + 'a {
        let (text, base, runs, styles) = (self.text, self.base, self.runs, self.styles);
        let mut pos = 0usize;
        let mut next = 0usize;
        let mut pen = Pen::default();
        std::iter::from_fn(move || {
            if pos >= text.len() {
                return None;
            }
            while next < runs.len() && (runs[next].at - base) as usize <= pos {
                pen = styles[runs[next].style as usize];
                next += 1;
            }
            let end = runs
                .get(next)
                .map_or(text.len(), |r| (r.at - base) as usize);
            let span = &text[pos..end];
            pos = end;
            Some((span, pen))
        })
    }

    /// Rows the line takes wrapped at `cols` (at least one).
    pub fn rows(&self, cols: u16) -> usize {
        let cols = usize::from(cols.max(1));
        if self.text.is_ascii() {
            return self.text.len().div_ceil(cols).max(1);
        }
        let mut rows = 1;
        layout(self.text, cols, |_, _, row, _, _| rows = row + 1);
        rows
    }

    /// Where each cell of the line goes wrapped at `cols`, as vt100 wraps: calls
    /// `cell(byte offset, cell text, row, column, width)` for each, in order.
    pub fn layout(&self, cols: u16, cell: impl FnMut(usize, &'a str, usize, usize, usize)) {
        layout(self.text, usize::from(cols.max(1)), cell);
    }
}

/// The cells of `text`: a glyph and the zero-width characters after it, with its width.
pub fn cells(text: &str) -> impl Iterator<Item = (usize, &str, usize)> {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, c) = rest.next()?;
        let width = c.width().unwrap_or(0).max(1);
        let mut end = start + c.len_utf8();
        while let Some(&(i, next)) = rest.peek() {
            if next.width() != Some(0) {
                break;
            }
            end = i + next.len_utf8();
            rest.next();
        }
        Some((start, &text[start..end], width))
    })
}

/// The column where character `char_index` of `text` (a row, blanks as spaces) starts.
pub fn cell_column(text: &str, char_index: usize) -> Option<usize> {
    let (mut col, mut chars) = (0, 0);
    for (_, glyph, width) in cells(text) {
        let n = glyph.chars().count();
        if chars + n > char_index {
            return Some(col);
        }
        chars += n;
        col += width;
    }
    None
}

/// [`Line::layout`] for any text.
pub fn layout_text<'a>(
    text: &'a str,
    cols: u16,
    cell: impl FnMut(usize, &'a str, usize, usize, usize),
) {
    layout(text, usize::from(cols.max(1)), cell);
}

fn layout<'a>(
    text: &'a str,
    cols: usize,
    mut cell: impl FnMut(usize, &'a str, usize, usize, usize),
) {
    let (mut row, mut col) = (0, 0);
    for (at, glyph, width) in cells(text) {
        // vt100 wraps before a glyph that does not fit in what is left of the row.
        if col + width > cols && col > 0 {
            row += 1;
            col = 0;
        }
        cell(at, glyph, row, col, width);
        col += width;
    }
}

/// A row or a line being built: text, where each pen starts (byte offsets), width in cells.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RowBuf {
    pub text: String,
    pub runs: Vec<(u32, Pen)>,
    pub width: u32,
}

impl RowBuf {
    pub fn clear(&mut self) {
        self.text.clear();
        self.runs.clear();
        self.width = 0;
    }

    /// Appends `text` of `width` cells drawn with `pen`.
    pub fn push(&mut self, text: &str, width: u32, pen: Pen) {
        self.pen_from(self.text.len() as u32, pen);
        self.text.push_str(text);
        self.width += width;
    }

    /// Text from byte `at` on is drawn with `pen` (a new run only where the pen changes).
    pub fn pen_from(&mut self, at: u32, pen: Pen) {
        if self.runs.last().is_none_or(|(_, last)| *last != pen) {
            self.runs.push((at, pen));
        }
    }

    /// The pen at each cell, in order: for replaying the line.
    pub fn spans(&self) -> impl Iterator<Item = (&str, Pen)> {
        self.runs.iter().enumerate().map(|(i, &(at, pen))| {
            let end = self
                .runs
                .get(i + 1)
                .map_or(self.text.len(), |r| r.0 as usize);
            (&self.text[at as usize..end], pen)
        })
    }
}

/// The lines that left a pane's screen.
#[derive(Debug)]
pub struct History {
    blocks: VecDeque<Block>,
    /// The number of the first kept line.
    first: LineNo,
    /// Lines of the first block already evicted.
    skip: usize,
    /// Lines kept.
    len: usize,
    /// Memory of the sealed blocks.
    sealed_bytes: usize,
    /// The last line goes on in the screen's first row (vt100 wrapped it there).
    open: bool,
    budget: Budget,
    /// Rows taken in so far: how far a view scrolled back moves to stay on its lines.
    pub rows_taken: u64,
}

impl History {
    pub fn new(budget: Budget) -> Self {
        History {
            blocks: VecDeque::new(),
            first: 0,
            skip: 0,
            len: 0,
            sealed_bytes: 0,
            open: false,
            budget,
            rows_taken: 0,
        }
    }

    pub fn budget(&self) -> Budget {
        self.budget
    }

    pub fn set_budget(&mut self, budget: Budget) {
        self.budget = budget;
        self.evict();
    }

    /// Lifts the budget until [`History::restore_budget`]: a resize moves screen lines into
    /// the history, and growing back must find every one of them.
    pub fn lift_budget(&mut self) -> Budget {
        std::mem::replace(
            &mut self.budget,
            Budget {
                lines: usize::MAX,
                bytes: usize::MAX,
            },
        )
    }

    /// The budget again, enforced from the next line on (the lines a resize moved here stay
    /// until new output comes).
    pub fn restore_budget(&mut self, budget: Budget) {
        self.budget = budget;
    }

    /// The numbers of the kept lines.
    pub fn span(&self) -> Range<LineNo> {
        self.first..self.first + self.len as LineNo
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the last line goes on in the screen's first row.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// The memory the history takes (its blocks' allocations).
    pub fn bytes(&self) -> usize {
        let open = self
            .blocks
            .back()
            .filter(|b| !b.sealed)
            .map_or(0, Block::bytes);
        self.sealed_bytes + open
    }

    fn locate(&self, n: LineNo) -> Option<(usize, usize)> {
        if !self.span().contains(&n) {
            return None;
        }
        let index = (n - self.first) as usize + self.skip;
        Some((index / LINES_PER_BLOCK, index % LINES_PER_BLOCK))
    }

    pub fn line(&self, n: LineNo) -> Option<Line<'_>> {
        let (block, i) = self.locate(n)?;
        Some(self.blocks[block].line(i))
    }

    /// Calls `visit` with each line from `from` on, oldest first, as text without trailing
    /// blanks. No allocation: the text is borrowed from the blocks.
    pub fn visit(
        &self,
        from: LineNo,
        visit: &mut dyn FnMut(LineNo, &str) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let from = from.max(self.first);
        let Some((mut block, mut i)) = self.locate(from) else {
            return ControlFlow::Continue(());
        };
        let mut n = from;
        while let Some(b) = self.blocks.get(block) {
            while i < b.lines.len() {
                let start = b.start(i).text_end as usize;
                let text = &b.text[start..b.lines[i].text_end as usize];
                visit(n, text.trim_end_matches(' '))?;
                n += 1;
                i += 1;
            }
            block += 1;
            i = 0;
        }
        ControlFlow::Continue(())
    }

    /// Takes a row vt100 scrolled off: it goes on the open last line, or starts a line.
    /// `wrapped`: the row goes on in the next one.
    pub fn push_row(&mut self, row: &RowBuf, wrapped: bool) {
        self.rows_taken += 1;
        let new_line = !self.open || self.len == 0;
        if new_line
            && self
                .blocks
                .back()
                .is_none_or(|b| b.lines.len() >= LINES_PER_BLOCK)
        {
            if let Some(full) = self.blocks.back_mut()
                && !full.sealed
            {
                full.seal();
                self.sealed_bytes += full.bytes();
            }
            self.blocks.push_back(Block::default());
        }
        // There is a block: one was just made, or the open line is in the last.
        let Some(block) = self.blocks.back_mut() else {
            return;
        };
        if new_line {
            let start = block.lines.last().copied().unwrap_or_default();
            block.lines.push(Meta { width: 0, ..start });
            self.len += 1;
        }
        let i = block.lines.len() - 1;
        let start = block.start(i);
        let mut pen = block.runs[start.runs_end as usize..]
            .last()
            .map_or(Pen::default(), |r| block.styles[r.style as usize]);
        let base = block.text.len() as u32;
        block.text.push_str(&row.text);
        for &(at, run_pen) in &row.runs {
            if run_pen != pen {
                let style = block.style_index(run_pen);
                block.runs.push(Run {
                    at: base + at,
                    style,
                });
                pen = run_pen;
            }
        }
        let meta = &mut block.lines[i];
        meta.text_end = block.text.len() as u32;
        meta.runs_end = block.runs.len() as u32;
        meta.width += row.width;
        self.open = wrapped;
        self.evict();
    }

    /// Takes the last line off (a resize replays it onto the new screen).
    pub fn pop_last(&mut self) -> Option<RowBuf> {
        if self.len == 0 {
            return None;
        }
        let block = self.blocks.back_mut()?;
        if block.sealed {
            block.sealed = false;
            self.sealed_bytes -= block.bytes();
        }
        let i = block.lines.len() - 1;
        let line = block.line(i);
        let mut out = RowBuf::default();
        for (text, pen) in line.spans() {
            out.runs.push((out.text.len() as u32, pen));
            out.text.push_str(text);
        }
        out.width = line.width;
        let start = block.start(i);
        block.text.truncate(start.text_end as usize);
        block.runs.truncate(start.runs_end as usize);
        block.lines.pop();
        let only = self.blocks.len() == 1;
        let left = self.blocks.back().map_or(0, |b| b.lines.len());
        if left == 0 || (only && left == self.skip) {
            self.blocks.pop_back();
            if self.blocks.is_empty() {
                self.skip = 0;
            }
        }
        self.len -= 1;
        self.open = false;
        Some(out)
    }

    fn evict(&mut self) {
        while self.len > 1 && (self.len > self.budget.lines || self.bytes() > self.budget.bytes) {
            self.skip += 1;
            self.first += 1;
            self.len -= 1;
            if self.skip >= self.blocks[0].lines.len() {
                if let Some(gone) = self.blocks.pop_front()
                    && gone.sealed
                {
                    self.sealed_bytes -= gone.bytes();
                }
                self.skip = 0;
            }
        }
        if self.budget.lines == 0 && !self.open && self.len == 1 {
            self.pop_last();
        }
    }

    /// Rows the lines `from..` take wrapped at `cols`.
    pub fn rows_from(&self, from: LineNo, cols: u16) -> usize {
        let mut rows = 0;
        for n in from.max(self.first)..self.span().end {
            rows += self.line(n).map_or(0, |l| l.rows(cols));
        }
        rows
    }

    /// Rows all lines take wrapped at `cols`.
    pub fn rows(&self, cols: u16) -> usize {
        self.rows_from(self.first, cols)
    }

    /// The history rows at the top of a view `offset` rows back, at most `count`: (line,
    /// row within the line), oldest first.
    pub fn view_rows(&self, offset: usize, count: usize, cols: u16) -> Vec<(LineNo, usize)> {
        // Walk back from the newest line to the row `offset` rows up.
        let mut back = 0;
        let mut n = self.span().end;
        while back < offset && n > self.first {
            n -= 1;
            back += self.line(n).map_or(0, |l| l.rows(cols));
        }
        // `n`'s row `back - offset` is the view's first.
        let mut sub = back.saturating_sub(offset);
        let mut out = Vec::with_capacity(count.min(offset));
        let want = count.min(offset);
        while out.len() < want && n < self.span().end {
            let rows = self.line(n).map_or(0, |l| l.rows(cols));
            while sub < rows && out.len() < want {
                out.push((n, sub));
                sub += 1;
            }
            n += 1;
            sub = 0;
        }
        out
    }
}
