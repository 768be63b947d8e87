//! The mock server against real clients: OpenSSH, paramiko, our own engine, and abuse.

use std::process::Stdio;
use std::time::{Duration, Instant};

use mtssh::mock::{MockOptions, MockServer};
use mtssh::ssh::{Engine, EngineSettings, SessionEvent, SessionState, Target, Work};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{self, TestEnv, have_all, wait_for};

async fn ssh_password(
    env: &TestEnv,
    server: &MockServer,
    host: usize,
    command: &str,
) -> std::process::Output {
    let mut cmd = env.command("sshpass");
    cmd.args(["-p", "123456", "ssh"])
        .args(env.ssh_args(server.hosts()[host].addr))
        .arg(command);
    tokio::time::timeout(Duration::from_secs(20), cmd.output())
        .await
        .expect("ssh finishes")
        .expect("ssh runs")
}

#[tokio::test]
async fn openssh_password_login_runs_commands_on_each_host() {
    if !have_all(&["ssh", "sshpass"]) {
        return;
    }
    let env = TestEnv::new();
    let server = support::mock(2).await;

    let out = ssh_password(&env, &server, 0, "hostname").await;
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "mock-01");
    let out = ssh_password(&env, &server, 1, "hostname").await;
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "mock-02");

    let out = ssh_password(&env, &server, 0, "exit 3").await;
    assert_eq!(out.status.code(), Some(3), "{out:?}");

    // The `none` probe every OpenSSH client sends first must not cost russh's default
    // one-second rejection delay: the best of three logins stays well under a second.
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let out = ssh_password(&env, &server, 0, "true").await;
        assert!(out.status.success());
        best = best.min(started.elapsed());
    }
    assert!(
        best < Duration::from_millis(900),
        "password login took {best:?}"
    );
}

#[tokio::test]
async fn openssh_key_login_and_wrong_password() {
    if !have_all(&["ssh", "sshpass"]) {
        return;
    }
    let env = TestEnv::new();
    let key = env.key("client_ed25519");
    let public = std::fs::read_to_string(support::fixture("keys/client_ed25519.pub")).unwrap();
    let server = support::mock_with(MockOptions {
        authorized_keys: mtssh::mock::parse_authorized_keys(&public).unwrap(),
        ..Default::default()
    })
    .await;
    let mut cmd = env.command("ssh");
    cmd.args([
        "-i",
        key.to_str().unwrap(),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
    ])
    .args(env.ssh_args(server.hosts()[0].addr))
    .arg("whoami");
    let out = cmd.output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "test");

    let mut cmd = env.command("sshpass");
    cmd.args(["-p", "wrong", "ssh", "-o", "PubkeyAuthentication=no"])
        .args(env.ssh_args(server.hosts()[0].addr))
        .arg("true");
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("a wrong password ends the login")
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Permission denied"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Reads from a tmux pane until `needle` shows up.
async fn tmux_wait(socket: &str, needle: &str) -> String {
    wait_for(
        &format!("{needle:?} in the tmux pane"),
        Duration::from_secs(15),
        async || {
            let out = tokio::process::Command::new("tmux")
                .args(["-L", socket, "capture-pane", "-p", "-t", "t"])
                .output()
                .await
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.contains(needle).then_some(text)
        },
    )
    .await
}

async fn tmux(socket: &str, args: &[&str]) {
    let status = tokio::process::Command::new("tmux")
        .arg("-L")
        .arg(socket)
        .args(args)
        .status()
        .await
        .unwrap();
    assert!(status.success(), "tmux {args:?}");
}

