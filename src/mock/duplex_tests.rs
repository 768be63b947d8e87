//! The fast tier: the engine against the mock over in-memory pipes (`MockServer::dialer`), no
//! TCP port, no other program. tests/integration repeats much of this over real sockets and
//! against OpenSSH.

use std::time::Duration;

use tokio::sync::mpsc::Receiver;

use super::{HostKeySource, HostKeyType, MockOptions, MockServer};
use crate::ssh::{Engine, EngineSettings, HostKeyPolicy, SessionEvent, SessionState, Target, Work};

/// Every wait of these tests ends by then, or the test fails saying what it waited for.
const DEADLINE: Duration = Duration::from_secs(20);

async fn in_memory_mock(hosts: usize) -> MockServer {
    MockServer::start_in_memory(MockOptions {
        hosts,
        host_key: HostKeySource::Ephemeral(HostKeyType::Ed25519),
        ..Default::default()
    })
    .await
    .expect("the mock starts")
}

fn engine_for(mock: &MockServer) -> (Engine, Receiver<SessionEvent>) {
    Engine::new(EngineSettings {
        dialer: Some(mock.dialer()),
        ..Default::default()
    })
}

fn target(mock: &MockServer, host: usize) -> Target {
    mock.practice_target(host, super::host_name(host))
        .expect("the mock has that host")
}

fn exec(command: &str) -> Work {
    Work::Exec {
        command: command.into(),
        pty: None,
        echo: true,
    }
}

async fn next_event(events: &mut Receiver<SessionEvent>, waiting_for: &str) -> SessionEvent {
    tokio::time::timeout(DEADLINE, events.recv())
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {waiting_for}"))
        .expect("the engine is alive")
}

/// What one session said before it finished.
#[derive(Debug, Default)]
struct Outcome {
    output: String,
    exit_status: Option<u32>,
    last: Option<SessionState>,
}

/// Gathers the events of session `id` until it closes or fails.
async fn run_to_end(events: &mut Receiver<SessionEvent>, id: usize) -> Outcome {
    let mut outcome = Outcome::default();
    loop {
        match next_event(events, "the session to finish").await {
            SessionEvent::Output { id: from, data } if from == id => {
                outcome.output.push_str(&String::from_utf8_lossy(&data));
            }
            SessionEvent::ExitStatus { id: from, status } if from == id => {
                outcome.exit_status = Some(status);
            }
            SessionEvent::State { id: from, state } if from == id => {
                let finished = state.is_finished();
                outcome.last = Some(state);
                if finished {
                    return outcome;
                }
            }
            SessionEvent::Prompt { prompt, .. } => panic!("unexpected prompt: {}", prompt.text),
            _ => {}
        }
    }
}

fn failure_kind(outcome: &Outcome) -> &'static str {
    match &outcome.last {
        Some(SessionState::Failed { error }) => error.kind(),
        other => panic!("expected a failure, got {other:?} ({outcome:?})"),
    }
}

#[tokio::test]
async fn exec_output_and_exit_status_arrive_as_events() {
    let mock = in_memory_mock(1).await;
    let (engine, mut events) = engine_for(&mock);
    let _session = engine.spawn(0, target(&mock, 0), exec("echo hi"));
    let outcome = run_to_end(&mut events, 0).await;
    assert_eq!(outcome.output.trim_end(), "hi", "{outcome:?}");
    assert_eq!(outcome.exit_status, Some(0), "{outcome:?}");
    assert!(
        matches!(outcome.last, Some(SessionState::Closed { .. })),
        "{outcome:?}"
    );
    mock.stop();
}

#[tokio::test]
async fn the_dialer_picks_the_host_by_port() {
    let mock = in_memory_mock(3).await;
    let (engine, mut events) = engine_for(&mock);
    let _session = engine.spawn(2, target(&mock, 2), exec("hostname"));
    let outcome = run_to_end(&mut events, 2).await;
    assert_eq!(outcome.output.trim_end(), "mock-03", "{outcome:?}");
    mock.stop();
}

