//! The overview's tiles: ● name badge and the last output line, one per session, in the order
//! and places `app::overview` gives them.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::bars::squeeze;
use super::pane::{badge, state_color};
use crate::app::App;
use crate::app::pane::Pane;
use crate::ssh::SessionState;

pub fn draw_overview(frame: &mut Frame, app: &App, area: Rect) {
    if area.is_empty() {
        return;
    }
    let view = app.overview();
    for pos in view.grid.shown() {
        let (Some(&index), Some(rect)) = (view.order.get(pos), view.grid.rect(pos)) else {
            continue;
        };
        let Some(pane) = app.panes.get(index) else {
            continue;
        };
        let last = app.retry_label(pane).unwrap_or_else(|| last_line(pane));
        draw_tile(frame, pane, &last, rect, index == app.focus);
    }
}

/// Row 1: the ●/○ receiver mark in the state's colour, the name, the badge, and (one-line
/// tiles) the last line in what is left; row 2 of a two-line tile: the last line. The last
/// column is left blank between tiles.
/// `last`: what the second row says (the pane's reconnecting, or [`last_line`]).
fn draw_tile(frame: &mut Frame, pane: &Pane, last: &str, rect: Rect, highlighted: bool) {
    let width = usize::from(rect.width.saturating_sub(1)).max(1);
    let mut top = vec![
        Span::styled(
            if pane.in_broadcast { "●" } else { "○" },
            Style::new().fg(state_color(&pane.state)),
        ),
        Span::raw(" "),
    ];
    let mut name_style = Style::new().add_modifier(Modifier::BOLD);
    name_style = match pane.state {
        SessionState::Ready => name_style,
        _ => name_style.fg(state_color(&pane.state)),
    };
    if !pane.in_broadcast {
        name_style = name_style.add_modifier(Modifier::DIM);
    }
    let room = width.saturating_sub(2);
    top.push(Span::styled(squeeze(&pane.name, room), name_style));
    let mut used = 2 + pane.name.width().min(room);
    let mut extra = Vec::new();
    if let Some(result) = pane.last_result() {
        let (text, color) = badge(result.status);
        extra.push(Span::styled(text, Style::new().fg(color)));
    }
    if pane.asks_password {
        extra.push(Span::styled("⚿", Style::new().fg(Color::Magenta)));
    }
    // Its part in an upload or download: in the overview as in a pane's title.
    if let Some(mark) = &pane.transfer {
        let style = Style::new().fg(super::pane::transfer_color(mark));
        extra.push(Span::styled(mark.text(), style));
    }
    // The badge and the key mark show whole or not at all: half a status misleads.
    for span in extra {
        if used + 1 + span.width() <= width {
            used += 1 + span.width();
            top.push(Span::raw(" "));
            top.push(span);
        }
    }
    let dim = Style::new().fg(Color::DarkGray);
    let mut lines = vec![];
    if rect.height >= 2 {
        lines.push(Line::from(top));
        lines.push(Line::from(Span::styled(
            squeeze(&format!("  {last}"), width),
            dim,
        )));
    } else {
        if used + 2 < width && !last.is_empty() {
            top.push(Span::raw(" "));
            top.push(Span::styled(cut_end(last, width - used - 1), dim));
        }
        lines.push(Line::from(top));
    }
    let mut style = Style::new();
    if highlighted {
        style = style.add_modifier(Modifier::REVERSED);
    }
    let body = Rect::new(
        rect.x,
        rect.y,
        width.min(usize::from(rect.width)) as u16,
        rect.height,
    );
    frame.render_widget(Paragraph::new(lines).style(style), body);
}

/// What a tile shows of the session: why it is not live, or its last output line (the last
/// line its last command printed, else the last non-blank row up to the cursor).
fn last_line(pane: &Pane) -> String {
    if pane.state != SessionState::Ready {
        return pane.state.to_string();
    }
    let printed = pane
        .last_result()
        .and_then(|r| r.output.lines().rev().find(|l| !l.trim().is_empty()))
        .map(str::to_string);
    if let Some(line) = printed {
        return line.trim_end().to_string();
    }
    pane.text_at_cursor(3)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

/// The start of `text` that fits in `width` columns (the end is what gives way here: the
/// start of a line says most).
fn cut_end(text: &str, width: usize) -> String {
    super::bars::take_width(text.chars(), width)
}
