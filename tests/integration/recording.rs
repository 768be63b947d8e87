//! `--record` and `--log` against real sshd and bash: `asciinema cat` prints each session's
//! output from its recording, the logs hold that output as timestamped plain lines, and
//! neither holds the answer given with Alt-W nor the Alt-P line typed at a password prompt
//! (input events are on: visible typing is recorded, hidden input is not).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::channel::mpsc::{UnboundedSender, unbounded};
use mtssh::tui::record::RecordOptions;
use mtssh::tui::{TuiSetup, run_headless};

use crate::flow_control::sshd_and_targets;
use crate::support::{self, TestEnv, wait_for};

const ANSWER: &str = "Answer-w-5150";
const PASSWORD: &str = "Hidden-p-8086";

fn key(input: &UnboundedSender<std::io::Result<Event>>, code: KeyCode, mods: KeyModifiers) {
    let event = Event::Key(KeyEvent::new(code, mods));
    input.unbounded_send(Ok(event)).unwrap();
}

fn line(input: &UnboundedSender<std::io::Result<Event>>, text: &str) {
    for c in text.chars() {
        key(input, KeyCode::Char(c), KeyModifiers::NONE);
    }
    key(input, KeyCode::Enter, KeyModifiers::NONE);
}

#[derive(Default)]
struct Seen {
    screens: BTreeMap<String, String>,
    asking: usize,
    recording: usize,
}

#[tokio::test]
async fn recordings_play_and_logs_read_and_neither_holds_hidden_input() {
    if !crate::sshd::available() || !support::have_all(&["bash", "asciinema", "script"]) {
        return;
    }
    let _heavy = support::heavy().await;
    let env = TestEnv::new();
    let (_server, targets, dir) = sshd_and_targets(&env, 2);
    let out = tempfile::tempdir().unwrap();
    let casts = out.path().join("casts");
    let logs = out.path().join("logs");
    let mut setup = TuiSetup::new(targets);
    setup.record = RecordOptions {
        dir: Some(casts.clone()),
        all: true,
        input: true,
        log_dir: Some(logs.clone()),
        ..Default::default()
    };
    let (input, input_rx) = unbounded();
    let seen = RefCell::new(Seen::default());
    let event_loop = run_headless(setup, 200, 50, input_rx, |frame, app| {
        let mut now = seen.borrow_mut();
        for id in app.pane_ids() {
            let name = app.pane_name(id).unwrap_or_default().to_string();
            now.screens
                .insert(name, app.pane_screen_text(id).unwrap_or_default());
        }
        now.asking = app.asking_panes().len();
        now.recording = frame.lines.iter().map(|l| l.matches("● REC").count()).sum();
    });
    let dir_text = dir.display().to_string();
    let every = |text: &'static str| {
        let seen = &seen;
        async move || {
            let seen = seen.borrow();
            (seen.screens.len() == 2 && seen.screens.values().all(|s| s.contains(text)))
                .then_some(())
        }
    };
    let script = async {
        line(&input, "exec bash --norc --noprofile -i");
        wait_for("two bash prompts", Duration::from_secs(30), every("bash-")).await;
        line(
            &input,
            &format!("HISTFILE={dir_text}/hist-$$; echo visible-$((6*7))"),
        );
        wait_for(
            "the visible line",
            Duration::from_secs(30),
            every("visible-42"),
        )
        .await;
        assert_eq!(seen.borrow().recording, 2, "both titles say ● REC");
        // A prompt answered with Alt-W.
        line(&input, "read -s -p 'Password: ' A; echo answer-len-${#A}");
        wait_for("two panes asking", Duration::from_secs(30), async || {
            (seen.borrow().asking == 2).then_some(())
        })
        .await;
        key(&input, KeyCode::Char('w'), KeyModifiers::ALT);
        line(&input, ANSWER);
        wait_for(
            "the answer taken",
            Duration::from_secs(30),
            every("answer-len-13"),
        )
        .await;
        // A prompt answered with an Alt-P line.
        line(&input, "read -s -p 'Password: ' B; echo hidden-len-${#B}");
        wait_for(
            "two panes asking again",
            Duration::from_secs(30),
            async || (seen.borrow().asking == 2).then_some(()),
        )
        .await;
        key(&input, KeyCode::Char('p'), KeyModifiers::ALT);
        line(&input, PASSWORD);
        wait_for(
            "the line taken",
            Duration::from_secs(30),
            every("hidden-len-13"),
        )
        .await;
        line(&input, "echo done-$((6*7))");
        wait_for("the last line", Duration::from_secs(30), every("done-42")).await;
        drop(input);
    };
    let (result, ()) = tokio::join!(event_loop, script);
    result.unwrap();

    // One recording and one log per session; every file private.
    let mut files: Vec<std::path::PathBuf> = Vec::new();
    for folder in [&casts, &logs] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(folder).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{}", folder.display());
        let mut here: Vec<_> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        here.sort();
        assert_eq!(here.len(), 2, "{here:?}");
        files.extend(here);
    }
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let text = String::from_utf8(bytes).expect("recordings and logs are UTF-8");
        for secret in [ANSWER, PASSWORD] {
            assert!(!text.contains(secret), "{} holds {secret}", file.display());
        }
        if file.extension().is_some_and(|e| e == "cast") {
            let header: serde_json::Value =
                serde_json::from_str(text.lines().next().unwrap()).unwrap();
            assert_eq!(header["version"], 2);
            // Typed visibly: an input event of its own.
            assert!(
                text.contains(r#""i","e"#),
                "no input events in {}",
                file.display()
            );
            // asciinema 2.2 opens /dev/tty: `script` gives it a terminal of its own.
            let played = std::process::Command::new("script")
                .args(["-q", "-e", "-c"])
                .arg(format!("asciinema cat '{}'", file.display()))
                .arg("/dev/null")
                .env("HOME", out.path())
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap();
            assert!(played.status.success(), "{played:?}");
            let shown = String::from_utf8_lossy(&played.stdout);
            for wanted in ["visible-42", "answer-len-13", "hidden-len-13", "done-42"] {
                assert!(
                    shown.contains(wanted),
                    "asciinema cat: no {wanted}: {shown}"
                );
            }
        } else {
            for wanted in ["visible-42", "answer-len-13", "hidden-len-13", "done-42"] {
                let found = text.lines().find(|l| l.ends_with(wanted));
                let found = found.unwrap_or_else(|| panic!("no {wanted} in {text}"));
                assert!(found.starts_with("20") && found.contains("Z "), "{found}");
            }
            assert!(!text.contains('\x1b'), "escape sequences in {text}");
        }
    }
}
