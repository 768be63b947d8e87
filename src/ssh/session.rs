//! One session actor: connect, verify the host key, authenticate, open the channel, then
//! pump bytes between the channel and the front end until either side ends.
//!
//! Every failure becomes a `Failed` state with a user-facing reason; an actor never panics
//! its way out and never affects another session.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, Disconnect};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use super::auth;
use super::engine::Engine;
use super::events::{Prompt, SessionCommand, SessionEvent, SessionId, SessionState};
use super::target::{HostKeyPolicy, Target, Work};

pub(super) struct SessionActor {
    pub id: SessionId,
    pub target: Target,
    pub work: Work,
    pub events: mpsc::Sender<SessionEvent>,
    pub inbox: mpsc::Receiver<SessionCommand>,
    pub engine: Engine,
}

/// Why a session ends early: a user-facing sentence.
type Failure = String;

impl SessionActor {
    pub async fn run(mut self) {
        let outcome = self.drive().await;
        let state = match outcome {
            Ok(exit_status) => SessionState::Closed { exit_status },
            Err(reason) => SessionState::Failed { reason },
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
        let handle = {
            // Hold the handshake permits until authenticated: they bound what servers see
            // as unauthenticated connections.
            let _fanout = self.engine.fanout_limit().acquire_owned().await;
            let _host = self
                .engine
                .host_limit(&self.target.host, self.target.port)
                .acquire_owned()
                .await;
            let mut handle = self.connect().await?;
            self.state(SessionState::Authenticating).await;
            let prompter = Prompter {
                id: self.id,
                events: self.events.clone(),
            };
            auth::authenticate(&mut handle, &self.target, &prompter).await?;
            handle
        };
        let result = self.serve(&handle).await;
        let _ = handle.disconnect(Disconnect::ByApplication, "", "en").await;
        result
    }

    async fn connect(&self) -> Result<client::Handle<ClientHandler>, Failure> {
        let target = &self.target;
        let timeout = target.connect_timeout;
        let rejection = Arc::new(Mutex::new(None));
        let handler = ClientHandler {
            policy: target.host_key.clone(),
            host: target.host.clone(),
            port: target.port,
            rejection: rejection.clone(),
        };
        let attempt = async {
            let addrs = (self.engine.resolver())(target.host.clone(), target.port)
                .await
                .map_err(|e| format!("cannot resolve {}: {e}", target.host))?;
            let stream = connect_any(&addrs)
                .await
                .map_err(|e| format!("cannot connect to {}: {e}", target.address()))?;
            let _ = stream.set_nodelay(true);
            client::connect_stream(client_config(), stream, handler)
                .await
                .map_err(|e| {
                    rejection
                        .lock()
                        .ok()
                        .and_then(|mut r| r.take())
                        .unwrap_or_else(|| {
                            format!("SSH handshake with {} failed: {e}", target.address())
                        })
                })
        };
        match tokio::time::timeout(timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "timed out after {} connecting to {} (no SSH answer); check the host and port, or raise --connect-timeout",
                humantime(timeout),
                target.address()
            )),
        }
    }

    /// Opens the channel for the work and pumps bytes until the session ends.
    async fn serve(
        &mut self,
        handle: &client::Handle<ClientHandler>,
    ) -> Result<Option<u32>, Failure> {
        let mut channel = handle
            .channel_open_session()
            .await
            .map_err(|e| format!("the server refused a session channel: {e}"))?;
        let setup = match &self.work {
            Work::Shell { term, cols, rows } => {
                let pty =
                    channel.request_pty(true, term, (*cols).into(), (*rows).into(), 0, 0, &[]);
                match pty.await {
                    Ok(()) => channel.request_shell(true).await,
                    Err(e) => Err(e),
                }
            }
            Work::Exec { command, pty } => {
                let mut result = Ok(());
                if let Some((cols, rows)) = pty {
                    let term = std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into());
                    result = channel
                        .request_pty(true, &term, (*cols).into(), (*rows).into(), 0, 0, &[])
                        .await;
                }
                match result {
                    Ok(()) => channel.exec(true, command.as_bytes()).await,
                    Err(e) => Err(e),
                }
            }
        };
        setup.map_err(|e| format!("the server refused the request: {e}"))?;
        self.state(SessionState::Ready).await;

        let mut exit_status = None;
        let mut inbox_open = true;
        loop {
            tokio::select! {
                command = self.inbox.recv(), if inbox_open => match command {
                    Some(SessionCommand::Input(bytes)) => {
                        if let Err(e) = channel.data(&bytes[..]).await {
                            return Err(format!("connection lost while sending: {e}"));
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
                        self.emit(SessionEvent::Output { id: self.id, data: data.to_vec() }).await;
                    }
                    Some(ChannelMsg::ExtendedData { data, .. }) => {
                        self.emit(SessionEvent::Stderr { id: self.id, data: data.to_vec() }).await;
                    }
                    Some(ChannelMsg::ExitStatus { exit_status: status }) => {
                        // Output may still follow the status: keep reading until close.
                        exit_status = Some(status);
                        self.emit(SessionEvent::ExitStatus { id: self.id, status }).await;
                    }
                    Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                        return Err(format!("the remote command was killed by signal {signal_name:?}"));
                    }
                    Some(ChannelMsg::Close) | None => {
                        if exit_status.is_none() && handle.is_closed() {
                            return Err(format!("connection to {} lost", self.target.address()));
                        }
                        return Ok(exit_status);
                    }
                    Some(_) => {}
                },
            }
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

fn client_config() -> Arc<client::Config> {
    // One shared config: building it per session would cost an allocation per host.
    static CONFIG: std::sync::OnceLock<Arc<client::Config>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            Arc::new(client::Config {
                inactivity_timeout: None,
                keepalive_interval: Some(Duration::from_secs(30)),
                keepalive_max: 3,
                nodelay: true,
                ..Default::default()
            })
        })
        .clone()
}

