//! One session actor: connect, verify the host key, authenticate, open the channel, then
//! pump bytes between the channel and the front end until either side ends.
//!
//! Every failure becomes a `Failed` state with a typed [`SessionError`]; an actor never panics
//! its way out and never affects another session.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::{ChannelMsg, ChannelWriteHalf, Disconnect, Pty};
use tokio::sync::{Notify, mpsc, oneshot};

use super::connect::{self, ClientHandler};
use super::engine::Engine;
use super::error::{SessionError, TimeoutPhase};
use super::events::{Prompt, SessionEvent, SessionId, SessionState};
use super::exec::{ExecRequest, ExecRuns};
use super::input::{InputQueue, Next};
use super::subsystem::{SubsystemRequest, open_subsystem};
use super::target::{Target, Work};

/// What the front end asks of a session besides input, shared with its actor. Not a queue:
/// a close must reach an actor whatever it waits for, and of many resizes only the last
/// one matters.
#[derive(Debug, Default)]
pub(super) struct Control {
    wanted: Mutex<Wanted>,
    changed: Notify,
}

#[derive(Debug, Default)]
struct Wanted {
    resize: Option<(u16, u16)>,
    close: bool,
    /// Commands to run on exec channels of their own, and runs to cancel.
    execs: Vec<ExecRequest>,
    cancels: Vec<u64>,
    /// Subsystems (`sftp`) to open on channels of their own.
    subsystems: Vec<SubsystemRequest>,
}

impl Control {
    pub fn resize(&self, cols: u16, rows: u16) {
        self.update(|w| w.resize = Some((cols, rows)));
    }

    pub fn close(&self) {
        self.update(|w| w.close = true);
    }

    pub fn exec(&self, request: ExecRequest) {
        self.update(|w| w.execs.push(request));
    }

    pub fn cancel_exec(&self, run: u64) {
        self.update(|w| w.cancels.push(run));
    }

    pub fn open_subsystem(&self, request: SubsystemRequest) {
        self.update(|w| w.subsystems.push(request));
    }

    fn update(&self, f: impl FnOnce(&mut Wanted)) {
        f(&mut crate::sys::lock(&self.wanted));
        self.changed.notify_one();
    }

    /// Waits for a change and takes it (the resize is handed out once).
    async fn next(&self) -> Wanted {
        loop {
            let changed = self.changed.notified();
            let taken = {
                let mut wanted = crate::sys::lock(&self.wanted);
                let now = std::mem::take(&mut *wanted);
                // A close stays asked for; the rest is handed out once.
                wanted.close = now.close;
                now
            };
            if taken.close
                || taken.resize.is_some()
                || !taken.execs.is_empty()
                || !taken.cancels.is_empty()
                || !taken.subsystems.is_empty()
            {
                return taken;
            }
            changed.await;
        }
    }

    /// Waits until a close is asked for, leaving a resize for [`Control::next`] (a pane
    /// resized while its session connects gets its window-change once the shell runs).
    async fn closed(&self) {
        loop {
            let changed = self.changed.notified();
            if crate::sys::lock(&self.wanted).close {
                return;
            }
            changed.await;
        }
    }
}

pub(super) struct SessionActor {
    pub id: SessionId,
    pub target: Target,
    pub work: Work,
    pub events: mpsc::Sender<SessionEvent>,
    pub input: Arc<InputQueue>,
    pub control: Arc<Control>,
    pub engine: Engine,
    /// Per-session output credit (see `EngineSettings::output_credit`).
    pub credit: Option<std::sync::Arc<tokio::sync::Semaphore>>,
}

/// Messages kept while waiting for a request's answer; past this the request counts as
/// taken (a server that streams output is running the command).
const EARLY_MESSAGES: usize = 256;

/// Why a session ends early.
type Failure = SessionError;

/// How the remote command ended, as far as the server told.
#[derive(Debug, Clone, Default)]
struct RemoteExit {
    status: Option<u32>,
    /// The signal's name without `SIG` (`TERM`), as RFC 4254 `exit-signal` carries it.
    signal: Option<String>,
}

impl RemoteExit {
    fn ended(&self) -> bool {
        self.status.is_some() || self.signal.is_some()
    }
}

/// `TERM` for `Sig::TERM`, the name itself for a signal russh has no variant for.
pub(super) fn signal_text(signal: &russh::Sig) -> String {
    match signal {
        russh::Sig::Custom(name) => name.clone(),
        known => format!("{known:?}"),
    }
}

