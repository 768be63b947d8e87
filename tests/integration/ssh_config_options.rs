//! ssh_config options that change how a connection behaves, against real peers: BatchMode
//! (never prompt), ConnectionAttempts (retry the TCP connect) and ServerAliveCountMax (give
//! up on a server that stops answering).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mtssh::config::{HostOptions, inventory};
use mtssh::ssh::{Engine, EngineSettings, SessionEvent, SessionState, Work};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::pty::Pty;
use crate::run_faults::named_hosts;
use crate::ssh_config_alias::run_all;
use crate::support::{self, TestEnv};

#[tokio::test]
async fn batch_mode_fails_a_host_that_needs_a_password_without_prompting() {
    let env = TestEnv::new();
    let server = support::mock(1).await;
    let hosts = named_hosts(&env, &server, &["mock-01"]);
    let config = env.path("ssh_config");
    std::fs::write(&config, "Host *\n  BatchMode yes\n").unwrap();
    let none = env.path("none-config");
    std::fs::write(&none, "").unwrap();
    // From the file, and from `-o` with an ssh_config that says nothing.
    for extra in [
        vec!["--ssh-config", config.to_str().unwrap()],
        vec![
            "--ssh-config",
            none.to_str().unwrap(),
            "-o",
            "BatchMode=yes",
        ],
    ] {
        let mut cmd = env.std_command(support::mtssh_bin());
        cmd.env("TERM", "xterm")
            .args(["run", "-f", hosts.to_str().unwrap(), "-c", "echo hi"])
            .args(&extra);
        let mut pty = Pty::spawn(cmd);
        // Without BatchMode this run waits at "Password for test@mock-01:" (see
        // run_prompts): here it must end on its own.
        let status = pty.wait_exit(Duration::from_secs(20)).await;
        let text = pty.text();
        assert!(status.is_some(), "still waiting: {text:?}");
        assert!(!text.contains("Password for"), "{text:?}");
        assert!(
            text.contains("BatchMode is on, so no password prompt"),
            "{extra:?}: {text:?}"
        );
        assert_ne!(status.unwrap().code(), Some(0));
    }
}

/// Resolves one host through the inventory, as `mtssh -f FILE --ssh-config CONFIG` would.
async fn resolve_one(env: &TestEnv, hosts: &str, config: &str) -> mtssh::ssh::Target {
    let toml = env.path("hosts.toml");
    std::fs::write(&toml, hosts).unwrap();
    let cfg = env.path("ssh_config");
    std::fs::write(&cfg, config).unwrap();
    let opts = HostOptions {
        file: Some(toml),
        ssh_config: Some(cfg),
        known_hosts: Some(env.path("kh")),
        ..HostOptions::default()
    };
    let mut inventory = inventory::resolve(&opts).await.expect("resolves");
    assert_eq!(inventory.targets.len(), 1);
    inventory.targets.remove(0)
}

#[tokio::test]
async fn connection_attempts_retries_a_refused_connect_that_many_times() {
    let env = TestEnv::new();
    let ip = support::loopback();
    // Nothing listens there: the address is this test's alone.
    let port = crate::sshd::free_port(ip);
    for (attempts, line) in [(3, "  ConnectionAttempts 3\n"), (1, "")] {
        let target = resolve_one(
            &env,
            "[[hosts]]\nname = \"dead\"\nhost = \"dead\"\nuser = \"x\"\n",
            &format!("Host dead\n  HostName {ip}\n  Port {port}\n{line}"),
        )
        .await;
        assert_eq!(target.connection_attempts, attempts);
        let started = Instant::now();
        let (ends, queried) = run_all(vec![target], "true").await;
        let Some(SessionState::Failed { error }) = ends.first() else {
            panic!("{ends:?}")
        };
        assert_eq!(error.kind(), "refused", "{error}");
        // Each attempt resolves and connects once.
        assert_eq!(queried.lock().unwrap().len(), attempts as usize, "{error}");
        eprintln!("{attempts} attempt(s) in {:?}: {error}", started.elapsed());
        if attempts > 1 {
            assert!(error.to_string().contains("tried 3 times"), "{error}");
            // One second between attempts, as OpenSSH.
            assert!(started.elapsed() >= Duration::from_secs(2));
        } else {
            assert!(!error.to_string().contains("tried"), "{error}");
        }
    }
}

/// A TCP relay to `upstream` that can be frozen: from then on it passes nothing either
/// way but keeps both connections open, like a server that hangs.
async fn freezable_relay(
    upstream: std::net::SocketAddr,
) -> (std::net::SocketAddr, Arc<AtomicBool>) {
    let listener = TcpListener::bind((support::loopback(), 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let frozen = Arc::new(AtomicBool::new(false));
    let flag = frozen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(upstream).await else {
                continue;
            };
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            tokio::spawn(pass(cr, sw, flag.clone()));
            tokio::spawn(pass(sr, cw, flag.clone()));
        }
    });
    (addr, frozen)
}

async fn pass(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut held = Vec::new();
    loop {
        let Ok(n) = from.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            return;
        }
        if frozen.load(Ordering::SeqCst) {
            // Swallowed: the other side never hears of it. Kept so the socket stays open.
            held.extend_from_slice(&buf[..n]);
            continue;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn server_alive_count_max_ends_a_session_whose_server_stops_answering() {
    let env = TestEnv::new();
    let server = support::mock(1).await;
    let (relay, frozen) = freezable_relay(server.hosts()[0].addr).await;
    let user = &server.users()[0];
    let target = resolve_one(
        &env,
        &format!(
            "[[hosts]]\nname = \"hung\"\nhost = \"hung\"\nuser = \"{}\"\npassword = \"{}\"\n",
            user.user, user.password
        ),
        &format!(
            "Host hung\n  HostName {}\n  Port {}\n  ServerAliveInterval 1\n  ServerAliveCountMax 2\n",
            relay.ip(),
            relay.port()
        ),
    )
    .await;
    assert_eq!(target.keepalive, Some(Duration::from_secs(1)));
    assert_eq!(target.keepalive_max, 2);
    let (engine, mut events) = Engine::new(EngineSettings::default());
    let _handle = engine.spawn(
        0,
        target,
        Work::Shell {
            term: "xterm".into(),
            cols: 80,
            rows: 24,
        },
    );
    let next_state = async |events: &mut tokio::sync::mpsc::Receiver<SessionEvent>| loop {
        let event = tokio::time::timeout(Duration::from_secs(30), events.recv())
            .await
            .expect("an event in time")
            .expect("engine alive");
        if let SessionEvent::State { state, .. } = event {
            return state;
        }
    };
    loop {
        let state = next_state(&mut events).await;
        assert!(!state.is_finished(), "{state:?}");
        if state == SessionState::Ready {
            break;
        }
    }
    frozen.store(true, Ordering::SeqCst);
    let froze = Instant::now();
    let state = loop {
        let state = next_state(&mut events).await;
        if state.is_finished() {
            break state;
        }
    };
    let waited = froze.elapsed();
    eprintln!("keepalive-timeout {waited:?} after the relay froze (interval 1 s, count 2)");
    let SessionState::Failed { error } = state else {
        panic!("{state:?}")
    };
    assert_eq!(error.kind(), "keepalive-timeout", "{error}");
    assert!(
        error.to_string().contains("ServerAliveCountMax 2"),
        "{error}"
    );
    // Interval x (count + 1), as russh and OpenSSH count: well before the 30 s of a
    // default keepalive, and not before two keepalives went unanswered.
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
}
