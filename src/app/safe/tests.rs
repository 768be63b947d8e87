use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::app::Msg;
use crate::ssh::SessionState;

fn ready(n: usize) -> App {
    let mut app = App::new(120, 40, n);
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

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        let _ = key(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

fn sent_to(effects: &[Effect]) -> Vec<SessionId> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

/// The pane answers the last line with OSC 133 marks: output, then `D;status`.
fn answer(app: &mut App, id: SessionId, status: u32) {
    let data = format!("\x1b]133;C\x07ok\r\n\x1b]133;D;{status}\x07$ ").into_bytes();
    let _ = app.update(Msg::Output { id, data });
}

#[test]
fn destructive_patterns_match_with_spaces_collapsed() {
    let safety = Safety::default();
    assert_eq!(safety.destructive_in("sudo  rm   -rf /"), Some("rm -rf"));
    assert_eq!(
        safety.destructive_in("dd if=/dev/zero of=x"),
        Some("dd if=")
    );
    assert_eq!(safety.destructive_in("ls -la"), None);
    assert!(safety.is_password_prompt("[sudo] password for test: "));
    assert!(safety.is_password_prompt("Password: "));
    assert!(safety.is_password_prompt("Enter passphrase for key: "));
    assert!(!safety.is_password_prompt("test@web01:~$ "));
    // Answered: the shell's prompt came after it.
    assert!(!safety.is_password_prompt("Password: bash-5.2$ "));
}

#[test]
fn many_receivers_ask_first_and_no_sends_nothing() {
    let mut app = ready(3);
    app.safety.confirm_over = 2;
    type_text(&mut app, "uptime");
    let effects = key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert!(effects.is_empty());
    let Some(Overlay::SendConfirm(confirm)) = &app.overlay else {
        panic!("a confirmation");
    };
    assert!(
        app.confirm_text(confirm)
            .contains("Send to 3 hosts? [y/n]\nweb[01-03]")
    );
    assert!(key(&mut app, KeyCode::Char('n'), KeyModifiers::NONE).is_empty());
    assert_eq!(app.notice(), Some("not sent"));
    // An empty Enter never asks.
    assert_eq!(
        sent_to(&key(&mut app, KeyCode::Enter, KeyModifiers::NONE)),
        [0, 1, 2]
    );
}

#[test]
fn a_canary_waits_then_alt_enter_sends_the_rest() {
    let mut app = ready(4);
    type_text(&mut app, "make");
    let first = key(&mut app, KeyCode::Enter, KeyModifiers::ALT);
    assert_eq!(sent_to(&first), [0]);
    // Not answered yet: Alt-Enter sends nothing.
    assert!(sent_to(&key(&mut app, KeyCode::Enter, KeyModifiers::ALT)).is_empty());
    answer(&mut app, 0, 0);
    let status = app.staged_status().expect("a canary waits");
    assert!(status.starts_with("canary ✓ web01: Alt-Enter sends to the 3 others"));
    assert_eq!(
        sent_to(&key(&mut app, KeyCode::Enter, KeyModifiers::ALT)),
        [1, 2, 3]
    );
    assert!(app.staged.is_none());
}

#[test]
fn esc_drops_a_waiting_canary() {
    let mut app = ready(3);
    type_text(&mut app, "make");
    let _ = key(&mut app, KeyCode::Enter, KeyModifiers::ALT);
    let _ = key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(app.staged.is_none());
    assert_eq!(app.notice(), Some("dropped make: 1 of 3 sessions got it"));
    answer(&mut app, 0, 0);
    assert!(app.staged.is_none());
}

#[test]
fn a_rolling_send_goes_batch_by_batch_and_stops_at_a_failure() {
    let mut app = ready(7);
    app.safety.batch = 3;
    type_text(&mut app, "deploy");
    assert_eq!(
        sent_to(&key(&mut app, KeyCode::Char('b'), KeyModifiers::ALT)),
        [0, 1, 2]
    );
    answer(&mut app, 0, 0);
    answer(&mut app, 1, 0);
    let next = app.update(Msg::Output {
        id: 2,
        data: b"\x1b]133;C\x07ok\r\n\x1b]133;D;0\x07$ ".to_vec(),
    });
    assert_eq!(sent_to(&next), [3, 4, 5]);
    answer(&mut app, 3, 0);
    answer(&mut app, 4, 7);
    answer(&mut app, 5, 0);
    assert!(app.staged.is_none());
    assert_eq!(
        app.notice(),
        Some("stopped: web05 failed (exit 7); 6 of 7 sessions got deploy")
    );
}

#[test]
fn alt_s_answers_only_the_panes_that_ask_and_keeps_nothing() {
    let mut app = ready(3);
    let _ = app.update(Msg::Output {
        id: 1,
        data: b"[sudo] password for test: ".to_vec(),
    });
    assert_eq!(app.asking_panes(), [1]);
    let _ = key(&mut app, KeyCode::Char('w'), KeyModifiers::ALT);
    type_text(&mut app, "hunter2");
    let debug = format!("{:?}", app.overlay);
    assert!(!debug.contains("hunter2"), "{debug}");
    let effects = key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(
        effects,
        [Effect::Send {
            id: 1,
            bytes: bytes::Bytes::from_static(b"hunter2\r"),
        }]
    );
    assert!(app.asking_panes().is_empty());
    assert!(app.editor.history().is_empty());
}

#[test]
fn a_destructive_colon_cmd_asks_too_and_yes_runs_it_with_the_view() {
    let mut app = ready(2);
    type_text(&mut app, ":sudo reboot");
    assert!(key(&mut app, KeyCode::Enter, KeyModifiers::NONE).is_empty());
    assert!(matches!(app.overlay, Some(Overlay::SendConfirm(_))));
    let effects = key(&mut app, KeyCode::Char('y'), KeyModifiers::NONE);
    assert!(matches!(&effects[..], [Effect::Exec { ids, .. }] if ids == &[0, 1]));
    assert!(matches!(app.overlay, Some(Overlay::Results(_))));
}
