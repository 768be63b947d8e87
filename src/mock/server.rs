//! The russh side of the mock server: one handler per connection (see `accept` for how
//! connections come and go), and one task per shell or exec channel running the practice
//! shell.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use russh::keys::{PrivateKey, PublicKey};
use russh::server::{self, Auth, Msg, Session};
use russh::{Channel, ChannelId, ChannelOpenFailure, MethodKind, MethodSet, Pty};
use tokio::sync::mpsc;
use tracing::debug;

use super::console::{Console, Event, Peer};
use super::differ::difference_for;
use super::limiter::{Limiter, Turn};
use super::sftp::SftpHandler;
use super::shell::{self, Action, Difference, Shell, ShellConfig, ShellStyle};
use super::{Credentials, Lang, MockOptions, ReceivedInput, host_name};

/// `seq` output is sent in pieces of this many lines so that a huge count streams with flow
/// control and Ctrl-C can interrupt it.
const SEQ_LINES_PER_CHUNK: u64 = 2000;

/// What every connection of one server shares.
pub(super) struct Shared {
    users: Vec<Credentials>,
    authorized_keys: Vec<PublicKey>,
    lang: Lang,
    latency: Duration,
    pub(super) login_grace: Duration,
    started_at_unix: u64,
    /// Input each channel received, in the order the channels opened (for tests).
    received: Mutex<Vec<ReceivedInput>>,
    record_input: bool,
    pub(super) console: Console,
    limiter: Limiter,
    max_sessions: usize,
    marks: bool,
    style: ShellStyle,
    /// Host name to its difference, for the hosts `--differ` names.
    differ: HashMap<String, Difference>,
    /// Connections accepted so far (tests: `:CMD` must not open new ones).
    pub(super) connections: AtomicUsize,
    /// Where each host's SFTP directory is made (`BASE/HOST`).
    pub(super) sftp_base: SftpBase,
}

/// The directory the hosts' SFTP directories live in: given, or a private temporary one
/// that goes with the server.
pub(super) enum SftpBase {
    Given(PathBuf),
    Temporary(tempfile::TempDir),
    /// No temporary directory could be made: SFTP is refused, with this reason.
    Unavailable(String),
}

impl SftpBase {
    fn new(given: Option<&PathBuf>) -> SftpBase {
        match given {
            Some(dir) => SftpBase::Given(dir.clone()),
            None => match tempfile::Builder::new()
                .prefix("mtssh-mock-sftp-")
                .tempdir()
            {
                Ok(dir) => SftpBase::Temporary(dir),
                Err(e) => SftpBase::Unavailable(e.to_string()),
            },
        }
    }

    pub(super) fn path(&self) -> Option<&Path> {
        match self {
            SftpBase::Given(dir) => Some(dir),
            SftpBase::Temporary(dir) => Some(dir.path()),
            SftpBase::Unavailable(_) => None,
        }
    }
}

impl Shared {
    pub(super) fn new(opts: &MockOptions) -> Shared {
        Shared {
            users: opts.users.clone(),
            authorized_keys: opts.authorized_keys.clone(),
            lang: opts.lang,
            latency: opts.latency,
            login_grace: opts.login_grace,
            started_at_unix: now_unix(),
            received: Mutex::new(Vec::new()),
            record_input: opts.record_input,
            console: Console::default(),
            limiter: Limiter::new(opts.login_limit),
            max_sessions: opts.max_sessions.max(1),
            marks: opts.marks,
            style: opts.style,
            differ: (0..opts.hosts.max(1))
                .filter_map(|i| Some((host_name(i), difference_for(&opts.differ, i)?)))
                .collect(),
            connections: AtomicUsize::new(0),
            sftp_base: SftpBase::new(opts.sftp_root.as_ref()),
        }
    }

    pub(super) fn received(&self) -> Vec<ReceivedInput> {
        crate::sys::lock(&self.received).clone()
    }

    /// A new entry in the received-input log; its index.
    fn open_received(&self, host: &str) -> usize {
        let mut received = crate::sys::lock(&self.received);
        received.push(ReceivedInput {
            host: host.to_string(),
            len: 0,
            bytes: Vec::new(),
        });
        received.len() - 1
    }

    fn note_received(&self, slot: usize, data: &[u8]) {
        let mut received = crate::sys::lock(&self.received);
        if let Some(entry) = received.get_mut(slot) {
            entry.len += data.len() as u64;
            if self.record_input {
                entry.bytes.extend_from_slice(data);
            }
        }
    }
}

