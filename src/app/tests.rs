//! `App::update` driven like the event loop drives it, without a terminal or tokio.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::*;

pub(super) fn app_with(n: usize) -> App {
    let mut app = App::new(120, 40, n);
    for i in 0..n {
        app.add_pane(format!("web{:02}", i + 1));
        let _ = app.update(Msg::State {
            id: i,
            state: SessionState::Ready,
        });
    }
    app
}

pub(super) fn key(app: &mut App, code: KeyCode, mods: KeyModifiers) -> Vec<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, mods)))
}

pub(super) fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    key(app, code, KeyModifiers::NONE)
}

fn type_str(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn alt(app: &mut App, c: char) -> Vec<Effect> {
    key(app, KeyCode::Char(c), KeyModifiers::ALT)
}

fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    key(app, KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn sent(effects: &[Effect]) -> Vec<(SessionId, Vec<u8>)> {
    let send = |e: &Effect| match e {
        Effect::Send { id, bytes } => Some((*id, bytes.to_vec())),
        _ => None,
    };
    effects.iter().filter_map(send).collect()
}

fn in_broadcast(app: &App) -> Vec<bool> {
    app.panes.iter().map(|p| p.in_broadcast).collect()
}

#[test]
fn enter_broadcasts_to_selected_live_sessions_only() {
    let mut app = app_with(4);
    press(&mut app, KeyCode::Tab);
    alt(&mut app, 't');
    let _ = app.update(Msg::State {
        id: 2,
        state: SessionState::Failed {
            error: crate::ssh::SessionError::Refused {
                address: "web03:22".into(),
                reason: "Connection refused (os error 111)".into(),
            },
        },
    });
    type_str(&mut app, "uptime");
    let effects = press(&mut app, KeyCode::Enter);
    let line = b"uptime\r".to_vec();
    assert_eq!(sent(&effects), vec![(0, line.clone()), (3, line)]);
    assert_eq!(app.editor.text(), "");
}

#[test]
fn selection_all_none_invert_and_group() {
    let mut app = App::new(120, 40, 4);
    for name in ["web01", "web02", "db01", "db02"] {
        app.add_pane(name);
    }
    alt(&mut app, 'n');
    assert_eq!(in_broadcast(&app), [false; 4]);
    alt(&mut app, 'a');
    assert_eq!(in_broadcast(&app), [true; 4]);
    alt(&mut app, 't');
    assert_eq!(in_broadcast(&app), [false, true, true, true]);
    alt(&mut app, 'i');
    assert_eq!(in_broadcast(&app), [true, false, false, false]);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    // Alt-G's prompt comes prefilled with the focused pane's group: Enter takes it.
    alt(&mut app, 'g');
    press(&mut app, KeyCode::Enter);
    assert_eq!(in_broadcast(&app), [false, false, true, true]);
}

#[test]
fn control_keys_reach_active_sessions_from_line_mode() {
    let mut app = app_with(2);
    type_str(&mut app, "half typed");
    assert_eq!(sent(&ctrl(&mut app, 'c')), vec![(0, vec![3]), (1, vec![3])]);
    assert_eq!(app.editor.text(), "");
    assert_eq!(sent(&ctrl(&mut app, 'd')), vec![(0, vec![4]), (1, vec![4])]);
    assert_eq!(
        sent(&alt(&mut app, 'z')),
        vec![(0, vec![0x1a]), (1, vec![0x1a])]
    );
    assert_eq!(ctrl(&mut app, 'z'), vec![Effect::Suspend]);
}

#[test]
fn focus_mode_sends_raw_keys_to_one_pane_with_its_cursor_mode() {
    let mut app = app_with(3);
    press(&mut app, KeyCode::Tab);
    ctrl(&mut app, ']');
    assert_eq!(app.mode(), InputMode::Focus);
    assert_eq!(
        sent(&press(&mut app, KeyCode::Up)),
        vec![(1, b"\x1b[A".to_vec())]
    );
    // vim turns on application cursor keys (DECCKM).
    let _ = app.update(Msg::Output {
        id: 1,
        data: b"\x1b[?1h".to_vec(),
    });
    assert_eq!(
        sent(&press(&mut app, KeyCode::Up)),
        vec![(1, b"\x1bOA".to_vec())]
    );
    assert_eq!(sent(&ctrl(&mut app, 'c')), vec![(1, vec![3])]);
    assert_eq!(sent(&ctrl(&mut app, 'q')), vec![(1, vec![0x11])]);
    // Terminals deliver Ctrl-] as Ctrl-5.
    assert!(ctrl(&mut app, '5').is_empty());
    assert_eq!(app.mode(), InputMode::Line);
}

#[test]
fn keystroke_mode_sends_every_key_to_every_active_session() {
    let mut app = app_with(3);
    press(&mut app, KeyCode::Tab);
    alt(&mut app, 't');
    press(&mut app, KeyCode::F(3));
    assert_eq!(app.mode(), InputMode::Keystroke);
    let _ = app.update(Msg::Output {
        id: 2,
        data: b"\x1b[?1h".to_vec(),
    });
    let effects = press(&mut app, KeyCode::Down);
    assert_eq!(
        sent(&effects),
        vec![(0, b"\x1b[B".to_vec()), (2, b"\x1bOB".to_vec())]
    );
    assert_eq!(sent(&press(&mut app, KeyCode::F(1))).len(), 2);
    ctrl(&mut app, ']');
    assert_eq!(app.mode(), InputMode::Line);
}

#[test]
fn history_recalls_sent_lines() {
    let mut app = app_with(1);
    for line in ["ls", "df -h"] {
        type_str(&mut app, line);
        press(&mut app, KeyCode::Enter);
    }
    press(&mut app, KeyCode::Up);
    assert_eq!(app.editor.text(), "df -h");
    press(&mut app, KeyCode::Up);
    assert_eq!(app.editor.text(), "ls");
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    assert_eq!(app.editor.text(), "");
}

#[test]
fn hidden_input_is_sent_but_not_kept() {
    let mut app = app_with(2);
    alt(&mut app, 'p');
    assert!(app.editor.is_hidden());
    type_str(&mut app, "hunter2");
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(sent(&effects).len(), 2);
    assert_eq!(sent(&effects)[0].1, b"hunter2\r");
    assert!(app.editor.history().is_empty());
    assert!(!app.editor.is_hidden());
    press(&mut app, KeyCode::Up);
    assert_eq!(app.editor.text(), "");
    // A visible line afterwards is kept; the secret still is not, anywhere.
    type_str(&mut app, "ls");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.editor.history(), ["ls"]);
    // Alt-P, start typing a secret, Alt-P again: the half-typed secret is dropped.
    alt(&mut app, 'p');
    type_str(&mut app, "hunter3");
    alt(&mut app, 'p');
    assert_eq!(app.editor.text(), "");
    press(&mut app, KeyCode::Enter);
    let kept = format!("{:?} {:?}", app.editor.history(), app.notice);
    assert!(!kept.contains("hunter"), "{kept}");
}

#[test]
fn multi_line_paste_to_many_sessions_asks_first() {
    let mut app = app_with(3);
    assert!(app.update(Msg::Paste("a\nb\n".into())).is_empty());
    assert!(matches!(app.overlay, Some(Overlay::PasteConfirm { .. })));
    let effects = press(&mut app, KeyCode::Char('y'));
    assert_eq!(sent(&effects).len(), 3);
    assert_eq!(sent(&effects)[0].1, b"a\rb\r");
    // Declining sends nothing.
    let _ = app.update(Msg::Paste("a\nb".into()));
    assert!(press(&mut app, KeyCode::Esc).is_empty());
    assert!(app.overlay.is_none());
}

#[test]
fn a_paste_with_cr_line_breaks_asks_first_too() {
    // tmux, xterm and VTE send pasted line breaks as CR.
    for text in ["rm -rf a\rrm -rf b\r", "a\r\nb", "one\rtwo"] {
        let mut app = app_with(3);
        assert!(app.update(Msg::Paste(text.into())).is_empty(), "{text:?}");
        assert!(
            matches!(app.overlay, Some(Overlay::PasteConfirm { lines: 2, .. })),
            "{text:?} went out without asking, or its lines were miscounted"
        );
        assert_eq!(app.editor.text(), "", "{text:?} was joined into the line");
        assert!(press(&mut app, KeyCode::Esc).is_empty());
    }
    // One line ending in CR is still one line: it goes into the broadcast line.
    let mut app = app_with(3);
    assert!(app.update(Msg::Paste("uptime\r".into())).is_empty());
    assert!(app.overlay.is_none());
    assert_eq!(app.editor.text(), "uptime");
}

#[test]
fn alt_x_discards_input_still_pending() {
    let mut app = app_with(3);
    assert!(alt(&mut app, 'x').is_empty());
    assert_eq!(app.notice.as_deref(), Some("no unsent input to discard"));
    let _ = app.update(Msg::InputPending(vec![(0, 5000), (2, 10)]));
    assert_eq!(
        alt(&mut app, 'x'),
        vec![Effect::DiscardInput { ids: vec![0, 2] }]
    );
}

#[test]
fn single_line_paste_goes_into_the_line_and_one_target_needs_no_question() {
    let mut app = app_with(2);
    assert!(app.update(Msg::Paste("echo hi".into())).is_empty());
    assert_eq!(app.editor.text(), "echo hi");
    alt(&mut app, 'n');
    alt(&mut app, 't');
    let _ = app.update(Msg::Output {
        id: 0,
        data: b"\x1b[?2004h".to_vec(),
    });
    let effects = app.update(Msg::Paste("x\ny".into()));
    assert_eq!(
        sent(&effects),
        vec![(0, b"\x1b[200~x\ry\x1b[201~".to_vec())]
    );
}

#[test]
fn quit_asks_while_sessions_are_live() {
    let mut app = app_with(2);
    assert!(ctrl(&mut app, 'q').is_empty());
    assert!(matches!(app.overlay, Some(Overlay::QuitConfirm)));
    assert!(press(&mut app, KeyCode::Char('n')).is_empty());
    assert!(app.overlay.is_none());
    ctrl(&mut app, 'q');
    assert_eq!(press(&mut app, KeyCode::Char('y')), vec![Effect::Quit]);

    for id in 0..2 {
        let state = SessionState::Closed {
            exit_status: Some(0),
            signal: None,
        };
        let _ = app.update(Msg::State { id, state });
    }
    assert_eq!(ctrl(&mut app, 'q'), vec![Effect::Quit]);
}

#[test]
fn prompts_queue_and_answer_through_tokens() {
    let mut app = app_with(2);
    for (id, token) in [(0, 7), (1, 8)] {
        let text = "Password:".into();
        let _ = app.update(Msg::Prompt {
            id,
            token,
            text,
            echo: false,
        });
    }
    type_str(&mut app, "pw");
    let answer = Some("pw".to_string());
    assert_eq!(
        press(&mut app, KeyCode::Enter),
        vec![Effect::AnswerPrompt { token: 7, answer }]
    );
    assert!(matches!(&app.overlay, Some(Overlay::Prompt(d)) if d.token == 8));
    let declined = Effect::AnswerPrompt {
        token: 8,
        answer: None,
    };
    assert_eq!(press(&mut app, KeyCode::Esc), vec![declined]);
    assert!(app.overlay.is_none());
    assert!(app.editor.history().is_empty());
}

#[test]
fn closing_a_pane_declines_its_prompt_and_resizes_the_rest() {
    let mut app = app_with(2);
    let text = "Passphrase:".into();
    let _ = app.update(Msg::Prompt {
        id: 0,
        token: 1,
        text,
        echo: false,
    });
    press(&mut app, KeyCode::Esc);
    let text = "again:".into();
    let _ = app.update(Msg::Prompt {
        id: 0,
        token: 2,
        text,
        echo: false,
    });
    // The dialog owns the keys, so dismiss it by closing the pane via the model directly.
    let effects = app.remove_pane(0);
    assert_eq!(effects[0], Effect::Close { id: 0 });
    assert!(effects.contains(&Effect::AnswerPrompt {
        token: 2,
        answer: None
    }));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Resize { id: 1, .. }))
    );
    assert_eq!(app.panes.len(), 1);
}

