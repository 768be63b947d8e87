//! Why a session could not be established or broke: one typed error for every failure of
//! the engine. Its `Display` is the user-facing sentence (what is wrong and how to fix it);
//! its variant, and [`SessionError::kind`], say what kind of failure it was, for code that
//! must tell a refused port from a wrong password without reading the sentence.

use std::path::PathBuf;
use std::time::Duration;

use super::session::humantime;

/// A session's failure. Clone and comparable: it travels in [`super::SessionState::Failed`]
/// and is shared by every session behind one failed jump host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The host's configuration forbids connecting (an invalid ssh_config `Port`).
    #[error("{host}: not connecting: {reason}")]
    Misconfigured { host: String, reason: String },
    /// The server left `count` keepalives in a row unanswered (ServerAliveInterval,
    /// ServerAliveCountMax), as OpenSSH's "Timeout, server not responding".
    #[error(
        "{address} stopped answering: no reply to keepalives for {} (ServerAliveInterval {} x ServerAliveCountMax {count})",
        humantime(silent_for(*.interval, *.count)),
        humantime(*.interval)
    )]
    KeepaliveTimeout {
        address: String,
        interval: Duration,
        count: usize,
    },
    /// The host name did not resolve.
    #[error("cannot resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    /// Nothing listens on the port (the TCP connection was refused).
    #[error("cannot connect to {address}: {reason}")]
    Refused { address: String, reason: String },
    /// Any other failure to open the TCP connection (unreachable network, no address).
    #[error("cannot connect to {address}: {reason}")]
    ConnectFailed { address: String, reason: String },
    /// No answer in time: while connecting (transport and key exchange) or during one
    /// authentication step.
    #[error("timed out after {} {phase}", humantime(*.after))]
    TimedOut {
        after: Duration,
        phase: TimeoutPhase,
    },
    /// The ProxyCommand could not be started, or exited unsuccessfully before the
    /// connection was up; `stderr` holds its last lines.
    #[error("the ProxyCommand for {address} {reason}{}", colon_text(.stderr))]
    ProxyFailed {
        address: String,
        reason: String,
        stderr: String,
    },
    /// The SSH transport or key exchange failed (for a reason other than the host key).
    #[error("SSH handshake with {address} failed: {reason}")]
    Handshake { address: String, reason: String },
    /// `host_key_check = strict` and known_hosts has no key for the host.
    #[error(
        "host key for {pattern} is not in known_hosts ({key}) and host_key_check is strict; \
         add it with `ssh-keyscan -p {port} {host} >> {}` after checking the fingerprint, \
         or use --host-key-check accept-new",
        .learn_path.display()
    )]
    HostKeyUnknown {
        /// The host as known_hosts writes it (`host` or `[host]:port`).
        pattern: String,
        host: String,
        port: u16,
        key: Box<OfferedKey>,
        /// The known_hosts file new keys are learned into.
        learn_path: PathBuf,
    },
    /// known_hosts holds another key for the host.
    #[error(
        "HOST KEY CHANGED for {pattern}: the server offered {key}, but {}:{line} holds a different {known_algo} key. \
         Someone may be intercepting the connection, or the host was reinstalled. \
         If you trust the new key, remove the old one with: {fix}",
        .path.display()
    )]
    HostKeyChanged {
        pattern: String,
        key: Box<OfferedKey>,
        path: PathBuf,
        /// 1-based, as in the file.
        line: usize,
        known_algo: String,
        /// The command that removes the old key.
        fix: String,
    },
    /// The key is on an `@revoked` line.
    #[error(
        "the host key {key} is marked @revoked in {}:{line}; refusing to connect",
        .path.display()
    )]
    HostKeyRevoked {
        key: Box<OfferedKey>,
        path: PathBuf,
        line: usize,
    },
    /// The server's key is not the one the target pins.
    #[error("{host}:{port} is not the expected server: its host key differs from the pinned one")]
    HostKeyMismatch { host: String, port: u16 },
    /// The server presented a host certificate, which mtssh does not verify.
    #[error("{host}:{port} presented a host certificate; mtssh verifies plain host keys only")]
    HostCertificate { host: String, port: u16 },
    /// The server's host key could not be encoded for the lookup.
    #[error("unreadable host key: {reason}")]
    HostKeyUnreadable { reason: String },
    /// Every method was tried and the server accepted none.
    #[error(
        "authentication failed for user '{user}' ({}){}{}",
        tried_text(.tried),
        allowed_text(.allowed),
        notes_text(.notes)
    )]
    AuthFailed {
        user: String,
        /// What was offered, in order (`agent key …`, `publickey PATH`, `password`).
        tried: Vec<String>,
        /// The methods the server still accepts.
        allowed: Vec<String>,
        /// Why something was not offered (an unreadable identity file, loose permissions).
        notes: Vec<String>,
    },
    /// The transport failed in the middle of authentication.
    #[error("authentication broke off: {reason}")]
    AuthBrokeOff { reason: String },
    /// An encrypted identity file, and nobody gave its passphrase.
    #[error("{} is encrypted and no passphrase was given", .path.display())]
    PassphraseMissing { path: PathBuf },
    /// An encrypted identity file that the given passphrase does not open.
    #[error("could not decrypt {} (wrong passphrase?)", .path.display())]
    WrongPassphrase { path: PathBuf },
    /// The connection to a jump host failed; `source` says why.
    #[error("jump host {jump}: {source}")]
    Jump {
        jump: String,
        source: Box<SessionError>,
    },
    /// The jump host is up but could not open a tunnel to the target.
    #[error("jump host {jump} could not reach {address}: {reason}")]
    JumpUnreachable {
        jump: String,
        address: String,
        reason: String,
    },
    /// The shared jump connection closed again right after it was made.
    #[error("jump host {jump} keeps closing its connection")]
    JumpKeepsClosing { jump: String },
    /// The server would not open a session channel.
    #[error("the server refused a session channel: {reason}")]
    ChannelRefused { reason: String },
    /// The server refused the PTY, shell or exec request.
    #[error("the server refused the request: {reason}")]
    RequestRefused { reason: String },
    /// The established connection went away: the server closed it or died, or sending
    /// failed (`while_sending`: why).
    #[error("{}", lost_text(.address, .while_sending.as_deref()))]
    ConnectionLost {
        address: String,
        while_sending: Option<String>,
    },
    /// Anything else (an internal task that failed); the sentence is all there is.
    #[error("{0}")]
    Other(String),
}