/// What the mock offers: password, and public keys when it has authorized keys.
fn auth_methods(authorized_keys: &[PublicKey]) -> MethodSet {
    let mut methods = vec![MethodKind::Password];
    if !authorized_keys.is_empty() {
        methods.push(MethodKind::PublicKey);
    }
    MethodSet::from(&methods[..])
}

pub(super) fn russh_config(key: PrivateKey, opts: &MockOptions) -> server::Config {
    let preferred = match &opts.kex {
        Some(kex) => crate::ssh::algorithms::preferred(kex, crate::ssh::algorithms::Side::Server),
        None => Default::default(),
    };
    server::Config {
        preferred,
        // Advertise only what we implement; the default lists keyboard-interactive too.
        methods: auth_methods(&opts.authorized_keys),
        // Every OpenSSH client probes with `none` first: answer it at once so a correct
        // password logs in immediately, while real wrong attempts still cost time.
        auth_rejection_time: Duration::from_millis(400),
        auth_rejection_time_initial: Some(Duration::ZERO),
        // russh cuts the connection at the attempt after `max` rejections; OpenSSH's
        // MaxAuthTries cuts it at the `max`-th failure itself: the same count as sshd.
        max_auth_attempts: opts.max_auth_attempts.saturating_sub(1).max(1),
        keys: vec![key],
        nodelay: true,
        inactivity_timeout: Some(Duration::from_secs(3600)),
        ..Default::default()
    }
}

enum ShellInput {
    Bytes(Vec<u8>),
    Resize(u16, u16),
    Eof,
}

struct ChannelState {
    pty: Option<(u16, u16)>,
    env: Vec<(String, String)>,
    /// Unbounded on purpose: russh grants the client window as data arrives, so the only
    /// way to slow a client is to stop the connection's handler — and a stopped handler
    /// also stops the window adjusts the shell needs to send its echo, which wedges both
    /// directions for good. The client's own window and input bound limit what piles up.
    input: Option<mpsc::UnboundedSender<ShellInput>>,
    /// This channel's entry in the received-input log.
    received: usize,
    /// The channel itself until a request decides what it is: a subsystem takes it as a
    /// byte stream, a shell or command lets it go (their bytes come through `data`).
    channel: Option<Channel<Msg>>,
}

/// One client connection.
pub(super) struct Connection {
    hostname: String,
    pub(super) shared: Arc<Shared>,
    peer: Peer,
    user: String,
    pub(super) authenticated: Arc<AtomicBool>,
    channels: HashMap<ChannelId, ChannelState>,
    /// The console has been told this connection asked for too many sessions.
    told_refusal: bool,
}

impl Connection {
    pub(super) fn new(hostname: String, shared: Arc<Shared>, peer: Peer) -> Connection {
        shared.connections.fetch_add(1, Ordering::Relaxed);
        Connection {
            hostname,
            shared,
            peer,
            user: String::new(),
            authenticated: Arc::new(AtomicBool::new(false)),
            channels: HashMap::new(),
            told_refusal: false,
        }
    }

    fn accept(&mut self, user: &str) -> Auth {
        self.user = user.to_string();
        if !self.authenticated.swap(true, Ordering::Relaxed) {
            self.shared.console.login(self.peer);
        }
        Auth::Accept
    }

    /// Password stays on offer, as OpenSSH keeps it, until max_auth_attempts: a client may
    /// ask again on the same connection (russh's plain reject would take it off the list,
    /// and paramiko then says "allowed types: ['']").
    fn reject_password(&self) -> Auth {
        Auth::Reject {
            proceed_with_methods: Some(auth_methods(&self.shared.authorized_keys)),
            partial_success: false,
        }
    }

    fn key_allowed(&self, user: &str, key: &PublicKey) -> bool {
        self.shared.users.iter().any(|c| c.user == user)
            && self
                .shared
                .authorized_keys
                .iter()
                .any(|k| k.key_data() == key.key_data())
    }

    fn shell_config(&self, state: &ChannelState) -> ShellConfig {
        ShellConfig {
            hostname: self.hostname.clone(),
            user: self.user.clone(),
            lang: self.shared.lang,
            pty: state.pty,
            env: state.env.clone(),
            started_at_unix: self.shared.started_at_unix,
            marks: self.shared.marks,
            differ: self.shared.differ.get(&self.hostname).cloned(),
            style: self.shared.style,
        }
    }

