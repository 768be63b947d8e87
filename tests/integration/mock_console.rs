//! `mtssh mock` as a process: what its console tells (logins, logouts, the peak), and the
//! limits that keep it safe to leave running, against paramiko and OpenSSH clients.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt};

use crate::support::{self, TestEnv, have_all, wait_for};

/// A running `mtssh mock --bind <fresh loopback> --port 0 ARGS`, its stderr collected.
pub struct MockProcess {
    child: tokio::process::Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<Vec<u8>>>,
    reader: tokio::task::JoinHandle<()>,
}

impl MockProcess {
    pub async fn start(env: &TestEnv, args: &[&str]) -> MockProcess {
        Self::start_with(env, args, &[]).await
    }

    pub async fn start_with(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> MockProcess {
        let ip = support::loopback().to_string();
        let mut cmd = env.command(support::mtssh_bin());
        cmd.args(["mock", "--bind", &ip, "--port", "0"])
            .args(args)
            .envs(vars.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("mtssh mock runs");
        let (stderr, reader) = support::collect(child.stderr.take().unwrap());
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the mock prints its listening line")
            .unwrap()
            .unwrap_or_default();
        let stderr_text = String::from_utf8_lossy(&stderr.lock().unwrap()).into_owned();
        let addr = line
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no listening line: {line:?}\n{stderr_text}"));
        MockProcess {
            child,
            addr,
            stderr,
            reader,
        }
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Waits until the console has said `needle` `count` times.
    pub async fn wait_console(&self, needle: &str, count: usize) -> String {
        wait_for(
            &format!("{count}x {needle:?} on the mock console"),
            Duration::from_secs(30),
            async || {
                let text = self.stderr();
                (text.matches(needle).count() >= count).then_some(text)
            },
        )
        .await
    }

    /// Ctrl-C, as a student stops it; everything it wrote on stderr.
    pub async fn stop(mut self) -> String {
        if let Some(pid) = self.child.id().and_then(|id| i32::try_from(id).ok()) {
            // SAFETY: signals the child we spawned and still own.
            unsafe { libc::kill(pid, libc::SIGINT) };
        }
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.reader).await;
        let text = self.stderr();
        assert!(matches!(status, Ok(Ok(s)) if s.success()), "{text}");
        text
    }
}

/// paramiko: `count` sessions logged in at the same time, then all closed; prints each
/// client's own address as Python shows it, `('127.0.0.1', 53211)`.
const CONCURRENT: &str = r#"
import sys, paramiko
clients = []
for _ in range(int(sys.argv[3])):
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect(sys.argv[1], port=int(sys.argv[2]), username="test", password="123456",
              look_for_keys=False, allow_agent=False, timeout=20)
    print(c.get_transport().sock.getsockname())
    clients.append(c)
for c in clients:
    c.close()
"#;

/// A paramiko script that must succeed; its stdout.
async fn paramiko(env: &TestEnv, script: &str, addr: SocketAddr, extra: &[&str]) -> String {
    let out = crate::mock_server::paramiko_with(env, script, addr, extra).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn the_console_tells_each_login_logout_and_the_peak() {
    if !have_all(&["python3", "paramiko"]) {
        return;
    }
    let env = TestEnv::new();
    let mock = MockProcess::start(&env, &[]).await;
    let clients = paramiko(&env, CONCURRENT, mock.addr, &["5"]).await;
    mock.wait_console("logged out", 5).await;
    // Told within a second of the burst, not once per login.
    mock.wait_console("new peak: 5 sessions at once", 1).await;
    let text = mock.stop().await;
    for client in clients.lines() {
        assert!(
            text.contains(&format!("client {client} logged in\n")),
            "{text}"
        );
        assert!(
            text.contains(&format!("client {client} logged out\n")),
            "{text}"
        );
    }
    assert_eq!(clients.lines().count(), 5);
    assert!(text.contains("new peak: 5 sessions at once"), "{text}");
    assert!(
        text.contains(
            "mock server stopping. Peak: 5 sessions at once; 5 logins, 0 wrong passwords."
        ),
        "{text}"
    );
    // stderr is a pipe here: plain text, as a log file wants it.
    assert!(!text.contains('\x1b'), "{text:?}");
}

#[tokio::test]
async fn the_console_speaks_chinese_with_lang_zh() {
    if !have_all(&["python3", "paramiko", "ssh", "sshpass"]) {
        return;
    }
    let env = TestEnv::new();
    let mock = MockProcess::start(&env, &["--lang", "zh"]).await;
    let clients = paramiko(&env, CONCURRENT, mock.addr, &["2"]).await;
    let mut ssh = env.command("sshpass");
    ssh.args(["-p", "typo", "ssh", "-o", "NumberOfPasswordPrompts=1"])
        .args(env.ssh_args(mock.addr))
        .arg("true");
    let out = ssh.output().await.unwrap();
    assert!(!out.status.success());
    mock.wait_console("已断开连接", 2).await;
    mock.wait_console("同时在线会话数创新高：2", 1).await;
    let text = mock.stop().await;
    for client in clients.lines() {
        assert!(
            text.contains(&format!("客户端 {client} 登录成功\n")),
            "{text}"
        );
    }
    assert!(text.contains("尝试以 test 身份登录，密码错误"), "{text}");
    assert!(text.contains("同时在线会话数创新高：2"), "{text}");
    assert!(
        text.contains("同时在线会话数峰值：2；共登录 2 次，密码错误 1 次。"),
        "{text}"
    );
}

/// tests/fixtures/guess_passwords.py: the benchmark's guesser, bounded in count and time.
async fn guess_passwords(env: &TestEnv, addr: SocketAddr, threads: &str, seconds: &str) -> String {
    let script = support::fixture("guess_passwords.py");
    let mut cmd = env.command("python3");
    cmd.arg(script)
        .args([&addr.ip().to_string(), &addr.port().to_string()])
        .args([
            "--threads",
            threads,
            "--seconds",
            seconds,
            "--guesses",
            "5000",
        ]);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("the guesser stops at its deadline")
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The count in the summary's `N wrong passwords`: the guesses the server really checked.
fn checked_guesses(console: &str) -> u64 {
    console
        .lines()
        .filter(|line| line.starts_with("mock server stopping."))
        .find_map(|line| {
            let (before, _) = line.split_once(" wrong password")?;
            before.rsplit(' ').next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no summary line:\n{console}"))
}

#[tokio::test]
async fn password_guesses_from_one_address_are_slowed_across_connections() {
    if !have_all(&["python3", "paramiko", "ssh", "sshpass"]) {
        return;
    }
    let env = TestEnv::new();
    let mock = MockProcess::start(&env, &[]).await;
    let started = std::time::Instant::now();
    let report = guess_passwords(&env, mock.addr, "16", "4").await;
    assert!(report.starts_with("guesses="), "{report}");
    // Meanwhile another address logs in at once: the penalty is its guesser's alone.
    let other = support::loopback().to_string();
    let mut ssh = env.command("sshpass");
    ssh.args(["-p", "123456", "ssh", "-o", &format!("BindAddress={other}")])
        .args(env.ssh_args(mock.addr))
        .arg("whoami");
    let login = std::time::Instant::now();
    let out = ssh.output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        login.elapsed() < Duration::from_secs(5),
        "{:?}",
        login.elapsed()
    );
    let elapsed = started.elapsed().as_secs();
    let text = mock.stop().await;
    assert!(text.contains("failed too many logins"), "{text}");
    assert!(text.contains(&format!("client ('{other}', ")), "{text}");
    // 10 free, then one a second (plus one in flight per guessing thread at the end).
    let checked = checked_guesses(&text);
    assert!(checked >= 10, "{checked} checked\n{report}");
    assert!(
        checked <= 10 + elapsed + 16,
        "{checked} checked in {elapsed} s\n{report}"
    );
}

/// paramiko: opens channels on one connection until one is refused (at most 50), closes
/// one and opens again; prints how many opened, the refusal, and whether the reopen worked.
const MANY_CHANNELS: &str = r#"
import sys, paramiko
t = paramiko.Transport((sys.argv[1], int(sys.argv[2])))
t.start_client(timeout=20)
t.auth_password("test", "123456")
channels = []
try:
    for _ in range(50):
        channels.append(t.open_session(timeout=20))
except paramiko.ChannelException as e:
    print("opened", len(channels))
    print("refused", e.code, e.text)
channels.pop().close()
t.open_session(timeout=20).exec_command("hostname")
print("reopened")
t.close()
"#;

#[tokio::test]
async fn a_connection_gets_a_bounded_number_of_sessions() {
    if !have_all(&["python3", "paramiko"]) {
        return;
    }
    let env = TestEnv::new();
    for (args, max) in [(&[][..], 10), (&["--max-sessions", "3"][..], 3)] {
        let mock = MockProcess::start(&env, args).await;
        let out = paramiko(&env, MANY_CHANNELS, mock.addr, &[]).await;
        let text = mock.stop().await;
        assert!(out.contains(&format!("opened {max}\n")), "{out}");
        // paramiko shows the code's own text; OpenSSH shows ours (next test).
        assert!(
            out.contains("refused 1 Administratively prohibited"),
            "{out}"
        );
        assert!(out.contains("reopened"), "{out}");
        assert_eq!(
            text.matches("refused a session past --max-sessions")
                .count(),
            1,
            "{text}"
        );
    }
    let bad = env
        .std_command(support::mtssh_bin())
        .args(["mock", "--max-sessions", "0"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--max-sessions"));
}

#[tokio::test]
async fn openssh_multiplexing_sees_why_a_session_was_refused() {
    if !have_all(&["ssh", "sshpass"]) {
        return;
    }
    let env = TestEnv::new();
    let mock = MockProcess::start(&env, &["--max-sessions", "1"]).await;
    let args = env.ssh_args(mock.addr);
    let ctl = env.path("ctl").display().to_string();
    let mux = ["-S", ctl.as_str()];
    let mut master = env.command("sshpass");
    master
        .args(["-p", "123456", "ssh", "-M", "-N"])
        .args(mux)
        .args(&args)
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    let mut master = master.spawn().unwrap();
    // The master is the one that hears the refusal, and says why.
    let mut master_err = tokio::io::BufReader::new(master.stderr.take().unwrap()).lines();
    wait_for("the control master", Duration::from_secs(20), async || {
        let mut check = env.command("ssh");
        check.args(mux).args(["-O", "check"]).args(&args);
        check.output().await.ok()?.status.success().then_some(())
    })
    .await;
    // One shell holds the connection's only session, up to its prompt.
    let mut held = env.command("ssh");
    held.args(mux)
        .arg("-tt")
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut held = held.spawn().unwrap();
    let mut shell_out = held.stdout.take().unwrap();
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("$ ") {
            let n = shell_out.read(&mut buf).await.unwrap();
            assert!(n > 0, "the shell ended: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("the held shell shows its prompt");
    let mut second = env.command("ssh");
    second
        .args(mux)
        .args(["-o", "BatchMode=yes"])
        .args(&args)
        .arg("hostname");
    let out = second.output().await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("Session open refused by peer"), "{err}");
    let needle = "administratively prohibited: this connection has reached the mock's limit of 1 open sessions (--max-sessions)";
    let said = tokio::time::timeout(Duration::from_secs(20), async {
        let mut said = String::new();
        while let Ok(Some(line)) = master_err.next_line().await {
            said.push_str(&line);
            if line.contains(needle) {
                return Ok(said);
            }
        }
        Err(said)
    })
    .await
    .expect("the master reports the refusal");
    assert!(said.is_ok(), "{said:?}");
    drop(held);
    let _ = master.start_kill();
    let text = mock.stop().await;
    assert!(
        text.contains("refused a session past --max-sessions 1"),
        "{text}"
    );
}

/// `sshpass -p PASSWORD ssh … USER@mock whoami`: the user it logged in as, or None.
async fn login_as(env: &TestEnv, addr: SocketAddr, user: &str, password: &str) -> Option<String> {
    let mut args = env.ssh_args(addr);
    args.pop();
    args.push(format!("{user}@{}", addr.ip()));
    let mut ssh = env.command("sshpass");
    ssh.args(["-p", password, "ssh", "-o", "NumberOfPasswordPrompts=1"])
        .args(&args)
        .arg("whoami");
    let out = tokio::time::timeout(Duration::from_secs(30), ssh.output())
        .await
        .expect("ssh finishes")
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[tokio::test]
async fn users_come_from_a_private_file_or_the_environment_and_argv_warns() {
    use std::os::unix::fs::PermissionsExt;
    if !have_all(&["ssh", "sshpass"]) {
        return;
    }
    let env = TestEnv::new();
    let file = env.path("users.txt");
    std::fs::write(
        &file,
        "# practice logins\nalice:s3cret,with,commas\n\nbob:other\n",
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let path = file.to_str().unwrap();

    let mock = MockProcess::start(&env, &["--users-file", path]).await;
    let alice = login_as(&env, mock.addr, "alice", "s3cret,with,commas").await;
    let bob = login_as(&env, mock.addr, "bob", "other").await;
    let test = login_as(&env, mock.addr, "test", "123456").await;
    let text = mock.stop().await;
    assert_eq!(alice.as_deref(), Some("alice"), "{text}");
    assert_eq!(bob.as_deref(), Some("bob"), "{text}");
    assert_eq!(test, None, "the file replaces the default login");
    assert!(
        text.contains(&format!("(the password from --users-file {path})")),
        "{text}"
    );
    assert!(
        !text.contains("s3cret") && !text.contains("WARNING"),
        "{text}"
    );

    let vars = [(("MTSSH_MOCK_USERS"), "carol:from-env")];
    let mock = MockProcess::start_with(&env, &[], &vars).await;
    let carol = login_as(&env, mock.addr, "carol", "from-env").await;
    let text = mock.stop().await;
    assert_eq!(carol.as_deref(), Some("carol"), "{text}");
    assert!(
        text.contains("(the password from MTSSH_MOCK_USERS)"),
        "{text}"
    );
    assert!(
        !text.contains("from-env") && !text.contains("WARNING"),
        "{text}"
    );

    // On argv it still works, with a warning that `ps` shows it.
    let mock = MockProcess::start(&env, &["--users", "dave:on-argv"]).await;
    let dave = login_as(&env, mock.addr, "dave", "on-argv").await;
    let text = mock.stop().await;
    assert_eq!(dave.as_deref(), Some("dave"), "{text}");
    assert!(
        text.contains("WARNING") && text.contains("`ps`") && text.contains("--users-file"),
        "{text}"
    );

    // A file others may read is refused, naming it and the fix; a bad line names its number.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = mock_fails(&env, &["--users-file", path]);
    assert!(
        refused.contains(path) && refused.contains("chmod 600"),
        "{refused}"
    );
    assert!(!refused.contains("s3cret"), "{refused}");
    std::fs::write(&file, "alice:s3cret\nno-colon-secret\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let bad_line = mock_fails(&env, &["--users-file", path]);
    assert!(
        bad_line.contains("line 2: expected user:password"),
        "{bad_line}"
    );
    assert!(!bad_line.contains("secret"), "{bad_line}");
    let both = mock_fails(&env, &["--users-file", path, "--users", "a:b"]);
    assert!(both.contains("cannot be used with"), "{both}");
}

/// `mtssh mock … ARGS` that must fail before it listens; its stderr.
fn mock_fails(env: &TestEnv, args: &[&str]) -> String {
    let out = env
        .std_command(support::mtssh_bin())
        .args(["mock", "--port", "0", "--bind"])
        .arg(support::loopback().to_string())
        .args(args)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn on_a_terminal_the_console_is_coloured_and_ctrl_c_gives_the_summary() {
    if !have_all(&["python3", "paramiko"]) {
        return;
    }
    let env = TestEnv::new();
    let ip = support::loopback().to_string();
    let mut cmd = env.std_command(support::mtssh_bin());
    cmd.args(["mock", "--bind", &ip, "--port", "0"]);
    let mut term = crate::pty::Pty::spawn(cmd);
    assert!(
        term.wait_for("Ctrl-C stops the server.", 1, Duration::from_secs(30))
            .await,
        "{}",
        term.text()
    );
    let text = term.text();
    let addr: SocketAddr = text
        .lines()
        .find_map(|l| l.strip_prefix("listening mock-01 "))
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    paramiko(&env, CONCURRENT, addr, &["1"]).await;
    assert!(
        term.wait_for("logged out", 1, Duration::from_secs(30))
            .await,
        "{}",
        term.text()
    );
    term.type_bytes(b"\x03");
    assert!(term.wait_exit(Duration::from_secs(20)).await.is_some());
    // The pty's reader may still hold the last bytes.
    term.wait_for("logins", 1, Duration::from_secs(10)).await;
    let text = term.text();
    assert!(text.contains("\x1b[32mclient ('"), "{text:?}");
    assert!(
        text.contains("mock server stopping. Peak: 1 session at once; 1 login, 0 wrong passwords."),
        "{text}"
    );
}