#[tokio::test]
async fn interactive_ssh_tt_sees_banner_echo_and_window_changes() {
    if !have_all(&["ssh", "sshpass", "tmux"]) {
        return;
    }
    let env = TestEnv::new();
    let server = support::mock(1).await;
    let socket = format!(
        "mtssh-test-{}-{}",
        std::process::id(),
        server.hosts()[0].addr.ip()
    );
    let ssh = format!(
        "sshpass -p 123456 ssh -tt {}",
        env.ssh_args(server.hosts()[0].addr).join(" ")
    );
    let mut tmux_cmd = env.command("tmux");
    tmux_cmd.args([
        "-L",
        &socket,
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "100",
        "-y",
        "30",
        &ssh,
    ]);
    assert!(tmux_cmd.status().await.unwrap().success());
    let cleanup = scopeguard(socket.clone());

    tmux_wait(&socket, "mock SSH server").await;
    tmux_wait(&socket, "test@mock-01").await;
    tmux(&socket, &["send-keys", "-t", "t", "hello there", "Enter"]).await;
    tmux_wait(&socket, "server received: hello there").await;
    tmux(&socket, &["send-keys", "-t", "t", "size", "Enter"]).await;
    tmux_wait(&socket, "100x30").await;
    tmux(
        &socket,
        &["resize-window", "-t", "t", "-x", "120", "-y", "40"],
    )
    .await;
    // The window change travels asynchronously: ask until the shell reports the new size.
    wait_for("the new window size", Duration::from_secs(15), async || {
        tmux(&socket, &["send-keys", "-t", "t", "size", "Enter"]).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let out = tokio::process::Command::new("tmux")
            .args(["-L", &socket, "capture-pane", "-p", "-t", "t"])
            .output()
            .await
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .contains("120x40")
            .then_some(())
    })
    .await;
    drop(cleanup);
}

/// Kills the tmux server of a test even when an assertion fails.
fn scopeguard(socket: String) -> impl Drop {
    struct Guard(String);
    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = std::process::Command::new("tmux")
                .args(["-L", &self.0, "kill-server"])
                .status();
        }
    }
    Guard(socket)
}

#[tokio::test]
async fn paramiko_shell_gets_its_echo() {
    if !have_all(&["python3", "paramiko"]) {
        return;
    }
    let env = TestEnv::new();
    let server = support::mock(1).await;
    let addr = server.hosts()[0].addr;
    let script = r#"
import sys, time, paramiko
host, port = sys.argv[1], int(sys.argv[2])
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
c.connect(host, port=port, username="test", password="123456", look_for_keys=False, allow_agent=False, timeout=10)
ch = c.invoke_shell()
ch.settimeout(10)
ch.send("hello from paramiko\n")
buf = b""
deadline = time.time() + 10
while b"server received: hello from paramiko" not in buf and time.time() < deadline:
    buf += ch.recv(4096)
print(buf.decode("utf-8", "replace"))
stdin, stdout, stderr = c.exec_command("exit 7")
print("status", stdout.channel.recv_exit_status())
c.close()
"#;
    let out = paramiko_with(&env, script, addr, &[]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("server received: hello from paramiko"),
        "{text}"
    );
    assert!(text.contains("status 7"), "{text}");
}

