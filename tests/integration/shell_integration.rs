//! Shell integration against OpenSSH's sshd and a real bash and zsh: the hook typed into the
//! shell gives exact exit statuses, the pane never shows the line, and the shell's history
//! (and zsh's history file) keeps no trace of it.

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
    /// The session closed.
    ended: bool,
}

#[tokio::test]
async fn bash_gets_exit_statuses_and_no_trace_of_the_hook() {
    if !crate::sshd::available() || !support::have_all(&["bash"]) {
        return;
    }
    let env = support::TestEnv::new();
    // The test account's login shell is sh: a bash of its own, no rc files, a history kept
    // in memory only.
    let force = "PS1='$ ' HISTFILE=/dev/null exec bash --norc -i";
    let screen = hooked_shell(&env, force, ShellIntegration::Bash, "history").await;
    assert!(screen.contains("(exit 3)"), "{screen}");
    assert!(
        !screen.contains("__mtssh"),
        "history keeps the hook: {screen}"
    );
}

#[tokio::test]
async fn zsh_gets_exit_statuses_and_no_trace_of_the_hook_in_history_or_its_file() {
    if !crate::sshd::available() || !support::have_all(&["zsh"]) {
        return;
    }
    let env = support::TestEnv::new();
    // A zsh of its own (no global rc files) with a .zshrc keeping a history file that holds
    // an entry from before, as a user's does; no HIST_IGNORE_SPACE, so the leading space
    // alone does not keep the line out.
    let zdotdir = env.path("zdotdir");
    std::fs::create_dir_all(&zdotdir).unwrap();
    let histfile = zdotdir.join("history");
    std::fs::write(&histfile, "echo from-an-earlier-session\n").unwrap();
    // As root the sessions log in as the test user (see `login_user`): zsh must be able to
    // write its history file and the lock file next to it.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&zdotdir, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::set_permissions(&histfile, std::fs::Permissions::from_mode(0o666)).unwrap();
    std::fs::write(
        zdotdir.join(".zshrc"),
        format!(
            "HISTFILE={}\nHISTSIZE=100\nSAVEHIST=100\nPS1='$ '\n",
            histfile.display()
        ),
    )
    .unwrap();
    let force = format!("ZDOTDIR={} exec zsh -d -i", zdotdir.display());
    let screen = hooked_shell(&env, &force, ShellIntegration::Zsh, "fc -l 1").await;
    assert!(screen.contains("(exit 3)"), "{screen}");
    assert!(screen.contains("from-an-earlier-session"), "{screen}");
    assert!(
        !screen.contains("__mtssh"),
        "history keeps the hook: {screen}"
    );
    // zsh wrote its history file on `exit`.
    let saved = std::fs::read_to_string(&histfile).unwrap();
    assert!(
        saved.contains("(exit 3)") && saved.contains("from-an-earlier-session"),
        "{saved}"
    );
    assert!(
        !saved.contains("__mtssh"),
        "the history file keeps the hook: {saved}"
    );
}

/// Runs `force` (the sshd's ForceCommand) with shell integration `mode` in a headless loop:
/// checks exit statuses 0, 1 and 3 come through and no frame ever shows the injected line,
/// then returns the screen after `history` ran; the shell is left with `exit`.
async fn hooked_shell(
    env: &support::TestEnv,
    force: &str,
    mode: ShellIntegration,
    history: &str,
) -> String {
    let server = crate::sshd::Sshd::start(
        env,
        crate::sshd::SshdOptions {
            extra: vec![format!("ForceCommand {force}")],
            ..Default::default()
        },
    );
    let mut targets = crate::run_cmd::sshd_targets(env, &server.addrs).await;
    for target in &mut targets {
        target.shell_integration = mode;
    }
    let setup = TuiSetup::new(targets);
    let (input, input_rx) = unbounded();
    let seen = RefCell::new(Seen::default());
    let event_loop = run_headless(setup, 120, 30, input_rx, |_, app| {
        let mut seen = seen.borrow_mut();
        seen.screen = app.pane_screen_text(0).unwrap_or_default();
        seen.leaked |= seen.screen.contains("__mtssh");
        seen.hiding = app.hiding();
        seen.ended = app.pane_state(0).is_some_and(|s| s.is_finished());
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
        // Before the history is listed: that shows a kept hook too, but as history's fault.
        assert!(!seen.borrow().leaked, "the pane showed the injected line");
        type_text(&input, &format!("{history}; echo history-done"));
        let screen = wait_for("the history", Duration::from_secs(20), async || {
            let seen = seen.borrow();
            let done = seen.screen.lines().any(|l| l.trim() == "history-done");
            done.then(|| seen.screen.clone())
        })
        .await;
        type_text(&input, "exit");
        wait_for("the shell's exit", Duration::from_secs(20), async || {
            seen.borrow().ended.then_some(())
        })
        .await;
        drop(input);
        screen
    };
    let (result, screen) = tokio::join!(event_loop, script);
    result.unwrap();
    screen
}