impl SessionActor {
    pub async fn run(mut self) {
        let outcome = self.drive().await;
        // Nobody will read more input: refuse it, and wake `--stdin` waiting for room.
        self.input.close();
        let state = match outcome {
            Ok(RemoteExit {
                status: exit_status,
                signal,
            }) => SessionState::Closed {
                exit_status,
                signal,
            },
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

    async fn drive(&mut self) -> Result<RemoteExit, Failure> {
        self.state(SessionState::Connecting).await;
        let prompter = Prompter {
            id: self.id,
            events: self.events.clone(),
        };
        let on_authenticating = self.state(SessionState::Authenticating);
        let establish =
            connect::establish(&self.engine, &self.target, &prompter, on_authenticating);
        // A pane closed while it connects stops connecting.
        let handle = tokio::select! {
            handle = establish => handle?,
            () = self.control.closed() => return Ok(RemoteExit::default()),
        };
        let mut handle = handle;
        let result = match self.serve(&handle).await {
            Err(SessionError::ConnectionLost {
                while_sending: None,
                ..
            }) if self.target.keepalive.is_some() => Err(self.why_lost(&mut handle).await),
            other => other,
        };
        let _ = handle.disconnect(Disconnect::ByApplication, "", "en").await;
        result
    }

    /// Why the transport under a session ended: russh's own task knows when it gave up
    /// on unanswered keepalives (ServerAliveCountMax); otherwise the server went away.
    async fn why_lost(&self, handle: &mut client::Handle<ClientHandler>) -> SessionError {
        let ended = tokio::time::timeout(LOST_REASON_WAIT, &mut *handle).await;
        match (ended, self.target.keepalive) {
            (Ok(Err(russh::Error::KeepaliveTimeout)), Some(interval)) => {
                SessionError::KeepaliveTimeout {
                    address: self.target.address(),
                    interval,
                    count: self.target.keepalive_max,
                }
            }
            _ => SessionError::ConnectionLost {
                address: self.target.address(),
                while_sending: None,
            },
        }
    }

    /// Opens the channel for the work and pumps bytes until the session ends.
    async fn serve(
        &mut self,
        handle: &client::Handle<ClientHandler>,
    ) -> Result<RemoteExit, Failure> {
        let mut channel = self
            .phase(TimeoutPhase::ChannelOpen, handle.channel_open_session())
            .await?
            .map_err(|e| SessionError::ChannelRefused {
                reason: e.to_string(),
            })?;
        if let Work::Subsystem { name, streams } = &self.work {
            let (name, streams) = (name.clone(), streams.clone());
            return self.serve_subsystem(handle, channel, &name, streams).await;
        }
        // A PTY when asked for (a shell always has one), then the shell or the command.
        let (pty, command, echo) = match &self.work {
            Work::Subsystem { .. } => (None, None, false),
            Work::Shell { term, cols, rows } => (Some((term.clone(), *cols, *rows)), None, true),
            Work::Exec { command, pty, echo } => {
                let term = || std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into());
                let pty = pty.map(|(cols, rows)| (term(), cols, rows));
                (pty, Some(command), *echo)
            }
        };
        let unsent = |e: russh::Error| SessionError::RequestRefused {
            reason: e.to_string(),
        };
        // What the server sends before it answers a request: kept for the pump below.
        let mut early = Vec::new();
        if let Some((term, cols, rows)) = pty {
            // IUTF8: the panes decode UTF-8, so the remote line discipline must too (OpenSSH
            // copies the flag from its terminal): without it, Backspace in cooked mode (`cat`,
            // `read`) erases one byte of a multibyte character and leaves the rest.
            let modes: &[(Pty, u32)] = if echo {
                &[(Pty::IUTF8, 1)]
            } else {
                &[(Pty::IUTF8, 1), (Pty::ECHO, 0)]
            };
            let (cols, rows) = (cols.into(), rows.into());
            channel
                .request_pty(true, &term, cols, rows, 0, 0, modes)
                .await
                .map_err(unsent)?;
            self.reply(&mut channel, "pty-req", &mut early).await?;
        }
        match command {
            Some(command) => {
                channel
                    .exec(true, command.as_bytes())
                    .await
                    .map_err(unsent)?;
                self.reply(&mut channel, "exec", &mut early).await?;
            }
            None => {
                channel.request_shell(true).await.map_err(unsent)?;
                self.reply(&mut channel, "shell", &mut early).await?;
            }
        }
        self.state(SessionState::Ready).await;

        // Input goes out on its own task, as the channel window allows, so that output is
        // read all the while: an echoing remote whose window fills with our paste needs us
        // to read its echo before it takes more.
        let (mut reader, writer) = channel.split();
        let writer = Arc::new(writer);
        let input_task = AbortOnDrop(tokio::spawn(write_input(
            writer.clone(),
            self.input.clone(),
        )));
        let mut input_task = std::pin::pin!(input_task.join());
        let mut writing = true;

        // `:CMD` runs on channels of their own beside the shell, each cancellable by run.
        let mut execs = futures::stream::FuturesUnordered::new();
        let mut runs = ExecRuns::default();
        // Uploads and downloads: subsystem channels being opened beside the shell.
        let mut opening = futures::stream::FuturesUnordered::new();
        let mut exit = RemoteExit::default();
        for message in early {
            if let Some(end) = self.on_message(Some(message), &mut exit).await {
                return end;
            }
        }
        loop {
            tokio::select! {
                wanted = self.control.next() => {
                    if wanted.close {
                        let _ = writer.close().await;
                        return Ok(exit);
                    }
                    if let Some((cols, rows)) = wanted.resize {
                        let _ = writer.window_change(cols.into(), rows.into(), 0, 0).await;
                    }
                    opening.extend(
                        wanted.subsystems.into_iter().map(|r| open_subsystem(handle, r)),
                    );
                    execs.extend(runs.update(
                        handle,
                        self.id,
                        &self.events,
                        &wanted.cancels,
                        wanted.execs,
                    ));
                }
                Some(()) = futures::StreamExt::next(&mut execs), if !execs.is_empty() => {
                    runs.prune();
                }
                Some(()) = futures::StreamExt::next(&mut opening), if !opening.is_empty() => {}
                written = &mut input_task, if writing => {
                    writing = false;
                    if let Some(e) = written {
                        return Err(SessionError::ConnectionLost {
                            address: self.target.address(),
                            while_sending: Some(e),
                        });
                    }
                }
                message = reader.wait() => {
                    if let Some(end) = self.on_message(message, &mut exit).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Starts the subsystem, hands its channel to the front end, then serves
    /// exec channels (`--verify`'s `sha256sum`) until the front end closes the session.
    async fn serve_subsystem(
        &mut self,
        handle: &client::Handle<ClientHandler>,
        mut channel: russh::Channel<client::Msg>,
        name: &str,
        streams: mpsc::UnboundedSender<(SessionId, super::target::SubsystemChannel)>,
    ) -> Result<RemoteExit, Failure> {
        channel
            .request_subsystem(true, name)
            .await
            .map_err(|e| SessionError::RequestRefused {
                reason: e.to_string(),
            })?;
        let mut early = Vec::new();
        self.reply(&mut channel, "subsystem", &mut early).await?;
        if early.iter().any(|m| matches!(m, ChannelMsg::Close)) {
            return Err(SessionError::RequestRefused {
                reason: format!("the server closed the {name} channel at once"),
            });
        }
        self.state(SessionState::Ready).await;
        let stream = super::target::SubsystemChannel::new(channel);
        if streams.send((self.id, stream)).is_err() {
            return Ok(RemoteExit::default());
        }
        let mut execs = futures::stream::FuturesUnordered::new();
        let mut runs = ExecRuns::default();
        // The stream's reader does not fail the requests waiting on it when the connection
        // drops; the session notices and fails, so the front end need not wait them out.
        let mut watch = tokio::time::interval(CLOSED_POLL);
        loop {
            tokio::select! {
                _ = watch.tick() => {
                    if handle.is_closed() {
                        return Err(SessionError::ConnectionLost {
                            address: self.target.address(),
                            while_sending: None,
                        });
                    }
                }
                wanted = self.control.next() => {
                    if wanted.close {
                        return Ok(RemoteExit::default());
                    }
                    execs.extend(runs.update(
                        handle,
                        self.id,
                        &self.events,
                        &wanted.cancels,
                        wanted.execs,
                    ));
                }
                Some(()) = futures::StreamExt::next(&mut execs), if !execs.is_empty() => {
                    runs.prune();
                }
            }
        }
    }

    /// Hands one channel message on; `Some` with the session's end when it ends it.
    async fn on_message(
        &self,
        message: Option<ChannelMsg>,
        exit: &mut RemoteExit,
    ) -> Option<Result<RemoteExit, Failure>> {
        match message {
            Some(ChannelMsg::Data { data }) => {
                self.take_credit().await;
                let data = data.to_vec();
                self.emit(SessionEvent::Output { id: self.id, data }).await;
            }
            Some(ChannelMsg::ExtendedData { data, .. }) => {
                self.take_credit().await;
                let data = data.to_vec();
                self.emit(SessionEvent::Stderr { id: self.id, data }).await;
            }
            Some(ChannelMsg::ExitStatus {
                exit_status: status,
            }) => {
                // Output may still follow the status: keep reading until close.
                exit.status = Some(status);
                self.emit(SessionEvent::ExitStatus {
                    id: self.id,
                    status,
                })
                .await;
            }
            // The command ran and was killed: its end, like an exit status, not a failure of
            // the connection. Output may still follow: keep reading until close.
            Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                exit.signal = Some(signal_text(&signal_name));
            }
            Some(ChannelMsg::Close) => return Some(Ok(exit.clone())),
            // The transport ended under the channel: the server died or the network broke.
            // With an exit status (or signal) already in hand the command did finish.
            None if exit.ended() => return Some(Ok(exit.clone())),
            None => {
                return Some(Err(SessionError::ConnectionLost {
                    address: self.target.address(),
                    while_sending: None,
                }));
            }
            Some(_) => {}
        }
        None
    }

    /// Waits for the server's answer to a `request` sent with want-reply, bounded by the
    /// connect timeout: a server that never answers must not leave the session "ready"
    /// with nothing running, nor hang it. What arrives first is kept in `early`.
    async fn reply(
        &self,
        channel: &mut russh::Channel<client::Msg>,
        request: &'static str,
        early: &mut Vec<ChannelMsg>,
    ) -> Result<(), Failure> {
        let answer = async {
            loop {
                match channel.wait().await {
                    Some(ChannelMsg::Success) => return Ok(()),
                    Some(ChannelMsg::Failure) => {
                        return Err(SessionError::RequestRefused {
                            reason: format!("{request} failed"),
                        });
                    }
                    // The channel ended without an answer: the pump reports how.
                    Some(ChannelMsg::Close) => {
                        early.push(ChannelMsg::Close);
                        return Ok(());
                    }
                    None => {
                        return Err(SessionError::ConnectionLost {
                            address: self.target.address(),
                            while_sending: None,
                        });
                    }
                    Some(other) => {
                        early.push(other);
                        // A server already streaming output has taken the request.
                        if early.len() >= EARLY_MESSAGES {
                            return Ok(());
                        }
                    }
                }
            }
        };
        self.phase(TimeoutPhase::Request { request }, answer)
            .await?
    }

    /// Bounds one step of the channel set-up by the connect timeout: a server that
    /// authenticated us and then never answers must not hang the session.
    async fn phase<T>(
        &self,
        phase: TimeoutPhase,
        step: impl Future<Output = T>,
    ) -> Result<T, Failure> {
        let after = self.target.connect_timeout;
        tokio::time::timeout(after, step)
            .await
            .map_err(|_| SessionError::TimedOut { after, phase })
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

/// How often a subsystem's session checks that its connection is still there.
const CLOSED_POLL: Duration = Duration::from_millis(250);

/// How long an ended transport's task may take to report why it ended.
const LOST_REASON_WAIT: Duration = Duration::from_secs(1);

/// Writes queued input to the channel as its window allows; the error's text if the
/// connection broke under it.
async fn write_input(
    channel: Arc<ChannelWriteHalf<client::Msg>>,
    input: Arc<InputQueue>,
) -> Result<(), String> {
    while let Some(next) = input.next().await {
        match next {
            Next::Data(piece) => {
                let len = piece.len();
                channel.data_bytes(piece).await.map_err(|e| e.to_string())?;
                input.written(len);
            }
            Next::Eof => channel.eof().await.map_err(|e| e.to_string())?,
        }
    }
    Ok(())
}

/// A spawned task that ends with its owner: the session's writer must not outlive it.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<Result<(), T>> {
    /// The task's error, if it failed; a task that panicked or was aborted counts as done.
    async fn join(mut self) -> Option<T> {
        match (&mut self.0).await {
            Ok(Err(e)) => Some(e),
            _ => None,
        }
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_resize_while_connecting_waits_for_the_shell_and_a_close_ends_either_wait() {
        let control = Control::default();
        control.resize(100, 30);
        control.resize(120, 40);
        // Connecting: only a close ends this wait, and it leaves the resize alone.
        let waited = tokio::time::timeout(Duration::from_millis(20), control.closed()).await;
        assert!(waited.is_err(), "closed() returned without a close");
        // The shell runs: the latest size comes out once.
        let wanted = control.next().await;
        assert_eq!(wanted.resize, Some((120, 40)));
        assert!(!wanted.close);
        let again = tokio::time::timeout(Duration::from_millis(20), control.next()).await;
        assert!(again.is_err(), "the resize came out twice");
        control.close();
        control.closed().await;
        assert!(control.next().await.close);
    }
}
