//! The embedded mock SSH server and its practice shell.
//!
//! A real SSH server (russh) that OpenSSH and paramiko clients can use: password and
//! publickey login, pty/shell/exec/env/window-change, and a practice shell. It is the peer
//! every test and benchmark of ours runs against, so it is built to hold thousands of
//! sessions and to survive abuse: its own accept loop that never dies on accept errors, a
//! login grace time, and a bounded number of auth attempts.

mod accept;
pub mod console;
mod differ;
pub mod hostkey;
pub mod limiter;
mod server;
mod sftp;
mod sha256sum;
pub mod shell;
mod thread;

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use russh::keys::{PrivateKey, PublicKey};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use differ::{DifferRule, Difference};
pub use hostkey::HostKeyType;
pub use limiter::LoginLimit;
pub use shell::{Lang, ShellStyle};
pub use thread::MockThread;

/// The course's address and credentials.
pub const DEFAULT_PORT: u16 = 2222;
pub const DEFAULT_USER: &str = "test";
pub const DEFAULT_PASSWORD: &str = "123456";
/// Sessions per connection, as OpenSSH's MaxSessions default.
pub const DEFAULT_MAX_SESSIONS: usize = 10;

/// How to run a mock server. `Default` is the course's server: 127.0.0.1:2222, one host,
/// `test` / `123456`, a persisted ed25519 host key.
#[derive(Debug, Clone)]
pub struct MockOptions {
    pub bind: IpAddr,
    /// First port; `0` lets the OS choose a free port for every host.
    pub port: u16,
    /// Number of practice hosts (`mock-01`, `mock-02`, …), one listening port each.
    pub hosts: usize,
    pub users: Vec<Credentials>,
    /// OpenSSH public keys (one per line) allowed to log in as any configured user.
    pub authorized_keys: Vec<PublicKey>,
    pub host_key: HostKeySource,
    pub lang: Lang,
    /// Delay before each reply of the shell (not the handshake): shows what blocking costs.
    pub latency: Duration,
    /// Unauthenticated connections are dropped after this long (OpenSSH's LoginGraceTime).
    pub login_grace: Duration,
    /// Auth attempts per connection before it is closed.
    pub max_auth_attempts: usize,
    /// Wrong passwords per client address, over all its connections.
    pub login_limit: LoginLimit,
    /// Channels (shells, execs) one connection may have open at once (OpenSSH's
    /// MaxSessions).
    pub max_sessions: usize,
    /// Key-exchange algorithms offered; `None`: russh's default (post-quantum first).
    pub kex: Option<Vec<russh::kex::Name>>,
    /// Keep every byte each channel receives for [`MockServer::received`] (tests); counts
    /// are kept either way.
    pub record_input: bool,
    /// The practice shell wraps prompts and commands in OSC 133 marks (on a pty).
    pub marks: bool,
    /// Hosts that differ on purpose (`--differ`): the last rule naming a host wins.
    pub differ: Vec<DifferRule>,
    /// The practice shell, or the course handout's echo server (`--style handout`).
    pub style: ShellStyle,
    /// Where each host's SFTP directory is made (`DIR/HOST`); `None`: a private temporary
    /// directory that goes with the server.
    pub sftp_root: Option<PathBuf>,
}

/// What one channel of the mock received from its client, for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedInput {
    /// The practice host the channel was opened on.
    pub host: String,
    pub len: u64,
    /// Every byte, when [`MockOptions::record_input`] is on.
    pub bytes: Vec<u8>,
}

/// One user the mock server accepts. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials {{ user: {:?}, password: *** }}", self.user)
    }
}

impl Credentials {
    /// Parses `user:password,user2:password2` (`--users`, `MTSSH_MOCK_USERS`).
    pub fn parse_list(text: &str) -> Result<Vec<Credentials>> {
        text.split(',')
            .filter(|item| !item.trim().is_empty())
            .map(|item| {
                Credentials::parse_one(item)
                    .context("expected user:password pairs separated by commas")
            })
            .collect()
    }

    /// Parses a users file: one `user:password` a line (the password is the rest of the
    /// line, commas included); blank lines and `#` comments are skipped. Errors name the
    /// line, never its text.
    pub fn parse_lines(text: &str) -> Result<Vec<Credentials>> {
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
            .map(|(n, line)| {
                Credentials::parse_one(line.trim_end_matches('\r'))
                    .with_context(|| format!("line {}: expected user:password", n + 1))
            })
            .collect()
    }

