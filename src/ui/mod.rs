//! Drawing: functions of the model only, never changing it.

mod bars;
mod events;
mod overlay;
mod overview;
#[cfg(test)]
mod overview_tests;
mod pane;
mod render;
mod results;
#[cfg(test)]
mod results_tests;
#[cfg(test)]
mod retry_tests;
#[cfg(test)]
mod safe_tests;
mod search;
#[cfg(test)]
mod search_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod transfer_tests;
#[cfg(test)]
mod zh_tests;

use ratatui::Frame;
use ratatui::layout::{Alignment, Position, Rect};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::layout::PaneLayout;
use crate::app::{App, layout};
use crate::ssh::SessionId;

pub use pane::PaneCache;
pub use render::Renderer;

/// Draws the whole screen for `app`.
pub fn draw(frame: &mut Frame, app: &App) {
    if let Some(cursor) = draw_screen(frame, app, &app.layout(), None) {
        frame.set_cursor_position(cursor);
    }
}

/// A buffer's rows as text; the blank second cell of a wide character is skipped.
pub fn screen_lines(buffer: &ratatui::buffer::Buffer) -> Vec<String> {
    let area = buffer.area;
    (area.top()..area.bottom())
        .map(|y| {
            let mut line = String::with_capacity(usize::from(area.width));
            let mut skip = 0;
            for x in area.left()..area.right() {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let symbol = buffer[(x, y)].symbol();
                skip = unicode_width::UnicodeWidthStr::width(symbol).saturating_sub(1);
                line.push_str(symbol);
            }
            line
        })
        .collect()
}

/// Draws the whole screen on a blank buffer, panes placed by `pane_layout` (`app.layout()`),
/// copying the panes that did not change since the last frame from `cache`; returns where the
/// terminal's cursor goes.
pub fn draw_full(
    frame: &mut Frame,
    app: &App,
    pane_layout: &PaneLayout,
    cache: &mut PaneCache,
) -> Option<Position> {
    cache.start_frame(pane::FrameKind::Full);
    let cursor = draw_screen(frame, app, pane_layout, Some(&mut *cache));
    cache.end_frame();
    cursor
}

/// What the screen is made of when it shows only the pane grid and the bars: the terminal's
/// area and each visible pane's place. Two frames of the same shape differ only inside the
/// panes whose drawing changed and in the bars, so the second can be drawn over the first
/// ([`draw_changes`]). `None` for any other screen (an overlay, the search, the overview, no
/// panes), which is drawn whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridShape {
    area: Rect,
    panes: Vec<(SessionId, Rect)>,
}

/// The shape of `app`'s screen on `area` with its panes placed by `pane_layout`, if it has one.
pub fn grid_shape(app: &App, pane_layout: &PaneLayout, area: Rect) -> Option<GridShape> {
    if app.overlay.is_some() || app.search().is_some() || app.overview_shown() {
        return None;
    }
    if pane_layout.visible.is_empty() {
        return None;
    }
    let panes = pane_layout
        .visible
        .iter()
        .map(|&(index, rect)| Some((app.panes.get(index)?.id, rect)))
        .collect::<Option<_>>()?;
    Some(GridShape { area, panes })
}

/// Draws over the last frame, which had `app`'s [`GridShape`]: only the panes whose drawing
/// changed and the bars, each area reset first; `cache` then holds what was redrawn, before
/// and after ([`PaneCache::redrawn`]), and the caller sends the terminal only what differs
/// there. Returns where the terminal's cursor goes.
pub fn draw_changes(
    frame: &mut Frame,
    app: &App,
    pane_layout: &PaneLayout,
    cache: &mut PaneCache,
) -> Option<Position> {
    cache.start_frame(pane::FrameKind::InPlace);
    let areas = layout::screen_areas(frame.area());
    for (index, rect) in &pane_layout.visible {
        pane::draw_pane(frame, app, *index, *rect, Some(&mut *cache));
    }
    let redrawn = cache.redrawn_mut();
    redrawn.redraw(frame, areas.status, |frame| {
        bars::draw_status(frame, app, pane_layout, areas.status)
    });
    let mut cursor = None;
    redrawn.redraw(frame, areas.input, |frame| {
        cursor = bars::draw_input(frame, app, areas.input)
    });
    cache.end_frame();
    cursor
}

fn draw_screen(
    frame: &mut Frame,
    app: &App,
    pane_layout: &PaneLayout,
    mut cache: Option<&mut PaneCache>,
) -> Option<Position> {
    let areas = layout::screen_areas(frame.area());
    if pane_layout.visible.is_empty() {
        let text = crate::lang::tr(
            "No sessions.\nF2 opens a practice pane on the built-in mock server, \
             F6 adds a host, F1 shows every key.",
        );
        let hint = Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true });
        frame.render_widget(hint, layout::centered(areas.panes, 60, 3));
    }
    if app.overview_shown() {
        overview::draw_overview(frame, app, areas.panes);
    } else {
        for (index, rect) in &pane_layout.visible {
            pane::draw_pane(frame, app, *index, *rect, cache.as_deref_mut());
        }
    }
    bars::draw_status(frame, app, pane_layout, areas.status);
    let cursor = match app.search() {
        Some(found) => {
            search::draw_list(frame, app, found, areas.panes);
            search::draw_prompt(frame, app, found, areas.input)
        }
        None => bars::draw_input(frame, app, areas.input),
    };
    // Drawn last, over the rest: its cursor wins.
    overlay::draw_overlay(frame, app, areas.panes).or(cursor)
}
