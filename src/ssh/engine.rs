//! The engine: spawns one actor task per session on the current (single-threaded) runtime,
//! bounds concurrent handshakes, and gathers every session's events into one channel.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{OnceCell, Semaphore, mpsc};

use super::connect::{self, Connection};
use super::error::SessionError;
use super::events::{SessionEvent, SessionId};
use super::input::{DEFAULT_INPUT_LIMIT, InputQueue, InputRefused};
use super::session::{Control, Prompter, SessionActor};
use super::target::{Target, Work};

/// Turns a host name into addresses. Tests replace it so that no DNS query is ever sent.
pub type Resolver = Arc<
    dyn Fn(String, u16) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>
        + Send
        + Sync,
>;

/// The system resolver (tokio's, on the blocking pool); IP literals skip it entirely.
pub fn system_resolver() -> Resolver {
    Arc::new(|host: String, port: u16| {
        Box::pin(async move {
            if let Ok(ip) = host.parse::<std::net::IpAddr>() {
                return Ok(vec![SocketAddr::new(ip, port)]);
            }
            Ok(tokio::net::lookup_host((host.as_str(), port))
                .await?
                .collect())
        })
    })
}

/// A byte stream an SSH connection can run over: a TCP socket, or an in-memory pipe in tests.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// Opens the byte stream to `host:port` in place of resolving the name and dialing TCP.
/// Tests connect sessions to the mock server over `tokio::io::duplex` with it: no port.
pub type Dialer = Arc<
    dyn Fn(String, u16) -> Pin<Box<dyn Future<Output = io::Result<Box<dyn Stream>>> + Send>>
        + Send
        + Sync,
>;

/// Engine-wide limits and hooks.
#[derive(Clone)]
pub struct EngineSettings {
    /// Handshakes (connect + key exchange + auth) in flight at once.
    pub fanout: usize,
    /// Handshakes in flight to one `host:port`: OpenSSH's `MaxStartups 10:30:100` starts
    /// dropping connections beyond 10 unauthenticated ones.
    pub per_host: usize,
    /// Events buffered between all sessions and the front end. Bounded, so a flood of output
    /// slows the flooding session (SSH flow control), not the program.
    pub event_capacity: usize,
    /// Input bytes one session may hold unsent (see [`InputQueue`]): a paste beyond it is
    /// refused whole, never cut.
    pub input_limit: usize,
    /// Output events one session may have waiting in the shared channel, when the front end
    /// hands them back with [`SessionHandle::output_consumed`] (the TUI does). Without it one
    /// flooding session fills the whole channel and every other session's output, keystroke
    /// echoes included, waits behind the flood. `None`: no per-session limit (batch mode).
    pub output_credit: Option<usize>,
    pub resolver: Resolver,
    /// Opens direct (non-jump) connections instead of the resolver and a TCP connect;
    /// `None`: resolve and dial TCP. Jump-host tunnels never use it.
    pub dialer: Option<Dialer>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            fanout: 64,
            per_host: 10,
            event_capacity: 1024,
            input_limit: DEFAULT_INPUT_LIMIT,
            output_credit: None,
            resolver: system_resolver(),
            dialer: None,
        }
    }
}

/// Cheap to clone: every clone spawns onto the same limits and event channel.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// One shared connection to a jump host, established by whichever session needs it first.
type JumpSlot = Arc<OnceCell<Result<Arc<Connection>, SessionError>>>;

struct Inner {
    settings: EngineSettings,
    events: mpsc::Sender<SessionEvent>,
    fanout: Arc<Semaphore>,
    per_host: Mutex<HashMap<String, Arc<Semaphore>>>,
    jumps: Mutex<HashMap<String, JumpSlot>>,
}

impl Engine {
    pub fn new(settings: EngineSettings) -> (Engine, mpsc::Receiver<SessionEvent>) {
        let (events, receiver) = mpsc::channel(settings.event_capacity.max(1));
        let fanout = Arc::new(Semaphore::new(settings.fanout.max(1)));
        let inner = Inner {
            settings,
            events,
            fanout,
            per_host: Mutex::new(HashMap::new()),
            jumps: Mutex::new(HashMap::new()),
        };
        (
            Engine {
                inner: Arc::new(inner),
            },
            receiver,
        )
    }

    /// Starts a session. It reports through the engine's event channel under `id`.
    pub fn spawn(&self, id: SessionId, target: Target, work: Work) -> SessionHandle {
        let input = Arc::new(InputQueue::new(self.inner.settings.input_limit));
        let control = Arc::new(Control::default());
        let credit = self
            .inner
            .settings
            .output_credit
            .map(|n| Arc::new(Semaphore::new(n.max(1))));
        let actor = SessionActor {
            id,
            target,
            work,
            events: self.inner.events.clone(),
            input: input.clone(),
            control: control.clone(),
            engine: self.clone(),
            credit: credit.clone(),
        };
        tokio::spawn(actor.run());
        SessionHandle {
            id,
            input,
            control,
            credit,
        }
    }

