//! A pane down and reconnecting by itself: its title counts down, the status bar counts the
//! panes that are down, in English and in Chinese.

use std::time::{Duration, Instant};

use super::tests::{ready_app, render};
use crate::app::{App, Msg};
use crate::lang::{Lang, with};
use crate::ssh::reconnect::ReconnectPolicy;
use crate::ssh::{SessionError, SessionState};

/// Two ready panes that reconnect by themselves; the second has lost its connection and
/// waits 1.5 s more for its second try (2 s, rounded up); the deadlines are counted from `t0`.
fn one_down(cols: u16, rows: u16) -> App {
    let mut app = ready_app(cols, rows, 2);
    for id in app.pane_ids() {
        app.pane_mut(id).unwrap().reconnect = ReconnectPolicy::auto(10);
    }
    let lost = SessionState::Failed {
        error: SessionError::ConnectionLost {
            address: "10.0.0.2:22".into(),
            while_sending: None,
        },
    };
    let refused = SessionState::Failed {
        error: SessionError::Refused {
            address: "10.0.0.2:22".into(),
            reason: "Connection refused".into(),
        },
    };
    let t0 = Instant::now();
    let _ = app.update(Msg::State { id: 1, state: lost });
    let _ = app.update(Msg::Tick(t0));
    let _ = app.update(Msg::Tick(t0 + Duration::from_secs(1)));
    let _ = app.update(Msg::State {
        id: 1,
        state: refused,
    });
    let _ = app.update(Msg::Tick(t0 + Duration::from_secs(1)));
    let _ = app.update(Msg::Tick(t0 + Duration::from_millis(1500)));
    app
}

#[test]
fn a_pane_down_counts_down_in_its_title_and_the_status_bar_counts_it() {
    let app = one_down(120, 16);
    let screen = render(&app);
    assert!(screen.contains("retrying in 2 s (try 2/10)"), "{screen}");
    assert!(screen.contains("1 down, retrying"), "{screen}");
    assert!(screen.contains("→ 1/2 sessions"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn a_pane_down_in_chinese() {
    with(Lang::Zh, || {
        let app = one_down(120, 16);
        let screen = render(&app);
        assert!(screen.contains("2 秒后重试（第 2/10 次）"), "{screen}");
        assert!(screen.contains("1 个断开，重试中"), "{screen}");
    });
}

#[test]
fn an_overview_tile_shows_the_countdown_and_sorts_with_the_failures() {
    let mut app = one_down(120, 16);
    super::tests::key(
        &mut app,
        crossterm::event::KeyCode::Char('o'),
        crossterm::event::KeyModifiers::ALT,
    );
    assert!(app.overview_shown());
    let screen = render(&app);
    let first = screen.lines().next().unwrap_or_default();
    // Down first: host02's tile leads, with its countdown.
    assert!(first.contains("host02"), "{screen}");
    assert!(screen.contains("retrying in 2 s (try 2/10)"), "{screen}");
    // Connecting again still counts as down.
    let _ = app.update(Msg::Tick(Instant::now() + Duration::from_secs(60)));
    assert!(matches!(
        app.pane_retry(1),
        Some(crate::app::retry::Retry::Connecting { attempt: 2 })
    ));
    let screen = render(&app);
    assert!(screen.lines().next().unwrap_or_default().contains("host02"));
    assert!(screen.contains("reconnecting (try 2/10)"), "{screen}");
}