    fn parse_one(item: &str) -> Option<Credentials> {
        match item.split_once(':') {
            Some((user, password)) if !user.trim().is_empty() => Some(Credentials {
                user: user.trim().to_string(),
                password: password.to_string(),
            }),
            _ => None,
        }
    }
}

/// Where the host key comes from.
#[derive(Debug, Clone)]
pub enum HostKeySource {
    /// Load from this file, generating and saving it on first use.
    File(PathBuf, HostKeyType),
    /// The user's data dir, generated on first use.
    Persisted(HostKeyType),
    /// A key that lives only in this process.
    Ephemeral(HostKeyType),
    /// A key the caller already has (tests pin fixture keys this way).
    Given(Box<PrivateKey>),
}

impl Default for MockOptions {
    fn default() -> Self {
        MockOptions {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            hosts: 1,
            users: vec![Credentials {
                user: DEFAULT_USER.to_string(),
                password: DEFAULT_PASSWORD.to_string(),
            }],
            authorized_keys: Vec::new(),
            host_key: HostKeySource::Persisted(HostKeyType::Ed25519),
            lang: Lang::En,
            latency: Duration::ZERO,
            login_grace: Duration::from_secs(30),
            kex: None,
            max_auth_attempts: 6,
            login_limit: LoginLimit::default(),
            max_sessions: DEFAULT_MAX_SESSIONS,
            record_input: false,
            marks: true,
            differ: Vec::new(),
            style: ShellStyle::Practice,
            sftp_root: None,
        }
    }
}

/// One practice host: its name and where it listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockHost {
    pub name: String,
    pub addr: SocketAddr,
}

/// A running mock server. Dropping it does not stop it; call [`MockServer::stop`].
pub struct MockServer {
    hosts: Vec<MockHost>,
    host_key: PublicKey,
    users: Vec<Credentials>,
    stop: watch::Sender<bool>,
    /// What [`MockServer::serve_stream`] needs to serve a connection of its own.
    config: Arc<russh::server::Config>,
    shared: Arc<server::Shared>,
    stopped: watch::Receiver<bool>,
}

impl MockServer {
    /// Binds every host's port, then starts serving on the current tokio runtime.
    /// Returns once every listener accepts connections.
    pub async fn start(opts: MockOptions) -> Result<MockServer> {
        let key = load_host_key(opts.host_key.clone()).await?;
        let listeners = bind_all(opts.bind, opts.port, opts.hosts.max(1))?;
        let mut server = MockServer::without_hosts(key, &opts);
        for (index, listener) in listeners.into_iter().enumerate() {
            let name = host_name(index);
            let addr = listener.local_addr()?;
            server.hosts.push(MockHost {
                name: name.clone(),
                addr,
            });
            tokio::spawn(accept::accept_loop(
                listener,
                name,
                server.config.clone(),
                server.shared.clone(),
                server.stopped.clone(),
            ));
        }
        Ok(server)
    }

    /// The state every connection shares (host key, russh config, users, the stop signal),
    /// with no host yet: [`MockServer::start`] and [`MockServer::start_in_memory`] add theirs.
    fn without_hosts(key: PrivateKey, opts: &MockOptions) -> MockServer {
        let host_key = key.public_key().clone();
        let config = Arc::new(server::russh_config(key, opts));
        let (stop, stopped) = watch::channel(false);
        MockServer {
            hosts: Vec::new(),
            host_key,
            users: opts.users.clone(),
            stop,
            config,
            shared: Arc::new(server::Shared::new(opts)),
            stopped,
        }
    }

