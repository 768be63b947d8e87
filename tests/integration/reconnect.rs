//! Reconnecting by itself (`reconnect = "auto"`) in the TUI's real loop, headless: the
//! server process serving a session is killed (an OpenSSH sshd's session process, a mock
//! server stopped and started again on the same address and port), and the pane comes back
//! with its old lines; a failed login is not tried again.

use std::cell::RefCell;
use std::time::Duration;

use futures::channel::mpsc::unbounded;
use mtssh::app::App;
use mtssh::app::retry::Retry;
use mtssh::mock::{MockOptions, MockThread};
use mtssh::ssh::reconnect::ReconnectPolicy;
use mtssh::ssh::{SessionError, SessionState};
use mtssh::tui::{TuiSetup, run_headless};

use crate::support;
use crate::tui_headless::type_text;

/// Reconnecting starts after 1 s, then 2 s, 4 s …: a few tries fit in this.
const BACK_IN: Duration = Duration::from_secs(40);

/// What one frame showed of the model.
#[derive(Debug, Clone, Default)]
struct Seen {
    screen: String,
    scrollback: Vec<String>,
    states: Vec<SessionState>,
    retries: Vec<Option<Retry>>,
    targets: usize,
}

fn seen(lines: &[String], app: &App) -> Seen {
    let ids = app.pane_ids();
    Seen {
        screen: lines.join("\n"),
        scrollback: ids
            .iter()
            .map(|&id| app.scrollback_text(id).unwrap_or_default())
            .collect(),
        states: ids
            .iter()
            .filter_map(|&id| app.pane_state(id).cloned())
            .collect(),
        retries: ids.iter().map(|&id| app.pane_retry(id)).collect(),
        targets: app.target_count(),
    }
}

