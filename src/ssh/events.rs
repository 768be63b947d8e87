//! The typed messages between session actors and front ends.

use std::fmt;

use tokio::sync::oneshot;

use super::error::SessionError;
use crate::lang::{tr, trf};

/// Index of a session within one front end (its pane, its row in a batch report).
pub type SessionId = usize;

/// Where a session is in its life. Matched totally by front ends, so a new state forces a
/// decision everywhere it is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    Connecting,
    Authenticating,
    Ready,
    /// The remote side ended the session; the exit status when the server sent one, or the
    /// signal that killed the remote command (`TERM`, `KILL`, …) when it said so.
    Closed {
        exit_status: Option<u32>,
        signal: Option<String>,
    },
    /// The session could not be established or broke; the error's `Display` is the
    /// user-facing sentence, its variant (and `kind()`) what went wrong.
    Failed {
        error: SessionError,
    },
}

impl SessionState {
    /// Closed or failed: the actor has ended and will send nothing more.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            SessionState::Closed { .. } | SessionState::Failed { .. }
        )
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // In the user's language: pane titles and run's report show it.
        match self {
            SessionState::Connecting => f.write_str(tr("connecting")),
            SessionState::Authenticating => f.write_str(tr("authenticating")),
            SessionState::Ready => f.write_str(tr("ready")),
            SessionState::Closed {
                signal: Some(signal),
                ..
            } => f.write_str(&trf("closed: signal {signal}", &[("signal", signal)])),
            SessionState::Closed {
                exit_status: Some(code),
                ..
            } => f.write_str(&trf("closed: exit {code}", &[("code", code)])),
            SessionState::Closed { .. } => f.write_str(tr("closed")),
            SessionState::Failed { error } => {
                f.write_str(&trf("failed: {error}", &[("error", &error.localized())]))
            }
        }
    }
}

/// A question the session needs a person to answer (password, passphrase). The front end
/// answers through `reply`; `None` means the user declined. Never answered by a blocking
/// terminal read on the event loop.
#[derive(Debug)]
pub struct Prompt {
    pub text: String,
    /// Whether the answer may be shown while typed (false for secrets).
    pub echo: bool,
    pub reply: oneshot::Sender<Option<String>>,
}

/// What a session tells its front end.
#[derive(Debug)]
pub enum SessionEvent {
    State {
        id: SessionId,
        state: SessionState,
    },
    /// Bytes from the remote stdout (or the PTY).
    Output {
        id: SessionId,
        data: Vec<u8>,
    },
    /// Bytes from the remote stderr (exec without a PTY).
    Stderr {
        id: SessionId,
        data: Vec<u8>,
    },
    /// The remote command or shell exited with this status.
    ExitStatus {
        id: SessionId,
        status: u32,
    },
    Prompt {
        id: SessionId,
        prompt: Prompt,
    },
    /// From a command run on an extra exec channel of the session's connection (`:CMD`).
    Exec {
        id: SessionId,
        run: u64,
        event: ExecEvent,
    },
}

/// What an exec channel opened beside the session's own reports, in order; `End` last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecEvent {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    End(ExecEnd),
}

/// How a command on an exec channel ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecEnd {
    Exited(u32),
    /// Killed by this signal (`TERM`), as the server said.
    Signal(String),
    /// The channel could not be opened or the command not started; why.
    Failed(String),
    Cancelled,
    TimedOut(std::time::Duration),
}

impl SessionEvent {
    pub fn session_id(&self) -> SessionId {
        match self {
            SessionEvent::State { id, .. }
            | SessionEvent::Output { id, .. }
            | SessionEvent::Stderr { id, .. }
            | SessionEvent::ExitStatus { id, .. }
            | SessionEvent::Prompt { id, .. }
            | SessionEvent::Exec { id, .. } => *id,
        }
    }
}