#[tokio::test]
async fn hosts_named_by_differ_answer_otherwise() {
    let mock = MockServer::start_in_memory(MockOptions {
        hosts: 3,
        host_key: HostKeySource::Ephemeral(HostKeyType::Ed25519),
        differ: vec!["2:4:odd one".parse().expect("a rule")],
        ..Default::default()
    })
    .await
    .expect("the mock starts");
    let (engine, mut events) = engine_for(&mock);
    let mut answers = Vec::new();
    for host in 0..3 {
        let _session = engine.spawn(host, target(&mock, host), exec("echo hi"));
        let outcome = run_to_end(&mut events, host).await;
        answers.push((outcome.output, outcome.exit_status));
    }
    let same = ("hi\n".to_string(), Some(0));
    assert_eq!(
        answers,
        [same.clone(), ("hi\nodd one\n".into(), Some(4)), same]
    );
    mock.stop();
}

#[tokio::test]
async fn a_wrong_password_fails_as_auth_failed() {
    let mock = in_memory_mock(1).await;
    let (engine, mut events) = engine_for(&mock);
    let wrong = Target {
        password: Some("not-the-password".into()),
        ..target(&mock, 0)
    };
    let _session = engine.spawn(0, wrong, exec("echo hi"));
    let outcome = run_to_end(&mut events, 0).await;
    assert_eq!(failure_kind(&outcome), "auth-failed", "{outcome:?}");
    assert!(outcome.output.is_empty(), "{outcome:?}");
    mock.stop();
}

#[tokio::test]
async fn a_wrong_pinned_host_key_fails_as_a_mismatch() {
    let mock = in_memory_mock(1).await;
    let (engine, mut events) = engine_for(&mock);
    let other = super::hostkey::generate(HostKeyType::Ed25519).expect("a key");
    let pinned_elsewhere = Target {
        host_key: HostKeyPolicy::Pinned(other.public_key().clone()),
        ..target(&mock, 0)
    };
    let _session = engine.spawn(0, pinned_elsewhere, exec("echo hi"));
    let outcome = run_to_end(&mut events, 0).await;
    assert_eq!(failure_kind(&outcome), "host-key-mismatch", "{outcome:?}");
    mock.stop();
}

#[tokio::test]
async fn an_unknown_host_cannot_be_connected_to() {
    let mock = in_memory_mock(1).await;
    let (engine, mut events) = engine_for(&mock);
    let nowhere = Target {
        host: "elsewhere".into(),
        port: 1,
        ..target(&mock, 0)
    };
    let _session = engine.spawn(0, nowhere, exec("echo hi"));
    let outcome = run_to_end(&mut events, 0).await;
    assert_eq!(failure_kind(&outcome), "refused", "{outcome:?}");
    mock.stop();
}

#[tokio::test]
async fn a_shell_echoes_a_typed_line() {
    let mock = in_memory_mock(1).await;
    let (engine, mut events) = engine_for(&mock);
    let session = engine.spawn(0, target(&mock, 0), xterm_shell());
    let mut output = String::new();
    let mut typed = false;
    loop {
        match next_event(&mut events, "the echo of `echo tok-0`").await {
            SessionEvent::State {
                state: SessionState::Ready,
                ..
            } => {
                session.input(&b"echo tok-0\r"[..]).unwrap();
                typed = true;
            }
            SessionEvent::State { state, .. } if state.is_finished() => {
                panic!("the shell ended: {state} ({output:?})")
            }
            SessionEvent::Output { data, .. } => {
                output.push_str(&String::from_utf8_lossy(&data));
                // The typed line's echo, then the command's own output (after an OSC 133 C).
                if typed && output.matches("tok-0\r\n").count() >= 2 {
                    break;
                }
            }
            _ => {}
        }
    }
    session.close();
    let rest = run_to_end(&mut events, 0).await;
    assert!(
        matches!(rest.last, Some(SessionState::Closed { .. })),
        "{rest:?}"
    );
    mock.stop();
}

