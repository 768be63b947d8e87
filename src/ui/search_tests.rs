//! Snapshots of the search: its prompt, the match list, and the highlighted match.

use crossterm::event::{KeyCode, KeyModifiers};

use super::tests::{key, ready_app, render, render_buffer};
use crate::app::{App, Msg};

fn output(app: &mut App, id: usize, text: &str) {
    let data = text.replace('\n', "\r\n").into_bytes();
    let _ = app.update(Msg::Output { id, data });
}

fn type_str(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

fn finish(app: &mut App) {
    while app.search_pending() {
        let _ = app.update(Msg::SearchSlice);
    }
}

/// Four panes of 40 lines; panes 1 and 3 print `disk full` in their history.
fn app_with_history() -> App {
    let mut app = ready_app(100, 26, 4);
    for id in 0..4 {
        let text: String = (0..40)
            .map(|l| match (id, l) {
                (1 | 3, 12) => format!("kernel: disk full on /var ({id})\n"),
                _ => format!("host{:02} log line {l}\n", id + 1),
            })
            .collect();
        output(&mut app, id, &text);
    }
    app
}

#[test]
fn typing_shows_the_count_and_the_list() {
    let mut app = app_with_history();
    type_str(&mut app, "/disk f");
    finish(&mut app);
    insta::assert_snapshot!(render(&app));
}

#[test]
fn browsing_zooms_and_highlights_the_match() {
    let mut app = app_with_history();
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    type_str(&mut app, "disk full");
    finish(&mut app);
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    key(&mut app, KeyCode::Char('n'), KeyModifiers::NONE);
    finish(&mut app);
    let (text, buffer) = render_buffer(&app);
    insta::assert_snapshot!(text);
    // The match's cells, and only they, carry the highlight.
    let style = super::search::match_style();
    let marked: String = buffer
        .content()
        .iter()
        .filter(|cell| cell.bg == style.bg.unwrap() && cell.fg == style.fg.unwrap())
        .map(|cell| cell.symbol())
        .collect();
    // In the pane, then in each row of the list.
    assert_eq!(marked, "disk full".repeat(3));
}

#[test]
fn a_bad_regex_says_why() {
    let mut app = app_with_history();
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    key(&mut app, KeyCode::Char('r'), KeyModifiers::CONTROL);
    type_str(&mut app, "disk (");
    let text = render(&app);
    let last = text.lines().last().unwrap();
    assert!(
        last.contains("regex» disk (") && last.contains("bad regex"),
        "{last}"
    );
}

#[test]
fn the_search_speaks_chinese() {
    use crate::lang::{Lang, with};
    with(Lang::Zh, || {
        let mut app = app_with_history();
        type_str(&mut app, "/disk full");
        finish(&mut app);
        let text = render(&app);
        let prompt = text.lines().last().unwrap_or_default();
        assert!(prompt.contains("查找» disk full"), "{prompt}");
        assert!(
            prompt.contains("处匹配") && prompt.contains("// 在行里输入 /"),
            "{prompt}"
        );
        assert!(text.contains("匹配：2 处"), "{text}");
        key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
        let prompt = render(&app).lines().last().unwrap_or_default().to_string();
        assert!(
            prompt.contains("第 1/2 处匹配") && prompt.contains("n/N 下一个"),
            "{prompt}"
        );
    });
}