/// The host key a server offered, as the host-key errors show it: `ssh-ed25519 SHA256:…`.
/// Boxed in the errors: it keeps [`SessionError`] small, and with it every session event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{algo} {fingerprint}")]
pub struct OfferedKey {
    pub algo: String,
    /// SHA-256, as `ssh-keygen -l` prints it.
    pub fingerprint: String,
}

/// When a [`SessionError::TimedOut`] happened. Its `Display` ends the sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeoutPhase {
    /// Transport and key exchange.
    #[error(
        "connecting to {address} (no SSH answer); check the host and port, or raise --connect-timeout"
    )]
    Connect { address: String },
    /// One authentication step.
    #[error("during authentication")]
    Authentication,
    /// The server authenticated us but did not answer the channel open.
    #[error("waiting for the server to open a session channel")]
    ChannelOpen,
    /// The server did not answer a channel request (`pty-req`, `shell`, `exec`).
    #[error("waiting for the server to answer the {request} request")]
    Request { request: &'static str },
}

impl SessionError {
    /// Every kind name [`SessionError::kind`] can return.
    pub const KINDS: &'static [&'static str] = &[
        "resolve",
        "refused",
        "connect-failed",
        "timed-out",
        "proxy-failed",
        "handshake-failed",
        "host-key-unknown",
        "host-key-changed",
        "host-key-revoked",
        "host-key-mismatch",
        "host-certificate",
        "host-key-unreadable",
        "auth-failed",
        "auth-broke-off",
        "passphrase-missing",
        "wrong-passphrase",
        "jump-failed",
        "jump-unreachable",
        "jump-closed",
        "channel-refused",
        "request-refused",
        "connection-lost",
        "misconfigured",
        "keepalive-timeout",
        "other",
    ];

    /// A stable kebab-case name of the variant, for machine-readable output (`--json`'s
    /// `error_kind`). Names never change once published; new variants add new names.
    pub fn kind(&self) -> &'static str {
        match self {
            SessionError::Resolve { .. } => "resolve",
            SessionError::Refused { .. } => "refused",
            SessionError::ConnectFailed { .. } => "connect-failed",
            SessionError::TimedOut { .. } => "timed-out",
            SessionError::ProxyFailed { .. } => "proxy-failed",
            SessionError::Handshake { .. } => "handshake-failed",
            SessionError::HostKeyUnknown { .. } => "host-key-unknown",
            SessionError::HostKeyChanged { .. } => "host-key-changed",
            SessionError::HostKeyRevoked { .. } => "host-key-revoked",
            SessionError::HostKeyMismatch { .. } => "host-key-mismatch",
            SessionError::HostCertificate { .. } => "host-certificate",
            SessionError::HostKeyUnreadable { .. } => "host-key-unreadable",
            SessionError::AuthFailed { .. } => "auth-failed",
            SessionError::AuthBrokeOff { .. } => "auth-broke-off",
            SessionError::PassphraseMissing { .. } => "passphrase-missing",
            SessionError::WrongPassphrase { .. } => "wrong-passphrase",
            SessionError::Jump { .. } => "jump-failed",
            SessionError::JumpUnreachable { .. } => "jump-unreachable",
            SessionError::JumpKeepsClosing { .. } => "jump-closed",
            SessionError::ChannelRefused { .. } => "channel-refused",
            SessionError::RequestRefused { .. } => "request-refused",
            SessionError::ConnectionLost { .. } => "connection-lost",
            SessionError::Misconfigured { .. } => "misconfigured",
            SessionError::KeepaliveTimeout { .. } => "keepalive-timeout",
            SessionError::Other(_) => "other",
        }
    }

    /// The failure at the bottom of a chain of jump hosts (itself when not a jump failure).
    pub fn root(&self) -> &SessionError {
        match self {
            SessionError::Jump { source, .. } => source.root(),
            other => other,
        }
    }

    /// A failed TCP connect: refused when nothing listens, otherwise connect-failed.
    pub(super) fn connect(address: String, error: &std::io::Error) -> SessionError {
        let reason = error.to_string();
        if error.kind() == std::io::ErrorKind::ConnectionRefused {
            SessionError::Refused { address, reason }
        } else {
            SessionError::ConnectFailed { address, reason }
        }
    }
}

