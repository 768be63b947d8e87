//! `mtssh run` never hangs on the SSH flow: `--stdin` flows as the window allows while
//! output is read, stops when the remote ends, and never outlives `--timeout`; a command
//! without `--stdin` gets EOF; a PTY fed from stdin does not echo it; every set-up phase has
//! a timer, even against a server that authenticates and then never answers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::server::{self, Auth, ChannelOpenHandle, Msg, Session};
use russh::{Channel, ChannelId};

use crate::run_cmd::{RunOutput, mtssh_fed, sshd_hosts};
use crate::sshd::{self, Sshd, SshdOptions};
use crate::support::{self, TestEnv};

/// Runs `mtssh run ARGS` with `input` on its stdin; the output and how long it took.
async fn run_fed(env: &TestEnv, args: &[&str], input: Vec<u8>) -> (RunOutput, Duration) {
    let started = Instant::now();
    let args: Vec<&str> = std::iter::once("run").chain(args.iter().copied()).collect();
    let out = mtssh_fed(env, &args, input).await;
    (out, started.elapsed())
}

/// `mtssh run --tty --stdin` of `command` on `hosts`, fed `input`: the remote side reads it
/// through a PTY, as a user's typing.
async fn run_in_pty(env: &TestEnv, hosts: &str, command: &str, input: &[u8]) -> RunOutput {
    let args = [
        "-f",
        hosts,
        "--tty",
        "--stdin",
        "--inline",
        "--timeout",
        "20",
        "-c",
        command,
    ];
    run_fed(env, &args, input.to_vec()).await.0
}

/// An sshd of the test's own and a host list for it (host keys learned on first use).
fn sshd_host_list(env: &TestEnv) -> (Sshd, String) {
    let server = Sshd::start(env, SshdOptions::default());
    let hosts = sshd_hosts(env, &server.addrs, &env.path("known_hosts"), "accept-new");
    (server, hosts.to_string_lossy().into_owned())
}

/// `len` lowercase letters of noise: text for `cat` and `--outdir` to carry whole.
fn letters(len: usize) -> Vec<u8> {
    support::noise(len).iter().map(|b| b'a' + b % 26).collect()
}

#[tokio::test]
async fn run_stdin_flows_past_the_window_and_stops_with_the_remote() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let (_server, hosts) = sshd_host_list(&env);
    let hosts = hosts.as_str();
    let input = letters(6 * 1024 * 1024);

    // Echoed back whole: 6 MB in while 6 MB come out.
    let outdir = env.path("out");
    let (out, took) = run_fed(
        &env,
        &[
            "-f",
            hosts,
            "--stdin",
            "--timeout",
            "30",
            "--outdir",
            outdir.to_str().unwrap(),
            "-c",
            "cat",
        ],
        input.clone(),
    )
    .await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let echoed = std::fs::read(outdir.join("h01.out")).unwrap();
    assert_eq!(
        echoed.len(),
        input.len(),
        "cat gave back {} bytes",
        echoed.len()
    );
    assert_eq!(support::sha256(&echoed), support::sha256(&input));
    eprintln!("6 MB through cat in {took:?}");

    // A remote that never reads and exits at once, or after a while: the run ends with it.
    for (command, want) in [("true", ""), ("sleep 2; echo slept", "slept")] {
        let (out, took) = run_fed(
            &env,
            &["-f", hosts, "--stdin", "--inline", "-c", command],
            input.clone(),
        )
        .await;
        assert_eq!(out.code, Some(0), "{command}: {}{}", out.stdout, out.stderr);
        assert!(out.stdout.contains(want), "{command}: {}", out.stdout);
        assert!(took < Duration::from_secs(20), "{command} took {took:?}");
    }

    // A remote that never reads and never exits: --timeout ends it.
    let (out, took) = run_fed(
        &env,
        &[
            "-f",
            hosts,
            "--stdin",
            "--json",
            "--timeout",
            "3",
            "-c",
            "sleep 60",
        ],
        input.clone(),
    )
    .await;
    assert!(
        out.stdout.contains("\"timed-out\""),
        "{}{}",
        out.stdout,
        out.stderr
    );
    assert!(took < Duration::from_secs(15), "--timeout 3 took {took:?}");
}

