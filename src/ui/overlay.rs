//! Dialogs drawn over the panes: help, confirmations, prompts, the add-host input.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use crate::app::editor::LineEditor;
use crate::app::help_layout::{HelpRow, HelpView};
use crate::app::layout::centered;
use crate::app::{App, Overlay};
use crate::lang::{tr, trf};

/// Draws the overlay, if one is open; returns where the terminal's cursor goes (a dialog's
/// input).
pub fn draw_overlay(frame: &mut Frame, app: &App, area: Rect) -> Option<Position> {
    let overlay = app.overlay.as_ref()?;
    match overlay {
        Overlay::Help { top } => {
            draw_help(frame, *top, area);
            None
        }
        Overlay::QuitConfirm => {
            let live = app.panes.iter().filter(|p| p.is_live()).count();
            let text = trf(
                "{live} sessions are still live.\nQuit and close them? [y/n]",
                &[("live", &live)],
            );
            draw_message(frame, area, tr(" Quit mtssh "), text);
            None
        }
        Overlay::PasteConfirm {
            text,
            lines,
            targets,
        } => {
            let preview: String = text.lines().take(3).collect::<Vec<_>>().join("\n");
            let body = trf(
                "Paste {lines} lines to {sessions} sessions? [y/n]\n\n{preview}",
                &[
                    ("lines", lines),
                    ("sessions", &targets.len()),
                    ("preview", &preview),
                ],
            );
            draw_message(frame, area, tr(" Multi-line paste "), body);
            None
        }
        Overlay::Prompt(dialog) => {
            let name = app.pane_name(dialog.id).unwrap_or("?");
            let title = trf(" {name} asks ", &[("name", &name)]);
            draw_input_dialog(frame, area, &title, &[&dialog.text], &dialog.input, None)
        }
        Overlay::Results(view) => {
            super::results::draw_results(frame, app, view, area);
            None
        }
        Overlay::Events(view) => {
            super::events::draw_events(frame, view, area);
            None
        }
        Overlay::SendConfirm(confirm) => {
            draw_message(
                frame,
                area,
                tr(" Confirm broadcast "),
                app.confirm_text(confirm),
            );
            None
        }
        Overlay::AnswerPrompts { ids, input } => {
            let text = app.answer_prompt_text(ids);
            let title = tr(" Password prompts ");
            draw_input_dialog(frame, area, title, &[&text], input, None)
        }
        Overlay::AddHost(editor) => {
            let text = tr("Host to add, as user@host:port (Enter adds, Esc cancels)");
            draw_input_dialog(frame, area, tr(" Add host "), &[text], editor, None)
        }
        Overlay::SaveGroup(dialog) => {
            let count = app.panes.iter().filter(|p| p.in_broadcast).count();
            let text = trf(
                "Name for these {count} receivers (then @name in Alt-G):",
                &[("count", &count)],
            );
            let error = dialog.error.as_deref();
            draw_input_dialog(
                frame,
                area,
                tr(" Save receivers "),
                &[&text],
                &dialog.input,
                error,
            )
        }
        Overlay::Transfer(dialog) => {
            let from = dialog.from.and_then(|id| app.pane_name(id)).unwrap_or("?");
            let question = dialog.question(from);
            let mut text = vec![question.as_str()];
            let given;
            if let Some(first) = &dialog.first {
                given = trf("({first}; Esc cancels)", &[("first", first)]);
                text.insert(0, given.as_str());
            }
            let title = match dialog.kind {
                crate::app::transfer::TransferKind::Upload => {
                    trf(" Upload to {n} receivers ", &[("n", &app.target_count())])
                }
                crate::app::transfer::TransferKind::Download => {
                    trf(" Download from {name} ", &[("name", &from)])
                }
            };
            let error = dialog.error.as_deref();
            draw_input_dialog(frame, area, &title, &text, &dialog.input, error)
        }
        Overlay::TransferCancel => {
            let text = tr("Cancel the transfer under way? [y/n]\n(no file is left half-written under its name)").to_string();
            draw_message(frame, area, tr(" Cancel transfer "), text);
            None
        }
        Overlay::BroadcastTo(dialog) => {
            let groups = trf("Groups: {groups}", &[("groups", &app.group_names_hint())]);
            let text = [
                tr("@group, pane names (mock-[01-03]), joined by , ! & ^"),
                groups.as_str(),
            ];
            let error = dialog.error.as_deref();
            let title = tr(" Broadcast to ");
            draw_input_dialog(frame, area, title, &text, &dialog.input, error)
        }
    }
}