/// How long a server was silent when `count` keepalives `interval` apart went unanswered:
/// the connection is given up at the interval after the last one.
fn silent_for(interval: Duration, count: usize) -> Duration {
    let rounds = u32::try_from(count).unwrap_or(u32::MAX).saturating_add(1);
    interval.saturating_mul(rounds)
}

fn tried_text(tried: &[String]) -> String {
    if tried.is_empty() {
        "nothing to try: no agent key, no identity file and no password \
         (set password_env, MTSSH_PASSWORD or identity_file)"
            .to_string()
    } else {
        format!("tried {}", tried.join(", "))
    }
}

fn allowed_text(allowed: &[String]) -> String {
    if allowed.is_empty() {
        String::new()
    } else {
        format!("; the server accepts: {}", allowed.join(","))
    }
}

fn notes_text(notes: &[String]) -> String {
    if notes.is_empty() {
        String::new()
    } else {
        format!(". {}", notes.join(". "))
    }
}

fn colon_text(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

fn lost_text(address: &str, while_sending: Option<&str>) -> String {
    match while_sending {
        Some(why) => format!("connection lost while sending: {why}"),
        None => format!("connection to {address} lost (the server closed it or went away)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each variant, in the order of [`SessionError::KINDS`].
    fn one_of_each() -> Vec<SessionError> {
        let s = |t: &str| t.to_string();
        let path = PathBuf::from("/home/u/.ssh/known_hosts");
        let key = || {
            Box::new(OfferedKey {
                algo: s("ssh-ed25519"),
                fingerprint: s("SHA256:abc"),
            })
        };
        vec![
            SessionError::Resolve {
                host: s("nowhere.invalid"),
                reason: s("no such host"),
            },
            SessionError::Refused {
                address: s("10.0.0.1:22"),
                reason: s("Connection refused (os error 111)"),
            },
            SessionError::ConnectFailed {
                address: s("10.0.0.1:22"),
                reason: s("Network is unreachable (os error 101)"),
            },
            SessionError::TimedOut {
                after: Duration::from_secs(3),
                phase: TimeoutPhase::Authentication,
            },
            SessionError::ProxyFailed {
                address: s("10.0.0.1:22"),
                reason: s("exited with status 3"),
                stderr: s("boom"),
            },
            SessionError::Handshake {
                address: s("10.0.0.1:22"),
                reason: s("Disconnected"),
            },
            SessionError::HostKeyUnknown {
                pattern: s("[10.0.0.1]:2222"),
                host: s("10.0.0.1"),
                port: 2222,
                key: key(),
                learn_path: path.clone(),
            },
            SessionError::HostKeyChanged {
                pattern: s("web01"),
                key: key(),
                path: path.clone(),
                line: 3,
                known_algo: s("ssh-rsa"),
                fix: s("ssh-keygen -R web01"),
            },
            SessionError::HostKeyRevoked {
                key: key(),
                path: path.clone(),
                line: 7,
            },
            SessionError::HostKeyMismatch {
                host: s("127.0.0.1"),
                port: 2222,
            },
            SessionError::HostCertificate {
                host: s("web01"),
                port: 22,
            },
            SessionError::HostKeyUnreadable { reason: s("bad") },
            SessionError::AuthFailed {
                user: s("deploy"),
                tried: vec![s("password")],
                allowed: vec![s("publickey"), s("password")],
                notes: Vec::new(),
            },
            SessionError::AuthBrokeOff {
                reason: s("Disconnected"),
            },
            SessionError::PassphraseMissing {
                path: PathBuf::from("/k"),
            },
            SessionError::WrongPassphrase {
                path: PathBuf::from("/k"),
            },
            SessionError::Jump {
                jump: s("bastion"),
                source: Box::new(SessionError::Other(s("x"))),
            },
            SessionError::JumpUnreachable {
                jump: s("bastion"),
                address: s("10.0.0.1:22"),
                reason: s("Channel open failure"),
            },
            SessionError::JumpKeepsClosing { jump: s("bastion") },
            SessionError::ChannelRefused { reason: s("no") },
            SessionError::RequestRefused { reason: s("no") },
            SessionError::ConnectionLost {
                address: s("10.0.0.1:22"),
                while_sending: None,
            },
            SessionError::Misconfigured {
                host: s("web01"),
                reason: s("~/.ssh/config:3: invalid Port value \"0\""),
            },
            SessionError::KeepaliveTimeout {
                address: s("10.0.0.1:22"),
                interval: Duration::from_secs(1),
                count: 2,
            },
            SessionError::Other(s("key loading task failed")),
        ]
    }

    #[test]
    fn kind_names_are_stable_unique_kebab_case() {
        let kinds: Vec<&str> = one_of_each().iter().map(SessionError::kind).collect();
        assert_eq!(kinds, SessionError::KINDS);
        let mut unique = kinds.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), kinds.len(), "{kinds:?}");
        for kind in kinds {
            assert!(
                !kind.is_empty()
                    && kind.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                    && !kind.starts_with('-')
                    && !kind.ends_with('-'),
                "{kind}"
            );
        }
        // The names scripts match on.
        let refused = SessionError::connect(
            "h:22".into(),
            &std::io::Error::from(std::io::ErrorKind::ConnectionRefused),
        );
        assert_eq!(refused.kind(), "refused");
        let unreachable = SessionError::connect(
            "h:22".into(),
            &std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(unreachable.kind(), "connect-failed");
    }

    #[test]
    fn stays_small_enough_to_travel_in_every_event() {
        // Every session event carries room for one; the host-key details are boxed for it.
        assert!(std::mem::size_of::<SessionError>() <= 128);
    }

    #[test]
    fn sentences_are_the_ones_users_know() {
        let timed_out = SessionError::TimedOut {
            after: Duration::from_millis(1500),
            phase: TimeoutPhase::Connect {
                address: "[::1]:22".into(),
            },
        };
        assert_eq!(
            timed_out.to_string(),
            "timed out after 1.5s connecting to [::1]:22 (no SSH answer); check the host and port, or raise --connect-timeout"
        );
        let auth = SessionError::TimedOut {
            after: Duration::from_secs(10),
            phase: TimeoutPhase::Authentication,
        };
        assert_eq!(
            auth.to_string(),
            "timed out after 10s during authentication"
        );

        let nothing = SessionError::AuthFailed {
            user: "u".into(),
            tried: Vec::new(),
            allowed: Vec::new(),
            notes: Vec::new(),
        };
        assert_eq!(
            nothing.to_string(),
            "authentication failed for user 'u' (nothing to try: no agent key, no identity file \
             and no password (set password_env, MTSSH_PASSWORD or identity_file))"
        );
        let tried = SessionError::AuthFailed {
            user: "u".into(),
            tried: vec!["publickey /k".into(), "password".into()],
            allowed: vec!["publickey".into(), "password".into()],
            notes: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            tried.to_string(),
            "authentication failed for user 'u' (tried publickey /k, password); \
             the server accepts: publickey,password. a. b"
        );

        let lost = |while_sending: Option<&str>| SessionError::ConnectionLost {
            address: "h:22".into(),
            while_sending: while_sending.map(String::from),
        };
        assert_eq!(
            lost(None).to_string(),
            "connection to h:22 lost (the server closed it or went away)"
        );
        assert_eq!(
            lost(Some("broken pipe")).to_string(),
            "connection lost while sending: broken pipe"
        );

        let silent = SessionError::KeepaliveTimeout {
            address: "h:22".into(),
            interval: Duration::from_secs(1),
            count: 2,
        };
        assert_eq!(
            silent.to_string(),
            "h:22 stopped answering: no reply to keepalives for 3s \
             (ServerAliveInterval 1s x ServerAliveCountMax 2)"
        );

        let jump = SessionError::Jump {
            jump: "outer".into(),
            source: Box::new(SessionError::Jump {
                jump: "inner".into(),
                source: Box::new(tried.clone()),
            }),
        };
        assert!(
            jump.to_string()
                .starts_with("jump host outer: jump host inner: authentication failed"),
            "{jump}"
        );
        assert_eq!(jump.kind(), "jump-failed");
        assert_eq!(jump.root(), &tried);
        assert_eq!(jump.root().kind(), "auth-failed");
    }
}
