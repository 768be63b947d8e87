//! Alt-F and Alt-K in the model: the dialogs' questions, the effects they end in, the
//! titles' marks and the folded status line.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyModifiers};

use super::transfer::{TransferEvent, TransferMark};
use super::*;
use crate::ssh::sftp::Transferred;

// The model's own test helpers: a ready app of `n` panes, and keys.
use super::tests::{app_with, key, press};

fn alt(app: &mut App, c: char) -> Vec<Effect> {
    key(app, KeyCode::Char(c), KeyModifiers::ALT)
}

/// Types `text` into the open dialog and presses Enter.
fn answer(app: &mut App, text: &str) -> Vec<Effect> {
    for c in text.chars() {
        assert!(press(app, KeyCode::Char(c)).is_empty());
    }
    press(app, KeyCode::Enter)
}

fn report(app: &mut App, run: u64, id: SessionId, event: TransferEvent) {
    assert!(app.update(Msg::Transfer { run, id, event }).is_empty());
}

fn question(app: &App) -> String {
    match &app.overlay {
        Some(Overlay::Transfer(dialog)) => dialog.question("web02"),
        other => panic!("no transfer dialog: {other:?}"),
    }
}

fn moved(files: u64, bytes: u64) -> Result<Transferred, String> {
    Ok(Transferred {
        files,
        bytes,
        ..Default::default()
    })
}

#[test]
fn alt_f_asks_the_local_path_then_the_remote_directory_and_uploads_to_the_receivers() {
    let mut app = app_with(3);
    // web02 is no receiver.
    press(&mut app, KeyCode::Tab);
    alt(&mut app, 't');
    assert!(alt(&mut app, 'f').is_empty());
    assert_eq!(question(&app), "Local file or directory to upload:");
    // Enter alone is not an answer to the first question: the dialog stays and says so.
    assert!(press(&mut app, KeyCode::Enter).is_empty());
    match &app.overlay {
        Some(Overlay::Transfer(d)) => {
            assert_eq!(d.error.as_deref(), Some("name a local file or directory"))
        }
        other => panic!("{other:?}"),
    }
    assert!(answer(&mut app, "/tmp/site.tar").is_empty());
    assert_eq!(
        question(&app),
        "Remote directory (Enter alone: the home directory):"
    );
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Upload {
            run: 1,
            ids: vec![0, 2],
            local: PathBuf::from("/tmp/site.tar"),
            remote_dir: ".".into(),
        }]
    );
    assert!(app.overlay.is_none());
    assert!(app.transfer_running());
    assert_eq!(
        app.pane_transfer(0).map(TransferMark::text).as_deref(),
        Some("⇡ 0 B")
    );
    assert_eq!(app.pane_transfer(1), None);

    let progress = TransferEvent::Progress {
        done: 420,
        total: Some(1000),
    };
    report(&mut app, 1, 0, progress);
    assert_eq!(app.pane_transfer(0).unwrap().text(), "⇡ 42%");
    report(&mut app, 1, 0, TransferEvent::Done(moved(1, 1000)));
    assert_eq!(app.pane_transfer(0).unwrap().text(), "⇡ ✓");
    // Not folded until every receiver has answered.
    assert!(app.transfer_running());
    let denied = Err("./site.tar: Permission denied".to_string());
    report(&mut app, 1, 2, TransferEvent::Done(denied));
    assert_eq!(app.pane_transfer(2).unwrap().text(), "⇡ ✗");
    assert!(!app.transfer_running());
    assert_eq!(
        app.notice(),
        Some("uploaded to 1 of 2; web03: ./site.tar: Permission denied")
    );
    // A late report of a finished run changes nothing.
    report(&mut app, 1, 0, TransferEvent::Done(Err("late".into())));
    assert_eq!(app.pane_transfer(0).unwrap().text(), "⇡ ✓");
}

#[test]
fn a_remote_directory_given_is_used_as_typed() {
    let mut app = app_with(1);
    alt(&mut app, 'f');
    answer(&mut app, "  notes.txt ");
    let effects = answer(&mut app, "/srv/www");
    assert_eq!(
        effects,
        vec![Effect::Upload {
            run: 1,
            ids: vec![0],
            local: PathBuf::from("notes.txt"),
            remote_dir: "/srv/www".into(),
        }]
    );
    report(&mut app, 1, 0, TransferEvent::Done(moved(1, 10)));
    assert_eq!(app.notice(), Some("uploaded to 1 of 1"));
}