    /// A server that listens nowhere: connections reach it only through
    /// [`MockServer::serve_stream`] or [`MockServer::dialer`]. Host N still has an address
    /// (`opts.bind`, port `opts.port + N`, nothing listening there) so that
    /// [`MockServer::practice_target`] and the dialer agree on which host a target means.
    pub async fn start_in_memory(opts: MockOptions) -> Result<MockServer> {
        let key = load_host_key(opts.host_key.clone()).await?;
        let mut server = MockServer::without_hosts(key, &opts);
        server.hosts = (0..opts.hosts.max(1))
            .map(|index| {
                let port = u16::try_from(usize::from(opts.port) + index)
                    .ok()
                    .context("--hosts runs past port 65535; lower --port or --hosts")?;
                Ok(MockHost {
                    name: host_name(index),
                    addr: SocketAddr::new(opts.bind, port),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(server)
    }

    /// Serves one connection over `stream` (any byte stream, e.g. one end of
    /// `tokio::io::duplex`) as host `host`, on the current runtime. False when there is no
    /// such host. The login grace time applies, but with no socket to shut down a client
    /// stalling inside the key exchange is only asked to disconnect.
    pub fn serve_stream<S>(&self, host: usize, stream: S) -> bool
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Some(mock_host) = self.hosts.get(host) else {
            return false;
        };
        accept::serve_stream(
            stream,
            mock_host.name.clone(),
            self.config.clone(),
            self.shared.clone(),
            self.stopped.clone(),
        );
        true
    }

    /// An engine dialer ([`crate::ssh::EngineSettings::dialer`]) that connects every session
    /// to this server in memory: each dial makes a `tokio::io::duplex` pipe, serves one end
    /// as the host named `host` (`mock-01`) or else the host whose port is `port`, and
    /// returns the other. An unknown host is refused like a closed port.
    pub fn dialer(&self) -> crate::ssh::Dialer {
        let hosts = self.hosts.clone();
        let config = self.config.clone();
        let shared = self.shared.clone();
        let stopped = self.stopped.clone();
        Arc::new(move |host: String, port: u16| {
            let found = hosts
                .iter()
                .find(|h| h.name == host)
                .or_else(|| hosts.iter().find(|h| h.addr.port() == port))
                .map(|h| h.name.clone());
            let served = found.map(|name| {
                let (client, server_end) = tokio::io::duplex(DUPLEX_BUFFER);
                accept::serve_stream(
                    server_end,
                    name,
                    config.clone(),
                    shared.clone(),
                    stopped.clone(),
                );
                client
            });
            Box::pin(async move {
                match served {
                    Some(client) => Ok(Box::new(client) as Box<dyn crate::ssh::Stream>),
                    None => Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionRefused,
                        format!("no mock host is {host} or has port {port}"),
                    )),
                }
            })
        })
    }

    /// The practice server the TUI starts: `hosts` hosts from the course's port 2222, or on
    /// free ports when 2222 and up are taken (the caller shows where). Its shell speaks the
    /// language the TUI speaks.
    pub async fn start_practice(hosts: usize) -> Result<MockServer> {
        let opts = MockOptions {
            hosts,
            lang: crate::lang::current(),
            ..MockOptions::default()
        };
        match MockServer::start(opts.clone()).await {
            Ok(server) => Ok(server),
            Err(_) => MockServer::start(MockOptions { port: 0, ..opts }).await,
        }
    }

    /// A session to one of this server's hosts, logging in with the first practice user and
    /// pinning this server's host key (the user's known_hosts is never touched).
    pub fn practice_target(&self, host: usize, name: String) -> Option<crate::ssh::Target> {
        let addr = self.hosts.get(host)?.addr;
        let user = self.users.first()?;
        Some(crate::ssh::Target {
            password: Some(user.password.clone()),
            ..crate::ssh::Target::new(
                name,
                addr.ip().to_string(),
                addr.port(),
                user.user.clone(),
                crate::ssh::HostKeyPolicy::Pinned(self.host_key.clone()),
            )
        })
    }

    /// The console's events, for [`console::print`]; `None` after the first call.
    pub fn console_events(&self) -> Option<tokio::sync::mpsc::Receiver<console::Event>> {
        self.shared.console.subscribe()
    }

    /// Logins, logouts and the peak so far.
    pub fn console(&self) -> &console::Console {
        &self.shared.console
    }

    /// How many connections the server has accepted (over TCP and in memory).
    pub fn connections(&self) -> usize {
        self.shared
            .connections
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// What each channel received so far, in the order the channels opened.
    pub fn received(&self) -> Vec<ReceivedInput> {
        self.shared.received()
    }

    /// The directory mock host `host` serves over SFTP (made on its first SFTP session).
    pub fn sftp_dir(&self, host: usize) -> Option<PathBuf> {
        let name = &self.hosts.get(host)?.name;
        let base = self.shared.sftp_base.path()?;
        Some(base.join(crate::text::safe_file_name(name)))
    }

    pub fn hosts(&self) -> &[MockHost] {
        &self.hosts
    }

    pub fn host_key(&self) -> &PublicKey {
        &self.host_key
    }

    pub fn users(&self) -> &[Credentials] {
        &self.users
    }

    /// Stops accepting and disconnects every session.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

/// Bytes each direction of an in-memory connection buffers (see [`MockServer::dialer`]).
const DUPLEX_BUFFER: usize = 64 * 1024;

/// `mock-01`, `mock-02`, …: two digits so names sort and fold into ranges (`mock-[01-04]`).
pub fn host_name(index: usize) -> String {
    format!("mock-{:02}", index + 1)
}

async fn load_host_key(source: HostKeySource) -> Result<PrivateKey> {
    if let HostKeySource::Given(key) = source {
        return Ok(*key);
    }
    // File IO and RSA generation must not stall the event loop.
    tokio::task::spawn_blocking(move || match source {
        HostKeySource::File(path, kind) => hostkey::load_or_create(&path, kind),
        HostKeySource::Persisted(kind) => {
            let path = hostkey::default_host_key_path(kind)
                .context("no home directory to keep the mock host key in; pass --host-key FILE")?;
            hostkey::load_or_create(&path, kind)
        }
        HostKeySource::Ephemeral(kind) => hostkey::generate(kind),
        HostKeySource::Given(key) => Ok(*key),
    })
    .await
    .context("host key task failed")?
}

/// Binds `count` listeners: consecutive ports from `port`, or OS-chosen ports for `port` 0.
/// Fails as a whole, naming the port, when any is taken.
fn bind_all(ip: IpAddr, port: u16, count: usize) -> Result<Vec<TcpListener>> {
    (0..count)
        .map(|i| {
            let port = if port == 0 {
                0
            } else {
                u16::try_from(usize::from(port) + i)
                    .ok()
                    .context("--hosts runs past port 65535; lower --port or --hosts")?
            };
            bind_one(SocketAddr::new(ip, port))
        })
        .collect()
}

fn bind_one(addr: SocketAddr) -> Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
    }?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            anyhow::anyhow!(
                "port {} on {} is already in use; choose another with --port (0 picks a free one)",
                addr.port(),
                addr.ip()
            )
        } else {
            anyhow::anyhow!("cannot listen on {addr}: {e}")
        }
    })?;
    // A burst of connects overflows a small listen queue and clients then retry after 1-3 s.
    Ok(socket.listen(4096)?)
}

