//! The status bar and the broadcast line at the bottom of the screen.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::layout::PaneLayout;
use crate::app::{App, InputMode, MockStatus};
use crate::lang::{tr, trf};
use crate::ssh::SessionState;

const SEP: &str = " │ ";

fn mode_label(mode: InputMode) -> &'static str {
    match mode {
        InputMode::Line => tr("LINE"),
        InputMode::Keystroke => tr("KEYS"),
        InputMode::Focus => tr("FOCUS"),
    }
}

/// The mock's status, long and short: the address is what gives way first at 80 columns.
fn mock_forms(status: &MockStatus) -> Vec<Vec<Span<'static>>> {
    let (long, short) = match status {
        MockStatus::Off => return Vec::new(),
        MockStatus::Starting => (tr("mock starting…").to_string(), tr("mock…").to_string()),
        MockStatus::Listening(addr) => (
            trf(
                "mock on {addr} ({user}/{password})",
                &[
                    ("addr", addr),
                    ("user", &crate::mock::DEFAULT_USER),
                    ("password", &crate::mock::DEFAULT_PASSWORD),
                ],
            ),
            tr("mock on").to_string(),
        ),
        MockStatus::Failed(reason) => (
            trf("mock failed: {reason}", &[("reason", reason)]),
            tr("mock failed").into(),
        ),
    };
    vec![vec![Span::raw(long)], vec![Span::raw(short)]]
}

/// What can be in the status bar, named so the order in which they give way reads as a list.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Slot {
    Counts,
    Targets,
    Mode,
    Page,
    Zoom,
    Mouse,
    Notice,
    /// A canary or rolling send in progress.
    Staged,
    /// Panes showing a password prompt.
    Asking,
    /// Panes down and reconnecting by themselves, or given up.
    Down,
    Mock,
    Threads,
    Lag,
    Help,
}

/// When the bar is too wide, these steps run in order until it fits: each moves that item
/// to its next shorter form, or drops it after its last one. The mode, the thread message
/// and "F1 help" never go: they are what the TUI is about. A notice answers the key just
/// pressed and lasts until the next one, so the counts and targets make room for it (the
/// pane titles show each state and ●/○ meanwhile) before it is squeezed.
const GIVE_WAY: &[Slot] = &[
    Slot::Mock,
    Slot::Counts,
    Slot::Targets,
    Slot::Mock,
    Slot::Lag,
    Slot::Asking,
    Slot::Down,
    Slot::Mouse,
    Slot::Zoom,
    Slot::Targets,
    Slot::Counts,
    Slot::Notice,
];

/// A notice cut shorter than this is dropped rather than shown as a stub.
const MIN_NOTICE: usize = 10;

struct Item {
    slot: Slot,
    /// Longest first; the item is dropped once `level` runs past the last.
    forms: Vec<Vec<Span<'static>>>,
    level: usize,
}

impl Item {
    fn new(slot: Slot, forms: Vec<Vec<Span<'static>>>) -> Self {
        Item {
            slot,
            forms,
            level: 0,
        }
    }

    fn one(slot: Slot, span: Span<'static>) -> Self {
        Item::new(slot, vec![vec![span]])
    }

    fn shown(&self) -> Option<&[Span<'static>]> {
        self.forms.get(self.level).map(Vec::as_slice)
    }

    fn width(&self) -> usize {
        self.shown().map_or(0, |s| s.iter().map(Span::width).sum())
    }
}

/// The width of the bar with each item in its current form, separators included.
fn bar_width(items: &[Item]) -> usize {
    let shown: Vec<usize> = items
        .iter()
        .filter(|i| i.shown().is_some())
        .map(Item::width)
        .collect();
    let seps = shown.len().saturating_sub(1) * Span::raw(SEP).width();
    1 + shown.iter().sum::<usize>() + seps
}

/// Shortens and drops items along [`GIVE_WAY`] until the bar fits in `width` columns.
fn fit(items: &mut [Item], width: usize) {
    for &slot in GIVE_WAY {
        let total = bar_width(items);
        if total <= width {
            return;
        }
        let Some(item) = items.iter_mut().find(|i| i.slot == slot) else {
            continue;
        };
        if slot == Slot::Notice {
            // The notice is cut to the room left rather than dropped whole: it says why
            // the last key did nothing.
            let room = (width + item.width()).saturating_sub(total);
            match item.shown() {
                Some([span]) if room >= MIN_NOTICE => {
                    let cut = Span::styled(squeeze(&span.content, room), span.style);
                    item.forms = vec![vec![cut]];
                }
                _ => item.level = item.forms.len(),
            }
        } else {
            item.level += 1;
        }
    }
}

/// `text` in `width` display columns: its start (what happened, to which host) and its end
/// (a file name, the key that helps) kept, the middle given up for an ellipsis.
pub(super) fn squeeze(text: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    if text.width() <= width {
        return text.to_string();
    }
    let room = width.saturating_sub(1);
    let head = take_width(text.chars(), room - room / 2);
    let tail = take_width(text.chars().rev(), room - head.width());
    format!("{head}…{}", tail.chars().rev().collect::<String>())
}