#[test]
fn esc_at_either_question_starts_nothing() {
    let mut app = app_with(2);
    alt(&mut app, 'f');
    assert!(press(&mut app, KeyCode::Esc).is_empty());
    assert!(app.overlay.is_none());
    assert_eq!(app.notice(), Some("transfer not started"));
    alt(&mut app, 'k');
    answer(&mut app, "/var/log/syslog");
    assert!(press(&mut app, KeyCode::Esc).is_empty());
    assert!(app.overlay.is_none());
    assert!(!app.transfer_running());
    assert!(app.panes.iter().all(|p| p.transfer.is_none()));
}

#[test]
fn alt_f_without_receivers_says_so() {
    let mut app = app_with(2);
    alt(&mut app, 'n');
    assert!(alt(&mut app, 'f').is_empty());
    assert!(app.overlay.is_none());
    assert_eq!(
        app.notice(),
        Some("no receivers to upload to (Alt-A selects all)")
    );
}

#[test]
fn alt_k_downloads_from_the_focused_pane_into_its_own_directory() {
    let mut app = app_with(3);
    press(&mut app, KeyCode::Tab);
    alt(&mut app, 'k');
    assert_eq!(question(&app), "Remote file or directory on web02:");
    answer(&mut app, "logs/app.log");
    assert_eq!(
        question(&app),
        "Local directory (Enter alone: the current one); saved as DIR/web02/…"
    );
    let effects = press(&mut app, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Download {
            run: 1,
            id: 1,
            remote: "logs/app.log".into(),
            local_dir: PathBuf::from("./web02"),
        }]
    );
    let progress = TransferEvent::Progress {
        done: 2048,
        total: None,
    };
    report(&mut app, 1, 1, progress);
    assert_eq!(app.pane_transfer(1).unwrap().text(), "⇣ 2.0 KB");
    report(&mut app, 1, 1, TransferEvent::Done(moved(1, 4096)));
    assert_eq!(app.notice(), Some("downloaded 1 file, 4.0 KB to ./web02"));
}

#[test]
fn the_key_again_offers_to_cancel_and_y_cancels_the_parts_still_running() {
    let mut app = app_with(3);
    alt(&mut app, 'f');
    answer(&mut app, "big.iso");
    press(&mut app, KeyCode::Enter);
    report(&mut app, 1, 1, TransferEvent::Done(moved(1, 5)));
    // Alt-K too: one transfer at a time, either key offers to stop it.
    assert!(alt(&mut app, 'k').is_empty());
    assert!(matches!(app.overlay, Some(Overlay::TransferCancel)));
    assert!(press(&mut app, KeyCode::Char('n')).is_empty());
    assert!(app.overlay.is_none());
    assert!(app.transfer_running());
    alt(&mut app, 'f');
    assert_eq!(
        press(&mut app, KeyCode::Char('y')),
        vec![Effect::CancelTransfer {
            run: 1,
            ids: vec![0, 2],
        }]
    );
    // The parts then end as cancelled, and the run folds as any other.
    for id in [0, 2] {
        let cancelled = Err("./big.iso: cancelled".to_string());
        report(&mut app, 1, id, TransferEvent::Done(cancelled));
    }
    assert_eq!(
        app.notice(),
        Some("uploaded to 1 of 3; web01: ./big.iso: cancelled; web03: ./big.iso: cancelled")
    );
}

#[test]
fn a_session_that_ends_fails_its_part_at_once_and_stops_it() {
    let mut app = app_with(2);
    alt(&mut app, 'f');
    answer(&mut app, "f");
    press(&mut app, KeyCode::Enter);
    let effects = app.update(Msg::State {
        id: 1,
        state: SessionState::Closed {
            exit_status: Some(0),
            signal: None,
        },
    });
    assert_eq!(
        effects,
        vec![Effect::CancelTransfer {
            run: 1,
            ids: vec![1],
        }]
    );
    assert_eq!(app.pane_transfer(1).unwrap().text(), "⇡ ✗");
    report(&mut app, 1, 0, TransferEvent::Done(moved(1, 1)));
    assert_eq!(
        app.notice(),
        Some("uploaded to 1 of 2; web02: the session ended")
    );
}
