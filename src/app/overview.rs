//! The overview: one small tile per session instead of the grid, when the grid's panes would
//! be too small to read (or on Alt-O). Tiles are sorted failures first and laid out so a
//! thousand names fit on one 250x80 screen. Geometry and order live here, shared by drawing,
//! keys and the mouse; `ui::overview` only draws them.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Position, Rect};
use unicode_width::UnicodeWidthStr;

use super::layout;
use super::pane::Pane;
use super::result::RunStatus;
use super::{App, Effect};
use crate::ssh::SessionState;

/// Whether the overview or the grid is shown; Alt-O sets it by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewChoice {
    /// The overview when the grid would have to page (its panes would be under
    /// [`layout::MIN_PANE_WIDTH`] x [`layout::MIN_PANE_HEIGHT`]), the grid otherwise.
    #[default]
    Auto,
    Overview,
    Grid,
}

/// Where a session stands, in the order the overview shows them: what needs a look first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Standing {
    /// The session failed or closed.
    Down,
    /// Its last command failed (exit status not 0, timed out, could not run).
    CommandFailed,
    /// Connecting, or its last command still runs.
    Busy,
    /// Live, and its last command (if any) went well or ended with no status known.
    Fine,
}

const STANDINGS: usize = 4;

pub fn standing(pane: &Pane) -> Standing {
    // Connecting again after a lost connection is still down: it sorts with the failures.
    if pane.retry.is_retrying() {
        return Standing::Down;
    }
    match pane.state {
        SessionState::Failed { .. } | SessionState::Closed { .. } => Standing::Down,
        SessionState::Connecting | SessionState::Authenticating => Standing::Busy,
        SessionState::Ready => match pane.last_result().map(|r| r.status) {
            Some(RunStatus::Exited(0)) => Standing::Fine,
            Some(RunStatus::Exited(_) | RunStatus::TimedOut | RunStatus::Failed) => {
                Standing::CommandFailed
            }
            Some(RunStatus::Running) => Standing::Busy,
            Some(RunStatus::Finished | RunStatus::Cancelled) | None => Standing::Fine,
        },
    }
}

/// A name wider than this does not widen every tile: it is cut (with an ellipsis) instead.
const MAX_NAME_WIDTH: usize = 32;
/// Narrowest tile (gap included) when even one-line tiles of whole names do not fit.
const MIN_TILE_WIDTH: u16 = 5;

/// The pane indices sorted by name in natural order (`mock-2` before `mock-10`), and the
/// widest name: kept while the panes stay the same, so a frame only buckets them.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameOrder {
    indices: Vec<usize>,
    name_width: usize,
}

impl NameOrder {
    pub(crate) fn of(panes: &[Pane]) -> Self {
        let mut indices: Vec<usize> = (0..panes.len()).collect();
        indices.sort_by(|&a, &b| {
            crate::config::range::natural_cmp(&panes[a].name, &panes[b].name).then(a.cmp(&b))
        });
        let name_width = panes
            .iter()
            .map(|p| p.name.width())
            .max()
            .unwrap_or(0)
            .min(MAX_NAME_WIDTH);
        NameOrder {
            indices,
            name_width,
        }
    }

    /// Whether this was built for `panes` (it is emptied whenever they change).
    pub(crate) fn is_for(&self, panes: &[Pane]) -> bool {
        self.indices.len() == panes.len()
    }
}

/// How tiles are laid out over the panes area: `cols` columns of tiles `height` rows tall
/// (1: name and badge, then the last line if room; 2: the last line below), in display
/// order row by row, starting with tile `first` (the screenful that holds the focus).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileGrid {
    pub area: Rect,
    pub cols: usize,
    pub height: u16,
    /// Tile rows that fit in the area.
    pub rows: usize,
    /// Display position of the first tile shown.
    pub first: usize,
    /// Tiles in all.
    pub count: usize,
}

impl TileGrid {
    /// The largest tiles that put all `count` on one screen with whole names of
    /// `name_width`: two-line tiles if they fit, else one-line ones, else narrower tiles
    /// (names cut) and, past what even those hold, screenfuls.
    pub fn fit(area: Rect, count: usize, name_width: usize) -> TileGrid {
        let width = usize::from(area.width);
        // Marker, space, name, gap; two-line tiles want room for a badge and some output.
        let one_line = name_width + 3;
        let two_line = (name_width + 8).max(16);
        for (height, needed) in [(2u16, two_line), (1, one_line)] {
            let rows = usize::from(area.height / height);
            if rows == 0 || count == 0 {
                continue;
            }
            let cols = count.div_ceil(rows).max(1);
            if width / cols >= needed {
                return TileGrid {
                    area,
                    cols,
                    height,
                    rows: count.div_ceil(cols),
                    first: 0,
                    count,
                };
            }
        }
        let rows = usize::from(area.height).max(1);
        let most_cols = (width / usize::from(MIN_TILE_WIDTH)).max(1);
        TileGrid {
            area,
            cols: count.div_ceil(rows).clamp(1, most_cols),
            height: 1,
            rows,
            first: 0,
            count,
        }
    }

