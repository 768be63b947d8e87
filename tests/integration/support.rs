//! The test environment: an isolated HOME, fixture keys, loopback addresses, peer checks.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mtssh::mock::{HostKeySource, MockOptions, MockServer};
use russh::keys::PrivateKey;

/// Whether an outside program is available. A missing one skips the test with one
/// `SKIPPED <test>: <program> not found` line, and the run ends with a count of the skipped
/// tests; under MTSSH_REQUIRE_PEERS=1 (CI) a missing peer fails the test instead.
pub fn have(program: &str) -> bool {
    let found = if program.contains('/') {
        Path::new(program).exists()
    } else if program == "paramiko" {
        std::process::Command::new("python3")
            .args(["-c", "import paramiko"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    } else {
        std::process::Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if !found {
        skip(&format!("{program} not found"));
    }
    found
}

/// Reports the current test as skipped for `why` (or fails it under MTSSH_REQUIRE_PEERS=1).
pub fn skip(why: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    if std::env::var("MTSSH_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("{test}: {why}, and MTSSH_REQUIRE_PEERS=1 requires it");
    }
    eprintln!("SKIPPED {test}: {why}");
    if SKIPPED.fetch_add(1, Ordering::SeqCst) == 0 {
        // The test harness exits the process after its own summary; this prints ours after it.
        // SAFETY: `print_skip_summary` is a plain extern "C" fn that only writes to stderr.
        unsafe {
            libc::atexit(print_skip_summary);
        }
    }
}

static SKIPPED: AtomicU32 = AtomicU32::new(0);

extern "C" fn print_skip_summary() {
    let count = SKIPPED.load(Ordering::SeqCst);
    eprintln!(
        "SKIPPED: {count} test(s) did not run for want of an outside program (see the SKIPPED \
         lines above); MTSSH_REQUIRE_PEERS=1 makes that a failure"
    );
}

/// True when every program is there (each missing one prints its own notice).
pub fn have_all(programs: &[&str]) -> bool {
    // Not `all()`: it would stop at the first missing program and hide the others' notices.
    let missing = programs.iter().filter(|p| !have(p)).count();
    missing == 0
}

/// A fresh loopback address for each server, so tests in parallel never share a port space
/// and many "hosts" can share one port number.
pub fn loopback() -> IpAddr {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    // Spread by process id too, so two test binaries running at once do not collide.
    let base = std::process::id() % 200 + 20;
    IpAddr::V4(Ipv4Addr::new(
        127,
        base as u8,
        (n / 250) as u8,
        (n % 250 + 2) as u8,
    ))
}

/// The mtssh binary under test: this build's, or `MTSSH_TEST_BIN` (to run a test against
/// another build, such as the one before a fix, and see it fail).
pub fn mtssh_bin() -> PathBuf {
    std::env::var_os("MTSSH_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mtssh")))
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture_key(name: &str) -> PrivateKey {
    let text = std::fs::read_to_string(fixture(&format!("keys/{name}"))).expect("fixture key");
    PrivateKey::from_openssh(&text).expect("fixture key parses")
}

/// An isolated home for one test: its own HOME and XDG dirs, no agent, keys copied with
/// the 0600 mode OpenSSH insists on (git does not keep file modes).
pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in [".ssh", "config", "data", "cache", "state"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        TestEnv { dir }
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Copies a fixture key (and its .pub) into the env with mode 0600; returns its path.
    pub fn key(&self, name: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let dest = self.path(&format!(".ssh/{name}"));
        std::fs::copy(fixture(&format!("keys/{name}")), &dest).expect("copy key");
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let _ = std::fs::copy(
            fixture(&format!("keys/{name}.pub")),
            self.path(&format!(".ssh/{name}.pub")),
        );
        dest
    }

    /// A host list (TOML) reaching every host of an in-process mock server, and the
    /// known_hosts file runs against it should learn into.
    pub fn mock_host_list(&self, server: &MockServer) -> (PathBuf, PathBuf) {
        let hosts = self.path("mock.toml");
        let text = mtssh::mock::host_list_toml(server.hosts(), server.users());
        std::fs::write(&hosts, text).expect("write host list");
        (hosts, self.path("kh"))
    }

    /// Applies the isolation to a child process.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(program);
        self.isolate(cmd.as_std_mut());
        cmd.kill_on_drop(true);
        cmd
    }

    pub fn std_command(&self, program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
        let mut cmd = std::process::Command::new(program);
        self.isolate(&mut cmd);
        cmd
    }

    fn isolate(&self, cmd: &mut std::process::Command) {
        let home = self.home();
        cmd.env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("MTSSH_PASSWORD")
            .env_remove("MTSSH_LOG")
            // mtssh speaks the locale's language (LC_ALL, LC_MESSAGES, LANG): tests read
            // English unless they pass --lang. LC_ALL would override LC_MESSAGES, so its
            // character set moves to LC_CTYPE.
            .env("LC_MESSAGES", "C");
        if let Ok(all) = std::env::var("LC_ALL") {
            cmd.env_remove("LC_ALL").env("LC_CTYPE", all);
        }
    }

    /// OpenSSH client arguments for a login to `addr` that never reads the machine's config
    /// and keeps known_hosts inside this env.
    pub fn ssh_args(&self, addr: std::net::SocketAddr) -> Vec<String> {
        vec![
            "-F".into(),
            "/dev/null".into(),
            "-o".into(),
            format!(
                "UserKnownHostsFile={}",
                self.path(".ssh/known_hosts").display()
            ),
            "-o".into(),
            "StrictHostKeyChecking=accept-new".into(),
            "-o".into(),
            "BatchMode=no".into(),
            "-o".into(),
            "ConnectTimeout=10".into(),
            "-p".into(),
            addr.port().to_string(),
            format!("test@{}", addr.ip()),
        ]
    }
}

/// A mock server on a fresh loopback address with a fixture host key.
pub async fn mock(hosts: usize) -> MockServer {
    mock_with(MockOptions {
        hosts,
        ..Default::default()
    })
    .await
}

pub async fn mock_with(opts: MockOptions) -> MockServer {
    MockServer::start(mock_options(opts))
        .await
        .expect("mock server starts")
}

/// `opts` on a fresh loopback address, a free port and the fixture host key.
pub fn mock_options(opts: MockOptions) -> MockOptions {
    MockOptions {
        bind: loopback(),
        port: 0,
        host_key: HostKeySource::Given(Box::new(fixture_key("host_ed25519"))),
        ..opts
    }
}

/// A shared buffer a task fills with everything `pipe` yields, as it comes; and that task,
/// which ends at EOF.
pub fn collect<R>(mut pipe: R) -> (Arc<Mutex<Vec<u8>>>, tokio::task::JoinHandle<()>)
where
    R: tokio::io::AsyncRead + Unpin + Send + 'static,
{
    use tokio::io::AsyncReadExt;
    let output = Arc::new(Mutex::new(Vec::new()));
    let sink = output.clone();
    let reader = tokio::spawn(async move {
        let mut buf = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf).await {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(&buf[..n]);
        }
    });
    (output, reader)
}