#[test]
fn resize_follows_layout_and_never_goes_below_minimum() {
    let mut app = app_with(4);
    assert_eq!(app.pty_size(0), Some((58, 17)));
    let effects = app.update(Msg::Resize { cols: 30, rows: 8 });
    assert_eq!(effects.len(), 4);
    for effect in effects {
        let Effect::Resize { cols, rows, .. } = effect else {
            panic!("unexpected {effect:?}");
        };
        assert!(cols >= pane::MIN_PTY_COLS && rows >= pane::MIN_PTY_ROWS);
    }
    assert!(app.update(Msg::Resize { cols: 30, rows: 8 }).is_empty());
}

#[test]
fn zoom_resizes_focused_pane_to_the_whole_area() {
    let mut app = app_with(4);
    let effects = alt(&mut app, 'm');
    assert_eq!(
        effects,
        vec![Effect::Resize {
            id: 0,
            cols: 118,
            rows: 36
        }]
    );
    let effects = alt(&mut app, 'm');
    assert_eq!(
        effects,
        vec![Effect::Resize {
            id: 0,
            cols: 58,
            rows: 17
        }]
    );
}

#[test]
fn mouse_click_focuses_and_wheel_scrolls() {
    let mut app = app_with(4);
    let mouse = |kind, column, row| {
        let modifiers = KeyModifiers::NONE;
        Msg::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers,
        })
    };
    let _ = app.update(mouse(MouseEventKind::Down(MouseButton::Left), 100, 30));
    assert_eq!(app.focus, 3);
    for i in 0..50 {
        let data = format!("line {i}\r\n").into_bytes();
        let _ = app.update(Msg::Output { id: 3, data });
    }
    let _ = app.update(mouse(MouseEventKind::ScrollUp, 100, 30));
    assert_eq!(app.panes[3].scroll_offset(), 3);
    key(&mut app, KeyCode::End, KeyModifiers::SHIFT);
    assert_eq!(app.panes[3].scroll_offset(), 0);
}