    /// Hands input to the channel's shell without waiting (see [`ChannelState::input`]).
    fn send_input(&mut self, channel: ChannelId, input: ShellInput) {
        if let Some(sender) = self.channels.get(&channel).and_then(|s| s.input.as_ref()) {
            let _ = sender.send(input);
        }
    }
}

/// russh drops the handler when the connection ends, however it ends: the one place a
/// logout is never missed.
impl Drop for Connection {
    fn drop(&mut self) {
        if self.authenticated.load(Ordering::Relaxed) {
            self.shared.console.logout(self.peer);
        }
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Clamps a client-sent terminal size into what the shell stores.
fn term_size(cols: u32, rows: u32) -> (u16, u16) {
    let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
    (clamp(cols), clamp(rows))
}

impl server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let source = self.peer.0.map(|addr| addr.ip());
        match self.shared.limiter.reserve(source, Instant::now()) {
            // Unchecked, so the refusal tells a guesser nothing.
            Turn::Refuse => return Ok(self.reject_password()),
            Turn::Wait { wait, first_wait } => {
                if first_wait {
                    self.shared
                        .console
                        .emit(Event::Throttled { peer: self.peer });
                }
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
            }
        }
        let ok = self
            .shared
            .users
            .iter()
            .any(|c| c.user == user && c.password == password);
        if ok {
            self.shared.limiter.refund(source);
            Ok(self.accept(user))
        } else {
            debug!(user, host = %self.hostname, "mock: wrong password");
            self.shared.console.wrong_password(self.peer, user);
            Ok(self.reject_password())
        }
    }

