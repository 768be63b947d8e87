//! Reconnecting by itself: the backoff schedule and the cap driven with explicit times (no
//! sleeping), what is not retried, the broadcast a pane leaves and rejoins.

use std::time::{Duration, Instant};

use super::retry::Retry;
use super::{App, Effect, Msg};
use crate::ssh::reconnect::ReconnectPolicy;
use crate::ssh::{SessionError, SessionId, SessionState};

/// `n` ready panes that reconnect by themselves at most `tries` times.
fn auto_app(n: usize, tries: u32) -> App {
    let mut app = App::new(120, 40, n);
    for i in 0..n {
        let (id, _) = app.add_pane(format!("h{i}"));
        app.pane_mut(id).unwrap().reconnect = ReconnectPolicy::auto(tries);
        state(&mut app, id, SessionState::Ready);
    }
    app
}

fn state(app: &mut App, id: SessionId, state: SessionState) {
    assert!(app.update(Msg::State { id, state }).is_empty());
}

fn lost() -> SessionState {
    SessionState::Failed {
        error: SessionError::ConnectionLost {
            address: "127.0.0.1:22".into(),
            while_sending: None,
        },
    }
}

fn refused() -> SessionState {
    SessionState::Failed {
        error: SessionError::Refused {
            address: "127.0.0.1:22".into(),
            reason: "Connection refused".into(),
        },
    }
}

fn tick(app: &mut App, at: Instant) -> Vec<Effect> {
    app.update(Msg::Tick(at))
}

/// Ticks every 10 ms from `from` until a try starts; returns when it did.
fn next_try(app: &mut App, from: Instant) -> Instant {
    let mut at = from;
    for _ in 0..10_000 {
        let effects = tick(app, at);
        if !effects.is_empty() {
            assert!(
                matches!(effects.as_slice(), [Effect::Reconnect { .. }]),
                "{effects:?}"
            );
            return at;
        }
        at += Duration::from_millis(10);
    }
    panic!("no try within 100 s");
}

#[test]
fn tries_wait_one_two_four_seconds_and_stop_at_the_cap() {
    let mut app = auto_app(1, 3);
    let t0 = Instant::now();
    state(&mut app, 0, lost());
    assert!(app.needs_clock());
    assert_eq!(
        app.pane_retry(0),
        Some(Retry::Waiting {
            attempt: 1,
            due: None
        })
    );
    // The first tick starts the wait from its own time.
    assert!(tick(&mut app, t0).is_empty());
    let label = app.retry_label(app.pane(0).unwrap());
    assert_eq!(label.as_deref(), Some("retrying in 1 s (try 1/3)"));
    assert!(tick(&mut app, t0 + Duration::from_millis(999)).is_empty());
    let mut at = t0;
    let mut waits = Vec::new();
    for attempt in 1..=3 {
        let started = next_try(&mut app, at);
        waits.push(started - at);
        assert_eq!(app.pane_retry(0), Some(Retry::Connecting { attempt }));
        assert_eq!(app.pane_state(0), Some(&SessionState::Connecting));
        let label = app.retry_label(app.pane(0).unwrap()).unwrap();
        assert_eq!(label, format!("reconnecting (try {attempt}/3)"));
        // Nothing listens yet: the try fails, the next waits twice as long.
        at = started + Duration::from_millis(5);
        state(&mut app, 0, refused());
        if attempt < 3 {
            assert!(tick(&mut app, at).is_empty());
        }
    }
    let secs: Vec<u64> = waits.iter().map(|w| w.as_secs()).collect();
    assert_eq!(secs, [1, 2, 4]);
    assert_eq!(app.pane_retry(0), Some(Retry::GaveUp { tries: 3 }));
    assert!(!app.needs_clock());
    assert!(tick(&mut app, at + Duration::from_secs(60)).is_empty());
    assert_eq!(
        app.notice(),
        Some("h0: gave up reconnecting after 3 tries; F5 tries again")
    );
    assert_eq!(app.down_counts(), (0, 1));
    // F5 starts over.
    let f5 = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::F(5),
        crossterm::event::KeyModifiers::NONE,
    );
    assert_eq!(app.update(Msg::Key(f5)), vec![Effect::Reconnect { id: 0 }]);
    assert_eq!(app.pane_retry(0), Some(Retry::Connecting { attempt: 0 }));
}

#[test]
fn the_wait_stops_growing_at_thirty_seconds() {
    let mut app = auto_app(1, 20);
    state(&mut app, 0, lost());
    let mut at = Instant::now();
    let mut waits = Vec::new();
    for _ in 0..8 {
        assert!(tick(&mut app, at).is_empty());
        let Some(Retry::Waiting { due: Some(due), .. }) = app.pane_retry(0) else {
            panic!("{:?}", app.pane_retry(0));
        };
        waits.push((due - at).as_secs());
        at = due;
        assert_eq!(tick(&mut app, at), vec![Effect::Reconnect { id: 0 }]);
        state(&mut app, 0, refused());
    }
    assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
}

