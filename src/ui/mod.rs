//! Drawing: functions of the model only, never changing it.

mod bars;
mod events;
mod overlay;
mod overview;
#[cfg(test)]
mod overview_tests;
mod pane;
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
use ratatui::layout::Alignment;
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::{App, layout};

pub use pane::PaneCache;

/// Draws the whole screen for `app`.
pub fn draw(frame: &mut Frame, app: &App) {
    draw_screen(frame, app, None);
}

/// [`draw`], copying the panes that did not change since the last frame from `cache`.
pub fn draw_cached(frame: &mut Frame, app: &App, cache: &mut PaneCache) {
    cache.start_frame();
    draw_screen(frame, app, Some(&mut *cache));
    cache.end_frame();
}

fn draw_screen(frame: &mut Frame, app: &App, mut cache: Option<&mut PaneCache>) {
    let areas = layout::screen_areas(frame.area());
    let pane_layout = app.layout();
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
    bars::draw_status(frame, app, &pane_layout, areas.status);
    match app.search() {
        Some(found) => {
            search::draw_list(frame, app, found, areas.panes);
            search::draw_prompt(frame, app, found, areas.input);
        }
        None => bars::draw_input(frame, app, areas.input),
    }
    overlay::draw_overlay(frame, app, areas.panes);
}
