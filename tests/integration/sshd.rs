//! A private OpenSSH sshd for tests: loopback addresses of its own, its own config, host key
//! and authorized_keys, killed when dropped.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{self, TestEnv};

pub const SSHD: &str = "/usr/sbin/sshd";

/// Whether sshd tests can run here (prints a notice, or fails under MTSSH_REQUIRE_PEERS=1).
pub fn available() -> bool {
    if !support::have_all(&[SSHD, "ssh-keygen"]) {
        return false;
    }
    // sshd insists on its privilege-separation directory.
    let _ = std::fs::create_dir_all("/run/sshd");
    true
}

pub struct Sshd {
    pub addrs: Vec<SocketAddr>,
    pub dir: tempfile::TempDir,
    child: Child,
}

/// What an sshd should allow.
pub struct SshdOptions {
    pub addresses: usize,
    /// Private key file to use as the host key (copied); a fresh ed25519 key when None.
    pub host_key: Option<PathBuf>,
    pub password_auth: bool,
    pub extra: Vec<String>,
}

impl Default for SshdOptions {
    fn default() -> Self {
        SshdOptions {
            addresses: 1,
            host_key: None,
            password_auth: false,
            extra: Vec::new(),
        }
    }
}

impl Sshd {
    /// Starts sshd on `addresses` fresh loopback addresses sharing one port, allowing the
    /// test env's client key. Waits until every address accepts.
    pub fn start(env: &TestEnv, opts: SshdOptions) -> Sshd {
        let ips: Vec<IpAddr> = (0..opts.addresses.clamp(1, 16))
            .map(|_| support::loopback())
            .collect();
        Self::start_on(env, &ips, free_port(ips[0]), opts)
    }

    pub fn start_on(env: &TestEnv, ips: &[IpAddr], port: u16, opts: SshdOptions) -> Sshd {
        let dir = tempfile::tempdir().expect("sshd dir");
        // sshd reads authorized_keys as the logging-in user, who is not the owner here.
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let host_key = dir.path().join("host_key");
        match &opts.host_key {
            Some(path) => {
                use std::os::unix::fs::PermissionsExt;
                std::fs::copy(path, &host_key).expect("copy host key");
                std::fs::set_permissions(&host_key, std::fs::Permissions::from_mode(0o600))
                    .unwrap();
            }
            None => {
                let ok = Command::new("ssh-keygen")
                    .args(["-q", "-N", "", "-t", "ed25519", "-f"])
                    .arg(&host_key)
                    .status()
                    .expect("ssh-keygen")
                    .success();
                assert!(ok, "ssh-keygen failed");
            }
        }
        let authorized = dir.path().join("authorized_keys");
        env.key("client_ed25519");
        std::fs::copy(support::fixture("keys/client_ed25519.pub"), &authorized).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&authorized, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let addrs: Vec<SocketAddr> = ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect();
        // sshd takes the first value of each option: the test's own lines come first.
        let mut config = String::new();
        for line in &opts.extra {
            config.push_str(line);
            config.push('\n');
        }
        for addr in &addrs {
            config.push_str(&format!("ListenAddress {addr}\n"));
        }
        config.push_str(&format!(
            "HostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n\
             UsePAM no\nStrictModes no\nPermitRootLogin yes\nPubkeyAuthentication yes\n\
             PasswordAuthentication {}\nKbdInteractiveAuthentication no\n\
             MaxStartups 2000\nMaxSessions 100\nUseDNS no\nLogLevel ERROR\nAllowTcpForwarding yes\n",
            host_key.display(),
            dir.path().join("sshd.pid").display(),
            authorized.display(),
            if opts.password_auth { "yes" } else { "no" },
        ));
        let config_path = dir.path().join("sshd_config");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // Health checks make sshd log "connection closed" lines: keep them out of test output.
            .stderr(std::fs::File::create(dir.path().join("sshd.log")).expect("sshd log"))
            .spawn()
            .expect("sshd starts");
        let sshd = Sshd { addrs, dir, child };
        sshd.wait_ready();
        sshd
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        for addr in &self.addrs {
            while std::net::TcpStream::connect_timeout(addr, Duration::from_millis(200)).is_err() {
                assert!(Instant::now() < deadline, "sshd on {addr} never accepted");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// What sshd wrote to stderr (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn port(&self) -> u16 {
        self.addrs[0].port()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that is free on `ip` right now (the address is ours alone, so it stays free).
pub fn free_port(ip: IpAddr) -> u16 {
    std::net::TcpListener::bind((ip, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The user sshd tests log in as: whoever runs the tests.
/// As root, a dedicated user with a plain POSIX shell and an empty home: root's own shell
/// start-up files (pyenv, prompts…) would otherwise print into every command's output.
/// Otherwise whoever runs the tests.
pub fn login_user() -> String {
    static USER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    USER.get_or_init(|| {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            ensure_user(
                TEST_USER,
                &format!("x-{}-{}", std::process::id(), rand_tag()),
            );
            return TEST_USER.to_string();
        }
        let out = Command::new("id").arg("-un").output().expect("id");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    })
    .clone()
}

pub const TEST_USER: &str = "mtsshtest";

/// Creates (once) a local user with /bin/sh and a fresh home, and sets its password.
pub fn ensure_user(user: &str, password: &str) {
    let exists = Command::new("id")
        .arg(user)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !exists {
        let status = Command::new("useradd")
            .args(["-m", "-s", "/bin/sh", user])
            .status()
            .expect("useradd runs");
        assert!(status.success(), "useradd {user} failed");
    }
    // A locked account (no password yet) is refused by sshd even for keys.
    let mut chpasswd = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .expect("chpasswd");
    use std::io::Write;
    chpasswd
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{user}:{password}\n").as_bytes())
        .expect("write");
    assert!(chpasswd.wait().expect("chpasswd").success());
}

fn rand_tag() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}
