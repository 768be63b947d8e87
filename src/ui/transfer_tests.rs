//! Alt-F / Alt-K on screen: the dialog's second question, the titles' marks and the
//! status line's folded result, in English and Chinese.

use crossterm::event::{KeyCode, KeyModifiers};

use super::tests::{key, ready_app, render};
use crate::app::Msg;
use crate::app::transfer::TransferEvent;
use crate::lang::{Lang, with};
use crate::ssh::sftp::Transferred;

fn type_line(app: &mut crate::app::App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
    key(app, KeyCode::Enter, KeyModifiers::NONE);
}

fn upload_screens() -> (String, String) {
    let mut app = ready_app(100, 20, 3);
    key(&mut app, KeyCode::Char('f'), KeyModifiers::ALT);
    type_line(&mut app, "~/site.tar");
    let asking = render(&app);
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    let progress = TransferEvent::Progress {
        done: 42,
        total: Some(100),
    };
    let _ = app.update(Msg::Transfer {
        run: 1,
        id: 0,
        event: progress,
    });
    let done = TransferEvent::Done(Ok(Transferred::default()));
    let _ = app.update(Msg::Transfer {
        run: 1,
        id: 1,
        event: done,
    });
    let failed = TransferEvent::Done(Err("./site.tar: Permission denied".into()));
    let _ = app.update(Msg::Transfer {
        run: 1,
        id: 2,
        event: failed,
    });
    (asking, render(&app))
}

#[test]
fn upload_dialog_and_marks() {
    let (asking, marks) = upload_screens();
    insta::assert_snapshot!("upload_dialog_remote_dir", asking);
    insta::assert_snapshot!("upload_marks_in_titles", marks);
    assert!(marks.contains("⇡ 42%") && marks.contains("⇡ ✓") && marks.contains("⇡ ✗"));
}

#[test]
fn zh_upload_dialog() {
    with(Lang::Zh, || {
        let (asking, _) = upload_screens();
        insta::assert_snapshot!("zh_upload_dialog_remote_dir", asking);
    });
}

#[test]
fn the_overview_tiles_show_the_marks_too() {
    let mut app = ready_app(100, 20, 60);
    assert!(app.overview_shown());
    key(&mut app, KeyCode::Char('f'), KeyModifiers::ALT);
    type_line(&mut app, "f");
    key(&mut app, KeyCode::Enter, KeyModifiers::NONE);
    let progress = TransferEvent::Progress {
        done: 42,
        total: Some(100),
    };
    let _ = app.update(Msg::Transfer {
        run: 1,
        id: 0,
        event: progress,
    });
    let screen = render(&app);
    assert!(screen.contains("host01 ⇡ 42%"), "{screen}");
    assert_eq!(
        screen.matches("⇡ 0 B").count() + 1,
        screen.matches('⇡').count()
    );
}