    async fn auth_publickey_offered(
        &mut self,
        user: &str,
        offer: server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.key_allowed(user, offer.public_key) {
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.key_allowed(user, key.public_key) {
            Ok(self.accept(user))
        } else {
            Ok(Auth::reject())
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let max = self.shared.max_sessions;
        if self.channels.len() >= max {
            // Told once per connection: a client looping on opens must not flood the console.
            if !std::mem::replace(&mut self.told_refusal, true) {
                self.shared.console.emit(Event::SessionsRefused {
                    peer: self.peer,
                    max,
                });
            }
            let reason = format!(
                "this connection has reached the mock's limit of {max} open sessions \
                 (--max-sessions); close one or open another connection"
            );
            reply
                .reject(ChannelOpenFailure::Other { code: 1, reason })
                .await;
            return Ok(());
        }
        let id = channel.id();
        let state = ChannelState {
            pty: None,
            env: Vec::new(),
            input: None,
            received: self.shared.open_received(&self.hostname),
            channel: Some(channel),
        };
        self.channels.insert(id, state);
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(state) = self.channels.get_mut(&channel) {
            state.pty = Some(term_size(col_width, row_height));
            state.env.push(("TERM".to_string(), term.to_string()));
            session.channel_success(channel)?;
        } else {
            session.channel_failure(channel)?;
        }
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        variable_name: &str,
        variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.channels.get_mut(&channel) {
            // Bounded: a client cannot grow our memory with endless env requests.
            Some(state) if state.env.len() < 64 => {
                state
                    .env
                    .push((variable_name.to_string(), variable_value.to_string()));
                session.channel_success(channel)?;
            }
            _ => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(state) = self.channels.get(&channel) else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        if state.input.is_some() {
            session.channel_failure(channel)?;
            return Ok(());
        }
        let cfg = self.shell_config(state);
        let (tx, rx) = mpsc::unbounded_channel();
        if let Some(state) = self.channels.get_mut(&channel) {
            state.input = Some(tx);
            state.channel = None;
        }
        session.channel_success(channel)?;
        let runner = Runner::new(session, channel, self.shared.latency, &cfg);
        tokio::spawn(runner.shell(Shell::new(cfg), rx));
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(state) = self.channels.get(&channel) else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        let cfg = self.shell_config(state);
        if let Some(state) = self.channels.get_mut(&channel) {
            state.channel = None;
        }
        let command = String::from_utf8_lossy(data).into_owned();
        session.channel_success(channel)?;
        let runner = Runner::new(session, channel, self.shared.latency, &cfg);
        match shell::exec_words(&cfg, &command).as_deref() {
            // Reads the host's files, so not the pure practice shell's: `--verify` offline.
            Some([name, args @ ..]) if name == "sha256sum" => {
                let base = self.shared.sftp_base.path().map(Path::to_path_buf);
                let host = self.hostname.clone();
                tokio::spawn(runner.sha256sum(base, host, args.to_vec()));
            }
            _ => drop(tokio::spawn(runner.exec(cfg, command))),
        }
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let taken = self
            .channels
            .get_mut(&channel)
            .and_then(|s| s.channel.take());
        let (Some(stream), "sftp", Some(base)) = (taken, name, self.shared.sftp_base.path()) else {
            if let SftpBase::Unavailable(why) = &self.shared.sftp_base {
                debug!(host = %self.hostname, "mock: no SFTP directory: {why}");
            }
            session.channel_failure(channel)?;
            return Ok(());
        };
        match super::sftp::host_root(base, &self.hostname).await {
            Ok(root) => {
                session.channel_success(channel)?;
                russh_sftp::server::run(stream.into_stream(), SftpHandler::new(root)).await;
            }
            Err(e) => {
                debug!(host = %self.hostname, "mock: cannot make the SFTP directory: {e}");
                session.channel_failure(channel)?;
            }
        }
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (cols, rows) = term_size(col_width, row_height);
        if let Some(state) = self.channels.get_mut(&channel) {
            state.pty = Some((cols, rows));
        }
        self.send_input(channel, ShellInput::Resize(cols, rows));
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(state) = self.channels.get(&channel) {
            self.shared.note_received(state.received, data);
        }
        self.send_input(channel, ShellInput::Bytes(data.to_vec()));
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.send_input(channel, ShellInput::Eof);
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Dropping the sender ends the shell task.
        self.channels.remove(&channel);
        Ok(())
    }
}

/// Drives one channel: performs the shell's actions against the russh session handle.
struct Runner {
    handle: server::Handle,
    channel: ChannelId,
    latency: Duration,
    crlf: bool,
}

/// The client has gone; the task just ends.
struct Gone;

/// What a burst of actions left the shell doing.
enum Next {
    Continue,
    Sleep(Duration),
    Exit,
}

impl Runner {
    /// Line endings follow the PTY: `\r\n` with one, `\n` without.
    fn new(session: &Session, channel: ChannelId, latency: Duration, cfg: &ShellConfig) -> Self {
        Runner {
            handle: session.handle(),
            channel,
            latency,
            crlf: cfg.pty.is_some(),
        }
    }

    async fn shell(self, mut shell: Shell, mut input: mpsc::UnboundedReceiver<ShellInput>) {
        let actions = shell.start(now_unix());
        let mut sleeping = match self.perform(&mut shell, actions, &mut input).await {
            Ok(Next::Continue) => None,
            Ok(Next::Sleep(d)) => Some(Box::pin(tokio::time::sleep(d))),
            Ok(Next::Exit) | Err(Gone) => return,
        };
        loop {
            let actions = tokio::select! {
                received = input.recv() => match received {
                    Some(ShellInput::Bytes(bytes)) => {
                        if !self.latency.is_zero() && bytes.iter().any(|b| *b == b'\r' || *b == b'\n') {
                            tokio::time::sleep(self.latency).await;
                        }
                        shell.feed(&bytes, now_unix())
                    }
                    Some(ShellInput::Resize(cols, rows)) => {
                        shell.resize(cols, rows);
                        continue;
                    }
                    Some(ShellInput::Eof) => shell.eof(),
                    None => return,
                },
                _ = async { if let Some(s) = sleeping.as_mut() { s.await } }, if sleeping.is_some() => {
                    sleeping = None;
                    shell.sleep_finished()
                }
            };
            if actions.iter().any(|a| matches!(a, Action::CancelSleep)) {
                sleeping = None;
            }
            match self.perform(&mut shell, actions, &mut input).await {
                Ok(Next::Continue) => {}
                Ok(Next::Sleep(d)) => sleeping = Some(Box::pin(tokio::time::sleep(d))),
                Ok(Next::Exit) | Err(Gone) => return,
            }
        }
    }

    async fn exec(self, cfg: ShellConfig, command: String) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let mut status = 0;
        for action in shell::run_exec(&cfg, &command, now_unix()) {
            let sent = match action {
                Action::Output(bytes) => self.send(bytes).await,
                Action::Sleep { millis } => {
                    tokio::time::sleep(Duration::from_millis(millis)).await;
                    Ok(())
                }
                Action::CancelSleep | Action::CancelSeq => Ok(()),
                Action::Seq { count } => self.stream_seq(count, None).await.map(drop),
                Action::Exit(code) => {
                    status = code;
                    break;
                }
            };
            if sent.is_err() {
                return;
            }
        }
        let _ = self.finish(status).await;
    }

    /// The mock's own `sha256sum ARGS` over this host's SFTP directory (made if missing).
    async fn sha256sum(self, base: Option<PathBuf>, host: String, args: Vec<String>) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        let root = match &base {
            Some(base) => super::sftp::host_root(base, &host).await.ok(),
            None => None,
        };
        let run = super::sha256sum::sha256sum(root.as_deref(), &args).await;
        if !run.stdout.is_empty() && self.send(run.stdout).await.is_err() {
            return;
        }
        if !run.stderr.is_empty() {
            let stderr = self.handle.extended_data(self.channel, 1, run.stderr).await;
            if stderr.is_err() {
                return;
            }
        }
        let _ = self.finish(run.status).await;
    }

    /// Performs actions in order. A `Seq` streams its output, then lets the shell go on.
    async fn perform(
        &self,
        shell: &mut Shell,
        actions: Vec<Action>,
        input: &mut mpsc::UnboundedReceiver<ShellInput>,
    ) -> Result<Next, Gone> {
        let mut next = Next::Continue;
        let mut queue: std::collections::VecDeque<Action> = actions.into();
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Output(mut bytes) => {
                    // The echo, the command's output and the next prompt go out as one
                    // packet, not one each: a third of the work for both ends.
                    while let Some(Action::Output(more)) = queue.front_mut() {
                        bytes.append(more);
                        queue.pop_front();
                    }
                    self.send(bytes).await?
                }
                Action::Sleep { millis } => next = Next::Sleep(Duration::from_millis(millis)),
                Action::CancelSleep => next = Next::Continue,
                // The stream already stopped when the Ctrl-C arrived.
                Action::CancelSeq => {}
                Action::Seq { count } => {
                    let arrived = self.stream_seq(count, Some(input)).await?;
                    // The shell sees type-ahead while still busy (so a Ctrl-C cancels the
                    // seq), then learns the stream ended; a cancelled seq ignores that.
                    let mut after = Vec::new();
                    for item in arrived {
                        match item {
                            ShellInput::Bytes(bytes) => {
                                after.extend(shell.feed(&bytes, now_unix()))
                            }
                            ShellInput::Resize(cols, rows) => shell.resize(cols, rows),
                            ShellInput::Eof => after.extend(shell.eof()),
                        }
                    }
                    after.extend(shell.seq_finished());
                    queue.extend(after);
                }
                Action::Exit(code) => {
                    self.finish(code).await?;
                    return Ok(Next::Exit);
                }
            }
        }
        Ok(next)
    }

    /// Streams `1..=count` with flow control. In a shell, input that arrives meanwhile is
    /// collected (type-ahead) and returned for the shell to see; a Ctrl-C stops the stream.
    async fn stream_seq(
        &self,
        count: u64,
        mut input: Option<&mut mpsc::UnboundedReceiver<ShellInput>>,
    ) -> Result<Vec<ShellInput>, Gone> {
        let mut arrived = Vec::new();
        let mut from = 1;
        while from <= count {
            let to = count.min(from + SEQ_LINES_PER_CHUNK - 1);
            self.send(shell::seq_chunk(from, to, self.crlf)).await?;
            from = to + 1;
            if let Some(input) = input.as_deref_mut() {
                while let Ok(item) = input.try_recv() {
                    let interrupt = matches!(&item, ShellInput::Bytes(b) if b.contains(&0x03));
                    arrived.push(item);
                    if interrupt {
                        return Ok(arrived);
                    }
                }
            }
        }
        Ok(arrived)
    }

    async fn send(&self, bytes: Vec<u8>) -> Result<(), Gone> {
        self.handle
            .data(self.channel, bytes)
            .await
            .map_err(|_| Gone)
    }

    async fn finish(&self, status: u32) -> Result<(), Gone> {
        let sent = self.handle.exit_status_request(self.channel, status).await;
        let _ = self.handle.eof(self.channel).await;
        let _ = self.handle.close(self.channel).await;
        sent.map_err(|()| Gone)
    }
}