    /// The shared, authenticated connection to a jump host. Every session behind the same
    /// jump waits for the one handshake; a failed or closed connection is forgotten so that
    /// a later session (a reconnect) tries afresh.
    pub(super) async fn jump_connection(
        &self,
        jump: &Target,
        prompter: &Prompter,
    ) -> Result<Arc<Connection>, SessionError> {
        let key = jump.connection_key();
        for _ in 0..2 {
            let slot = self.jump_slot(&key);
            let result = slot
                .get_or_init(|| async {
                    // Boxed: a jump host may itself sit behind a jump host.
                    Box::pin(connect::establish(self, jump, prompter, async {}))
                        .await
                        .map(Arc::new)
                        .map_err(|e| SessionError::Jump {
                            jump: jump.name.clone(),
                            source: Box::new(e),
                        })
                })
                .await
                .clone();
            match result {
                Ok(connection) if !connection.is_closed() => return Ok(connection),
                Ok(_) => self.forget_jump(&key, &slot),
                Err(e) => {
                    self.forget_jump(&key, &slot);
                    return Err(e);
                }
            }
        }
        Err(SessionError::JumpKeepsClosing {
            jump: jump.name.clone(),
        })
    }

    fn jump_slot(&self, key: &str) -> JumpSlot {
        match self.inner.jumps.lock() {
            Ok(mut map) => map.entry(key.to_string()).or_default().clone(),
            Err(_) => JumpSlot::default(),
        }
    }

    fn forget_jump(&self, key: &str, slot: &JumpSlot) {
        if let Ok(mut map) = self.inner.jumps.lock()
            && map
                .get(key)
                .is_some_and(|current| Arc::ptr_eq(current, slot))
        {
            map.remove(key);
        }
    }

    pub(super) fn resolver(&self) -> &Resolver {
        &self.inner.settings.resolver
    }

    pub(super) fn dialer(&self) -> Option<&Dialer> {
        self.inner.settings.dialer.as_ref()
    }

    pub(super) fn fanout_limit(&self) -> Arc<Semaphore> {
        self.inner.fanout.clone()
    }

    pub(super) fn host_limit(&self, host: &str, port: u16) -> Arc<Semaphore> {
        let key = format!("{host}:{port}");
        let per_host = self.inner.settings.per_host.max(1);
        match self.inner.per_host.lock() {
            Ok(mut map) => map
                .entry(key)
                .or_insert_with(|| Arc::new(Semaphore::new(per_host)))
                .clone(),
            // A poisoned map only loses the per-host cap, never the session.
            Err(_) => Arc::new(Semaphore::new(per_host)),
        }
    }
}

/// The front end's end of one session. Every method returns at once: none waits for the
/// network, so the event loop never blocks on one slow session (but [`Self::input_wait`]).
#[derive(Debug, Clone)]
pub struct SessionHandle {
    pub id: SessionId,
    input: Arc<InputQueue>,
    control: Arc<Control>,
    /// Output events this session may still queue (with `output_credit`).
    credit: Option<Arc<Semaphore>>,
}

impl SessionHandle {
    /// Queues input for the remote side, all of it or (refused) none of it. Queued input is
    /// written as the channel window allows, while the session keeps reading its output.
    pub fn input(&self, bytes: impl Into<bytes::Bytes>) -> Result<(), InputRefused> {
        self.input.push(bytes.into())
    }

    /// Queues input, waiting for room as the remote side reads it (`mtssh run --stdin`,
    /// where waiting is right). Fails only when the session takes no more input.
    pub async fn input_wait(&self, bytes: impl Into<bytes::Bytes>) -> Result<(), InputRefused> {
        self.input.push_wait(bytes.into()).await
    }

    /// Sends EOF after the queued input; later input is refused.
    pub fn eof(&self) {
        self.input.eof();
    }

    /// Input queued but not yet taken by the remote side.
    pub fn pending_input(&self) -> usize {
        self.input.pending()
    }

    /// Whether the session has ended; input still pending then never reaches the remote.
    pub fn has_ended(&self) -> bool {
        self.input.has_ended()
    }

    /// The most input [`Self::input`] holds unsent.
    pub fn input_limit(&self) -> usize {
        self.input.limit()
    }

    /// Throws away queued, unsent input (a paste the user gave up on); returns its size.
    pub fn discard_input(&self) -> usize {
        self.input.discard()
    }

    /// The pane changed size: the session sends a window-change (only the latest size
    /// counts when several come quickly).
    pub fn resize(&self, cols: u16, rows: u16) {
        self.control.resize(cols, rows);
    }

    /// Closes the channel and the connection, whatever the session is doing (connecting,
    /// waiting for window space, flooding output).
    pub fn close(&self) {
        self.control.close();
    }

    /// Runs a command on a new exec channel of this session's connection, beside its shell
    /// (no new handshake); it reports as [`super::SessionEvent::Exec`] under its run.
    pub fn exec(&self, request: super::ExecRequest) {
        self.control.exec(request);
    }

    /// Stops the exec channels of `run` (they report `ExecEnd::Cancelled`).
    pub fn cancel_exec(&self, run: u64) {
        self.control.cancel_exec(run);
    }

    /// Opens subsystem `name` (`sftp`) on a new channel of this session's connection,
    /// beside its shell (no new handshake); the channel comes back on the receiver as a
    /// stream, or why it could not be opened (the receiver fails when the session ends).
    pub fn open_subsystem(
        &self,
        name: &str,
    ) -> tokio::sync::oneshot::Receiver<super::subsystem::SubsystemReply> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.control
            .open_subsystem(super::subsystem::SubsystemRequest {
                name: name.to_string(),
                reply,
            });
        answer
    }

    /// The front end has taken one output event of this session off the channel.
    pub fn output_consumed(&self) {
        if let Some(credit) = &self.credit {
            credit.add_permits(1);
        }
    }

    /// The front end stops taking this session's output (pane closed, reconnected): the
    /// actor no longer waits for credit.
    pub fn stop_output_credit(&self) {
        if let Some(credit) = &self.credit {
            credit.close();
        }
    }
}