/// The events of `:CMD` run `run` on session 0 until its end.
async fn exec_events(events: &mut Receiver<SessionEvent>, run: u64) -> Vec<crate::ssh::ExecEvent> {
    let mut seen = Vec::new();
    loop {
        if let SessionEvent::Exec { run: r, event, .. } = next_event(events, "the exec run").await
            && r == run
        {
            let end = matches!(event, crate::ssh::ExecEvent::End(_));
            seen.push(event);
            if end {
                return seen;
            }
        }
    }
}

#[tokio::test]
async fn exec_channels_run_beside_the_shell_and_time_out() {
    use crate::ssh::{ExecEnd, ExecEvent, ExecRequest};
    let mock = in_memory_mock(1).await;
    let (engine, mut events) = engine_for(&mock);
    let session = engine.spawn(0, target(&mock, 0), xterm_shell());
    loop {
        if let SessionEvent::State {
            state: SessionState::Ready,
            ..
        } = next_event(&mut events, "the shell").await
        {
            break;
        }
    }
    let request = |run, command: &str, timeout| ExecRequest {
        run,
        command: command.into(),
        timeout,
    };
    session.exec(request(1, "echo hi; false", DEADLINE));
    assert_eq!(
        exec_events(&mut events, 1).await,
        [
            ExecEvent::Stdout(b"hi\n".to_vec()),
            ExecEvent::End(ExecEnd::Exited(1))
        ]
    );
    let short = Duration::from_millis(200);
    session.exec(request(2, "sleep 30", short));
    assert_eq!(
        exec_events(&mut events, 2).await,
        [ExecEvent::End(ExecEnd::TimedOut(short))]
    );
    // The shell and its connection are still there.
    session.exec(request(3, "true", DEADLINE));
    assert_eq!(
        exec_events(&mut events, 3).await,
        [ExecEvent::End(ExecEnd::Exited(0))]
    );
    assert_eq!(mock.connections(), 1);
    session.close();
    mock.stop();
}

/// An interactive shell on an 80x24 xterm, as a pane opens one.
fn xterm_shell() -> Work {
    Work::Shell {
        term: "xterm".into(),
        cols: 80,
        rows: 24,
    }
}

/// `--style handout` over a real SSH session with an RSA host key, as the handout's server.
#[tokio::test]
async fn the_handout_style_answers_with_its_prompt_and_echo() {
    let mock = MockServer::start_in_memory(MockOptions {
        host_key: HostKeySource::Ephemeral(HostKeyType::Rsa),
        style: super::ShellStyle::Handout,
        ..Default::default()
    })
    .await
    .expect("the mock starts");
    assert_eq!(mock.host_key().algorithm().as_str(), "ssh-rsa");
    let (engine, mut events) = engine_for(&mock);
    let session = engine.spawn(0, target(&mock, 0), xterm_shell());
    let mut output = String::new();
    let mut typed = false;
    loop {
        match next_event(&mut events, "the handout's echo of `ls`").await {
            SessionEvent::State { state, .. } if state.is_finished() => {
                panic!("the shell ended: {state} ({output:?})")
            }
            SessionEvent::Output { data, .. } => {
                output.push_str(&String::from_utf8_lossy(&data));
                if !typed && output.ends_with("> ") {
                    session.input(&b"ls\r"[..]).unwrap();
                    typed = true;
                }
                if output.contains("服务端收到指令：ls\r\n> ") {
                    break;
                }
            }
            _ => {}
        }
    }
    assert!(
        output.starts_with("=====本地模拟SSH服务=====\r\n输入任意指令，服务端回显内容\r\n> "),
        "{output:?}"
    );
    assert!(!output.contains("\x1b]133"), "no prompt marks: {output:?}");
    session.close();
    run_to_end(&mut events, 0).await;
    mock.stop();
}