#[tokio::test]
async fn a_wrong_password_can_be_retried_on_the_same_connection() {
    if !have_all(&["ssh", "python3", "paramiko"]) {
        return;
    }
    let env = TestEnv::new();
    let server = support::mock(1).await;
    let addr = server.hosts()[0].addr;
    // OpenSSH asks again on the same connection (NumberOfPasswordPrompts): a typo first,
    // then the right password, from an askpass program that counts its calls.
    let asked = env.path("asked");
    let askpass = env.path("askpass.sh");
    std::fs::write(
        &askpass,
        format!(
            "#!/bin/sh\necho x >> {0}\nif [ $(wc -l < {0}) -eq 1 ]; then echo typo; else echo 123456; fi\n",
            asked.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&askpass, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut cmd = env.command("ssh");
    cmd.env("SSH_ASKPASS", &askpass)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .stdin(std::process::Stdio::null())
        .args([
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "NumberOfPasswordPrompts=3",
        ])
        .args(env.ssh_args(addr))
        .arg("whoami");
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("ssh finishes")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "test");
    assert_eq!(std::fs::read_to_string(&asked).unwrap().lines().count(), 2);

    // paramiko's course client learns that the password was wrong, not that password
    // logins stopped ("Bad authentication type; allowed types: ['']").
    let script = r#"
import sys, paramiko
c = paramiko.SSHClient()
c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
try:
    c.connect(sys.argv[1], port=int(sys.argv[2]), username="test", password="typo", look_for_keys=False, allow_agent=False, timeout=10)
except paramiko.BadAuthenticationType as e:
    print("bad type", e.allowed_types)
except paramiko.AuthenticationException as e:
    print("refused:", e)
"#;
    let out = paramiko_with(&env, script, addr, &[]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("refused: Authentication failed."), "{text}");
}

/// Runs a paramiko `script` with the mock host's address and port as its arguments, then
/// `extra`.
pub async fn paramiko_with(
    env: &TestEnv,
    script: &str,
    addr: std::net::SocketAddr,
    extra: &[&str],
) -> std::process::Output {
    let mut cmd = env.command("python3");
    cmd.args([
        "-c",
        script,
        &addr.ip().to_string(),
        &addr.port().to_string(),
    ])
    .args(extra);
    tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .expect("paramiko finishes")
        .unwrap()
}

fn practice_target(server: &MockServer, host: usize, name: String) -> Target {
    server
        .practice_target(host, name)
        .expect("the mock has that host")
}

/// Opens `count` shells, types `echo tok-N` into each and waits for every token.
async fn echo_sessions(server: &MockServer, count: usize) -> Duration {
    let (engine, mut events) = Engine::new(EngineSettings {
        per_host: 64,
        ..Default::default()
    });
    let started = Instant::now();
    let handles: Vec<_> = (0..count)
        .map(|i| {
            let work = Work::Shell {
                term: "xterm".into(),
                cols: 80,
                rows: 24,
            };
            engine.spawn(i, practice_target(server, 0, format!("s{i}")), work)
        })
        .collect();
    let mut output = vec![Vec::<u8>::new(); count];
    let mut echoed = vec![false; count];
    let mut remaining = count;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while remaining > 0 {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .unwrap_or_else(|_| panic!("{remaining} of {count} sessions never echoed"))
            .expect("engine alive");
        match event {
            SessionEvent::State {
                id,
                state: SessionState::Ready,
            } => {
                handles[id]
                    .input(format!("echo tok-{id}\r").into_bytes())
                    .unwrap();
            }
            SessionEvent::State {
                id,
                state: state @ SessionState::Failed { .. },
            } => {
                panic!("session {id} failed: {state}")
            }
            SessionEvent::Output { id, data } => {
                output[id].extend_from_slice(&data);
                // The command's output: it follows the OSC 133 C mark, the echo does not.
                let token = format!("\x07tok-{id}\r\n");
                if !echoed[id]
                    && output[id]
                        .windows(token.len())
                        .any(|w| w == token.as_bytes())
                {
                    echoed[id] = true;
                    remaining -= 1;
                }
            }
            _ => {}
        }
    }
    started.elapsed()
}

#[tokio::test]
async fn a_thousand_concurrent_sessions_all_get_their_echo() {
    let _heavy = support::heavy().await;
    mtssh::sys::raise_fd_limit();
    let server = support::mock(1).await;
    let took = echo_sessions(&server, 1000).await;
    eprintln!("1000 sessions echoed in {took:?} (debug build, client and server in one thread)");
}

#[tokio::test]
async fn abuse_leaves_the_server_serving() {
    let _heavy = support::heavy().await;
    mtssh::sys::raise_fd_limit();
    let server = support::mock_with(MockOptions {
        login_grace: Duration::from_secs(2),
        ..Default::default()
    })
    .await;
    let addr = server.hosts()[0].addr;

    // Random bytes instead of a version line.
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..20 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let garbage: Vec<u8> = (0..4096)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let _ = stream.write_all(&garbage).await;
    }
    // Clients that vanish mid-handshake: a version line, a partial packet, then gone.
    for _ in 0..20 {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = stream.write_all(b"SSH-2.0-vanishing\r\n\x00\x00\x01").await;
    }
    // A burst of 2000 connects, all open at once, then dropped.
    let mut burst = Vec::new();
    for _ in 0..2000 {
        burst.push(tokio::net::TcpStream::connect(addr));
    }
    let burst = futures::future::join_all(burst).await;
    let connected = burst.iter().filter(|s| s.is_ok()).count();
    assert!(
        connected >= 1900,
        "only {connected} of 2000 connects succeeded"
    );
    drop(burst);

    // A half-open connection that never logs in is dropped after the grace time.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"SSH-2.0-idle\r\n").await.unwrap();
    let mut sink = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(15), idle.read_to_end(&mut sink)).await;
    assert!(
        closed.is_ok(),
        "an unauthenticated connection outlived the login grace time"
    );

    // And the server still serves real sessions.
    echo_sessions(&server, 20).await;
}

