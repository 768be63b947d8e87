//! One pane: border, coloured title, and the session's emulated screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};
use tui_term::widget::{Cursor, PseudoTerminal};

use crate::app::pane::Pane;
use crate::app::{App, InputMode};
use crate::ssh::SessionState;

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
        (SessionState::Closed { exit_status: None }, Some(code)) => format!("closed: exit {code}"),
        (state, _) => state.to_string(),
    }
}

/// "● name │ state": the dot says whether broadcast input reaches the pane (○ = it does not).
fn title(pane: &Pane) -> Line<'static> {
    let marker = if pane.in_broadcast { "● " } else { "○ " };
    Line::from(vec![
        Span::raw(" "),
        Span::raw(marker),
        Span::styled(pane.name.clone(), Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(" │ "),
        Span::styled(state_text(pane), Style::new().fg(state_color(&pane.state))),
        Span::raw(" "),
    ])
}

fn border_style(focused: bool, mode: InputMode) -> (BorderType, Style) {
    match (focused, mode) {
        (true, InputMode::Focus) => (BorderType::Double, Style::new().fg(Color::Magenta)),
        (true, _) => (BorderType::Thick, Style::new().fg(Color::Cyan)),
        (false, _) => (BorderType::Plain, Style::new().fg(Color::Gray)),
    }
}

pub fn draw_pane(frame: &mut Frame, app: &App, index: usize, rect: Rect) {
    let Some(pane) = app.panes.get(index) else {
        return;
    };
    let focused = index == app.focus;
    let (border_type, mut style) = border_style(focused, app.mode);
    if !pane.in_broadcast {
        style = style.add_modifier(Modifier::DIM);
    }
    let mut block = Block::new()
        .borders(Borders::ALL)
        .border_type(border_type)
        .border_style(style)
        .title(title(pane));
    let offset = pane.scroll_offset();
    if offset > 0 {
        let note = Line::from(format!(" ↑{offset} Shift-End: live ")).right_aligned();
        block = block.title(note.style(Style::new().fg(Color::Yellow)));
    }
    let body_style = if pane.in_broadcast {
        Style::new()
    } else {
        Style::new().add_modifier(Modifier::DIM)
    };
    // Only the focused, live view shows a cursor: many blinking blocks are noise.
    let cursor = Cursor::default().visibility(focused && offset == 0);
    let term = PseudoTerminal::new(pane.screen())
        .block(block)
        .style(body_style)
        .cursor(cursor);
    frame.render_widget(term, rect);
}