    /// Tiles on one screen.
    pub fn per_screen(&self) -> usize {
        (self.cols * self.rows).max(1)
    }

    /// The same grid scrolled to the screenful holding display position `pos`.
    fn showing(mut self, pos: usize) -> Self {
        let per_screen = self.per_screen();
        self.first = pos / per_screen * per_screen;
        self
    }

    /// (screen, screens): which screenful is shown, 0-based, and how many there are.
    pub fn screen(&self) -> (usize, usize) {
        let per_screen = self.per_screen();
        (
            self.first / per_screen,
            self.count.div_ceil(per_screen).max(1),
        )
    }

    /// The tiles shown now, as display positions.
    pub fn shown(&self) -> std::ops::Range<usize> {
        self.first..self.count.min(self.first + self.per_screen())
    }

    /// Where the tile at display position `pos` is, when it is on screen.
    pub fn rect(&self, pos: usize) -> Option<Rect> {
        if !self.shown().contains(&pos) {
            return None;
        }
        let slot = pos - self.first;
        let (row, col) = (slot / self.cols, slot % self.cols);
        let split = |start: u16, len: u16, i: usize, parts: usize| {
            start + (usize::from(len) * i / parts) as u16
        };
        let x0 = split(self.area.x, self.area.width, col, self.cols);
        let x1 = split(self.area.x, self.area.width, col + 1, self.cols);
        let y = self.area.y + row as u16 * self.height;
        // Clipped: a screen too small for one tile row must not be drawn past.
        Some(Rect::new(x0, y, x1 - x0, self.height).intersection(self.area))
    }

    /// The display position of the tile at a screen cell.
    pub fn at(&self, at: Position) -> Option<usize> {
        if !self.area.contains(at) {
            return None;
        }
        let row = usize::from((at.y - self.area.y) / self.height);
        let x = usize::from(at.x - self.area.x);
        // The column whose span holds x (columns split the width as `rect` does).
        let col =
            (0..self.cols).find(|&c| usize::from(self.area.width) * (c + 1) / self.cols > x)?;
        let pos = self.first + row * self.cols + col;
        self.shown().contains(&pos).then_some(pos)
    }
}

/// The overview as it is now: pane indices in display order and where their tiles go.
#[derive(Debug, Clone)]
pub struct Overview {
    pub order: Vec<usize>,
    pub grid: TileGrid,
    /// Display position of the focused pane.
    pub focus: usize,
}

impl App {
    /// Whether the panes area shows the overview: chosen by hand (Alt-O), or because the
    /// grid would have to page. A zoomed pane shows itself; unzooming comes back here.
    pub fn overview_shown(&self) -> bool {
        if self.zoom || self.panes.is_empty() {
            return false;
        }
        match self.view_choice {
            ViewChoice::Overview => true,
            ViewChoice::Grid => false,
            ViewChoice::Auto => self.panes.len() > layout::page_capacity(self.panes_area()),
        }
    }

    /// Pane indices failures first ([`Standing`]), by name within each standing: one pass
    /// over the cached name order, no sorting per frame.
    pub fn overview_order(&self) -> Vec<usize> {
        self.ordered_by_standing(&self.name_order())
    }

