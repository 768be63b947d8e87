//! The fault matrix (docs/RELIABILITY.md): every case against real servers on loopback,
//! and in every case the other sessions are unaffected.

use std::time::{Duration, Instant};

use mtssh::mock::{MockOptions, MockServer};
use mtssh::modes::{BatchOptions, Outcome, execute};
use mtssh::ssh::{Engine, EngineSettings, SessionEvent, SessionState, Target, Work};

use crate::run_cmd::mtssh;
use crate::sshd::{self, Sshd, SshdOptions};
use crate::support::{self, TestEnv};

fn options(command: &str) -> BatchOptions {
    BatchOptions {
        command: command.into(),
        pty: false,
        max_output: 1024 * 1024,
        timeout: None,
        fanout: 64,
        per_host: 10,
        stdin: None,
        progress: Default::default(),
        show_progress: true,
    }
}

#[tokio::test]
async fn a_name_that_does_not_resolve_fails_alone_without_a_dns_query() {
    let server = support::mock(1).await;
    let good = server.practice_target(0, "good".into()).unwrap();
    let mut bad = good.clone();
    bad.name = "nowhere".into();
    bad.host = "no-such-host.invalid".into();
    let (resolver, queried) = support::no_dns();
    let (engine, mut events) = Engine::new(EngineSettings {
        resolver,
        ..Default::default()
    });
    let _a = engine.spawn(
        0,
        good,
        Work::Exec {
            command: "echo fine".into(),
            pty: None,
            echo: true,
        },
    );
    let _b = engine.spawn(
        1,
        bad,
        Work::Exec {
            command: "echo fine".into(),
            pty: None,
            echo: true,
        },
    );
    let mut ends = [None, None];
    while ends.iter().any(Option::is_none) {
        let event = tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await
            .unwrap()
            .unwrap();
        if let SessionEvent::State { id, state } = event
            && state.is_finished()
        {
            ends[id] = Some(state);
        }
    }
    assert_eq!(
        ends[0],
        Some(SessionState::Closed {
            exit_status: Some(0),
            signal: None,
        })
    );
    let Some(SessionState::Failed { error }) = &ends[1] else {
        panic!("{:?}", ends[1])
    };
    assert!(
        error
            .to_string()
            .contains("cannot resolve no-such-host.invalid"),
        "{error}"
    );
    assert!(
        matches!(error, mtssh::ssh::SessionError::Resolve { host, .. } if host == "no-such-host.invalid"),
        "{error:?}"
    );
    assert_eq!(error.kind(), "resolve");
    assert!(
        queried
            .lock()
            .unwrap()
            .contains(&"no-such-host.invalid".to_string())
    );
}

/// Waits for one session's next state that matches.
async fn state_of(
    events: &mut tokio::sync::mpsc::Receiver<SessionEvent>,
    want: impl Fn(&SessionState) -> bool,
) -> SessionState {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = tokio::time::timeout(left, events.recv())
            .await
            .expect("state in time")
            .expect("engine alive");
        if let SessionEvent::State { state, .. } = event
            && want(&state)
        {
            return state;
        }
    }
}

#[tokio::test]
async fn the_mock_killed_mid_session_then_reconnect_works() {
    let server = support::mock(1).await;
    let addr = server.hosts()[0].addr;
    let target = server.practice_target(0, "victim".into()).unwrap();
    let (engine, mut events) = Engine::new(EngineSettings::default());
    let shell = || Work::Shell {
        term: "xterm".into(),
        cols: 80,
        rows: 24,
    };
    let _h = engine.spawn(0, target.clone(), shell());
    state_of(&mut events, |s| *s == SessionState::Ready).await;
    server.stop();
    drop(server);
    let end = state_of(&mut events, SessionState::is_finished).await;
    assert!(
        matches!(&end, SessionState::Failed { error } if error.to_string().contains("lost")
            && matches!(error, mtssh::ssh::SessionError::ConnectionLost { while_sending: None, .. })
            && error.kind() == "connection-lost"),
        "{end:?}"
    );

    // The server comes back on the same address: a reconnect (a new session) works. The old
    // listener closes when its accept task next runs, so binding may briefly fail.
    let again = support::wait_for(
        "the port to be free again",
        Duration::from_secs(10),
        async || {
            MockServer::start(MockOptions {
                bind: addr.ip(),
                port: addr.port(),
                host_key: mtssh::mock::HostKeySource::Given(Box::new(support::fixture_key(
                    "host_ed25519",
                ))),
                ..Default::default()
            })
            .await
            .ok()
        },
    )
    .await;
    let _h2 = engine.spawn(0, target, shell());
    state_of(&mut events, |s| *s == SessionState::Ready).await;
    again.stop();
}