/// Polls `check` until it returns Some or the deadline passes.
pub async fn wait_for<T>(
    what: &str,
    limit: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `app`'s screen drawn afresh on a blank `cols` x `rows` terminal, row by row: what every
/// frame the loop sends its terminal (most of them drawn over the last) must add up to.
pub fn drawn_afresh(app: &mtssh::app::App, cols: u16, rows: u16) -> Vec<String> {
    let backend = ratatui::backend::TestBackend::new(cols, rows);
    let mut terminal = ratatui::Terminal::new(backend).expect("test backend");
    terminal
        .draw(|frame| mtssh::ui::draw(frame, app))
        .expect("draw");
    mtssh::ui::screen_lines(terminal.backend().buffer())
}

/// Heavy tests (hundreds of sessions) take this lock so they do not run at the same time.
pub async fn heavy() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// `len` bytes of deterministic noise (xorshift64), for payloads a test must get back whole.
pub fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// `bytes`' SHA-256 as `sha256sum` prints it (the digest a user would compare).
/// `mtssh run --json` output, one object per line, sorted by host name: the event loop writes
/// each host's object when that host ends, so their order is the order hosts finished in.
pub fn json_by_name(stdout: &str) -> Vec<serde_json::Value> {
    let mut hosts: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    hosts.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    hosts
}

pub fn sha256(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum runs");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Names a resolver was asked for.
pub type Queried = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A resolver for the engine that answers IP literals and refuses every name, so a test
/// never sends a DNS query; with the names it was asked for.
pub fn no_dns() -> (mtssh::ssh::Resolver, Queried) {
    let queried: Queried = Queried::default();
    let seen = queried.clone();
    let resolver: mtssh::ssh::Resolver = std::sync::Arc::new(move |host: String, port: u16| {
        seen.lock().unwrap().push(host.clone());
        Box::pin(async move {
            match host.parse::<IpAddr>() {
                Ok(ip) => Ok(vec![std::net::SocketAddr::new(ip, port)]),
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "name does not resolve",
                )),
            }
        })
    });
    (resolver, queried)
}
