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

fn marked(out: &str, status: u32) -> String {
    format!("\x1b]133;C\x07{out}\x1b]133;D;{status}\x07$ ")
}

#[test]
fn results_view_groups_running_and_disconnected() {
    let mut app = ready_app(100, 24, 7);
    type_line(&mut app, "uname -r");
    for id in 0..3 {
        output(&mut app, id, &marked("6.1.0-18-amd64\r\n", 0));
    }
    for id in 3..5 {
        output(&mut app, id, &marked("uname: not found\r\n", 127));
    }
    output(&mut app, 5, "\x1b]133;C\x07");
    let reason = "connection refused by 127.0.0.9:2222 (is sshd running there? check the port)";
    let _ = app.update(Msg::State {
        id: 6,
        state: crate::ssh::SessionState::Failed {
            error: crate::ssh::SessionError::Other(reason.into()),
        },
    });
    key(&mut app, KeyCode::F(9), KeyModifiers::NONE);
    insta::assert_snapshot!("results_view_first_group", render(&app));
    for _ in 0..3 {
        key(&mut app, KeyCode::Down, KeyModifiers::NONE);
    }
    let shown = render(&app);
    assert!(
        shown.contains("check the port"),
        "the whole reason: {shown}"
    );
    insta::assert_snapshot!("results_view_disconnected", shown);
}

#[test]
fn results_view_fuzzy_folding_marks_what_differs() {
    let mut app = ready_app(100, 16, 3);
    type_line(&mut app, "hostname; uptime");
    for id in 0..3 {
        let host = format!("host{:02}", id + 1);
        let text = format!("{host}\r\n 10:0{id}:00 up {} days\r\n", id + 3);
        output(&mut app, id, &marked(&text, 0));
    }
    key(&mut app, KeyCode::F(9), KeyModifiers::NONE);
    assert!(render(&app).contains("3 groups"));
    key(&mut app, KeyCode::Char('f'), KeyModifiers::NONE);
    let (shown, buffer) = super::tests::render_buffer(&app);
    assert!(shown.contains("in 1 group ·"), "{shown}");
    insta::assert_snapshot!(shown);
    // The host name on the output's first line is marked as differing.
    let row = (0..buffer.area.height)
        .find(|&y| {
            let line: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect();
            line.starts_with("│host01")
        })
        .expect("the output's first line");
    let cell = &buffer[(1, row)];
    assert!(
        cell.modifier.contains(ratatui::style::Modifier::REVERSED),
        "{cell:?}"
    );
}

#[test]
fn results_view_diff_against_the_largest_group() {
    let mut app = ready_app(100, 20, 4);
    type_line(&mut app, "cat /etc/motd");
    let motd = "Welcome\r\nkernel 6.1\r\nbackup at 02:00\r\n";
    for id in 0..3 {
        output(&mut app, id, &marked(motd, 0));
    }
    let odd = "Welcome\r\nkernel 6.8\r\nbackup at 02:00\r\nreboot pending\r\n";
    output(&mut app, 3, &marked(odd, 0));
    key(&mut app, KeyCode::F(9), KeyModifiers::NONE);
    key(&mut app, KeyCode::Char('='), KeyModifiers::NONE);
    assert!(
        render(&app).contains("is the largest group"),
        "{}",
        render(&app)
    );
    key(&mut app, KeyCode::Down, KeyModifiers::NONE);
    let (shown, buffer) = super::tests::render_buffer(&app);
    insta::assert_snapshot!(shown);
    // Removed lines are red, added ones green.
    let colour_of = |prefix: &str| {
        let row = (0..buffer.area.height)
            .find(|&y| {
                let line: String = (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol().to_string())
                    .collect();
                line.starts_with(&format!("│{prefix}"))
            })
            .unwrap_or_else(|| panic!("no line {prefix}"));
        buffer[(1, row)].fg
    };
    assert_eq!(colour_of("-kernel 6.1"), ratatui::style::Color::Red);
    assert_eq!(colour_of("+kernel 6.8"), ratatui::style::Color::Green);
    assert_eq!(colour_of("+reboot pending"), ratatui::style::Color::Green);
    // Esc leaves the diff, a second Esc the view.
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(render(&app).contains("reboot pending") && !render(&app).contains("+reboot"));
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    assert!(app.overlay.is_none());
}

#[test]
fn broadcast_to_prompt_with_saved_groups_and_an_error() {
    let mut app = ready_app(100, 16, 4);
    key(&mut app, KeyCode::Char('t'), KeyModifiers::ALT);
    key(&mut app, KeyCode::Char('s'), KeyModifiers::ALT);
    for c in "odd".chars() {
        key(&mut app, KeyCode::Char(c), KeyModifiers::NONE);
    }
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    key(&mut app, KeyCode::Char('g'), KeyModifiers::ALT);
    for c in ",@nope".chars() {
        key(&mut app, KeyCode::Char(c), KeyModifiers::NONE);
    }
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    let shown = render(&app);
    assert!(
        shown.contains("no group @nope; known: @odd @host"),
        "{shown}"
    );
    insta::assert_snapshot!(shown);
}