/// The leading `chars` that fit in `width` display columns.
pub(super) fn take_width(chars: impl Iterator<Item = char>, width: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut room = width;
    let mut kept = String::new();
    for c in chars {
        let w = c.width().unwrap_or(0);
        if w > room {
            break;
        }
        room -= w;
        kept.push(c);
    }
    kept
}

fn count_forms(ready: usize, failed: usize, total: usize) -> Vec<Vec<Span<'static>>> {
    let green = Style::new().fg(Color::LightGreen);
    let red = Style::new().fg(Color::LightRed);
    let long = vec![
        Span::styled(trf("{ready} ready", &[("ready", &ready)]), green),
        Span::raw(" "),
        Span::styled(trf("{failed} failed", &[("failed", &failed)]), red),
        Span::raw(" "),
        Span::raw(trf("{total} total", &[("total", &total)])),
    ];
    let ready_of = trf(
        "{ready}/{total} ready",
        &[("ready", &ready), ("total", &total)],
    );
    let mut short = vec![Span::styled(ready_of, green)];
    if failed > 0 {
        short.push(Span::raw(" "));
        short.push(Span::styled(
            trf("{failed} failed", &[("failed", &failed)]),
            red,
        ));
    }
    vec![long, short]
}

/// "overview", and which screenful when they do not all fit on one.
fn overview_label(app: &App) -> String {
    match app.overview().grid.screen() {
        (_, 1) => tr("overview").into(),
        (screen, screens) => trf(
            "overview {screen}/{screens}",
            &[("screen", &(screen + 1)), ("screens", &screens)],
        ),
    }
}

/// Every item the bar would show with room enough, in the order they are drawn.
fn status_items(app: &App, layout: &PaneLayout) -> Vec<Item> {
    let count = |f: fn(&SessionState) -> bool| app.panes.iter().filter(|p| f(&p.state)).count();
    let ready = count(|s| *s == SessionState::Ready);
    let failed = count(|s| matches!(s, SessionState::Failed { .. }));
    let total = app.panes.len();
    let targets = match app.mode {
        InputMode::Focus => usize::from(app.focused().is_some()),
        _ => app.target_count(),
    };
    let bold = Style::new().add_modifier(Modifier::BOLD);
    let mut items = vec![
        Item::new(Slot::Counts, count_forms(ready, failed, total)),
        Item::new(
            Slot::Targets,
            vec![
                vec![Span::raw(trf(
                    "→ {targets}/{total} sessions",
                    &[("targets", &targets), ("total", &total)],
                ))],
                vec![Span::raw(format!("→ {targets}/{total}"))],
            ],
        ),
        Item::one(Slot::Mode, Span::styled(mode_label(app.mode), bold)),
    ];
    if app.overview_shown() {
        items.push(Item::one(Slot::Page, Span::raw(overview_label(app))));
    } else if layout.pages > 1 {
        let page = trf(
            "page {page}/{pages}",
            &[("page", &(layout.page + 1)), ("pages", &layout.pages)],
        );
        items.push(Item::one(Slot::Page, Span::raw(page)));
    }
    if app.zoom {
        items.push(Item::one(Slot::Zoom, Span::raw(tr("zoom"))));
    }
    if !app.mouse_capture {
        items.push(Item::one(Slot::Mouse, Span::raw(tr("mouse off"))));
    }
    // What a canary or rolling send waits for stays until it moves on: it is not a notice.
    if let Some(staged) = app.staged_status() {
        let style = Style::new().fg(Color::Black).bg(Color::Yellow);
        items.push(Item::one(Slot::Staged, Span::styled(staged, style)));
    }
    let asking = app.panes.iter().filter(|p| p.asks_password).count();
    if asking > 0 {
        let text = trf(
            "{asking} ask a password: Alt-W answers",
            &[("asking", &asking)],
        );
        let style = Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD);
        items.push(Item::one(Slot::Asking, Span::styled(text, style)));
    }
    if let Some(down) = down_forms(app) {
        items.push(Item::new(Slot::Down, down));
    }
    if let Some(notice) = &app.notice {
        let style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
        items.push(Item::one(Slot::Notice, Span::styled(notice.clone(), style)));
    }
    let mock = mock_forms(&app.mock);
    if !mock.is_empty() {
        items.push(Item::new(Slot::Mock, mock));
    }
    let threads = if total == 1 {
        trf("1 thread runs {total} session + UI", &[("total", &total)])
    } else {
        trf("1 thread runs {total} sessions + UI", &[("total", &total)])
    };
    items.push(Item::one(Slot::Threads, Span::raw(threads)));
    if let Some(lag) = app.lag {
        // Lateness of the loop's 10 ms probe: what a keystroke may wait behind other work.
        let ms = lag.as_millis();
        let style = if ms >= 100 {
            Style::new().fg(Color::LightRed)
        } else {
            Style::new()
        };
        items.push(Item::one(
            Slot::Lag,
            Span::styled(trf("lag {ms} ms", &[("ms", &ms)]), style),
        ));
    }
    items.push(Item::one(Slot::Help, Span::raw(tr("F1 help"))));
    items
}

