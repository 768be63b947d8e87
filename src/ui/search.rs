//! The search across the panes: its prompt (in the input line's place), the match list
//! over the panes, and the highlight of the current match in its pane.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::app::App;
use crate::app::pane::Pane;
use crate::app::search::{Match, Phase, Search};
use crate::lang::{tr, trf};

/// Rows of the list at most (and never more than half the panes' area).
const LIST_ROWS: u16 = 12;

pub fn match_style() -> Style {
    Style::new()
        .fg(Color::Black)
        .bg(Color::Yellow)
        .add_modifier(Modifier::BOLD)
}

/// "12/40 matches in 3 panes", or what is happening instead.
fn count_text(search: &Search) -> String {
    if let Some(error) = &search.error {
        return trf("bad regex: {error}", &[("error", error)]);
    }
    if search.query.text().is_empty() {
        return String::new();
    }
    let total = search.matches.len();
    let panes = search.panes_with_matches().len();
    let mut text = match search.current {
        Some(key) => trf(
            "{n}/{total} matches in {panes} panes",
            &[
                ("n", &(search.matches.range(..key).count() + 1)),
                ("total", &total),
                ("panes", &panes),
            ],
        ),
        None => trf(
            "{total} matches in {panes} panes",
            &[("total", &total), ("panes", &panes)],
        ),
    };
    if search.pending() {
        text.push_str(tr(" (searching…)"));
    }
    text
}

/// The prompt line: `find»` (or `regex»`), the query, the count and the keys; returns where
/// the terminal's cursor goes while the query is typed.
pub fn draw_prompt(frame: &mut Frame, app: &App, search: &Search, area: Rect) -> Option<Position> {
    let accent = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
    let dim = Style::new().add_modifier(Modifier::DIM);
    let prompt = if search.regex {
        tr("regex» ")
    } else {
        tr("find» ")
    };
    let hint = match search.phase {
        Phase::Typing if search.slash => {
            tr("Enter: to matches · Ctrl-R regex · Esc · // types a / in the line")
        }
        Phase::Typing => tr("Enter: to matches · Ctrl-R regex · Esc leaves"),
        Phase::Browsing => tr("n/N next/prev · r: they receive · Enter edits · Esc"),
    };
    let count = count_text(search);
    let count_style = if search.error.is_some() {
        Style::new().fg(Color::Red)
    } else {
        Style::new().fg(Color::Cyan)
    };
    let prompt_width = Span::raw(prompt).width() as u16;
    let (shown, cursor_col) = super::bars::scroll_to_cursor(
        search.query.text(),
        search.query.before_cursor(),
        area.width.saturating_sub(prompt_width + 1),
    );
    let line = Line::from(vec![
        Span::styled(prompt, accent),
        Span::raw(shown.to_string()),
        Span::raw("  "),
        Span::styled(count, count_style),
        Span::raw("  "),
        Span::styled(hint, dim),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    (search.phase == Phase::Typing && app.overlay.is_none() && !area.is_empty()).then(|| {
        let x = area.x + prompt_width + cursor_col;
        Position::new(x.min(area.right() - 1), area.y)
    })
}

/// The list of matches (pane, line, context) over the half of `area` the current match is
/// not in, so the highlighted line stays in view.
pub fn draw_list(frame: &mut Frame, app: &App, search: &Search, area: Rect) {
    if search.matches.is_empty() || area.height < 6 {
        return;
    }
    let rows = (search.matches.len() as u16)
        .min(LIST_ROWS)
        .min(area.height / 2 - 2);
    let height = rows + 2;
    let on_top = current_row(app, search).is_some_and(|y| y >= area.y + area.height / 2);
    let rect = if on_top {
        Rect::new(area.x, area.y, area.width, height)
    } else {
        Rect::new(area.x, area.bottom() - height, area.width, height)
    };
    let title = trf(
        " Matches: {total} in {panes} panes ",
        &[
            ("total", &search.matches.len()),
            ("panes", &search.panes_with_matches().len()),
        ],
    );
    let block = super::overlay::dialog_block(&title);
    let lines: Vec<Line> = search
        .around(search.current, usize::from(rows))
        .into_iter()
        .map(|(key, m)| {
            let name = app.pane_name(key.0).unwrap_or("?");
            list_row(name, key.1, m, search.current == Some(key))
        })
        .collect();
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// "web03:120  …context with the match…".
fn list_row(name: &str, line: u64, m: &Match, current: bool) -> Line<'static> {
    let before: String = m.context.chars().take(m.at).collect();
    let hit: String = m.context.chars().skip(m.at).take(m.len).collect();
    let after: String = m.context.chars().skip(m.at + m.len).collect();
    let base = if current {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new()
    };
    Line::from(vec![
        Span::styled(if current { "▶ " } else { "  " }, base),
        Span::styled(format!("{name}:{line}  "), base.fg(Color::Cyan)),
        Span::styled(before, base),
        Span::styled(hit, match_style()),
        Span::styled(after, base),
    ])
}

/// The screen row the current match shows on, if its pane is on screen.
fn current_row(app: &App, search: &Search) -> Option<u16> {
    let (id, line) = search.current?;
    let m = search.matches.get(&(id, line))?;
    let index = app.panes.iter().position(|p| p.id == id)?;
    let (_, rect) = app
        .layout()
        .visible
        .into_iter()
        .find(|(i, _)| *i == index)?;
    let pane = app.panes.get(index)?;
    let inner = crate::app::layout::pane_inner(rect);
    highlight_cells(pane, line, m, inner).map(|(_, y, _)| y)
}

/// Where the match shows inside a pane's `inner` rect: (x, y, width in columns).
pub fn highlight_cells(pane: &Pane, line: u64, m: &Match, inner: Rect) -> Option<(u16, u16, u16)> {
    let (row, col) = pane.view_cell_of(line, m.start)?;
    let top = super::pane::FromRow::at_cursor(pane.screen(), inner.height).top();
    let row = row.checked_sub(top)?;
    if row >= inner.height || col >= inner.width {
        return None;
    }
    let hit: String = m.context.chars().skip(m.at).take(m.len).collect();
    let width = (Span::raw(hit).width() as u16).max(1);
    Some((inner.x + col, inner.y + row, width.min(inner.width - col)))
}

/// Marks the current match in pane `pane`, drawn at `inner`.
pub fn highlight(frame: &mut Frame, app: &App, pane: &Pane, inner: Rect) {
    let Some(search) = app.search() else {
        return;
    };
    let Some((id, line)) = search.current else {
        return;
    };
    if id != pane.id {
        return;
    }
    let Some(m) = search.matches.get(&(id, line)) else {
        return;
    };
    if let Some((x, y, width)) = highlight_cells(pane, line, m, inner) {
        frame
            .buffer_mut()
            .set_style(Rect::new(x, y, width, 1), match_style());
    }
}
