//! The course's Python programs (docs/course/) run against `mtssh mock --style handout` and
//! against the course's own paramiko server, as a student would run them.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{self, TestEnv};

/// Longest one program may run (paramiko's RSA handshakes in a loaded debug run are slow).
const PROGRAM_LIMIT: Duration = Duration::from_secs(120);

fn course_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/course")
}

/// A started server (mtssh mock or server.py) and the port it printed.
struct Server {
    child: tokio::process::Child,
    output: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    ip: std::net::IpAddr,
    port: u16,
}

impl Server {
    async fn start(env: &TestEnv, program: &str, args: &[&str]) -> Server {
        let ip = support::loopback();
        let mut cmd = env.command(program);
        cmd.args(args)
            .args(["--port", "0"])
            .arg(if program == "python3" {
                "--host"
            } else {
                "--bind"
            })
            .arg(ip.to_string())
            .current_dir(course_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("the server starts");
        let (output, _reader) = support::collect(child.stdout.take().unwrap());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = String::from_utf8_lossy(&output.lock().unwrap()).into_owned();
            // `listening mock-01 IP:PORT` (mtssh) or `listening IP:PORT` (server.py)
            let port = text
                .lines()
                .filter(|l| l.starts_with("listening "))
                .find_map(|l| l.rsplit(':').next()?.trim().parse().ok());
            if let Some(port) = port {
                return Server {
                    child,
                    output,
                    ip,
                    port,
                };
            }
            assert!(Instant::now() < deadline, "{program} did not start: {text}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs a course program against this server; its output, after asserting success.
    async fn run(&self, env: &TestEnv, script: &str, args: &[&str]) -> String {
        let mut cmd = env.command("python3");
        cmd.arg(script)
            .args([
                "--host",
                &self.ip.to_string(),
                "--port",
                &self.port.to_string(),
            ])
            .args(args)
            .current_dir(course_dir())
            .stdin(Stdio::null());
        let out = tokio::time::timeout(PROGRAM_LIMIT, cmd.output())
            .await
            .unwrap_or_else(|_| panic!("{script} still runs after {PROGRAM_LIMIT:?}"))
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{script} failed: {text}\n{}\n--- server:\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&self.output.lock().unwrap())
        );
        text
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn have_python() -> bool {
    support::have_all(&["python3", "paramiko"])
}

/// Every session's echo line came back, once per session.
fn assert_echoes(output: &str, command: &str, sessions: usize) {
    let echo = format!("服务端收到指令：{command}");
    assert_eq!(
        output.lines().filter(|l| l.ends_with(&echo)).count(),
        sessions,
        "{output}"
    );
}

#[tokio::test]
async fn the_course_clients_work_against_the_handout_style_mock() {
    if !have_python() {
        return;
    }
    let env = TestEnv::new();
    let mtssh = env!("CARGO_BIN_EXE_mtssh");
    let server = Server::start(&env, mtssh, &["mock", "--style", "handout"]).await;
    let blocking = server
        .run(
            &env,
            "blocking_client.py",
            &["--count", "3", "--command", "ls -l"],
        )
        .await;
    assert_echoes(&blocking, "ls -l", 3);
    let multiplexed = server
        .run(
            &env,
            "selectors_client.py",
            &["--count", "4", "--command", "uptime"],
        )
        .await;
    assert_echoes(&multiplexed, "uptime", 4);
}

#[tokio::test]
async fn the_course_clients_work_against_the_course_server() {
    if !have_python() {
        return;
    }
    let env = TestEnv::new();
    let server = Server::start(&env, "python3", &["server.py"]).await;
    let blocking = server
        .run(
            &env,
            "blocking_client.py",
            &["--count", "2", "--command", "hi"],
        )
        .await;
    assert_echoes(&blocking, "hi", 2);
    let multiplexed = server
        .run(
            &env,
            "selectors_client.py",
            &["--count", "3", "--command", "hi there"],
        )
        .await;
    assert_echoes(&multiplexed, "hi there", 3);
}

/// Under latency the selectors client overlaps the waits the blocking one pays in turn.
#[tokio::test]
async fn the_homework_shows_selectors_beating_blocking_under_latency() {
    if !have_python() {
        return;
    }
    let _heavy = support::heavy().await;
    let env = TestEnv::new();
    let mtssh = env!("CARGO_BIN_EXE_mtssh");
    let server = Server::start(
        &env,
        mtssh,
        &["mock", "--style", "handout", "--latency", "300"],
    )
    .await;
    let out = server
        .run(&env, "homework.py", &["--count", "4", "--command", "date"])
        .await;
    let seconds = |label: &str| -> f64 {
        out.lines()
            .find_map(|l| l.strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {label:?} line: {out}"))
    };
    let (blocking, selectors) = (seconds("阻塞式"), seconds("非阻塞式"));
    // Each session waits at least once for a 300 ms reply: 1.2 s in turn for the blocking
    // client, overlapped for the selectors one (measured: 1.5 s against 0.6 s).
    assert!(blocking >= 1.2, "{out}");
    assert!(blocking / selectors > 1.5, "{out}");
}

/// A wrong password from paramiko, then a retry on a NEW connection, logs in.
#[tokio::test]
async fn paramiko_logs_in_on_a_new_connection_after_a_wrong_password() {
    if !have_python() {
        return;
    }
    let env = TestEnv::new();
    let mtssh = env!("CARGO_BIN_EXE_mtssh");
    let server = Server::start(&env, mtssh, &["mock", "--style", "handout"]).await;
    let script = env.path("retry.py");
    std::fs::write(
        &script,
        r#"
import argparse, paramiko
p = argparse.ArgumentParser(); p.add_argument("--host"); p.add_argument("--port", type=int)
a = p.parse_args()
def connect(password):
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect(a.host, port=a.port, username="test", password=password,
              look_for_keys=False, allow_agent=False, timeout=20, auth_timeout=20)
    return c
try:
    connect("wrong")
    raise SystemExit("a wrong password logged in")
except paramiko.AuthenticationException as e:
    print("refused:", e)
c = connect("123456")
print("logged in on a new connection")
c.close()
"#,
    )
    .unwrap();
    let out = server.run(&env, script.to_str().unwrap(), &[]).await;
    assert!(out.contains("logged in on a new connection"), "{out}");
}
