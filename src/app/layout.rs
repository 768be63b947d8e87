//! Where things go on screen: pure geometry, shared by drawing and by the model (pane sizes,
//! mouse hit tests).

use ratatui::layout::Rect;

/// The smallest pane (border included) still worth reading: 20x5 of terminal inside.
pub const MIN_PANE_WIDTH: u16 = 22;
pub const MIN_PANE_HEIGHT: u16 = 7;

/// The three horizontal bands of the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenAreas {
    pub panes: Rect,
    pub status: Rect,
    pub input: Rect,
}

pub fn screen_areas(area: Rect) -> ScreenAreas {
    let bars = area.height.min(2);
    let panes_height = area.height - bars;
    let row = |offset: u16| Rect::new(area.x, area.y + panes_height + offset, area.width, 1);
    ScreenAreas {
        panes: Rect::new(area.x, area.y, area.width, panes_height),
        status: if bars >= 1 { row(0) } else { Rect::default() },
        input: if bars >= 2 { row(1) } else { Rect::default() },
    }
}

/// Which panes are on screen and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaneLayout {
    /// (pane index, outer rect) for the panes shown now.
    pub visible: Vec<(usize, Rect)>,
    /// Zero-based page shown, and the number of pages.
    pub page: usize,
    pub pages: usize,
}

/// How many panes fit on one page of `area` without going below the readable minimum.
pub fn page_capacity(area: Rect) -> usize {
    let cols = (area.width / MIN_PANE_WIDTH).max(1) as usize;
    let rows = (area.height / MIN_PANE_HEIGHT).max(1) as usize;
    cols * rows
}

/// Columns for `n` panes in `area`: starts from the square root and picks the shape whose
/// panes come out closest to square on screen, but never more columns or rows than fit at
/// the readable minimum. A cell is about twice as tall as wide; dividing widths by 3 rather
/// than 2 favours wide panes, which shell output and 80-column programs need.
pub fn grid_columns(n: usize, area: Rect) -> usize {
    if n <= 1 {
        return 1;
    }
    let max_cols = (area.width / MIN_PANE_WIDTH).max(1) as usize;
    let max_rows = (area.height / MIN_PANE_HEIGHT).max(1) as usize;
    let mut best = (n.isqrt().max(1), f64::MIN);
    for cols in 1..=n.min(max_cols) {
        let rows = n.div_ceil(cols);
        if rows > max_rows && cols < max_cols {
            continue;
        }
        let w = f64::from(area.width) / cols as f64 / 3.0;
        let h = f64::from(area.height) / rows as f64;
        // The smaller side decides readability; waste of empty slots breaks ties.
        let score = w.min(h) - (cols * rows - n) as f64 * 0.01;
        if score > best.1 {
            best = (cols, score);
        }
    }
    best.0
}

/// Tiles `n` rects over `area` in `cols` columns; the last row stretches to fill the width.
pub fn tile(area: Rect, n: usize, cols: usize) -> Vec<Rect> {
    if n == 0 || area.is_empty() {
        return Vec::new();
    }
    let cols = cols.clamp(1, n);
    let rows = n.div_ceil(cols);
    let mut rects = Vec::with_capacity(n);
    for row in 0..rows {
        let in_row = cols.min(n - row * cols);
        let y0 = split(area.y, area.height, row, rows);
        let y1 = split(area.y, area.height, row + 1, rows);
        for col in 0..in_row {
            let x0 = split(area.x, area.width, col, in_row);
            let x1 = split(area.x, area.width, col + 1, in_row);
            rects.push(Rect::new(x0, y0, x1 - x0, y1 - y0));
        }
    }
    rects
}

fn split(start: u16, len: u16, i: usize, parts: usize) -> u16 {
    start + (usize::from(len) * i / parts) as u16
}

/// Every pane's rect on its own page: the size its PTY should have whichever page is shown.
pub fn all_pane_rects(area: Rect, n: usize) -> Vec<Rect> {
    let capacity = page_capacity(area);
    let mut rects = Vec::with_capacity(n);
    let mut start = 0;
    while start < n {
        let count = capacity.min(n - start);
        rects.extend(tile(area, count, grid_columns(count, area)));
        start += count;
    }
    rects
}