#[test]
fn function_keys_ask_the_loop() {
    let mut app = app_with(2);
    assert_eq!(press(&mut app, KeyCode::F(2)), vec![Effect::StartMock]);
    assert_eq!(
        press(&mut app, KeyCode::F(4)),
        vec![Effect::SetMouseCapture(false)]
    );
    assert_eq!(
        press(&mut app, KeyCode::F(7)),
        vec![Effect::SaveScrollback { id: 0 }]
    );
    // A live pane is not reconnected; a failed one is.
    assert!(press(&mut app, KeyCode::F(5)).is_empty());
    let state = SessionState::Failed {
        error: crate::ssh::SessionError::TimedOut {
            after: std::time::Duration::from_secs(10),
            phase: crate::ssh::TimeoutPhase::Authentication,
        },
    };
    let _ = app.update(Msg::State { id: 0, state });
    assert_eq!(
        press(&mut app, KeyCode::F(5)),
        vec![Effect::Reconnect { id: 0 }]
    );
    assert_eq!(app.panes[0].state, SessionState::Connecting);
    press(&mut app, KeyCode::F(6));
    type_str(&mut app, "root@10.0.0.5:2200");
    let add = Effect::AddHost("root@10.0.0.5:2200".into());
    assert_eq!(press(&mut app, KeyCode::Enter), vec![add]);
}

