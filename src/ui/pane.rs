//! One pane: border, coloured title, and the session's emulated screen.

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::buffer::{Buffer, Cell, CellDiffOption};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};
use tui_term::widget::{Cursor, PseudoTerminal, Screen};

use crate::app::pane::Pane;
use crate::app::result::RunStatus;
use crate::app::transfer::TransferMark;
use crate::app::{App, InputMode};
use crate::lang::{tr, trf};
use crate::ssh::{SessionId, SessionState};

pub fn state_color(state: &SessionState) -> Color {
    match state {
        SessionState::Connecting | SessionState::Authenticating => Color::Yellow,
        SessionState::Ready => Color::Green,
        SessionState::Failed { .. } => Color::Red,
        SessionState::Closed { .. } => Color::DarkGray,
    }
}

/// State text for the title; a closed session shows the exit status however it arrived.
fn state_text(pane: &Pane) -> String {
    match (&pane.state, pane.exit_status) {
        (
            SessionState::Closed {
                exit_status: None,
                signal: None,
            },
            Some(code),
        ) => trf("closed: exit {code}", &[("code", &code)]),
        (state, _) => state.to_string(),
    }
}

/// "● name ✓ │ state ● REC ⇡ 1.2 MB": the badge is the last command's ([`badge`]), the arrow shows input not yet taken; the dot says whether broadcast input reaches the pane (○ = it does not).
fn title(pane: &Pane, retry: Option<String>) -> Line<'static> {
    let marker = if pane.in_broadcast { "● " } else { "○ " };
    let mut spans = vec![
        Span::raw(" "),
        Span::raw(marker),
        Span::styled(pane.name.clone(), Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(" │ "),
    ];
    // Before the state, whose error sentence may be long: the countdown is what changes.
    if let Some(retry) = retry {
        let style = Style::new()
            .fg(Color::LightRed)
            .add_modifier(Modifier::BOLD);
        spans.push(Span::styled(retry, style));
        spans.push(Span::raw(" │ "));
    }
    spans.push(Span::styled(
        state_text(pane),
        Style::new().fg(state_color(&pane.state)),
    ));
    spans.push(Span::raw(" "));
    // Right after the name: the first thing cut off in a small pane is the state, not this.
    if let Some(result) = pane.last_result() {
        let (text, color) = badge(result.status);
        spans.insert(3, Span::styled(format!(" {text}"), Style::new().fg(color)));
    }
    // Recorded (--record, Alt-V): said before anything that may be cut off.
    if pane.recording {
        spans.push(Span::styled(
            "● REC ",
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    // A password prompt on screen: Alt-W answers every pane showing one.
    if pane.asks_password {
        spans.push(Span::styled(
            tr("⚿ password? "),
            Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
        ));
    }
    // Its part in the last upload or download (Alt-F, Alt-K).
    if let Some(mark) = &pane.transfer {
        let style = Style::new().fg(transfer_color(mark));
        spans.push(Span::styled(format!("{} ", mark.text()), style));
    }
    // Input the remote side has not taken yet: a paste still going out, or stuck.
    if pane.pending_input > 0 {
        let pending = format!("⇡ {} ", crate::ssh::human_bytes(pane.pending_input as u64));
        spans.push(Span::styled(pending, Style::new().fg(Color::Yellow)));
    }
    Line::from(spans)
}

/// A transfer mark's colour: running, done, failed.
pub fn transfer_color(mark: &TransferMark) -> Color {
    match mark {
        TransferMark::Running { .. } => Color::Cyan,
        TransferMark::Done(_) => Color::Green,
        TransferMark::Failed(_) => Color::Red,
    }
}

/// The last command's badge: ✓ status 0, ✗ and the status, … still running, ? ended with
/// no status known (a shell without OSC 133 marks); for `:CMD`, ⊘ cancelled, ⌛ timed out,
/// ✗ ! could not run or was killed.
pub fn badge(status: RunStatus) -> (String, Color) {
    match status {
        RunStatus::Running => ("…".into(), Color::Yellow),
        RunStatus::Exited(0) => ("✓".into(), Color::Green),
        RunStatus::Exited(code) => (format!("✗ {code}"), Color::Red),
        RunStatus::Finished => ("?".into(), Color::Gray),
        RunStatus::Cancelled => ("⊘".into(), Color::Gray),
        RunStatus::TimedOut => ("⌛".into(), Color::Red),
        RunStatus::Failed => ("✗ !".into(), Color::Red),
    }
}

fn border_style(focused: bool, mode: InputMode) -> (BorderType, Style) {
    match (focused, mode) {
        (true, InputMode::Focus) => (BorderType::Double, Style::new().fg(Color::Magenta)),
        (true, _) => (BorderType::Thick, Style::new().fg(Color::Cyan)),
        (false, _) => (BorderType::Plain, Style::new().fg(Color::Gray)),
    }
}

/// What a pane was last drawn as, so that a frame in which it did not change copies its cells
/// instead of drawing it again: a broadcast's replies arrive over ~20 ms, and the frames drawn
/// meanwhile then cost what the panes that answered cost, not what all of them do (a frame
/// of 100 panes drawn in full is ~0.75 ms, a good part of it reading vt100's cells one by one).
/// Kept by the loop across frames; holds the panes of the last frame only.
#[derive(Default)]
pub struct PaneCache {
    drawn: HashMap<SessionId, CachedPane>,
    /// The entries of the frame before, while a frame is drawn.
    before: HashMap<SessionId, CachedPane>,
    /// Panes the last frame copied (or, drawn in place, left) instead of drawing.
    copied: usize,
    kind: FrameKind,
    /// What a frame drawn in place redrew.
    redrawn: Redrawn,
}

/// How a frame is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FrameKind {
    /// On a blank buffer: a pane that did not change is copied from the cache.
    #[default]
    Full,
    /// Over the last frame, of the same shape (`ui::draw_changes`): a pane that did not
    /// change is already there, one that did is redrawn through [`Redrawn`].
    InPlace,
}

/// The areas a frame drawn in place redrew, each with its cells before and after, so that
/// the terminal is sent what differs in them only: ratatui's own diff (wide characters and
/// all), run on these areas instead of on every cell of the screen. With the reset of a
/// blank buffer and the copy of the panes that did not change, that whole-screen pass was
/// 0.31 ms a frame for 100 panes at 250x80 (20 000 cells); a frame of one changed pane is
/// now 0.04 ms (`tui_bench round`).
#[derive(Default)]
pub struct Redrawn {
    /// (before, after) per area; buffers beyond `used` are kept for their allocations.
    areas: Vec<(Buffer, Buffer)>,
    used: usize,
}

impl Redrawn {
    fn clear(&mut self) {
        self.used = 0;
    }

    /// Resets `area` (within the frame) and draws it again with `draw`, which must not draw
    /// outside it, keeping its cells from before and after.
    pub fn redraw(&mut self, frame: &mut Frame, area: Rect, draw: impl FnOnce(&mut Frame)) {
        self.redraw_over(frame, area, None, draw);
    }

    /// [`Redrawn::redraw`], given the area's cells as they are when the caller has them
    /// (`known`, which gets back a buffer to reuse); returns which of the frame's areas holds
    /// the cells drawn (`None`: none, the area is off the screen).
    fn redraw_over(
        &mut self,
        frame: &mut Frame,
        area: Rect,
        known: Option<&mut Vec<Cell>>,
        draw: impl FnOnce(&mut Frame),
    ) -> Option<usize> {
        let area = area.intersection(frame.area());
        if area.is_empty() {
            return None;
        }
        if self.used == self.areas.len() {
            self.areas.push(Default::default());
        }
        let (before, after) = &mut self.areas[self.used];
        self.used += 1;
        before.area = area;
        match known {
            Some(cells) if cells.len() == usize::from(area.width) * usize::from(area.height) => {
                std::mem::swap(&mut before.content, cells)
            }
            _ => read_cells(frame, area, &mut before.content),
        }
        let buffer = frame.buffer_mut();
        for y in area.top()..area.bottom() {
            let start = buffer.index_of(area.x, y);
            buffer.content[start..start + usize::from(area.width)]
                .iter_mut()
                .for_each(Cell::reset);
        }
        draw(frame);
        after.area = area;
        read_cells(frame, area, &mut after.content);
        Some(self.used - 1)
    }

    /// The cells that changed, as ratatui's diff gives them to a backend, with the short
    /// runs of unchanged cells between two of them on a row ([`fill_short_gaps`]).
    pub fn updates(&self) -> impl Iterator<Item = (u16, u16, &Cell)> {
        self.areas[..self.used]
            .iter()
            .flat_map(|(before, after)| fill_short_gaps(before.diff_iter(after), after))
    }

    /// How many areas the frame redrew.
    pub fn count(&self) -> usize {
        self.used
    }
}

/// `updates` (changed cells of `after`, row by row, as a backend takes them) with the
/// unchanged cells of a short gap between two of them on a row put back in, when printing them
/// again costs no more bytes than the cursor move that would jump them. A pane that scrolled
/// changes most cells of a row but not all (the spaces between words often stay): a move is
/// `ESC[row;colH`, 6 to 10 bytes, and jumping one space cost all of them. Only plain cells
/// are put back (one ASCII byte, the style of the cell before, which is one column wide), so
/// the backend writes no colour or attribute change for them and the cursor is where a
/// jump would have put it. The screen ends up the same; 25 % fewer bytes for a broadcast
/// line to 100 mock panes at 250x80, 9 % on the sshd benchmark (docs/BENCHMARKS.md).
pub fn fill_short_gaps<'a>(
    updates: impl Iterator<Item = (u16, u16, &'a Cell)>,
    after: &'a Buffer,
) -> impl Iterator<Item = (u16, u16, &'a Cell)> {
    let mut last: Option<(u16, u16, &'a Cell)> = None;
    updates.flat_map(move |(x, y, cell)| {
        let gap = match last {
            Some((lx, ly, lcell)) if ly == y && x > lx + 1 && gap_fits(lx, lcell, x, y, after) => {
                lx + 1..x
            }
            _ => 0..0,
        };
        last = Some((x, y, cell));
        gap.map(move |gx| (gx, y, &after[(gx, y)]))
            .chain(std::iter::once((x, y, cell)))
    })
}

/// Whether the unchanged cells between `(from, y)` (printed last, `from_cell`) and `(to, y)`
/// are worth printing instead of a cursor move to `to` ([`fill_short_gaps`]).
fn gap_fits(from: u16, from_cell: &Cell, to: u16, y: u16, after: &Buffer) -> bool {
    use unicode_width::UnicodeWidthStr;
    let gap = usize::from(to - from - 1);
    // `ESC[` row `;` column `H`, one-based.
    let digits = |n: u16| (u32::from(n) + 1).ilog10() as usize + 1;
    let jump = 4 + digits(y) + digits(to);
    let style = from_cell.style();
    gap <= jump
        && plain(from_cell)
        && from_cell.symbol().width() == 1
        && (from + 1..to).all(|x| {
            let cell = &after[(x, y)];
            let symbol = cell.symbol().as_bytes();
            plain(cell)
                && symbol.len() == 1
                && (b' '..=b'~').contains(&symbol[0])
                && cell.style() == style
        })
}

/// A cell that the diff takes as it is: not skipped, not of a forced width, not always sent.
fn plain(cell: &Cell) -> bool {
    // The deprecated flag still makes ratatui's diff skip a cell: honoured the same way.
    #[allow(deprecated)]
    let skipped = cell.skip;
    cell.diff_option == CellDiffOption::None && !skipped
}

/// Everything a live pane's drawing depends on; equal keys, equal cells.
#[derive(PartialEq)]
struct PaneKey {
    rect: Rect,
    screen: u64,
    border: (BorderType, Style),
    title: Line<'static>,
    body: Style,
    cursor: bool,
}

struct CachedPane {
    key: PaneKey,
    /// The cells of `key.rect` (within the buffer), row by row; while the frame that redrew
    /// the pane in place is still being sent, they are in that frame's [`Redrawn`] area
    /// `in_redrawn` instead, and move here when the next frame starts (not copied twice).
    cells: Vec<Cell>,
    in_redrawn: Option<usize>,
}

impl PaneCache {
    /// A frame starts: the entries of panes it does not draw are dropped at its end.
    pub fn start_frame(&mut self, kind: FrameKind) {
        for entry in self.drawn.values_mut() {
            if let Some(area) = entry.in_redrawn.take() {
                std::mem::swap(&mut entry.cells, &mut self.redrawn.areas[area].1.content);
            }
        }
        std::mem::swap(&mut self.drawn, &mut self.before);
        self.drawn.clear();
        self.copied = 0;
        self.kind = kind;
        self.redrawn.clear();
    }

    /// What the last frame drawn in place redrew.
    pub fn redrawn(&self) -> &Redrawn {
        &self.redrawn
    }

    pub(super) fn redrawn_mut(&mut self) -> &mut Redrawn {
        &mut self.redrawn
    }

    /// A frame ended: panes not drawn in it are forgotten.
    pub fn end_frame(&mut self) {
        self.before.clear();
    }

    /// How many panes the last frame copied from the one before.
    pub fn copied(&self) -> usize {
        self.copied
    }

    /// Draws pane `id` with `draw`, or copies its cells from the last frame when `key` says
    /// they are the same.
    fn draw(
        &mut self,
        frame: &mut Frame,
        id: SessionId,
        key: PaneKey,
        draw: impl FnOnce(&mut Frame),
    ) {
        let old = self.before.remove(&id);
        // (Entries of the frame before hold their cells: `start_frame` moved them.)
        let (same_place, mut cells) = match old {
            Some(entry) if entry.key == key => {
                if self.kind == FrameKind::Full {
                    copy_cells(frame, key.rect, &entry.cells);
                }
                self.drawn.insert(id, entry);
                self.copied += 1;
                return;
            }
            Some(entry) => (entry.key.rect == key.rect, entry.cells),
            None => (false, Vec::new()),
        };
        let in_redrawn = match self.kind {
            FrameKind::Full => {
                draw(frame);
                read_cells(frame, key.rect, &mut cells);
                None
            }
            FrameKind::InPlace => {
                // The cells the pane was last drawn as are the screen's there: no need to
                // read them again for the diff. The drawn ones stay in `redrawn` for now.
                let known = same_place.then_some(&mut cells);
                let area = self.redrawn.redraw_over(frame, key.rect, known, draw);
                cells.clear();
                area
            }
        };
        let entry = CachedPane {
            key,
            cells,
            in_redrawn,
        };
        self.drawn.insert(id, entry);
    }

    /// Draws `area` with `draw`: over a reset area when the frame is drawn in place.
    fn draw_uncached(&mut self, frame: &mut Frame, area: Rect, draw: impl FnOnce(&mut Frame)) {
        match self.kind {
            FrameKind::Full => draw(frame),
            FrameKind::InPlace => self.redrawn.redraw(frame, area, draw),
        }
    }
}

/// Draws one pane; with `cache`, copies its cells from the last frame when nothing it shows
/// changed.
pub fn draw_pane(
    frame: &mut Frame,
    app: &App,
    index: usize,
    rect: Rect,
    cache: Option<&mut PaneCache>,
) {
    let Some(pane) = app.panes.get(index) else {
        return;
    };
    let focused = index == app.focus;
    let (border_type, mut border) = border_style(focused, app.mode);
    if !pane.in_broadcast {
        border = border.add_modifier(Modifier::DIM);
    }
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(border_type)
        .border_style(border);
    let inner = block.inner(rect);
    let body = body_style(pane);
    let pane_title = title(pane, app.retry_label(pane));
    let offset = pane.scroll_offset();
    if offset > 0 {
        let note = trf(" ↑{offset} Shift-End: live ", &[("offset", &offset)]);
        let note = Line::from(note).right_aligned();
        let block = block
            .title(pane_title)
            .title(note.style(Style::new().fg(Color::Yellow)));
        let view = Scrolled::new(pane);
        // tui-term keeps a widget style but never applies it: the body's is applied here.
        let term = PseudoTerminal::new(&view)
            .block(block)
            .cursor(Cursor::default().visibility(false));
        let scrolled = |frame: &mut Frame| {
            frame.render_widget(term, rect);
            style_body(frame.buffer_mut(), inner, body);
        };
        match cache {
            Some(cache) => cache.draw_uncached(frame, rect, scrolled),
            None => scrolled(frame),
        }
    } else {
        let live = |frame: &mut Frame| {
            let view = FromRow::at_cursor(pane.screen(), inner.height);
            // Only the focused, live view shows a cursor: many blinking blocks are noise.
            draw_live(
                frame.buffer_mut(),
                rect,
                block.title(pane_title.clone()),
                &view,
                focused,
            );
            style_body(frame.buffer_mut(), inner, body);
        };
        match cache {
            Some(cache) => {
                let key = PaneKey {
                    rect: rect.intersection(frame.area()),
                    screen: pane.screen_generation(),
                    border: (border_type, border),
                    title: pane_title.clone(),
                    body,
                    cursor: focused,
                };
                cache.draw(frame, pane.id, key, live);
            }
            None => live(frame),
        }
    }
    super::search::highlight(frame, app, pane, inner);
}

/// Draws the live view of a pane into `rect` as tui-term's `PseudoTerminal` (with its
/// default cursor) does: `block` around, the emulator's cells inside, and the cursor when
/// `cursor`. Row by row over the buffer's cells instead of an index per cell: a broadcast's
/// last frame redraws every pane that answered, and that is most of its time. `rect` must be
/// blank, as it is on every path here (a new frame's buffer, or an area reset to be drawn
/// over): `PseudoTerminal` clears it again.
fn draw_live(buf: &mut Buffer, rect: Rect, block: Block, view: &FromRow, cursor: bool) {
    use ratatui::widgets::Widget;
    use tui_term::widget::Cell as _;
    let rect = rect.intersection(buf.area);
    let inner = block.inner(rect);
    block.render(rect, buf);
    for row in 0..inner.height {
        let start = buf.index_of(inner.x, inner.y + row);
        let cells = &mut buf.content[start..start + usize::from(inner.width)];
        for (col, cell) in (0..).zip(cells.iter_mut()) {
            if let Some(screen_cell) = view.cell(row, col) {
                screen_cell.apply(cell);
            }
        }
    }
    if !cursor || view.hide_cursor() {
        return;
    }
    let (row, col) = view.cursor_position();
    let (x, y) = (col.saturating_add(inner.x), row.saturating_add(inner.y));
    if y >= inner.bottom() || x >= inner.right() {
        return;
    }
    let Some(under) = view.cell(row, col) else {
        return;
    };
    // tui-term's default cursor: the character under it reversed, or a grey block.
    let cell = &mut buf[(x, y)];
    if under.has_contents() {
        cell.set_style(Style::new().add_modifier(Modifier::REVERSED));
    } else {
        cell.set_symbol("\u{2588}");
        cell.set_style(Style::new().fg(Color::Gray));
    }
}

/// Puts `style` over the cells of a pane's body (`inner`), unless it is the plain one.
fn style_body(buf: &mut Buffer, inner: Rect, style: Style) {
    if style != Style::new() {
        buf.set_style(inner.intersection(buf.area), style);
    }
}

/// The body's style: dimmed when broadcast input does not reach the pane.
fn body_style(pane: &Pane) -> Style {
    if pane.in_broadcast {
        Style::new()
    } else {
        Style::new().add_modifier(Modifier::DIM)
    }
}

/// The cells of `area` (inside the buffer), row by row, into `cells`.
fn read_cells(frame: &mut Frame, area: Rect, cells: &mut Vec<Cell>) {
    let buffer = frame.buffer_mut();
    cells.clear();
    for y in area.top()..area.bottom() {
        let start = buffer.index_of(area.x, y);
        cells.extend_from_slice(&buffer.content[start..start + usize::from(area.width)]);
    }
}

/// Puts cells read by [`read_cells`] from `area` back. Not `Buffer::merge`: that moves every
/// cell of the whole buffer for its area's union, per call.
fn copy_cells(frame: &mut Frame, area: Rect, cells: &[Cell]) {
    let buffer = frame.buffer_mut();
    let width = usize::from(area.width);
    if width == 0 {
        return;
    }
    for (row, y) in cells.chunks(width).zip(area.top()..area.bottom()) {
        let start = buffer.index_of(area.x, y);
        buffer.content[start..start + width].clone_from_slice(row);
    }
}

/// A cell of a view scrolled back: the screen's own, or one drawn from the history.
pub enum ViewCell<'a> {
    Screen(&'a vt100::Cell),
    History(ratatui::buffer::Cell),
    Blank,
}

impl tui_term::widget::Cell for ViewCell<'_> {
    fn has_contents(&self) -> bool {
        match self {
            ViewCell::Screen(cell) => cell.has_contents(),
            ViewCell::History(_) => true,
            ViewCell::Blank => false,
        }
    }

    fn apply(&self, cell: &mut ratatui::buffer::Cell) {
        match self {
            ViewCell::Screen(c) => tui_term::widget::Cell::apply(*c, cell),
            ViewCell::History(c) => *cell = c.clone(),
            ViewCell::Blank => {}
        }
    }
}

/// A pane's view scrolled back `offset` rows: history rows (drawn from the compact history,
/// wrapped at the pane's width, with their colours) above the screen's first rows.
pub struct Scrolled<'a> {
    cells: Vec<ViewCell<'a>>,
    cols: u16,
    screen: &'a vt100::Screen,
    offset: u16,
}

impl<'a> Scrolled<'a> {
    pub fn new(pane: &'a Pane) -> Self {
        let screen = pane.screen();
        let (rows, cols) = screen.size();
        let history = pane.history();
        let offset = pane.scroll_offset();
        let shown = history.view_rows(offset, usize::from(rows), cols);
        let width = usize::from(cols);
        let mut cells: Vec<ViewCell> = Vec::with_capacity(usize::from(rows) * width);
        for &(n, sub) in &shown {
            let start = cells.len();
            cells.extend((0..width).map(|_| ViewCell::Blank));
            let Some(line) = history.line(n) else {
                continue;
            };
            // Each glyph's pen: the spans' boundaries are byte offsets into the line.
            let spans: Vec<(usize, crate::app::history::HistoryPen)> = {
                let mut at = 0;
                line.spans()
                    .map(|(text, pen)| {
                        let span = (at, pen);
                        at += text.len();
                        span
                    })
                    .collect()
            };
            line.layout(cols, |byte, glyph, row, col, _| {
                if row != sub || col >= width {
                    return;
                }
                let pen = spans
                    .iter()
                    .rev()
                    .find(|(at, _)| *at <= byte)
                    .map(|(_, pen)| *pen)
                    .unwrap_or_default();
                let mut cell = ratatui::buffer::Cell::default();
                cell.set_symbol(glyph);
                cell.set_style(pen_style(pen));
                cells[start + col] = ViewCell::History(cell);
            });
        }
        let history_rows = shown.len() as u16;
        for r in 0..rows.saturating_sub(history_rows) {
            for c in 0..cols {
                cells.push(screen.cell(r, c).map_or(ViewCell::Blank, ViewCell::Screen));
            }
        }
        Scrolled {
            cells,
            cols,
            screen,
            offset: history_rows,
        }
    }
}

/// A history pen as the ratatui style tui-term gives a vt100 cell.
fn pen_style(pen: crate::app::history::HistoryPen) -> Style {
    let color = |c: vt100::Color| match c {
        vt100::Color::Default => Color::Reset,
        vt100::Color::Idx(i) => Color::Indexed(i),
        vt100::Color::Rgb(r, g, b) => Color::Rgb(r, g, b),
    };
    let mut modifier = Modifier::empty();
    for (on, m) in [
        (pen.bold, Modifier::BOLD),
        (pen.italic, Modifier::ITALIC),
        (pen.underline, Modifier::UNDERLINED),
        (pen.inverse, Modifier::REVERSED),
        (pen.dim, Modifier::DIM),
    ] {
        if on {
            modifier |= m;
        }
    }
    Style::reset()
        .fg(color(pen.fg))
        .bg(color(pen.bg))
        .add_modifier(modifier)
}

impl<'a> Screen for Scrolled<'a> {
    type C = ViewCell<'a>;

    fn cell(&self, row: u16, col: u16) -> Option<&ViewCell<'a>> {
        if col >= self.cols {
            return None;
        }
        self.cells
            .get(usize::from(row) * usize::from(self.cols) + usize::from(col))
    }

    fn hide_cursor(&self) -> bool {
        self.screen.hide_cursor()
    }

    fn cursor_position(&self) -> (u16, u16) {
        let (row, col) = Screen::cursor_position(self.screen);
        (row.saturating_add(self.offset), col)
    }
}