/// The panes shown for `n` panes with `focus` focused: the page holding the focus, or the
/// focused pane alone when zoomed.
pub fn pane_layout(area: Rect, n: usize, focus: usize, zoom: bool) -> PaneLayout {
    if n == 0 {
        return PaneLayout {
            visible: Vec::new(),
            page: 0,
            pages: 1,
        };
    }
    let focus = focus.min(n - 1);
    if zoom {
        return PaneLayout {
            visible: vec![(focus, area)],
            page: 0,
            pages: 1,
        };
    }
    let capacity = page_capacity(area);
    let page = focus / capacity;
    let start = page * capacity;
    let count = capacity.min(n - start);
    let rects = tile(area, count, grid_columns(count, area));
    PaneLayout {
        visible: rects
            .into_iter()
            .enumerate()
            .map(|(i, r)| (start + i, r))
            .collect(),
        page,
        pages: n.div_ceil(capacity),
    }
}

/// The terminal area inside a pane's border.
pub fn pane_inner(rect: Rect) -> Rect {
    Rect::new(
        rect.x.saturating_add(1),
        rect.y.saturating_add(1),
        rect.width.saturating_sub(2),
        rect.height.saturating_sub(2),
    )
}

/// A rect of at most `width` x `height` centred in `area`, for dialogs.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCREEN: Rect = Rect {
        x: 0,
        y: 0,
        width: 160,
        height: 48,
    };

    #[test]
    fn grid_shapes_follow_aspect() {
        assert_eq!(grid_columns(1, SCREEN), 1);
        assert_eq!(grid_columns(2, SCREEN), 2);
        assert_eq!(grid_columns(4, SCREEN), 2);
        assert_eq!(grid_columns(9, SCREEN), 3);
        // A tall narrow terminal stacks panes instead.
        assert_eq!(grid_columns(2, Rect::new(0, 0, 40, 60)), 1);
    }

    #[test]
    fn tiles_cover_area_without_overlap() {
        let rects = tile(SCREEN, 5, 3);
        assert_eq!(rects.len(), 5);
        let area: u32 = rects.iter().map(|r| r.area()).sum();
        assert_eq!(area, SCREEN.area());
        for (i, a) in rects.iter().enumerate() {
            for b in &rects[i + 1..] {
                assert!(!a.intersects(*b), "{a:?} overlaps {b:?}");
            }
        }
    }

    #[test]
    fn many_panes_page_and_stay_readable() {
        let n = 100;
        let layout = pane_layout(SCREEN, n, 0, false);
        assert!(layout.pages > 1);
        for (_, r) in &layout.visible {
            assert!(
                r.width >= MIN_PANE_WIDTH && r.height >= MIN_PANE_HEIGHT,
                "{r:?}"
            );
        }
        // Every pane is reachable: the pages together show each index exactly once.
        let cap = page_capacity(SCREEN);
        let mut seen = Vec::new();
        for page in 0..layout.pages {
            let l = pane_layout(SCREEN, n, page * cap, false);
            assert_eq!(l.page, page);
            seen.extend(l.visible.iter().map(|(i, _)| *i));
        }
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
        assert_eq!(all_pane_rects(SCREEN, n).len(), n);
    }

    #[test]
    fn zoom_shows_the_focused_pane_alone() {
        let layout = pane_layout(SCREEN, 9, 4, true);
        assert_eq!(layout.visible, vec![(4, SCREEN)]);
    }

    #[test]
    fn tiny_terminal_still_has_one_pane_per_page() {
        let tiny = Rect::new(0, 0, 10, 4);
        assert_eq!(page_capacity(tiny), 1);
        let layout = pane_layout(tiny, 3, 2, false);
        assert_eq!(layout.visible, vec![(2, tiny)]);
        assert_eq!((layout.page, layout.pages), (2, 3));
        let areas = screen_areas(Rect::new(0, 0, 10, 1));
        assert_eq!(areas.panes.height, 0);
    }
}