#[test]
fn shift_f5_reconnects_every_ended_pane_and_keeps_their_lines() {
    let mut app = app_with(4);
    let shift_f5 = |app: &mut App| key(app, KeyCode::F(5), KeyModifiers::SHIFT);
    assert!(shift_f5(&mut app).is_empty());
    assert_eq!(
        app.notice.as_deref(),
        Some("no failed or closed pane to reconnect")
    );
    let _ = app.update(Msg::Output {
        id: 1,
        data: b"before-the-drop\r\n".to_vec(),
    });
    let closed = SessionState::Closed {
        exit_status: Some(0),
        signal: None,
    };
    let failed = SessionState::Failed {
        error: crate::ssh::SessionError::TimedOut {
            after: std::time::Duration::from_secs(10),
            phase: crate::ssh::TimeoutPhase::Authentication,
        },
    };
    let _ = app.update(Msg::State {
        id: 1,
        state: closed,
    });
    let _ = app.update(Msg::State {
        id: 3,
        state: failed,
    });
    assert_eq!(
        shift_f5(&mut app),
        vec![Effect::Reconnect { id: 1 }, Effect::Reconnect { id: 3 }]
    );
    assert_eq!(app.notice.as_deref(), Some("reconnecting 2 panes"));
    assert_eq!(app.panes[1].state, SessionState::Connecting);
    let text = app.scrollback_text(1).unwrap();
    assert!(
        text.contains("before-the-drop") && text.contains("--- reconnecting ---"),
        "{text}"
    );
}

