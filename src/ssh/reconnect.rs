//! Automatic reconnect (`reconnect = "auto"`, `--reconnect`): which endings count as a lost
//! connection worth trying again, and how long to wait before each try. Pure: the TUI's
//! model keeps the tries and the timers.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::{SessionError, SessionState};

/// Tries after one loss before giving up, unless `reconnect_tries` says otherwise.
pub const DEFAULT_RECONNECT_TRIES: u32 = 10;
/// The wait before the first try; each further try waits twice as long ...
pub const FIRST_DELAY: Duration = Duration::from_secs(1);
/// ... up to this.
pub const MAX_DELAY: Duration = Duration::from_secs(30);

/// What a pane does when its connection is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReconnectMode {
    /// Nothing by itself: F5 / Shift-F5 reconnect.
    #[default]
    Manual,
    /// Tries again with backoff ([`delay_before`]), at most `tries` times in a row.
    Auto,
}

impl ReconnectMode {
    pub const NAMES: [&'static str; 2] = ["auto", "manual"];
}

impl FromStr for ReconnectMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(ReconnectMode::Auto),
            "manual" | "off" => Ok(ReconnectMode::Manual),
            other => Err(format!(
                "reconnect {other:?} is none of {}",
                Self::NAMES.join(", ")
            )),
        }
    }
}

impl fmt::Display for ReconnectMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReconnectMode::Auto => "auto",
            ReconnectMode::Manual => "manual",
        })
    }
}

/// A host's reconnect setting: the mode and the cap on tries in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectPolicy {
    pub mode: ReconnectMode,
    /// Tries after one loss (each failed try counts, and so does a session that is lost
    /// again within 30 s of coming back; staying up longer starts over).
    pub tries: u32,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            mode: ReconnectMode::Manual,
            tries: DEFAULT_RECONNECT_TRIES,
        }
    }
}

impl ReconnectPolicy {
    /// Tries again by itself at most `tries` times (0: never).
    pub fn auto(tries: u32) -> Self {
        ReconnectPolicy {
            mode: ReconnectMode::Auto,
            tries,
        }
    }

    pub fn is_auto(&self) -> bool {
        self.mode == ReconnectMode::Auto && self.tries > 0
    }
}

/// The wait before try `attempt` (1-based): 1 s, 2 s, 4 s, … doubling up to 30 s.
pub fn delay_before(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(16);
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

/// Whether a session that ended this way lost its connection (so trying again may help), as
/// opposed to being refused for good or ended on purpose. `exit_status`: the status the
/// server reported for the shell, however it arrived.
///
/// Not lost: an exit status (the user typed `exit`, or the shell ended by itself: any
/// status, since `exit` after a failed command passes that command's status on), a failed
/// authentication, a host key that is unknown, changed, revoked or not the pinned one, a
/// configuration that forbids the host. Lost: the connection dropped (the server process
/// died, the network went away, keepalives unanswered), the shell was killed by a signal,
/// the host could not be reached or answered nothing in time.
pub fn is_lost(state: &SessionState, exit_status: Option<u32>) -> bool {
    match state {
        SessionState::Closed { exit_status: s, .. } => s.or(exit_status).is_none(),
        SessionState::Failed { error } => error_is_transient(error.root()),
        SessionState::Connecting | SessionState::Authenticating | SessionState::Ready => false,
    }
}

/// Whether trying again may succeed without anybody changing anything.
fn error_is_transient(error: &SessionError) -> bool {
    use SessionError as E;
    match error {
        E::KeepaliveTimeout { .. }
        | E::Resolve { .. }
        | E::Refused { .. }
        | E::ConnectFailed { .. }
        | E::TimedOut { .. }
        | E::ProxyFailed { .. }
        | E::Handshake { .. }
        | E::AuthBrokeOff { .. }
        | E::JumpUnreachable { .. }
        | E::JumpKeepsClosing { .. }
        | E::ChannelRefused { .. }
        | E::ConnectionLost { .. } => true,
        E::Misconfigured { .. }
        | E::HostKeyUnknown { .. }
        | E::HostKeyChanged { .. }
        | E::HostKeyRevoked { .. }
        | E::HostKeyMismatch { .. }
        | E::HostCertificate { .. }
        | E::HostKeyUnreadable { .. }
        | E::AuthFailed { .. }
        | E::PassphraseMissing { .. }
        | E::WrongPassphrase { .. }
        | E::RequestRefused { .. }
        | E::Other(_) => false,
        // `root()` has looked through jump hosts already.
        E::Jump { source, .. } => error_is_transient(source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_one_second_to_thirty() {
        let secs: Vec<u64> = (1..=8).map(|n| delay_before(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(delay_before(0), FIRST_DELAY);
        assert_eq!(delay_before(u32::MAX), MAX_DELAY);
    }

    #[test]
    fn a_dropped_connection_is_lost_an_exit_or_a_refusal_is_not() {
        let closed = |exit_status, signal: Option<&str>| SessionState::Closed {
            exit_status,
            signal: signal.map(String::from),
        };
        let failed = |error| SessionState::Failed { error };
        assert!(is_lost(&closed(None, None), None));
        assert!(is_lost(&closed(None, Some("KILL")), None));
        assert!(!is_lost(&closed(Some(0), None), None));
        assert!(!is_lost(&closed(Some(1), None), None));
        // The status came on its own message before the close.
        assert!(!is_lost(&closed(None, None), Some(0)));
        let lost = SessionError::ConnectionLost {
            address: "127.0.0.1:22".into(),
            while_sending: None,
        };
        assert!(is_lost(&failed(lost.clone()), None));
        let refused = SessionError::Refused {
            address: "127.0.0.1:22".into(),
            reason: "refused".into(),
        };
        assert!(is_lost(&failed(refused), None));
        let auth = SessionError::AuthFailed {
            user: "u".into(),
            tried: vec!["password".into()],
            allowed: vec![],
            notes: vec![],
        };
        assert!(!is_lost(&failed(auth.clone()), None));
        let through_jump = |source| SessionError::Jump {
            jump: "bastion".into(),
            source: Box::new(source),
        };
        assert!(!is_lost(&failed(through_jump(auth)), None));
        assert!(is_lost(&failed(through_jump(lost)), None));
        let changed = SessionError::HostKeyMismatch {
            host: "h".into(),
            port: 22,
        };
        assert!(!is_lost(&failed(changed), None));
        assert!(!is_lost(&SessionState::Ready, None));
    }

    #[test]
    fn modes_parse_and_print() {
        assert_eq!("auto".parse(), Ok(ReconnectMode::Auto));
        assert_eq!("manual".parse(), Ok(ReconnectMode::Manual));
        assert_eq!("off".parse(), Ok(ReconnectMode::Manual));
        assert!("sometimes".parse::<ReconnectMode>().is_err());
        assert_eq!(ReconnectMode::Auto.to_string(), "auto");
        assert!(!ReconnectPolicy::auto(0).is_auto());
        assert!(ReconnectPolicy::auto(3).is_auto());
        assert!(!ReconnectPolicy::default().is_auto());
    }
}