#[test]
fn a_reconnected_pane_keeps_its_lines_gets_a_marked_line_and_rejoins_the_broadcast() {
    let mut app = auto_app(3, 10);
    let _ = app.update(Msg::Output {
        id: 1,
        data: b"before-the-drop\r\n".to_vec(),
    });
    // The user took pane 2 out of the broadcast: coming back does not put it in again.
    app.pane_mut(2).unwrap().in_broadcast = false;
    state(&mut app, 1, lost());
    state(&mut app, 2, lost());
    assert_eq!(app.targets(), vec![0]);
    assert_eq!(app.down_counts(), (2, 0));
    let t0 = Instant::now();
    let _ = tick(&mut app, t0);
    let effects = tick(&mut app, t0 + Duration::from_secs(1));
    assert_eq!(
        effects,
        vec![Effect::Reconnect { id: 1 }, Effect::Reconnect { id: 2 }]
    );
    // Connecting again is not back yet.
    assert_eq!(app.targets(), vec![0]);
    state(&mut app, 1, SessionState::Authenticating);
    assert_eq!(app.targets(), vec![0]);
    state(&mut app, 1, SessionState::Ready);
    state(&mut app, 2, SessionState::Ready);
    assert_eq!(app.targets(), vec![0, 1]);
    assert_eq!(
        app.pane_retry(1),
        Some(Retry::Back {
            attempt: 1,
            since: None
        })
    );
    assert!(!app.pane(2).unwrap().in_broadcast);
    assert_eq!(app.down_counts(), (0, 0));
    let text = app.scrollback_text(1).unwrap();
    let before = text.find("before-the-drop").expect("old line kept");
    let marker = text
        .find("--- reconnecting ---")
        .expect("reconnecting line");
    let back = text.find("--- reconnected at ").expect("reconnected line");
    assert!(before < marker && marker < back, "{text}");
    // The line names the time of day: hh:mm:ss.
    let time = &text[back + "--- reconnected at ".len()..][..8];
    assert!(
        time.len() == 8 && time.chars().filter(|c| *c == ':').count() == 2,
        "{time}"
    );
}

#[test]
fn no_try_after_an_exit_a_failed_login_a_changed_host_key_or_without_auto() {
    let endings = [
        SessionState::Closed {
            exit_status: Some(0),
            signal: None,
        },
        SessionState::Closed {
            exit_status: Some(130),
            signal: None,
        },
        SessionState::Failed {
            error: SessionError::AuthFailed {
                user: "test".into(),
                tried: vec!["password".into()],
                allowed: vec!["password".into()],
                notes: vec![],
            },
        },
        SessionState::Failed {
            error: SessionError::HostKeyMismatch {
                host: "127.0.0.1".into(),
                port: 22,
            },
        },
    ];
    for ending in endings {
        let mut app = auto_app(1, 10);
        state(&mut app, 0, ending.clone());
        assert_eq!(app.pane_retry(0), Some(Retry::Idle), "{ending:?}");
        assert!(!app.needs_clock());
        assert!(tick(&mut app, Instant::now() + Duration::from_secs(60)).is_empty());
    }
    // The exit status on its own message, then a close without one: still an exit.
    let mut app = auto_app(1, 10);
    let _ = app.update(Msg::ExitStatus { id: 0, status: 0 });
    state(
        &mut app,
        0,
        SessionState::Closed {
            exit_status: None,
            signal: None,
        },
    );
    assert_eq!(app.pane_retry(0), Some(Retry::Idle));
    // A lost connection without `reconnect = "auto"` waits for F5.
    let mut app = auto_app(1, 10);
    app.pane_mut(0).unwrap().reconnect = ReconnectPolicy::default();
    state(&mut app, 0, lost());
    assert_eq!(app.pane_retry(0), Some(Retry::Idle));
    assert!(!app.needs_clock());
}

#[test]
fn a_countdown_changes_once_a_second() {
    let mut app = auto_app(1, 10);
    state(&mut app, 0, lost());
    let t0 = Instant::now();
    let _ = tick(&mut app, t0);
    let _ = tick(&mut app, t0 + Duration::from_secs(1));
    state(&mut app, 0, refused());
    let _ = tick(&mut app, t0 + Duration::from_secs(1));
    let first = app.retry_countdown();
    let _ = tick(&mut app, t0 + Duration::from_millis(1500));
    assert_eq!(app.retry_countdown(), first);
    let _ = tick(&mut app, t0 + Duration::from_millis(2001));
    assert_ne!(app.retry_countdown(), first);
    let label = app.retry_label(app.pane(0).unwrap());
    assert_eq!(label.as_deref(), Some("retrying in 1 s (try 2/10)"));
}

#[test]
fn a_server_that_drops_every_session_at_once_is_tried_less_and_less_often() {
    let mut app = auto_app(1, 10);
    let mut at = Instant::now();
    let mut waits = Vec::new();
    state(&mut app, 0, lost());
    for _ in 0..4 {
        let started = next_try(&mut app, at);
        waits.push((started - at).as_secs());
        // Back, and lost again a moment later: the tries go on counting.
        state(&mut app, 0, SessionState::Ready);
        at = started + Duration::from_millis(100);
        assert!(tick(&mut app, at).is_empty());
        state(&mut app, 0, lost());
    }
    assert_eq!(waits, [1, 2, 4, 8]);
    assert_eq!(
        app.pane_retry(0),
        Some(Retry::Waiting {
            attempt: 5,
            due: None
        })
    );
    // Back and up for STABLE_AFTER: the next loss starts from one second again.
    let started = next_try(&mut app, at);
    state(&mut app, 0, SessionState::Ready);
    assert!(app.needs_clock());
    assert!(tick(&mut app, started).is_empty());
    let stable = started + super::retry::STABLE_AFTER;
    assert!(tick(&mut app, stable - Duration::from_millis(10)).is_empty());
    assert!(matches!(
        app.pane_retry(0),
        Some(Retry::Back { attempt: 5, .. })
    ));
    assert!(tick(&mut app, stable).is_empty());
    assert_eq!(app.pane_retry(0), Some(Retry::Idle));
    assert!(!app.needs_clock());
    state(&mut app, 0, lost());
    assert_eq!(
        app.pane_retry(0),
        Some(Retry::Waiting {
            attempt: 1,
            due: None
        })
    );
}
