//! Shell integration against OpenSSH's sshd and a real bash: the hook typed into the shell
//! gives exact exit statuses, the pane never shows the line, and the shell's history keeps
//! no trace of it.

use std::cell::RefCell;
use std::time::Duration;

use futures::channel::mpsc::unbounded;
use mtssh::app::result::RunStatus;
use mtssh::ssh::shell_integration::ShellIntegration;
use mtssh::tui::{TuiSetup, run_headless};

use crate::support::{self, wait_for};
use crate::tui_headless::type_text;

#[derive(Default)]
struct Seen {
    screen: String,
    status: Option<RunStatus>,
    line: String,
    hiding: bool,
    /// Whether any frame ever showed the injected line.
    leaked: bool,
}

#[tokio::test]
async fn bash_gets_exit_statuses_and_no_trace_of_the_hook() {
    if !crate::sshd::available() || !support::have_all(&["bash"]) {
        return;
    }
    let env = support::TestEnv::new();
    // The test account's login shell is sh: a bash of its own, no rc files, a history kept
    // in memory only.
    let server = crate::sshd::Sshd::start(
        &env,
        crate::sshd::SshdOptions {
            extra: vec!["ForceCommand PS1='$ ' HISTFILE=/dev/null exec bash --norc -i".into()],
            ..Default::default()
        },
    );
    let mut targets = crate::run_cmd::sshd_targets(&env, &server.addrs).await;
    for target in &mut targets {
        target.shell_integration = ShellIntegration::Bash;
    }
    let setup = TuiSetup::new(targets);
    let (input, input_rx) = unbounded();
    let seen = RefCell::new(Seen::default());
    let event_loop = run_headless(setup, 120, 30, input_rx, |_, app| {
        let mut seen = seen.borrow_mut();
        seen.screen = app.pane_screen_text(0).unwrap_or_default();
        seen.leaked |= seen.screen.contains("__mtssh");
        seen.hiding = app.hiding();
        let last = app.pane_last_result(0);
        seen.status = last.map(|r| r.status);
        seen.line = last.map(|r| r.line.clone()).unwrap_or_default();
    });
    let script = async {
        wait_for("the hooked prompt", Duration::from_secs(30), async || {
            let seen = seen.borrow();
            (!seen.hiding && seen.screen.trim_end().ends_with('$')).then_some(())
        })
        .await;
        for (command, status) in [
            ("true", RunStatus::Exited(0)),
            ("false", RunStatus::Exited(1)),
            ("(exit 3)", RunStatus::Exited(3)),
        ] {
            type_text(&input, command);
            wait_for(command, Duration::from_secs(20), async || {
                let seen = seen.borrow();
                (seen.line == command && seen.status == Some(status)).then_some(())
            })
            .await;
        }
        type_text(&input, "history; echo history-done");
        let screen = wait_for("the history", Duration::from_secs(20), async || {
            let seen = seen.borrow();
            let done = seen.screen.lines().any(|l| l.trim() == "history-done");
            done.then(|| seen.screen.clone())
        })
        .await;
        assert!(screen.contains("(exit 3)"), "{screen}");
        assert!(
            !screen.contains("__mtssh"),
            "history keeps the hook: {screen}"
        );
        assert!(!seen.borrow().leaked, "the pane showed the injected line");
        drop(input);
    };
    let (result, ()) = tokio::join!(event_loop, script);
    result.unwrap();
}
