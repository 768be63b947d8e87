//! The overview drawn: a snapshot of a small one, and a thousand names on one 250x80 screen.

use crossterm::event::{KeyCode, KeyModifiers};

use super::tests::{key, ready_app, render};
use crate::app::{App, Msg};
use crate::ssh::{SessionError, SessionState};

/// Marks a command that ended with `status` on pane `id` (OSC 133 C and D, then a prompt).
fn command_ended(app: &mut App, id: usize, output: &str, status: Option<u32>) {
    let end = status.map_or(String::new(), |s| format!("\x1b]133;D;{s}\x07$ "));
    let data = format!("\x1b]133;C\x07\r\n{output}\r\n{end}").into_bytes();
    let _ = app.update(Msg::Output { id, data });
}

fn fail(app: &mut App, id: usize) {
    let state = SessionState::Failed {
        error: SessionError::Other("connection refused".into()),
    };
    let _ = app.update(Msg::State { id, state });
}

/// The words on screen, marks and badges aside: whole names, not parts of longer ones.
fn words(screen: &str) -> std::collections::HashSet<String> {
    screen
        .split(|c: char| c.is_whitespace() || "●○│\"".contains(c))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn thirty_sessions_failures_first() {
    let mut app = ready_app(100, 30, 30);
    assert!(app.overview_shown(), "30 panes would page at 100x30");
    for id in 0..30 {
        command_ended(&mut app, id, "up 3 days", Some(0));
    }
    fail(&mut app, 21);
    let closed = SessionState::Closed {
        exit_status: Some(0),
        signal: None,
    };
    let _ = app.update(Msg::State {
        id: 6,
        state: closed,
    });
    command_ended(&mut app, 12, "disk full", Some(2));
    command_ended(&mut app, 3, "", None);
    app.panes[8].in_broadcast = false;
    let screen = render(&app);
    insta::assert_snapshot!("overview_30_at_100x30", screen);
}

#[test]
fn enter_zooms_the_highlighted_tile_and_alt_m_comes_back() {
    let mut app = ready_app(100, 30, 30);
    fail(&mut app, 17);
    // The failed one is first, then host01 (highlighted); one step right is host02.
    assert_eq!(app.overview_order()[..2], [17, 0]);
    key(&mut app, KeyCode::Right, KeyModifiers::NONE);
    let highlighted = app.focus;
    assert_eq!(app.overview_order()[2], highlighted);
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert!(!app.overview_shown());
    let layout = app.layout();
    assert_eq!(layout.visible, vec![(highlighted, app.panes_area())]);
    assert!(render(&app).contains("host02"));
    key(&mut app, KeyCode::Char('m'), KeyModifiers::ALT);
    assert!(app.overview_shown());
    // With text on the line Enter sends it, as everywhere.
    key(&mut app, KeyCode::Char('x'), KeyModifiers::NONE);
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert!(app.overview_shown());
    // Alt-O: the grid by hand, and back.
    key(&mut app, KeyCode::Char('o'), KeyModifiers::ALT);
    assert!(!app.overview_shown());
    key(&mut app, KeyCode::Char('o'), KeyModifiers::ALT);
    assert!(app.overview_shown());
}

#[test]
fn a_click_highlights_the_tile_under_it() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut app = ready_app(100, 30, 30);
    let view = app.overview();
    let target = view.order[7];
    let rect = view.grid.rect(7).expect("tile 7 on screen");
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: rect.x + 3,
        row: rect.y,
        modifiers: KeyModifiers::NONE,
    };
    let _ = app.update(Msg::Mouse(click));
    assert_eq!(app.focus, target);
    assert!(app.overview_shown());
}

#[test]
fn a_thousand_names_on_one_250x80_screen_failures_first() {
    let mut app = ready_app(250, 80, 1000);
    fail(&mut app, 499);
    command_ended(&mut app, 749, "oops", Some(1));
    let screen = render(&app);
    let seen = words(&screen);
    let missing: Vec<String> = (1..=1000)
        .map(|i| format!("host{i:02}"))
        .filter(|name| !seen.contains(name))
        .collect();
    assert!(missing.is_empty(), "not on screen: {missing:?}\n{screen}");
    let first_row = screen.lines().next().unwrap_or_default();
    assert!(
        first_row.contains("host500") && first_row.contains("host750 ✗ 1"),
        "{first_row}"
    );
    assert!(screen.contains("overview"));
}

/// What the overview costs a frame at 1000 sessions: the order alone, and a whole draw
/// (order, grid, 1000 tiles) at 250x80. Numbers in docs/BENCHMARKS.md:
/// `cargo test --lib measure_overview -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check"]
fn measure_overview_1000_sessions() {
    let mut app = ready_app(250, 80, 1000);
    for id in (0..1000).step_by(37) {
        command_ended(&mut app, id, "oops", Some(1));
    }
    let runs = 20;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        assert_eq!(app.overview_order().len(), 1000);
    }
    let order = start.elapsed() / runs;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        assert!(render(&app).contains("host1000"));
    }
    let frame = start.elapsed() / runs;
    println!("overview of 1000 sessions: order {order:?}, whole frame at 250x80 {frame:?}");
}

#[test]
fn the_overview_in_chinese_says_states_and_its_screen_in_chinese() {
    crate::lang::with(crate::lang::Lang::Zh, || {
        let mut app = ready_app(100, 30, 30);
        for id in 0..30 {
            command_ended(&mut app, id, "up 3 days", Some(0));
        }
        fail(&mut app, 21);
        let closed = SessionState::Closed {
            exit_status: Some(0),
            signal: None,
        };
        let _ = app.update(Msg::State {
            id: 6,
            state: closed,
        });
        let screen = render(&app);
        insta::assert_snapshot!("zh_overview_30_at_100x30", screen);
        for needle in ["总览", "失败：", "已关闭"] {
            assert!(screen.contains(needle), "{needle}:\n{screen}");
        }
    });
}