async fn connect_any(addrs: &[std::net::SocketAddr]) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
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

/// russh's per-connection handler: only host-key checking is ours.
pub(super) struct ClientHandler {
    policy: HostKeyPolicy,
    host: String,
    port: u16,
    /// Why the host key was refused, for the session's error (russh only reports a
    /// generic "unknown key").
    rejection: Arc<Mutex<Option<String>>>,
}

impl ClientHandler {
    fn refuse(&self, why: String) -> bool {
        tracing::warn!(host = %self.host, port = self.port, "{why}");
        if let Ok(mut slot) = self.rejection.lock() {
            *slot = Some(why);
        }
        false
    }
}

impl client::Handler for ClientHandler {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match server_public_key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key,
            PublicKeyOrCertificate::Certificate(_) => {
                return Ok(self.refuse(format!(
                    "{}:{} presented a host certificate; mtssh verifies plain host keys only",
                    self.host, self.port
                )));
            }
        };
        let verdict = match &self.policy {
            HostKeyPolicy::Pinned(expected) if expected.key_data() == key.key_data() => Ok(()),
            HostKeyPolicy::Pinned(_) => Err(format!(
                "{}:{} is not the expected server: its host key differs from the pinned one",
                self.host, self.port
            )),
            HostKeyPolicy::KnownHosts { mode, store } => {
                store.verify(*mode, &self.host, self.port, key).map(|_| ())
            }
        };
        Ok(match verdict {
            Ok(()) => true,
            Err(why) => self.refuse(why),
        })
    }
}

/// Builds the key-with-hash argument russh wants, choosing the RSA hash the server prefers.
pub(super) async fn with_hash(
    handle: &client::Handle<ClientHandler>,
    key: russh::keys::PrivateKey,
) -> PrivateKeyWithHashAlg {
    let hash = handle
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten();
    PrivateKeyWithHashAlg::new(Arc::new(key), hash)
}