pub fn draw_status(frame: &mut Frame, app: &App, layout: &PaneLayout, area: Rect) {
    let mut items = status_items(app, layout);
    fit(&mut items, usize::from(area.width));
    let mut spans = vec![Span::raw(" ")];
    for spans_of in items.iter().filter_map(Item::shown) {
        if spans.len() > 1 {
            spans.push(Span::raw(SEP));
        }
        spans.extend(spans_of.iter().cloned());
    }
    let bar = Style::new().bg(Color::DarkGray).fg(Color::White);
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}

/// Draws the input line; returns where the terminal's cursor goes, if it shows.
pub fn draw_input(frame: &mut Frame, app: &App, area: Rect) -> Option<Position> {
    let accent = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
    let (prompt, text) = match app.mode {
        InputMode::Keystroke => {
            let count = app.target_count();
            let text = if count == 1 {
                "every key goes to {count} active session; Ctrl-] returns to line mode"
            } else {
                "every key goes to {count} active sessions; Ctrl-] returns to line mode"
            };
            (tr("KEYS» "), trf(text, &[("count", &count)]))
        }
        InputMode::Focus => {
            let name = app.focused().map_or("", |p| p.name.as_str());
            (
                tr("FOCUS» "),
                trf("keys go to {name} only; Ctrl-] returns", &[("name", &name)]),
            )
        }
        InputMode::Line => return draw_line_editor(frame, app, area),
    };
    let line = Line::from(vec![Span::styled(prompt, accent), Span::raw(text)]);
    frame.render_widget(Paragraph::new(line), area);
    None
}

fn draw_line_editor(frame: &mut Frame, app: &App, area: Rect) -> Option<Position> {
    let editor = &app.editor;
    if editor.is_hidden() {
        let hint = tr("hidden input: not shown, not kept; Enter sends, Alt-P cancels");
        let line = Line::from(vec![
            Span::styled(
                tr("secret» "),
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            ),
            Span::styled(hint, Style::new().add_modifier(Modifier::DIM)),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return None;
    }
    let prompt = tr("bcast» ");
    let prompt_width = Span::raw(prompt).width() as u16;
    let accent = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
    let (shown, cursor_col) = scroll_to_cursor(
        editor.text(),
        editor.before_cursor(),
        // Counted in bytes, as always: at least the prompt's columns, and a spare one.
        area.width.saturating_sub(prompt.len() as u16 + 1),
    );
    let line = Line::from(vec![Span::styled(prompt, accent), Span::raw(shown)]);
    frame.render_widget(Paragraph::new(line), area);
    (app.overlay.is_none() && !area.is_empty()).then(|| {
        let x = area.x + prompt_width + cursor_col;
        Position::new(x.min(area.right() - 1), area.y)
    })
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

/// "2 down, retrying · 1 gave up" (and "2↻ 1✗" when short of room): panes out of the
/// broadcast until they are back.
fn down_forms(app: &App) -> Option<Vec<Vec<Span<'static>>>> {
    let (retrying, gave_up) = app.down_counts();
    if retrying + gave_up == 0 {
        return None;
    }
    let mut long = Vec::new();
    let mut short = Vec::new();
    if retrying > 0 {
        long.push(trf("{n} down, retrying", &[("n", &retrying)]));
        short.push(format!("{retrying}↻"));
    }
    if gave_up > 0 {
        long.push(trf("{n} gave up", &[("n", &gave_up)]));
        short.push(format!("{gave_up}✗"));
    }
    let style = Style::new()
        .fg(Color::LightRed)
        .add_modifier(Modifier::BOLD);
    Some(vec![
        vec![Span::styled(long.join(" · "), style)],
        vec![Span::styled(short.join(" "), style)],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeezed_text_keeps_both_ends_within_its_width() {
        assert_eq!(squeeze("short", 10), "short");
        assert_eq!(
            squeeze("saved to /home/test/mtssh-web01.txt", 20),
            "saved to /…web01.txt"
        );
        assert_eq!(squeeze("主机已连接成功", 8), "主机…功");
        for width in 0..40 {
            let cut = squeeze("web01: session ended with 1.2 MB of input unsent", width);
            assert!(unicode_width::UnicodeWidthStr::width(cut.as_str()) <= width.max(1));
        }
    }

    #[test]
    fn long_lines_scroll_to_keep_the_cursor_visible() {
        assert_eq!(scroll_to_cursor("abc", "ab", 10), ("abc", 2));
        assert_eq!(scroll_to_cursor("abcdef", "abcdef", 4), ("def", 3));
        assert_eq!(scroll_to_cursor("中文字符", "中文字符", 5), ("字符", 4));
    }
}