#[tokio::test]
async fn sshd_killed_mid_command_is_reported_and_never_hangs() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let doomed = Sshd::start(&env, SshdOptions::default());
    let steady = Sshd::start(&env, SshdOptions::default());
    let addrs = [doomed.addrs[0], steady.addrs[0]];
    let hosts =
        crate::run_cmd::sshd_hosts(&env, &addrs, &env.path(".ssh/known_hosts"), "accept-new");
    let mut cmd = env.command(env!("CARGO_BIN_EXE_mtssh"));
    cmd.args([
        "run",
        "-f",
        hosts.to_str().unwrap(),
        "--inline",
        "-c",
        "echo started; sleep 5; echo finished",
    ])
    .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    // Once both commands run, kill the doomed sshd and every process it started.
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert!(line.ends_with(": started"), "{line}");
        seen.push(line);
    }
    let doomed_pid = doomed.pid();
    let mut victims = vec![doomed_pid];
    let mut i = 0;
    while i < victims.len() {
        victims.extend(children_of(victims[i]));
        i += 1;
    }
    for pid in victims {
        // SAFETY: signalling processes this test started.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    let mut rest = Vec::new();
    while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("no hang")
    {
        rest.push(line);
    }
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("no hang")
        .unwrap();
    assert_eq!(status.code(), Some(3));
    assert!(
        rest.iter()
            .any(|l| l.starts_with("h01: mtssh: connection") && l.contains("lost")),
        "{rest:?}"
    );
    assert!(rest.contains(&"h02: finished".to_string()), "{rest:?}");
    drop(steady);
}

fn children_of(pid: i32) -> Vec<i32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

#[tokio::test]
async fn a_flood_of_output_stays_bounded_and_others_keep_their_speed() {
    let _heavy = support::heavy().await;
    let server = support::mock(2).await;
    let flood = server.practice_target(0, "flood".into()).unwrap();
    let quick: Vec<Target> = (0..20)
        .map(|i| server.practice_target(1, format!("quick{i}")).unwrap())
        .collect();
    let flood_opts = BatchOptions {
        max_output: 64 * 1024,
        ..options("seq 12000000")
    };
    let before = mtssh::sys::peak_rss_kib();
    let flooding = execute(
        vec![flood],
        &flood_opts,
        None,
        Box::pin(std::future::pending()),
    );
    let quick_run = async {
        let started = Instant::now();
        let results = execute(
            quick,
            &options("echo quick"),
            None,
            Box::pin(std::future::pending()),
        )
        .await;
        (started.elapsed(), results)
    };
    let (flood_results, (quick_took, quick_results)) = tokio::join!(flooding, quick_run);
    let flood = &flood_results[0];
    assert_eq!(flood.outcome, Outcome::Ok, "{flood:?}");
    assert_eq!(flood.stdout.len(), 64 * 1024);
    // seq 12000000 prints 96 888 897 bytes; all but what was kept were counted, not stored.
    assert_eq!(flood.dropped.0 + flood.stdout.len() as u64, 96_888_897);
    assert!(
        quick_results
            .iter()
            .all(|r| r.outcome == Outcome::Ok && r.stdout == b"quick\n")
    );
    assert!(
        quick_took < Duration::from_secs(20),
        "quick sessions took {quick_took:?} beside the flood"
    );
    let grew_mb = (mtssh::sys::peak_rss_kib().saturating_sub(before)) / 1024;
    assert!(
        grew_mb < 100,
        "peak RSS grew by {grew_mb} MB for ~95 MB of output"
    );
}

#[tokio::test]
async fn interrupting_a_batch_run_keeps_partial_results() {
    let env = TestEnv::new();
    let server = support::mock(3).await;
    let (hosts, kh) = env.mock_host_list(&server);
    let mut cmd = env.command(env!("CARGO_BIN_EXE_mtssh"));
    cmd.args([
        "run",
        "-f",
        hosts.to_str().unwrap(),
        "--known-hosts",
        kh.to_str().unwrap(),
        "--inline",
        "-c",
        "echo started; sleep 30",
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let mut started = Vec::new();
    while started.len() < 3 {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        started.push(line);
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
    let mut rest = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        rest.push(line);
    }
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("exits promptly")
        .unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        started.iter().all(|l| l.ends_with(": started")),
        "{started:?}"
    );
    assert_eq!(
        rest.iter()
            .filter(|l| l.contains("mtssh: interrupted"))
            .count(),
        3,
        "{rest:?}"
    );
}

#[tokio::test]
async fn a_thousand_half_open_connections_then_real_sessions() {
    let _heavy = support::heavy().await;
    mtssh::sys::raise_fd_limit();
    let server = support::mock(1).await;
    let addr = server.hosts()[0].addr;
    let mut half_open = Vec::new();
    for _ in 0..1000 {
        if let Ok(stream) = tokio::net::TcpStream::connect(addr).await {
            half_open.push(stream);
        }
    }
    assert!(half_open.len() >= 950, "only {} connected", half_open.len());
    let target = server.practice_target(0, "real".into()).unwrap();
    let results = execute(
        vec![target; 10],
        &options("echo alive"),
        None,
        Box::pin(std::future::pending()),
    )
    .await;
    assert!(
        results.iter().all(|r| r.stdout == b"alive\n"),
        "{results:?}"
    );
    drop(half_open);
}

#[tokio::test]
async fn timeouts_close_the_channel_and_report_the_host() {
    let env = TestEnv::new();
    let server = support::mock(2).await;
    let (hosts, kh) = env.mock_host_list(&server);
    let out = mtssh(
        &env,
        &[
            "run",
            "-f",
            hosts.to_str().unwrap(),
            "--known-hosts",
            kh.to_str().unwrap(),
            "--timeout",
            "1",
            "--json",
            "-c",
            "sleep 20",
        ],
    )
    .await;
    assert_eq!(out.code, Some(3), "{}", out.stderr);
    for line in out.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["outcome"], "timed-out", "{line}");
        assert!(v["duration_ms"].as_u64().unwrap() < 10_000, "{line}");
    }
}