#[test]
fn port_in_use_is_a_clear_error() {
    let env = TestEnv::new();
    let ip = support::loopback();
    let taken = std::net::TcpListener::bind((ip, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    let out = env
        .std_command(env!("CARGO_BIN_EXE_mtssh"))
        .args([
            "mock",
            "--bind",
            &ip.to_string(),
            "--port",
            &port.to_string(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&port.to_string()) && err.contains("--port"),
        "{err}"
    );
}

#[test]
fn mock_command_prints_listening_lines_and_writes_a_host_list() {
    use std::io::BufRead;
    let env = TestEnv::new();
    let ip = support::loopback();
    let hosts_file = env.path("hosts.toml");
    let mut child = env
        .std_command(env!("CARGO_BIN_EXE_mtssh"))
        .args([
            "mock",
            "--bind",
            &ip.to_string(),
            "--port",
            "0",
            "--hosts",
            "3",
        ])
        .arg("--write-hosts")
        .arg(&hosts_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines: Vec<String> = std::io::BufReader::new(stdout)
        .lines()
        .take(3)
        .map(|l| l.unwrap())
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    for (i, line) in lines.iter().enumerate() {
        let prefix = format!("listening mock-0{} {ip}:", i + 1);
        assert!(line.starts_with(&prefix), "{line}");
    }
    let text = std::fs::read_to_string(&hosts_file).unwrap();
    assert_eq!(text.matches("[[hosts]]").count(), 3, "{text}");
    // The host key was persisted in the isolated data dir.
    assert!(env.path("data/mtssh/mock_host_ed25519_key").exists());
}

#[tokio::test]
async fn mock_kex_option_sets_what_the_server_offers() {
    use std::io::BufRead;
    let env = TestEnv::new();
    let ip = support::loopback();
    let bad = env
        .std_command(env!("CARGO_BIN_EXE_mtssh"))
        .args(["mock", "--port", "0", "--kex", "sntrup"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("--kex") && err.contains("`sntrup`"), "{err}");

    // Only the post-quantum hybrid (and the DH groups) on offer.
    let mut child = env
        .std_command(env!("CARGO_BIN_EXE_mtssh"))
        .args(["mock", "--bind", &ip.to_string(), "--port", "0"])
        .args(["--kex", "-curve25519-sha256,curve25519-sha256@libssh.org"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split_whitespace()
        .nth(2)
        .unwrap_or_default()
        .to_string();
    let host = format!("test@{addr}");
    let kh = env.path("kh");
    let run = |kex: Option<&'static str>| {
        let mut args = vec![
            "run",
            "-H",
            host.as_str(),
            "--known-hosts",
            kh.to_str().unwrap(),
            "-c",
            "hostname",
        ];
        args.extend(kex.iter().flat_map(|k| ["--kex", *k]));
        let env = &env;
        async move { crate::run_cmd::mtssh_with(env, &[("MTSSH_PASSWORD", "123456")], &args).await }
    };
    let classical = run(Some("curve25519-sha256")).await;
    let default = run(None).await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(classical.code, Some(3), "{}", classical.stderr);
    assert!(
        classical.stdout.contains("No common Kex algorithm"),
        "{}",
        classical.stdout
    );
    assert_eq!(
        default.code,
        Some(0),
        "{}\n{}",
        default.stdout,
        default.stderr
    );
    assert!(default.stdout.contains("mock-01"), "{}", default.stdout);
}
