//! Moving the focus: clicks, the wheel, Tab, Alt-arrows and pages.

use crossterm::event::{KeyCode, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::layout;
use super::{App, Effect, Overlay};

/// Lines one wheel notch scrolls.
const WHEEL_LINES: isize = 3;

impl App {
    pub(super) fn on_mouse(&mut self, event: MouseEvent) -> Vec<Effect> {
        if let Some(Overlay::Help { top }) = self.overlay {
            let code = match event.kind {
                MouseEventKind::ScrollUp => KeyCode::Up,
                MouseEventKind::ScrollDown => KeyCode::Down,
                _ => return Vec::new(),
            };
            self.help_key(top, code);
            return Vec::new();
        }
        if self.overlay.is_some() {
            return Vec::new();
        }
        let at = Position::new(event.column, event.row);
        if self.overview_shown() {
            // A click highlights a tile; the wheel has no pane to scroll here.
            return match (event.kind, self.tile_at(at)) {
                (MouseEventKind::Down(_), Some(index)) => self.set_focus(index),
                _ => Vec::new(),
            };
        }
        let Some(index) = self.pane_at(at) else {
            return Vec::new();
        };
        match event.kind {
            MouseEventKind::Down(_) => return self.set_focus(index),
            MouseEventKind::ScrollUp => self.panes[index].scroll_by(WHEEL_LINES),
            MouseEventKind::ScrollDown => self.panes[index].scroll_by(-WHEEL_LINES),
            _ => {}
        }
        Vec::new()
    }

    fn pane_at(&self, at: Position) -> Option<usize> {
        let layout = self.layout();
        let hit = layout.visible.iter().find(|(_, rect)| rect.contains(at));
        hit.map(|(index, _)| *index)
    }

    /// Focus changes can change the page, but never pane sizes: each pane keeps its slot.
    fn set_focus(&mut self, index: usize) -> Vec<Effect> {
        if index < self.panes.len() {
            self.focus = index;
        }
        if self.zoom {
            // The zoomed pane changes, so sizes do too.
            return self.relayout();
        }
        Vec::new()
    }

    pub(super) fn cycle_focus(&mut self, step: isize) -> Vec<Effect> {
        let n = self.panes.len();
        if n == 0 {
            return Vec::new();
        }
        let next = (self.focus as isize + step).rem_euclid(n as isize) as usize;
        self.set_focus(next)
    }

    /// PgUp/PgDn: the first pane of the previous/next page.
    pub(super) fn flip_page(&mut self, step: isize) -> Vec<Effect> {
        let capacity = layout::page_capacity(self.panes_area());
        let pages = self.panes.len().div_ceil(capacity);
        if pages <= 1 || self.zoom {
            return Vec::new();
        }
        let page = (self.focus / capacity) as isize;
        let next = (page + step).rem_euclid(pages as isize) as usize;
        self.set_focus(next * capacity)
    }

    /// Alt-arrows: the visible pane next to the focused one in that direction.
    pub(super) fn move_focus_key(&mut self, code: KeyCode) -> Vec<Effect> {
        let layout = self.layout();
        let Some((_, from)) = layout.visible.iter().find(|(i, _)| *i == self.focus) else {
            return Vec::new();
        };
        let Some(probe) = neighbour_probe(*from, code) else {
            return Vec::new();
        };
        match layout.visible.iter().find(|(_, r)| r.contains(probe)) {
            Some((index, _)) => self.set_focus(*index),
            None => Vec::new(),
        }
    }
}

/// A point just outside `rect` on the side `code` points to, level with its centre.
fn neighbour_probe(rect: Rect, code: KeyCode) -> Option<Position> {
    let cx = rect.x + rect.width / 2;
    let cy = rect.y + rect.height / 2;
    match code {
        KeyCode::Left => Some(Position::new(rect.x.checked_sub(1)?, cy)),
        KeyCode::Right => Some(Position::new(rect.right(), cy)),
        KeyCode::Up => Some(Position::new(cx, rect.y.checked_sub(1)?)),
        KeyCode::Down => Some(Position::new(cx, rect.bottom())),
        _ => None,
    }
}