#[test]
fn paging_and_alt_arrows_move_focus() {
    let mut app = app_with(100);
    key(&mut app, KeyCode::Char('o'), KeyModifiers::ALT);
    let layout = app.layout();
    assert!(layout.pages > 1);
    let per_page = layout.visible.len();
    press(&mut app, KeyCode::PageDown);
    assert_eq!(app.focus, per_page);
    press(&mut app, KeyCode::PageUp);
    assert_eq!(app.focus, 0);
    key(&mut app, KeyCode::Right, KeyModifiers::ALT);
    assert_eq!(app.focus, 1);
    key(&mut app, KeyCode::Down, KeyModifiers::ALT);
    assert!(app.focus > 1);
    key(&mut app, KeyCode::BackTab, KeyModifiers::SHIFT);
    key(&mut app, KeyCode::Left, KeyModifiers::ALT);
}

#[test]
fn opened_panes_connect_at_their_size_in_the_full_grid() {
    let mut app = App::new(120, 40, 1);
    let (first, _) = app.add_pane("old");
    let new = |ticket: u64, name: &str| NewPane {
        ticket,
        name: name.into(),
        shell_integration: Default::default(),
        reconnect: Default::default(),
    };
    let effects = app.update(Msg::OpenPanes(vec![new(7, "a"), new(8, "b")]));
    let connects: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Connect {
                ticket,
                id,
                cols,
                rows,
            } => Some((*ticket, *id, (*cols, *rows))),
            _ => None,
        })
        .collect();
    let ids = app.pane_ids();
    assert_eq!(ids.len(), 3);
    assert_eq!(
        connects,
        vec![
            (7, ids[1], app.pty_size(ids[1]).unwrap()),
            (8, ids[2], app.pty_size(ids[2]).unwrap()),
        ]
    );
    // Only the pane that was there already is resized; the new ones start at their size.
    let resized: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Resize { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(resized, vec![first]);
}