    /// The cached name order, or (between a change of panes and the end of its update)
    /// one built now.
    fn name_order(&self) -> std::borrow::Cow<'_, NameOrder> {
        if self.name_order.is_for(&self.panes) {
            std::borrow::Cow::Borrowed(&self.name_order)
        } else {
            std::borrow::Cow::Owned(NameOrder::of(&self.panes))
        }
    }

    fn ordered_by_standing(&self, names: &NameOrder) -> Vec<usize> {
        let mut buckets: [Vec<usize>; STANDINGS] = Default::default();
        for &index in &names.indices {
            buckets[standing(&self.panes[index]) as usize].push(index);
        }
        buckets.concat()
    }

    /// The overview's order and tile grid on this screen, scrolled to the focused tile.
    pub fn overview(&self) -> Overview {
        let names = self.name_order();
        let order = self.ordered_by_standing(&names);
        let name_width = names.name_width;
        let focus = order.iter().position(|&i| i == self.focus).unwrap_or(0);
        let grid = TileGrid::fit(self.panes_area(), order.len(), name_width).showing(focus);
        Overview { order, grid, focus }
    }

    /// The keys the overview takes in line mode: Tab, Shift-Tab, PgUp/PgDn and Alt-arrows
    /// move the highlight; with the broadcast line empty, plain arrows do too and Enter
    /// zooms the highlighted tile. `None`: not the overview's key (or no overview shown).
    pub(super) fn overview_key(&mut self, key: &KeyEvent) -> Option<Vec<Effect>> {
        if !self.overview_shown() {
            return None;
        }
        let arrow = matches!(
            key.code,
            KeyCode::Left | KeyCode::Right | KeyCode::Up | KeyCode::Down
        );
        let line_empty = self.editor.text().is_empty();
        // Shift-PgUp and the like scroll a pane back: nothing to see of that here, but they
        // are not the overview's.
        let plain = key.modifiers.is_empty();
        Some(match key.code {
            KeyCode::Tab if plain => self.overview_step(1),
            KeyCode::BackTab => self.overview_step(-1),
            KeyCode::PageUp | KeyCode::PageDown if plain => {
                let screen = self.overview().grid.per_screen() as isize;
                let step = if key.code == KeyCode::PageUp {
                    -screen
                } else {
                    screen
                };
                self.overview_step(step)
            }
            _ if arrow && key.modifiers == KeyModifiers::ALT => self.overview_arrow(key.code),
            // ↑/↓ stay the line's history (most often wanted on an empty line); ←/→ have
            // nothing to move on an empty line, so they move the highlight.
            KeyCode::Left | KeyCode::Right if plain && line_empty => self.overview_arrow(key.code),
            KeyCode::Enter if plain && line_empty => self.zoom_highlighted(),
            _ => return None,
        })
    }

    /// Alt-O: the overview if the grid is shown, the grid otherwise (leaving a zoom).
    pub(super) fn toggle_overview(&mut self) -> Vec<Effect> {
        self.view_choice = if self.overview_shown() {
            ViewChoice::Grid
        } else {
            ViewChoice::Overview
        };
        self.zoom = false;
        self.relayout()
    }

    /// Moves the highlight `step` tiles along the display order (Tab, PgUp/PgDn).
    pub(super) fn overview_step(&mut self, step: isize) -> Vec<Effect> {
        let view = self.overview();
        let n = view.order.len() as isize;
        if n == 0 {
            return Vec::new();
        }
        let pos = (view.focus as isize + step).rem_euclid(n) as usize;
        self.focus = view.order[pos];
        Vec::new()
    }

    /// Arrows: the tile next to the highlighted one on screen; left and right run on to the
    /// row before or after, up and down stop at the edges.
    pub(super) fn overview_arrow(&mut self, code: KeyCode) -> Vec<Effect> {
        let cols = self.overview().grid.cols as isize;
        match code {
            KeyCode::Left => self.overview_step(-1),
            KeyCode::Right => self.overview_step(1),
            KeyCode::Up | KeyCode::Down => {
                let view = self.overview();
                let step = if code == KeyCode::Up { -cols } else { cols };
                let pos = view.focus as isize + step;
                if let Some(&index) = usize::try_from(pos).ok().and_then(|p| view.order.get(p)) {
                    self.focus = index;
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Enter on a tile: the existing zoom (Alt-M), which Alt-M leaves back to the overview.
    pub(super) fn zoom_highlighted(&mut self) -> Vec<Effect> {
        self.zoom = true;
        self.relayout()
    }

    /// The pane whose tile is at a screen cell.
    pub(super) fn tile_at(&self, at: Position) -> Option<usize> {
        let view = self.overview();
        view.grid
            .at(at)
            .and_then(|pos| view.order.get(pos).copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thousand_names_fit_on_250x78_in_one_line_tiles() {
        let grid = TileGrid::fit(Rect::new(0, 0, 250, 78), 1000, "mock-1000".len());
        assert_eq!(grid.height, 1);
        assert_eq!(grid.screen(), (0, 1));
        assert!(grid.cols * grid.rows >= 1000);
        let narrowest = (0..1000)
            .filter_map(|p| grid.rect(p))
            .map(|r| r.width)
            .min();
        assert!(narrowest >= Some(12), "{narrowest:?}");
    }

    #[test]
    fn few_tiles_get_two_lines_and_every_cell_maps_back_to_its_tile() {
        let area = Rect::new(0, 0, 100, 28);
        let grid = TileGrid::fit(area, 30, 6);
        assert_eq!((grid.height, grid.cols), (2, 3));
        for pos in 0..30 {
            let rect = grid.rect(pos).expect("on screen");
            assert!(area.contains(rect.as_position()));
            for x in rect.left()..rect.right() {
                assert_eq!(grid.at(Position::new(x, rect.y + 1)), Some(pos));
            }
        }
        assert_eq!(grid.at(Position::new(99, 27)), None, "past the last tile");
    }

    #[test]
    fn too_many_for_one_screen_scroll_by_screenfuls() {
        let grid = TileGrid::fit(Rect::new(0, 0, 20, 4), 50, 8);
        let per_screen = grid.per_screen();
        assert!(per_screen < 50);
        let last = grid.showing(49);
        assert_eq!(last.screen().0 + 1, last.screen().1);
        assert!(last.rect(49).is_some());
        assert!(last.rect(0).is_none());
        assert!(
            TileGrid::fit(Rect::new(0, 0, 0, 0), 3, 8)
                .rect(0)
                .is_some_and(|r| r.is_empty())
        );
    }
}
