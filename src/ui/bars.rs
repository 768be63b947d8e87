//! The status bar and the broadcast line at the bottom of the screen.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::layout::PaneLayout;
use crate::app::{App, InputMode, MockStatus};
use crate::ssh::SessionState;

const SEP: &str = " │ ";

fn mode_label(mode: InputMode) -> &'static str {
    match mode {
        InputMode::Line => "LINE",
        InputMode::Keystroke => "KEYS",
        InputMode::Focus => "FOCUS",
    }
}

fn mock_text(status: &MockStatus) -> Option<String> {
    match status {
        MockStatus::Off => None,
        MockStatus::Starting => Some("mock starting…".into()),
        MockStatus::Listening(addr) => Some(format!(
            "mock on {addr} ({}/{})",
            crate::mock::DEFAULT_USER,
            crate::mock::DEFAULT_PASSWORD
        )),
        MockStatus::Failed(reason) => Some(format!("mock failed: {reason}")),
    }
}

pub fn draw_status(frame: &mut Frame, app: &App, layout: &PaneLayout, area: Rect) {
    let count = |f: fn(&SessionState) -> bool| app.panes.iter().filter(|p| f(&p.state)).count();
    let ready = count(|s| *s == SessionState::Ready);
    let failed = count(|s| matches!(s, SessionState::Failed { .. }));
    let total = app.panes.len();
    let targets = match app.mode {
        InputMode::Focus => usize::from(app.focused().is_some()),
        _ => app.target_count(),
    };
    let bar = Style::new().bg(Color::DarkGray).fg(Color::White);
    let mut spans = vec![
        Span::styled(
            format!(" {ready} ready"),
            Style::new().fg(Color::LightGreen),
        ),
        Span::raw(" "),
        Span::styled(format!("{failed} failed"), Style::new().fg(Color::LightRed)),
        Span::raw(format!(
            " {total} total{SEP}→ {targets}/{total} sessions{SEP}"
        )),
        Span::styled(
            mode_label(app.mode),
            Style::new().add_modifier(Modifier::BOLD),
        ),
    ];
    if layout.pages > 1 {
        spans.push(Span::raw(format!(
            "{SEP}page {}/{}",
            layout.page + 1,
            layout.pages
        )));
    }
    if app.zoom {
        spans.push(Span::raw(format!("{SEP}zoom")));
    }
    if !app.mouse_capture {
        spans.push(Span::raw(format!("{SEP}mouse off")));
    }
    if let Some(notice) = &app.notice {
        let style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
        spans.push(Span::raw(SEP));
        spans.push(Span::styled(notice.clone(), style));
    }
    if let Some(mock) = mock_text(&app.mock) {
        spans.push(Span::raw(format!("{SEP}{mock}")));
    }
    let plural = if total == 1 { "" } else { "s" };
    spans.push(Span::raw(format!(
        "{SEP}1 thread runs {total} session{plural} + UI"
    )));
    if let Some(lag) = app.lag {
        // Lateness of the loop's 10 ms probe: what a keystroke may wait behind other work.
        let ms = lag.as_millis();
        let style = if ms >= 100 {
            Style::new().fg(Color::LightRed)
        } else {
            Style::new()
        };
        spans.push(Span::raw(SEP));
        spans.push(Span::styled(format!("lag {ms} ms"), style));
    }
    spans.push(Span::raw(format!("{SEP}F1 help")));
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}

pub fn draw_input(frame: &mut Frame, app: &App, area: Rect) {
    let accent = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
    let (prompt, text) = match app.mode {
        InputMode::Keystroke => (
            "KEYS» ",
            format!(
                "every key goes to {} active sessions; Ctrl-] returns to line mode",
                app.target_count()
            ),
        ),
        InputMode::Focus => {
            let name = app.focused().map_or("", |p| p.name.as_str());
            ("FOCUS» ", format!("keys go to {name} only; Ctrl-] returns"))
        }
        InputMode::Line => return draw_line_editor(frame, app, area),
    };
    let line = Line::from(vec![Span::styled(prompt, accent), Span::raw(text)]);
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_line_editor(frame: &mut Frame, app: &App, area: Rect) {
    let editor = &app.editor;
    if editor.is_hidden() {
        let hint = "hidden input: not shown, not kept; Enter sends, Alt-P cancels";
        let line = Line::from(vec![
            Span::styled(
                "secret» ",
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
            Span::styled(hint, Style::new().add_modifier(Modifier::DIM)),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let prompt = "bcast» ";
    let accent = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
    let (shown, cursor_col) = scroll_to_cursor(
        editor.text(),
        editor.before_cursor(),
        area.width.saturating_sub(prompt.len() as u16 + 1),
    );
    let line = Line::from(vec![Span::styled(prompt, accent), Span::raw(shown)]);
    frame.render_widget(Paragraph::new(line), area);
    if app.overlay.is_none() && !area.is_empty() {
        let x = area.x + prompt.chars().count() as u16 + cursor_col;
        frame.set_cursor_position(Position::new(x.min(area.right() - 1), area.y));
    }
}

/// The part of `text` to show in `width` columns so the cursor stays in view, and the
/// cursor's column within it. Widths are display widths, so CJK text scrolls correctly.
pub fn scroll_to_cursor<'a>(text: &'a str, before: &str, width: u16) -> (&'a str, u16) {
    let width = usize::from(width.max(1));
    let mut start = 0;
    let mut cursor = Span::raw(before).width();
    for c in text.chars() {
        if cursor < width {
            break;
        }
        cursor -= Span::raw(c.to_string()).width();
        start += c.len_utf8();
    }
    (&text[start..], cursor as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_scroll_to_keep_the_cursor_visible() {
        assert_eq!(scroll_to_cursor("abc", "ab", 10), ("abc", 2));
        assert_eq!(scroll_to_cursor("abcdef", "abcdef", 4), ("def", 3));
        assert_eq!(scroll_to_cursor("中文字符", "中文字符", 5), ("字符", 4));
    }
}