#[test]
fn terminal_queries_in_output_are_answered_to_that_session() {
    let mut app = app_with(2);
    let output = |app: &mut App, id: SessionId, data: &[u8]| {
        app.update(Msg::Output {
            id,
            data: data.to_vec(),
        })
    };
    // Cursor position report, 1-based.
    assert_eq!(
        output(&mut app, 1, b"hi\x1b[6n"),
        vec![Effect::Send {
            id: 1,
            bytes: b"\x1b[1;3R".to_vec().into()
        }]
    );
    // Split across chunks, the query is answered when it is whole.
    assert!(output(&mut app, 0, b"\x1b[").is_empty());
    assert_eq!(
        output(&mut app, 0, b"c\x1b[5n"),
        vec![Effect::Send {
            id: 0,
            bytes: b"\x1b[?1;2c\x1b[0n".to_vec().into()
        }]
    );
    assert!(output(&mut app, 0, b"plain text").is_empty());
    // A pane that is gone answers nothing.
    assert!(output(&mut app, 7, b"\x1b[6n").is_empty());
}

#[test]
fn panes_off_screen_take_their_size_when_output_comes_or_they_are_shown() {
    let mut app = app_with(60);
    // The grid's pages, not the overview 60 panes would get by themselves.
    key(&mut app, KeyCode::Char('o'), KeyModifiers::ALT);
    let emulator_size = |app: &App, id: usize| {
        let (rows, cols) = app.panes[id].screen().size();
        (cols, rows)
    };
    let (last, other) = (59, 58);
    let before = app.pty_size(last).unwrap();
    let effects = app.update(Msg::Resize {
        cols: 100,
        rows: 30,
    });
    // Every PTY is told at once; only the panes on screen reflow now.
    let now = app.pty_size(last).unwrap();
    assert_ne!(now, before);
    assert!(effects.contains(&Effect::Resize {
        id: last,
        cols: now.0,
        rows: now.1
    }));
    assert_ne!(emulator_size(&app, last), now);
    assert_eq!(emulator_size(&app, 0), app.pty_size(0).unwrap());
    // Output is written for the new size: the pane takes it first.
    let _ = app.update(Msg::Output {
        id: last,
        data: b"x".to_vec(),
    });
    assert_eq!(emulator_size(&app, last), now);
    // A pane a page flip shows takes it too.
    assert_ne!(emulator_size(&app, other), app.pty_size(other).unwrap());
    while !app.layout().visible.iter().any(|(i, _)| *i == other) {
        press(&mut app, KeyCode::PageDown);
    }
    assert_eq!(emulator_size(&app, other), app.pty_size(other).unwrap());
}

#[test]
fn shell_integration_types_its_line_once_and_hides_its_echo_until_the_sentinel() {
    use crate::ssh::shell_integration::{READY_SENTINEL, ShellIntegration};
    let mut app = App::new(80, 24, 1);
    let _ = app.update(Msg::OpenPanes(vec![NewPane {
        ticket: 1,
        name: "h".into(),
        shell_integration: ShellIntegration::Bash,
        reconnect: Default::default(),
    }]));
    let id = app.panes[0].id;
    let effects = app.update(Msg::Output {
        id,
        data: b"Welcome\r\n$ ".to_vec(),
    });
    let sent: Vec<&[u8]> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { bytes, .. } => Some(&bytes[..]),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].starts_with(b" : __mtssh_install;"));
    assert!(app.hiding());
    let _ = app.update(Msg::Output {
        id,
        data: b" : __mtssh_install; if [ -n \"$BASH".to_vec(),
    });
    let mut rest = READY_SENTINEL.to_vec();
    rest.extend_from_slice(b"\x1b]133;A\x07$ ");
    let effects = app.update(Msg::Output { id, data: rest });
    assert!(effects.is_empty(), "typed once: {effects:?}");
    assert!(!app.hiding());
    let screen = app.panes[0].screen().contents();
    assert!(screen.contains("Welcome"), "{screen}");
    assert!(!screen.contains("mtssh"), "{screen}");
}