#[tokio::test]
async fn run_without_stdin_gives_eof_and_a_fed_pty_does_not_echo() {
    if !sshd::available() {
        return;
    }
    let env = TestEnv::new();
    let (_server, hosts) = sshd_host_list(&env);
    let hosts = hosts.as_str();

    // `cat` reads stdin: without --stdin it gets EOF at once instead of waiting for ever.
    let (out, took) = run_fed(
        &env,
        &[
            "-f",
            hosts,
            "--inline",
            "--timeout",
            "20",
            "-c",
            "cat; echo after-cat",
        ],
        b"never sent".to_vec(),
    )
    .await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("after-cat"), "{}", out.stdout);
    assert!(!out.stdout.contains("never sent"), "{}", out.stdout);
    assert!(took < Duration::from_secs(15), "took {took:?}");

    // What is fed to a PTY (a password, typically) is not echoed into the report.
    let out = run_in_pty(&env, hosts, "read x; echo got-$x", b"s3cret-word\n").await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("got-s3cret-word"), "{}", out.stdout);
    let echoed = out
        .stdout
        .lines()
        .filter(|l| l.contains("s3cret-word"))
        .count();
    assert_eq!(echoed, 1, "the fed line was echoed:\n{}", out.stdout);

    // The PTY decodes UTF-8 (IUTF8, as OpenSSH sets it from a UTF-8 terminal): Backspace in
    // cooked mode erases the whole of `é` (two bytes), not its last byte.
    let command = "read -r x; printf 'hex:%s:' \"$x\" | od -An -tx1 | tr -d ' \\n'; echo :end";
    let out = run_in_pty(&env, hosts, command, "a\u{e9}\x7f\n".as_bytes()).await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    // `hex:a:` is 68 65 78 3a 61 3a; a left-over first byte of `é` would show as c3.
    assert!(
        out.stdout.contains("6865783a613a:end"),
        "Backspace left part of a character:\n{}",
        out.stdout
    );
}

/// A server that lets everyone in, then never answers: the channel open (when `open` is
/// false) or the exec request.
#[derive(Clone)]
struct Mute {
    open: bool,
    held: Arc<std::sync::Mutex<Vec<ChannelOpenHandle>>>,
}

impl server::Handler for Mute {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        Ok(Auth::Accept)
    }

    async fn auth_password(&mut self, _: &str, _: &str) -> Result<Auth, Self::Error> {
        Ok(Auth::Accept)
    }

    async fn channel_open_session(
        &mut self,
        _channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.open {
            reply.accept().await;
        } else {
            // Held, never answered: dropping it would refuse the channel.
            self.held.lock().unwrap().push(reply);
        }
        Ok(())
    }

    // exec_request: russh's default answers nothing.
    async fn data(&mut self, _: ChannelId, _: &[u8], _: &mut Session) -> Result<(), Self::Error> {
        Ok(())
    }
}

async fn start_mute(open: bool) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind((support::loopback(), 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let key = support::fixture_key("host_ed25519");
    let config = Arc::new(server::Config {
        keys: vec![key],
        auth_rejection_time: Duration::ZERO,
        auth_rejection_time_initial: Some(Duration::ZERO),
        ..Default::default()
    });
    let handler = Mute {
        open,
        held: Arc::default(),
    };
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (config, handler) = (config.clone(), handler.clone());
            tokio::spawn(async move {
                if let Ok(running) = server::run_stream(config, socket, handler).await {
                    let _ = running.await;
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_server_that_never_answers_the_channel_or_the_command_times_out_naming_the_phase() {
    let env = TestEnv::new();
    for (open, phase) in [
        (false, "waiting for the server to open a session channel"),
        (true, "waiting for the server to answer the exec request"),
    ] {
        let addr = start_mute(open).await;
        let spec = format!("test@{}:{}", addr.ip(), addr.port());
        let started = Instant::now();
        let out = crate::run_cmd::mtssh(
            &env,
            &[
                "run",
                "-H",
                &spec,
                "--host-key-check",
                "off",
                "--connect-timeout",
                "2",
                "--timeout",
                "5",
                "--inline",
                "-c",
                "true",
            ],
        )
        .await;
        let took = started.elapsed();
        assert_ne!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(all.contains(phase), "expected {phase:?} in:\n{all}");
        assert!(took < Duration::from_secs(10), "took {took:?}: {all}");
    }
}
