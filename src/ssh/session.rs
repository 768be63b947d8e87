//! One session actor: connect, verify the host key, authenticate, open the channel, then
//! pump bytes between the channel and the front end until either side ends.
//!
//! Every failure becomes a `Failed` state with a typed [`SessionError`]; an actor never panics
//! its way out and never affects another session.

use std::time::Duration;

use russh::client;
use russh::{ChannelMsg, Disconnect};
use tokio::sync::{mpsc, oneshot};

use super::connect::{self, ClientHandler};
use super::engine::Engine;
use super::error::SessionError;
use super::events::{Prompt, SessionCommand, SessionEvent, SessionId, SessionState};
use super::target::{Target, Work};

pub(super) struct SessionActor {
    pub id: SessionId,
    pub target: Target,
    pub work: Work,
    pub events: mpsc::Sender<SessionEvent>,
    pub inbox: mpsc::Receiver<SessionCommand>,
    pub engine: Engine,
    /// Per-session output credit (see `EngineSettings::output_credit`).
    pub credit: Option<std::sync::Arc<tokio::sync::Semaphore>>,
}

/// Why a session ends early.
type Failure = SessionError;

impl SessionActor {
    pub async fn run(mut self) {
        let outcome = self.drive().await;
        let state = match outcome {
            Ok(exit_status) => SessionState::Closed { exit_status },
            Err(error) => SessionState::Failed { error },
        };
        self.state(state).await;
    }

    async fn state(&self, state: SessionState) {
        let _ = self
            .events
            .send(SessionEvent::State { id: self.id, state })
            .await;
    }

    async fn drive(&mut self) -> Result<Option<u32>, Failure> {
        self.state(SessionState::Connecting).await;
        let prompter = Prompter {
            id: self.id,
            events: self.events.clone(),
        };
        let on_authenticating = self.state(SessionState::Authenticating);
        let handle =
            connect::establish(&self.engine, &self.target, &prompter, on_authenticating).await?;
        let result = self.serve(&handle).await;
        let _ = handle.disconnect(Disconnect::ByApplication, "", "en").await;
        result
    }

    /// Opens the channel for the work and pumps bytes until the session ends.
    async fn serve(
        &mut self,
        handle: &client::Handle<ClientHandler>,
    ) -> Result<Option<u32>, Failure> {
        let mut channel =
            handle
                .channel_open_session()
                .await
                .map_err(|e| SessionError::ChannelRefused {
                    reason: e.to_string(),
                })?;
        // A PTY when asked for (a shell always has one), then the shell or the command.
        let (pty, command) = match &self.work {
            Work::Shell { term, cols, rows } => (Some((term.clone(), *cols, *rows)), None),
            Work::Exec { command, pty } => {
                let term = || std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into());
                (pty.map(|(cols, rows)| (term(), cols, rows)), Some(command))
            }
        };
        let setup = async {
            if let Some((term, cols, rows)) = pty {
                channel
                    .request_pty(true, &term, cols.into(), rows.into(), 0, 0, &[])
                    .await?;
            }
            match command {
                Some(command) => channel.exec(true, command.as_bytes()).await,
                None => channel.request_shell(true).await,
            }
        };
        setup.await.map_err(|e| SessionError::RequestRefused {
            reason: e.to_string(),
        })?;
        self.state(SessionState::Ready).await;

        let mut exit_status = None;
        let mut inbox_open = true;
        loop {
            tokio::select! {
                command = self.inbox.recv(), if inbox_open => match command {
                    Some(SessionCommand::Input(bytes)) => {
                        if let Err(e) = channel.data(&bytes[..]).await {
                            return Err(SessionError::ConnectionLost {
                                address: self.target.address(),
                                while_sending: Some(e.to_string()),
                            });
                        }
                    }
                    Some(SessionCommand::Resize { cols, rows }) => {
                        let _ = channel.window_change(cols.into(), rows.into(), 0, 0).await;
                    }
                    Some(SessionCommand::Eof) => {
                        let _ = channel.eof().await;
                    }
                    Some(SessionCommand::Close) => {
                        let _ = channel.close().await;
                        return Ok(exit_status);
                    }
                    // Every front-end handle is gone: nobody will ever send more. Keep
                    // reading output until the remote side ends.
                    None => inbox_open = false,
                },
                message = channel.wait() => match message {
                    Some(ChannelMsg::Data { data }) => {
                        self.take_credit().await;
                        self.emit(SessionEvent::Output { id: self.id, data: data.to_vec() }).await;
                    }
                    Some(ChannelMsg::ExtendedData { data, .. }) => {
                        self.take_credit().await;
                        self.emit(SessionEvent::Stderr { id: self.id, data: data.to_vec() }).await;
                    }
                    Some(ChannelMsg::ExitStatus { exit_status: status }) => {
                        // Output may still follow the status: keep reading until close.
                        exit_status = Some(status);
                        self.emit(SessionEvent::ExitStatus { id: self.id, status }).await;
                    }
                    Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                        return Err(SessionError::KilledBySignal { signal: format!("{signal_name:?}") });
                    }
                    Some(ChannelMsg::Close) => return Ok(exit_status),
                    // The transport ended under the channel: the server died or the network
                    // broke. With an exit status already in hand the command did finish.
                    None if exit_status.is_some() => return Ok(exit_status),
                    None => {
                        return Err(SessionError::ConnectionLost {
                            address: self.target.address(),
                            while_sending: None,
                        });
                    }
                    Some(_) => {}
                },
            }
        }
    }

    /// Waits until this session has fewer output events queued than its credit allows, so
    /// a flood queues only a little ahead of other sessions' output. Meanwhile the channel
    /// is not read, and SSH flow control slows the server. A closed credit no longer waits.
    async fn take_credit(&self) {
        if let Some(credit) = &self.credit
            && let Ok(permit) = credit.acquire().await
        {
            permit.forget();
        }
    }

    /// Waits for room in the shared event channel: this is where a flooding session is
    /// slowed down, and through SSH flow control, its server too.
    async fn emit(&self, event: SessionEvent) {
        let _ = self.events.send(event).await;
    }
}

/// Asks the front end a question through the event channel.
pub(super) struct Prompter {
    id: SessionId,
    events: mpsc::Sender<SessionEvent>,
}

impl Prompter {
    /// `None` when the front end declined or cannot ask (no terminal).
    pub async fn ask(&self, text: String, echo: bool) -> Option<String> {
        let (reply, answer) = oneshot::channel();
        let prompt = Prompt { text, echo, reply };
        self.events
            .send(SessionEvent::Prompt {
                id: self.id,
                prompt,
            })
            .await
            .ok()?;
        answer.await.ok().flatten()
    }
}

/// `1.5s`, `10s`, `250ms`.
pub fn humantime(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
