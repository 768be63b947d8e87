//! What to connect to and what to do there.

use super::shell_integration::ShellIntegration;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::PublicKey;

use super::hostkeys::KnownHostsStore;
pub use super::proxy::ProxyCommand;

/// How to treat a host key that is not yet, or differently, known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKeyCheck {
    /// Refuse unknown and changed keys.
    Strict,
    /// Record unknown keys, refuse changed ones.
    AcceptNew,
    /// Accept any key.
    Off,
}

impl HostKeyCheck {
    pub const ALL: [HostKeyCheck; 3] = [Self::Strict, Self::AcceptNew, Self::Off];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::AcceptNew => "accept-new",
            Self::Off => "off",
        }
    }
}

impl fmt::Display for HostKeyCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not one of `strict`, `accept-new`, `off`")]
pub struct ParseHostKeyCheckError(pub String);

impl FromStr for HostKeyCheck {
    type Err = ParseHostKeyCheckError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| ParseHostKeyCheckError(s.to_owned()))
    }
}

/// One host, fully resolved from the host list, the command line and defaults.
#[derive(Clone)]
pub struct Target {
    /// The OSC 133 hook the pane's shell gets typed in once it is ready (the TUI only).
    pub shell_integration: ShellIntegration,
    /// Whether the TUI's pane tries again by itself after a lost connection (the TUI only).
    pub reconnect: super::reconnect::ReconnectPolicy,
    /// The name shown to the user (pane title, report row).
    pub name: String,
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Never printed: `Debug` hides it.
    pub password: Option<String>,
    pub identity_files: Vec<PathBuf>,
    pub host_key: HostKeyPolicy,
    /// Bounds TCP connect, the SSH handshake and authentication (not time spent waiting for
    /// a person to answer a prompt).
    pub connect_timeout: Duration,
    /// Send a keepalive after this long without traffic (ssh_config ServerAliveInterval).
    pub keepalive: Option<Duration>,
    /// Keepalives left unanswered before the connection is given up (ServerAliveCountMax;
    /// 0: never give up).
    pub keepalive_max: usize,
    /// TCP connects tried, one second apart, before the host counts as unreachable
    /// (ConnectionAttempts).
    pub connection_attempts: u32,
    /// Nobody is asked anything (BatchMode): no password, passphrase or
    /// keyboard-interactive prompt; what cannot be answered without one fails.
    pub batch_mode: bool,
    /// Why this host must not be connected to at all (an invalid ssh_config `Port` or
    /// `HostName`): its session fails with this at once, before any network traffic.
    pub refusal: Option<String>,
    /// Try the keys of the ssh-agent at `SSH_AUTH_SOCK` first.
    pub use_agent: bool,
    /// Offer only keys named by `identity_files`, even when the agent holds others: an agent
    /// with many keys otherwise exhausts the server's MaxAuthTries before the right one.
    pub identities_only: bool,
    /// Key-exchange algorithms in order of preference (`--kex`, ssh_config KexAlgorithms);
    /// `None` keeps russh's default, which puts the post-quantum hybrid first.
    pub kex: Option<Arc<Vec<russh::kex::Name>>>,
    /// Reach this host through another SSH host (`ProxyJump`); chains nest.
    pub jump: Option<Box<Target>>,
    /// Reach this host through a local command's stdin and stdout (`ProxyCommand`). Never
    /// set together with `jump`: the configuration picks one, as OpenSSH does.
    pub proxy: Option<ProxyCommand>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("identity_files", &self.identity_files)
            .field("connect_timeout", &self.connect_timeout)
            .field("jump", &self.jump)
            .field("proxy", &self.proxy.is_some())
            .finish_non_exhaustive()
    }
}

/// OpenSSH's ServerAliveCountMax default.
pub const DEFAULT_KEEPALIVE_MAX: usize = 3;