/// Parses OpenSSH `authorized_keys` lines (options before the key type are not supported and
/// are reported, never silently skipped).
pub fn parse_authorized_keys(text: &str) -> Result<Vec<russh::keys::PublicKey>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(|(n, line)| {
            russh::keys::PublicKey::from_openssh(line.trim())
                .with_context(|| format!("line {}: not an OpenSSH public key", n + 1))
        })
        .collect()
}

/// A host list for `mtssh -f` / `mtssh run -f` that reaches every started host.
pub fn host_list_toml(hosts: &[MockHost], users: &[Credentials]) -> String {
    let mut text = String::from(
        "# Written by `mtssh mock --write-hosts`. Practice credentials only: never keep real\n\
         # passwords in a file (use password_env).\n\n",
    );
    let user = users.first();
    if let Some(user) = user {
        let _ = writeln!(text, "[defaults]\nuser = \"{}\"\n", user.user);
    }
    for host in hosts {
        let _ = writeln!(
            text,
            "[[hosts]]\nname = \"{}\"\nhost = \"{}\"\nport = {}\ngroups = [\"mock\"]",
            host.name,
            host.addr.ip(),
            host.addr.port()
        );
        if let Some(user) = user {
            let _ = writeln!(text, "password = \"{}\"", user.password);
        }
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod duplex_tests;

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn credentials_debug_hides_the_password() {
        let users = Credentials::parse_list("test:hunter2,root:hunter3").unwrap();
        let opts = MockOptions {
            users,
            ..Default::default()
        };
        let shown = format!("{opts:?} {opts:#?}");
        assert!(shown.contains("password: ***"), "{shown}");
        assert!(!shown.contains("hunter"), "{shown}");
        let err = Credentials::parse_list("hunter2").unwrap_err().to_string();
        assert!(!err.contains("hunter"), "{err}");
    }
}