pub(super) fn dialog_block(title: &str) -> Block<'_> {
    Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(Color::Cyan))
        .title(Span::styled(
            title,
            Style::new().add_modifier(Modifier::BOLD),
        ))
}

fn draw_message(frame: &mut Frame, area: Rect, title: &str, text: String) {
    let height = text.lines().count() as u16 + 2;
    let rect = centered(area, 56, height);
    frame.render_widget(Clear, rect);
    let body = Paragraph::new(text)
        .wrap(Wrap { trim: false })
        .block(dialog_block(title));
    frame.render_widget(body, rect);
}

/// Lines of `text`, the input, and an error under it if there is one; returns the input's
/// cursor.
fn draw_input_dialog(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    text: &[&str],
    input: &LineEditor,
    error: Option<&str>,
) -> Option<Position> {
    // Borders, the text, the input and a row under it for the error.
    let height = text.len() as u16 + 4;
    let rect = centered(area, 60, height);
    frame.render_widget(Clear, rect);
    let (shown, hint) = if input.is_hidden() {
        ("", tr("(typing is hidden)"))
    } else {
        (input.text(), "")
    };
    let mut lines: Vec<Line> = text.iter().map(|t| Line::raw(t.to_string())).collect();
    lines.push(Line::from(vec![
        Span::styled("» ", Style::new().fg(Color::Cyan)),
        Span::raw(shown.to_string()),
        Span::styled(hint, Style::new().add_modifier(Modifier::DIM)),
    ]));
    if let Some(error) = error {
        lines.push(Line::styled(error.to_string(), Style::new().fg(Color::Red)));
    }
    let input_row = text.len() as u16;
    let inner = dialog_block(title).inner(rect);
    frame.render_widget(Paragraph::new(lines).block(dialog_block(title)), rect);
    (inner.height > input_row && !input.is_hidden()).then(|| {
        let col = Span::raw(input.before_cursor()).width() as u16;
        let x = (inner.x + 2 + col).min(inner.right().saturating_sub(1));
        Position::new(x, inner.y + input_row)
    })
}

fn draw_help(frame: &mut Frame, top: usize, area: Rect) {
    // The same layout the model scrolls by (App::help_view), for the area drawn in.
    let view = HelpView::new(area);
    let top = top.min(view.max_top());
    let heading = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
    let lines: Vec<Line> = view.rows[top..]
        .iter()
        .take(view.visible)
        .map(|row| match row {
            HelpRow::Heading(text) => Line::styled(*text, heading),
            HelpRow::Entry { keys, action } => Line::from(vec![
                Span::styled(keys.as_str(), Style::new().fg(Color::Cyan)),
                Span::raw(action.as_str()),
            ]),
        })
        .collect();
    let scrolls = view.max_top() > 0;
    let title = if scrolls {
        tr(" mtssh keys (↑↓ PgUp/PgDn scroll, other keys close) ")
    } else {
        tr(" mtssh keys (any key closes) ")
    };
    let mut block = dialog_block(title);
    if scrolls {
        // Where the view is, so a reader knows more follows (or came before).
        let below = view.max_top() - top;
        let marker = match (top, below) {
            (0, _) => trf(" ▼ {below} more rows: ↓ PgDn ", &[("below", &below)]),
            (_, 0) => trf(" ▲ {top} rows above: ↑ PgUp ", &[("top", &top)]),
            _ => trf(
                " ▲ {top} above · ▼ {below} below ",
                &[("top", &top), ("below", &below)],
            ),
        };
        let style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
        block = block.title_bottom(Line::styled(marker, style).right_aligned());
    }
    frame.render_widget(Clear, view.rect);
    frame.render_widget(Paragraph::new(lines).block(block), view.rect);
}
