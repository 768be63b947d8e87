//! Alt-W against real sshd: of ten bash sessions, the three showing `read -s -p 'Password: '`
//! get the answer and the other seven nothing; the answer lands in no log line (every
//! level, captured) and no shell history.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use mtssh::tui::{TuiSetup, run_headless};

use crate::flow_control::sshd_and_targets;
use crate::support::{self, TestEnv, wait_for};

const SECRET: &str = "s3cret-Answer-71";
const ASKING: [&str; 3] = ["s02", "s05", "s08"];

#[derive(Default)]
struct Seen {
    screens: BTreeMap<String, String>,
    asking: Vec<String>,
    notice: Option<String>,
}

fn key(input: &UnboundedSender<std::io::Result<Event>>, code: KeyCode, mods: KeyModifiers) {
    let event = Event::Key(KeyEvent::new(code, mods));
    input.unbounded_send(Ok(event)).unwrap();
}

fn type_text(input: &UnboundedSender<std::io::Result<Event>>, text: &str) {
    for c in text.chars() {
        key(input, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

/// Every log line at every level, for the test's thread (the loop runs on it).
#[derive(Clone, Default)]
struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_password_prompt_on_three_of_ten_hosts_is_answered_on_exactly_those() {
    if !crate::sshd::available() || !support::have_all(&["bash"]) {
        return;
    }
    let _heavy = support::heavy().await;
    let env = TestEnv::new();
    let (_server, targets, dir) = sshd_and_targets(&env, 10);
    let logs = LogSink::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);
    tracing::trace!("log capture on");

    let (input, input_rx) = unbounded();
    let seen = RefCell::new(Seen::default());
    let event_loop = run_headless(TuiSetup::new(targets), 200, 60, input_rx, |_, app| {
        let mut now = seen.borrow_mut();
        for id in app.pane_ids() {
            let name = app.pane_name(id).unwrap_or_default().to_string();
            now.screens
                .insert(name, app.pane_screen_text(id).unwrap_or_default());
        }
        now.asking = app
            .asking_panes()
            .into_iter()
            .filter_map(|id| app.pane_name(id).map(str::to_string))
            .collect();
        now.notice = app.notice().map(str::to_string);
    });
    let dir_text = dir.display().to_string();
    let script = async {
        // The login shell may be dash: bash it is. Each keeps its history in a file of its
        // own, to be looked at afterwards.
        type_text(&input, "exec bash --norc --noprofile -i");
        key(&input, KeyCode::Enter, KeyModifiers::NONE);
        wait_for("ten bash prompts", Duration::from_secs(30), async || {
            let seen = seen.borrow();
            (seen.screens.len() == 10 && seen.screens.values().all(|s| s.contains("bash-")))
                .then_some(())
        })
        .await;
        type_text(
            &input,
            &format!("HISTFILE={dir_text}/hist-$$; echo up-$((6*7))"),
        );
        key(&input, KeyCode::Enter, KeyModifiers::NONE);
        wait_for("ten shells", Duration::from_secs(30), async || {
            let seen = seen.borrow();
            (seen.screens.len() == 10 && seen.screens.values().all(|s| s.contains("up-42")))
                .then_some(())
        })
        .await;
        // Only s02, s05 and s08 run the read: none selected, then focus and toggle each.
        key(&input, KeyCode::Char('n'), KeyModifiers::ALT);
        let mut at = 0;
        for name in ASKING {
            let index: usize = name[1..].parse().unwrap();
            for _ in at..index {
                key(&input, KeyCode::Tab, KeyModifiers::NONE);
            }
            at = index;
            key(&input, KeyCode::Char('t'), KeyModifiers::ALT);
        }
        type_text(
            &input,
            &format!("read -s -p 'Password: ' REPLY; echo \"$REPLY\" > {dir_text}/got-$$"),
        );
        key(&input, KeyCode::Enter, KeyModifiers::NONE);
        wait_for("three panes asking", Duration::from_secs(30), async || {
            (seen.borrow().asking == ASKING).then_some(())
        })
        .await;
        key(&input, KeyCode::Char('w'), KeyModifiers::ALT);
        type_text(&input, SECRET);
        key(&input, KeyCode::Enter, KeyModifiers::NONE);
        wait_for(
            "three answers written",
            Duration::from_secs(30),
            async || {
                let got = std::fs::read_dir(&dir)
                    .unwrap()
                    .filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().starts_with("got-"))
                    .count();
                (got == 3 && seen.borrow().asking.is_empty()).then_some(())
            },
        )
        .await;
        // Every shell writes its history out.
        key(&input, KeyCode::Char('a'), KeyModifiers::ALT);
        type_text(&input, "history -a; echo saved-$((6*7))");
        key(&input, KeyCode::Enter, KeyModifiers::NONE);
        wait_for("histories saved", Duration::from_secs(30), async || {
            seen.borrow()
                .screens
                .values()
                .all(|s| s.contains("saved-42"))
                .then_some(())
        })
        .await;
        drop(input);
    };
    let (result, ()) = tokio::join!(event_loop, script);
    result.unwrap();

    let mut answers = Vec::new();
    let mut histories = 0;
    for entry in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().to_string();
        let text = std::fs::read_to_string(entry.path()).unwrap();
        if name.starts_with("got-") {
            answers.push(text);
        } else if name.starts_with("hist-") {
            histories += 1;
            assert!(!text.contains(SECRET), "{name} keeps the answer: {text}");
        }
    }
    assert_eq!(answers, vec![format!("{SECRET}\n"); 3]);
    assert_eq!(histories, 10);
    for (name, screen) in &seen.borrow().screens {
        assert!(
            !screen.contains(SECRET),
            "{name} shows the answer:\n{screen}"
        );
    }
    let logged = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    assert!(logged.contains("log capture on"), "the log capture works");
    assert!(!logged.contains(SECRET), "the answer is in the log");
}
