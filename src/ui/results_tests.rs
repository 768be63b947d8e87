//! Snapshots of the last command's badges in pane titles and of the results view.

use crossterm::event::{KeyCode, KeyModifiers};

use super::tests::{key, ready_app, render};
use crate::app::{App, Msg};

fn output(app: &mut App, id: usize, text: &str) {
    let data = text.as_bytes().to_vec();
    let _ = app.update(Msg::Output { id, data });
}

fn type_line(app: &mut App, line: &str) {
    for c in line.chars() {
        key(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
    key(app, KeyCode::Enter, KeyModifiers::NONE);
}

#[test]
fn badges_in_titles() {
    let mut app = ready_app(100, 12, 4);
    type_line(&mut app, "check");
    let c = "\x1b]133;C\x07";
    output(
        &mut app,
        0,
        &format!("check\r\n{c}ok\r\n\x1b]133;D;0\x07$ "),
    );
    output(
        &mut app,
        1,
        &format!("check\r\n{c}bad\r\n\x1b]133;D;3\x07$ "),
    );
    output(&mut app, 2, &format!("check\r\n{c}still going\r\n"));
    // No marks: the prompt the line was sent at ends the answer; the status is unknown.
    output(&mut app, 3, "check\r\nok\r\ntest@host04:~$ ");
    insta::assert_snapshot!(render(&app));
}