/// An emulator's screen seen from row `top` down. A pane drawn shorter than its emulator (a
/// tiny grid slot below the emulator's minimum size, a resize not yet applied) shows the rows
/// that end at the cursor's, where output arrives, not the top ones.
pub struct FromRow<'a> {
    screen: &'a vt100::Screen,
    top: u16,
}

impl<'a> FromRow<'a> {
    /// The view of `height` rows that holds the cursor's row. Scrolled back, the view starts
    /// at the top of what vt100 shows, so every history row can be reached.
    pub fn at_cursor(screen: &'a vt100::Screen, height: u16) -> Self {
        let (row, _) = screen.cursor_position();
        let top = if screen.scrollback() > 0 {
            0
        } else {
            (row + 1).saturating_sub(height)
        };
        FromRow { screen, top }
    }

    /// The emulator's row shown first.
    pub fn top(&self) -> u16 {
        self.top
    }
}

impl Screen for FromRow<'_> {
    type C = vt100::Cell;

    fn cell(&self, row: u16, col: u16) -> Option<&vt100::Cell> {
        self.screen.cell(row.checked_add(self.top)?, col)
    }

    fn hide_cursor(&self) -> bool {
        self.screen.hide_cursor()
    }

    /// Where tui-term puts the cursor (it moves down as the view scrolls back), from `top`.
    fn cursor_position(&self) -> (u16, u16) {
        let (row, col) = Screen::cursor_position(self.screen);
        (row.saturating_sub(self.top), col)
    }
}