/// Connect + handshake + authentication, unless configured otherwise (OpenSSH has none; a
/// thousand hosts with one dead would otherwise wait on TCP's own minutes).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Target {
    /// A target with nothing configured beyond where to go, as whom, and how to trust the
    /// host key: no password or identity files, no agent, no jump host, russh's kex list,
    /// [`DEFAULT_CONNECT_TIMEOUT`]. Set the rest with struct update syntax.
    pub fn new(
        name: impl Into<String>,
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        host_key: HostKeyPolicy,
    ) -> Target {
        Target {
            name: name.into(),
            host: host.into(),
            port,
            user: user.into(),
            password: None,
            identity_files: Vec::new(),
            host_key,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            keepalive: None,
            keepalive_max: DEFAULT_KEEPALIVE_MAX,
            connection_attempts: 1,
            batch_mode: false,
            refusal: None,
            use_agent: false,
            identities_only: false,
            kex: None,
            jump: None,
            proxy: None,
            shell_integration: ShellIntegration::Off,
            reconnect: Default::default(),
        }
    }

    /// Identifies a connection that sessions may share (as a jump host).
    pub fn connection_key(&self) -> String {
        let via = self
            .jump
            .as_ref()
            .map(|j| format!(" via {}", j.connection_key()))
            .unwrap_or_default();
        let proxy = self
            .proxy
            .as_ref()
            .map(|p| format!(" proxy {}", p.command))
            .unwrap_or_default();
        format!("{}@{}{via}{proxy}", self.user, self.address())
    }

    /// `host:port`, bracketed for IPv6, as shown in errors.
    pub fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// How a session decides whether to trust the server's host key.
#[derive(Clone)]
pub enum HostKeyPolicy {
    /// Exactly this key (sessions to our in-process mock server): the user's known_hosts is
    /// never read nor written.
    Pinned(PublicKey),
    /// Check against known_hosts, learning new hosts when the mode allows it.
    KnownHosts {
        mode: HostKeyCheck,
        store: Arc<KnownHostsStore>,
        /// Write learned hosts hashed (HashKnownHosts), as OpenSSH does; they are hashed
        /// anyway when the file already holds hashed names.
        hash: bool,
    },
}

/// What a session does once it is authenticated.
#[derive(Debug, Clone)]
pub enum Work {
    /// An interactive shell in a PTY of this size (TUI panes).
    Shell { term: String, cols: u16, rows: u16 },
    /// One command; with a PTY when `pty` is set (`--tty`, for `sudo`).
    Exec {
        command: String,
        pty: Option<(u16, u16)>,
        /// Whether that PTY echoes input. Off when input is fed (`--stdin`): what is fed
        /// (often a password) must not come back into the output.
        echo: bool,
    },
    /// A subsystem (`sftp`): once the server takes the request, the channel goes to
    /// `streams` as a byte stream under the session's id, and the session stays up (for
    /// extra exec channels) until it is closed.
    Subsystem {
        name: String,
        streams: tokio::sync::mpsc::UnboundedSender<(super::SessionId, SubsystemChannel)>,
    },
}

/// A subsystem's channel, accepted by the server (`ssh::sftp` speaks SFTP over it). Dropped
/// unused, it closes the channel (the connection may stay up for the session's shell).
pub struct SubsystemChannel(Option<russh::Channel<russh::client::Msg>>);

impl SubsystemChannel {
    pub fn new(channel: russh::Channel<russh::client::Msg>) -> Self {
        SubsystemChannel(Some(channel))
    }

    /// The channel, to speak over; closing it is then the taker's.
    pub fn take(mut self) -> Option<russh::Channel<russh::client::Msg>> {
        self.0.take()
    }
}

impl Drop for SubsystemChannel {
    fn drop(&mut self) {
        if let Some(channel) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = channel.close().await;
            });
        }
    }
}

impl fmt::Debug for SubsystemChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubsystemChannel")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_passwords_of_the_target_and_its_jump_hosts() {
        let key =
            PublicKey::from_openssh(include_str!("../../tests/fixtures/keys/host_ed25519.pub"))
                .unwrap();
        let target = |name: &str, password: &str, jump: Option<Target>| Target {
            password: Some(password.into()),
            connect_timeout: Duration::from_secs(1),
            jump: jump.map(Box::new),
            ..Target::new(name, name, 22, "root", HostKeyPolicy::Pinned(key.clone()))
        };
        let t = target("inner", "hunter2", Some(target("bastion", "hunter3", None)));
        let shown = format!("{t:?} {t:#?}");
        assert!(
            shown.contains("\"***\"") && shown.contains("bastion"),
            "{shown}"
        );
        assert!(!shown.contains("hunter"), "{shown}");
    }
}
