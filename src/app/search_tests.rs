//! The search model driven through `App::update`, as the loop drives it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::search::Phase;
use super::*;

fn app_with(n: usize) -> App {
    let mut app = App::new(120, 40, n);
    // 1000 lines of history a pane: a 2000-line flood scrolls the first lines out.
    app.scrollback.lines = 1000;
    for i in 0..n {
        let (id, _) = app.add_pane(format!("web{:02}", i + 1));
        let _ = app.update(Msg::State {
            id,
            state: SessionState::Ready,
        });
    }
    app
}

fn key(app: &mut App, code: KeyCode, mods: KeyModifiers) -> Vec<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, mods)))
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    key(app, code, KeyModifiers::NONE)
}

fn type_str(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn output(app: &mut App, id: SessionId, text: &str) {
    let _ = app.update(Msg::Output {
        id,
        data: text.replace('\n', "\r\n").into_bytes(),
    });
}

/// Slices until the scan is done; how many it took.
fn finish(app: &mut App) -> usize {
    let mut slices = 0;
    while app.search_pending() {
        let _ = app.update(Msg::SearchSlice);
        slices += 1;
        assert!(slices < 100_000, "the scan never ends");
    }
    slices
}

fn matches(app: &App) -> Vec<(SessionId, String)> {
    let search = app.search().expect("search open");
    search
        .matches
        .iter()
        .map(|((id, _), m)| (*id, m.context.clone()))
        .collect()
}

/// Ten panes with 100 lines each; panes 2, 5 and 7 print the token once, in their history.
fn ten_panes_three_with_token() -> App {
    let mut app = app_with(10);
    for id in 0..10 {
        let mut text = String::new();
        for line in 0..100 {
            if line == 20 && [2, 5, 7].contains(&id) {
                text.push_str(&format!("found Needle-{id} here\n"));
            } else {
                text.push_str(&format!("pane {id} line {line}\n"));
            }
        }
        output(&mut app, id, &text);
    }
    app
}

#[test]
fn a_token_in_three_panes_is_found_jumped_to_and_made_the_receivers() {
    let mut app = ten_panes_three_with_token();
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    type_str(&mut app, "needle");
    finish(&mut app);
    let found = matches(&app);
    let panes: Vec<SessionId> = found.iter().map(|(id, _)| *id).collect();
    assert_eq!(panes, [2, 5, 7]);
    assert_eq!(found[0].1, "found Needle-2 here");
    // Enter: browsing, at the first match; n on to the others, around to the first.
    press(&mut app, KeyCode::Enter);
    for expected in [2, 5, 7, 2] {
        let search = app.search().unwrap();
        assert_eq!(search.phase, Phase::Browsing);
        let (id, line) = search.current.expect("a current match");
        assert_eq!(id, expected);
        assert_eq!(app.focus, expected);
        assert!(app.zoom);
        let pane = &app.panes[expected];
        assert!(pane.scroll_offset() > 0, "scrolled back to the line");
        let (row, col) = pane.view_cell_of(line, 6).expect("the match shows");
        let row_text = pane.view_row_text(row).unwrap();
        assert_eq!(row_text.trim_end(), format!("found Needle-{expected} here"));
        assert_eq!(col, 6);
        press(&mut app, KeyCode::Char('n'));
    }
    // N goes back.
    press(&mut app, KeyCode::Char('N'));
    assert_eq!(app.search().unwrap().current.unwrap().0, 2);
    press(&mut app, KeyCode::Char('r'));
    assert!(
        app.search().is_none(),
        "the receivers key leaves the search"
    );
    let receivers: Vec<SessionId> = app.targets();
    assert_eq!(receivers, [2, 5, 7]);
    assert!(!app.zoom, "the zoom is back as it was");
}

#[test]
fn smart_case_and_regex() {
    let mut app = ten_panes_three_with_token();
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    // A capital letter: case matters.
    type_str(&mut app, "needle");
    finish(&mut app);
    assert_eq!(matches(&app).len(), 3);
    press(&mut app, KeyCode::Backspace);
    type_str(&mut app, "E");
    finish(&mut app);
    assert_eq!(matches(&app).len(), 0);
    key(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    // Plain: regex characters are literal.
    type_str(&mut app, "Needle-[25]");
    finish(&mut app);
    assert_eq!(matches(&app).len(), 0);
    key(&mut app, KeyCode::Char('r'), KeyModifiers::CONTROL);
    finish(&mut app);
    let panes: Vec<SessionId> = matches(&app).iter().map(|(id, _)| *id).collect();
    assert_eq!(panes, [2, 5]);
    let first = &app
        .search()
        .unwrap()
        .matches
        .values()
        .next()
        .unwrap()
        .clone();
    assert_eq!((first.start, first.len), (6, 8));
    // A regex that does not compile says why and finds nothing.
    type_str(&mut app, "(");
    assert!(app.search().unwrap().error.is_some());
    assert!(!app.search_pending());
    press(&mut app, KeyCode::Backspace);
    assert!(app.search().unwrap().error.is_none());
    // Matching only the empty string is no match.
    key(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    type_str(&mut app, "x*");
    finish(&mut app);
    assert_eq!(matches(&app).len(), 0);
}

#[test]
fn slash_opens_the_search_on_an_empty_line_only() {
    let mut app = app_with(2);
    press(&mut app, KeyCode::Char('/'));
    assert!(app.search().is_some());
    // `//`: the line starts with `/`.
    press(&mut app, KeyCode::Char('/'));
    assert!(app.search().is_none());
    type_str(&mut app, "etc/init.d/x restart");
    assert_eq!(app.editor.text(), "/etc/init.d/x restart");
    // Ctrl-F keeps a leading `/` in the query.
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    type_str(&mut app, "/etc");
    assert_eq!(app.search().unwrap().query.text(), "/etc");
    press(&mut app, KeyCode::Esc);
    assert!(app.search().is_none());
    assert_eq!(app.editor.text(), "/etc/init.d/x restart");
    // Not on a line already typed.
    let effects = press(&mut app, KeyCode::Enter);
    assert!(!effects.is_empty());
    type_str(&mut app, "ls /");
    assert!(app.search().is_none());
    assert_eq!(app.editor.text(), "ls /");
}

#[test]
fn the_scan_goes_in_slices_and_resumes_where_it_stopped() {
    let mut app = app_with(20);
    for id in 0..20 {
        let text: String = (0..300)
            .map(|l| format!("p{id} l{l} tok{}\n", l % 7))
            .collect();
        output(&mut app, id, &text);
    }
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    type_str(&mut app, "tok3");
    let search = app.search.as_mut().unwrap();
    let mut slices = 0;
    while search.pending() {
        // A budget already spent: each slice still gets some lines done.
        search.slice(&mut app.panes, std::time::Duration::ZERO);
        slices += 1;
    }
    let lines: u64 = app
        .panes
        .iter()
        .map(|p| p.line_span().end - p.line_span().start)
        .sum();
    assert!(slices > 20, "{slices} slices");
    let search = app.search().unwrap();
    assert_eq!(search.lines_scanned, lines, "every line once");
    let expected: usize = (0..20)
        .map(|id| app.panes[id].scrollback_text().matches("tok3").count())
        .sum();
    assert_eq!(search.matches.len(), expected);
}

#[test]
fn output_during_the_search_is_found_and_lines_that_fell_off_go() {
    let mut app = app_with(3);
    for id in 0..3 {
        output(&mut app, id, "alpha marker\nbeta\n");
    }
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    type_str(&mut app, "marker");
    // Half a pass, then output in a pane already scanned and in one not yet.
    let _ = app.update(Msg::SearchSlice);
    output(&mut app, 0, "new marker 0\n");
    output(&mut app, 2, "new marker 2\n");
    finish(&mut app);
    let found = matches(&app);
    assert!(found.contains(&(0, "new marker 0".into())), "{found:?}");
    assert!(found.contains(&(2, "new marker 2".into())), "{found:?}");
    assert_eq!(found.len(), 5);
    // The same line typed over on the screen is found once, as it is now.
    output(&mut app, 1, "half mar");
    finish(&mut app);
    output(&mut app, 1, "ker\n");
    finish(&mut app);
    assert!(matches(&app).contains(&(1, "half marker".into())));
    assert_eq!(matches(&app).len(), 6);
    // Pane 1 scrolls its whole history away: its old matches go.
    let flood: String = (0..2000).map(|i| format!("flood {i}\n")).collect();
    output(&mut app, 1, &flood);
    finish(&mut app);
    let found = matches(&app);
    assert!(found.iter().all(|(id, _)| *id != 1), "{found:?}");
    let span = app.panes[1].line_span();
    assert!(
        app.search()
            .unwrap()
            .matches
            .keys()
            .all(|(id, n)| *id != 1 || span.contains(n))
    );
}

#[test]
fn enter_before_any_match_jumps_to_the_first_found() {
    let mut app = ten_panes_three_with_token();
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    type_str(&mut app, "needle");
    press(&mut app, KeyCode::Enter);
    finish(&mut app);
    assert_eq!(app.search().unwrap().current.map(|k| k.0), Some(2));
    assert_eq!(app.focus, 2);
    // Esc leaves; the zoom goes back.
    press(&mut app, KeyCode::Esc);
    assert!(app.search().is_none() && !app.zoom);
}

#[test]
fn no_match_says_so_and_the_receivers_stay() {
    let mut app = ten_panes_three_with_token();
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    type_str(&mut app, "absent");
    finish(&mut app);
    press(&mut app, KeyCode::Enter);
    assert!(app.notice().is_some());
    press(&mut app, KeyCode::Char('r'));
    assert_eq!(app.targets().len(), 10);
    assert!(app.search().is_some());
}

#[test]
fn a_match_after_a_flood_is_found() {
    let mut app = app_with(3);
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    type_str(&mut app, "zebra");
    finish(&mut app);
    for chunk in 0..50 {
        let flood: String = (0..100).map(|i| format!("{}\n", chunk * 100 + i)).collect();
        output(&mut app, 1, &flood);
        let _ = app.update(Msg::SearchSlice);
    }
    output(&mut app, 1, "zebra here\n$ ");
    finish(&mut app);
    assert_eq!(matches(&app), [(1, "zebra here".to_string())]);
}

#[test]
fn a_refresh_that_stops_in_one_pane_resumes_in_that_pane() {
    let mut app = app_with(3);
    key(&mut app, KeyCode::Char('f'), KeyModifiers::CONTROL);
    type_str(&mut app, "marker");
    finish(&mut app);
    // Pane 0 gets enough new lines for a refresh slice to stop in it; pane 1 gets the
    // marker with more lines than its screen after it, in the same burst.
    let many: String = (0..400).map(|i| format!("more {i}\n")).collect();
    output(&mut app, 0, &many);
    let after: String = (0..60).map(|i| format!("after {i}\n")).collect();
    output(&mut app, 1, &format!("a marker line\n{after}"));
    let search = app.search.as_mut().unwrap();
    while search.pending() {
        search.slice(&mut app.panes, std::time::Duration::ZERO);
    }
    assert_eq!(matches(&app), [(1, "a marker line".to_string())]);
}