/// Polls the last frame until `ok` holds, with a deadline; on timeout says what was seen.
async fn wait_seen(
    latest: &RefCell<Seen>,
    what: &str,
    limit: Duration,
    ok: impl Fn(&Seen) -> bool,
) -> Seen {
    let deadline = std::time::Instant::now() + limit;
    loop {
        {
            let seen = latest.borrow();
            if ok(&seen) {
                return seen.clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}: states {:?}, retries {:?}, targets {}\n{}\n\
                 scrollbacks:\n{}",
                seen.states,
                seen.retries,
                seen.targets,
                seen.screen,
                seen.scrollback.join("\n=====\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The status bar: the row above the broadcast line, the screen's last.
fn status_bar(screen: &str) -> &str {
    screen.lines().rev().nth(1).unwrap_or_default()
}

/// Every process under `pid` (children first found, then theirs), from /proc.
fn descendants(pid: i32) -> Vec<i32> {
    let mut parents = std::collections::HashMap::<i32, Vec<i32>>::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`: the name may hold spaces and parentheses.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parents.entry(ppid).or_default().push(child);
        }
    }
    let mut found = Vec::new();
    let mut queue = vec![pid];
    while let Some(next) = queue.pop() {
        for &child in parents.get(&next).into_iter().flatten() {
            found.push(child);
            queue.push(child);
        }
    }
    found
}

/// Whether pane `pane` printed a line that is exactly `text`.
fn answered(seen: &Seen, pane: usize, text: &str) -> bool {
    seen.scrollback
        .get(pane)
        .is_some_and(|t| t.lines().any(|l| l.trim() == text))
}

#[tokio::test]
async fn killing_the_sshd_session_process_brings_the_pane_back_with_its_old_lines() {
    if !crate::sshd::available() {
        return;
    }
    let env = support::TestEnv::new();
    let server = crate::sshd::Sshd::start(&env, crate::sshd::SshdOptions::default());
    // The host list says `reconnect = "auto"`, as a user writes it.
    let known = env.path(".ssh/known_hosts");
    let hosts = crate::run_cmd::sshd_hosts(&env, &server.addrs, &known, "accept-new");
    let text = std::fs::read_to_string(&hosts).unwrap();
    let text = text.replacen("[defaults]\n", "[defaults]\nreconnect = \"auto\"\n", 1);
    std::fs::write(&hosts, text).unwrap();
    let targets = mtssh::config::inventory::resolve(&mtssh::config::HostOptions {
        file: Some(hosts),
        ..Default::default()
    })
    .await
    .expect("the host list resolves")
    .targets;
    assert!(targets[0].reconnect.is_auto());
    let setup = TuiSetup::new(targets);
    let (input, input_rx) = unbounded();
    let latest = RefCell::new(Seen::default());
    let event_loop = run_headless(setup, 120, 30, input_rx, |frame, app| {
        *latest.borrow_mut() = seen(&frame.lines, app);
    });
    let script = async {
        wait_seen(&latest, "the shell", Duration::from_secs(30), |s| {
            s.states.first() == Some(&SessionState::Ready)
                && s.scrollback[0].trim_end().ends_with(['$', '#'])
        })
        .await;
        // Printed by the shell, not typed: the echo of the line does not hold the answer.
        type_text(&input, "echo before-$((6*7))");
        let limit = Duration::from_secs(20);
        wait_seen(&latest, "the first answer", limit, |s| {
            answered(s, 0, "before-42")
        })
        .await;
        // The session's own processes under the listening sshd: kill them all, hard.
        let serving = descendants(server.pid());
        assert!(!serving.is_empty(), "no session process under sshd");
        for pid in &serving {
            // SAFETY: kill has no memory preconditions; these are the test's own sshd's.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        wait_seen(&latest, "the pane to notice", limit, |s| {
            s.retries[0].is_some_and(|r| r.is_retrying())
        })
        .await;
        let back = wait_seen(&latest, "the pane to come back", BACK_IN, |s| {
            // Typed before the new shell's prompt, a line would be echoed ahead of it.
            let prompt = s.scrollback[0]
                .split_once("--- reconnected at ")
                .is_some_and(|(_, new)| new.trim_end().ends_with(['$', '#']));
            s.states[0] == SessionState::Ready
                && s.retries[0].is_some_and(|r| !r.is_active())
                && prompt
        })
        .await;
        let text = &back.scrollback[0];
        let old = text.find("before-42").expect("the old lines are kept");
        let marker = text.find("--- reconnected at ").unwrap();
        assert!(old < marker, "{text}");
        assert_eq!(back.targets, 1, "back in the broadcast");
        // The new shell answers the broadcast line.
        type_text(&input, "echo after-$((6*8))");
        wait_seen(&latest, "an answer from the new shell", limit, |s| {
            answered(s, 0, "after-48")
        })
        .await;
        drop(input);
    };
    let (result, ()) = tokio::join!(event_loop, script);
    result.unwrap_or_else(|e| panic!("the loop failed: {e:#}; sshd log:\n{}", server.log()));
}

/// A mock server on a thread of its own at `bind`:`port` (0: any free one), one host.
fn mock_at(bind: std::net::IpAddr, port: u16) -> MockThread {
    MockThread::start(MockOptions {
        bind,
        port,
        ..support::mock_options(MockOptions {
            hosts: 1,
            ..Default::default()
        })
    })
    .expect("mock server starts")
}

#[tokio::test]
async fn a_mock_server_stopped_and_started_again_gets_its_pane_back_into_the_broadcast() {
    let steady = mock_at(support::loopback(), 0);
    let flaky_ip = support::loopback();
    let flaky = RefCell::new(Some(mock_at(flaky_ip, 0)));
    let flaky_target = flaky.borrow().as_ref().unwrap().targets()[0].clone();
    let flaky_port = flaky_target.port;
    let mut targets = vec![steady.targets()[0].clone(), flaky_target];
    targets[1].name = "mock-02".into();
    for target in &mut targets {
        target.reconnect = ReconnectPolicy::auto(10);
    }
    let setup = TuiSetup::new(targets);
    let (input, input_rx) = unbounded();
    let latest = RefCell::new(Seen::default());
    let event_loop = run_headless(setup, 160, 40, input_rx, |frame, app| {
        *latest.borrow_mut() = seen(&frame.lines, app);
    });
    let script = async {
        let limit = Duration::from_secs(20);
        wait_seen(&latest, "both ready", limit, |s| {
            s.states.len() == 2
                && s.states.iter().all(|s| *s == SessionState::Ready)
                && s.scrollback.iter().all(|t| t.trim_end().ends_with('$'))
        })
        .await;
        type_text(&input, "echo one-for-all");
        wait_seen(&latest, "both answers", limit, |s| {
            answered(s, 0, "one-for-all") && answered(s, 1, "one-for-all")
        })
        .await;
        // The server goes away with its sessions.
        drop(flaky.borrow_mut().take());
        let down = wait_seen(&latest, "the pane down", limit, |s| {
            s.retries[1].is_some_and(|r| r.is_retrying())
                && status_bar(&s.screen).contains("1 down, retrying")
        })
        .await;
        assert_eq!(down.targets, 1, "only the steady pane gets the broadcast");
        let counting = wait_seen(&latest, "a countdown", limit, |s| {
            s.screen.contains("retrying in ")
        })
        .await;
        assert_eq!(counting.targets, 1);
        // What is typed meanwhile reaches the steady pane only.
        type_text(&input, "echo while-down");
        wait_seen(&latest, "the steady pane's answer", limit, |s| {
            answered(s, 0, "while-down")
        })
        .await;
        // Back on the same address and port.
        *flaky.borrow_mut() = Some(mock_at(flaky_ip, flaky_port));
        let back = wait_seen(&latest, "the pane back in the broadcast", BACK_IN, |s| {
            let prompt = s.scrollback[1]
                .split_once("--- reconnected at ")
                .is_some_and(|(_, new)| new.trim_end().ends_with('$'));
            s.states[1] == SessionState::Ready && s.targets == 2 && prompt
        })
        .await;
        assert!(answered(&back, 1, "one-for-all"), "old lines kept");
        assert!(!answered(&back, 1, "while-down"));
        assert!(!status_bar(&back.screen).contains("down, retrying"));
        type_text(&input, "echo all-again");
        wait_seen(&latest, "both answer again", limit, |s| {
            answered(s, 0, "all-again") && answered(s, 1, "all-again")
        })
        .await;
        drop(input);
    };
    let (result, ()) = tokio::join!(event_loop, script);
    result.expect("the loop runs");
}

#[tokio::test]
async fn a_failed_login_is_not_tried_again() {
    let mock = mock_at(support::loopback(), 0);
    let mut target = mock.targets()[0].clone();
    target.password = Some("not-the-password".into());
    target.reconnect = ReconnectPolicy::auto(10);
    // Nobody is asked for another password: the failure is final at once.
    target.batch_mode = true;
    let setup = TuiSetup::new(vec![target]);
    let (input, input_rx) = unbounded();
    let latest = RefCell::new(Seen::default());
    let clock_wanted = RefCell::new(true);
    let event_loop = run_headless(setup, 120, 30, input_rx, |frame, app| {
        *latest.borrow_mut() = seen(&frame.lines, app);
        *clock_wanted.borrow_mut() = app.needs_clock();
    });
    let script = async {
        let failed = wait_seen(&latest, "the login to fail", Duration::from_secs(20), |s| {
            matches!(
                s.states.first(),
                Some(SessionState::Failed {
                    error: SessionError::AuthFailed { .. }
                })
            )
        })
        .await;
        // No try is scheduled: nothing would ever start one.
        assert_eq!(failed.retries[0], Some(Retry::Idle));
        assert!(!*clock_wanted.borrow());
        assert!(!status_bar(&failed.screen).contains("retrying"));
        assert_eq!(mock.connections(), 1, "one login attempt");
        drop(input);
    };
    let (result, ()) = tokio::join!(event_loop, script);
    result.expect("the loop runs");
}
