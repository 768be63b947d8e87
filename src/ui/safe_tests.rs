//! Snapshots of the broadcast confirmation, the canary's status and the prompt marks.

use crossterm::event::{KeyCode, KeyModifiers};

use super::tests::{key, ready_app, render};
use crate::app::Msg;

fn type_text(app: &mut crate::app::App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

#[test]
fn confirmation_names_the_hosts_and_the_reason() {
    let mut app = ready_app(80, 16, 4);
    type_text(&mut app, "sudo reboot");
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    insta::assert_snapshot!("dialog_send_confirm", render(&app));
}

#[test]
fn canary_status_waits_then_offers_the_rest() {
    let mut app = ready_app(100, 12, 3);
    type_text(&mut app, "make");
    key(&mut app, KeyCode::Enter, KeyModifiers::ALT);
    insta::assert_snapshot!("canary_waiting", render(&app));
    let data = b"\x1b]133;C\x07\r\n\x1b]133;D;0\x07$ ".to_vec();
    let _ = app.update(Msg::Output { id: 0, data });
    insta::assert_snapshot!("canary_ready", render(&app));
}

#[test]
fn a_failed_canary_says_what_was_not_sent() {
    let mut app = ready_app(100, 12, 3);
    type_text(&mut app, "make");
    key(&mut app, KeyCode::Enter, KeyModifiers::ALT);
    let data = b"\x1b]133;C\x07\r\n\x1b]133;D;2\x07$ ".to_vec();
    let _ = app.update(Msg::Output { id: 0, data });
    insta::assert_snapshot!("canary_failed", render(&app));
}

#[test]
fn panes_asking_a_password_are_marked_and_the_answer_is_hidden() {
    let mut app = ready_app(100, 12, 3);
    let data = b"\r\n[sudo] password for test: ".to_vec();
    let _ = app.update(Msg::Output { id: 2, data });
    insta::assert_snapshot!("password_prompt_marked", render(&app));
    key(&mut app, KeyCode::Char('w'), KeyModifiers::ALT);
    type_text(&mut app, "hunter2");
    let screen = render(&app);
    assert!(!screen.contains("hunter2"));
    insta::assert_snapshot!("dialog_answer_prompts", screen);
}
