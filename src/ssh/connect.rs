//! Establishing an authenticated SSH connection: directly over TCP, or through a chain of
//! jump hosts whose connections are shared by every session behind them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::keys::{Algorithm, PublicKeyOrCertificate};
use tokio::net::TcpStream;

use super::algorithms;
use super::auth;
use super::engine::{Engine, Stream};
use super::error::{SessionError, TimeoutPhase};
use super::hostkeys::Verdict;
use super::proxy::{self, ProxyWatch};
use super::session::Prompter;
use super::target::{HostKeyPolicy, Target};

type Failure = SessionError;

/// An authenticated connection, shareable between the sessions that tunnel through it.
pub(super) type Connection = client::Handle<ClientHandler>;

/// Connects, verifies the host key and authenticates `target`, holding the engine's
/// handshake permits until authenticated (they bound what servers see as unauthenticated
/// connections). `on_authenticating` runs once the transport is up.
pub(super) async fn establish(
    engine: &Engine,
    target: &Target,
    prompter: &Prompter,
    on_authenticating: impl Future<Output = ()>,
) -> Result<Connection, Failure> {
    if let Some(reason) = &target.refusal {
        return Err(SessionError::Misconfigured {
            host: target.name.clone(),
            reason: reason.clone(),
        });
    }
    let _fanout = engine.fanout_limit().acquire_owned().await;
    let _host = engine
        .host_limit(&target.host, target.port)
        .acquire_owned()
        .await;
    let key_changed = Arc::new(AtomicBool::new(false));
    let mut handle = handshake(engine, target, prompter, key_changed.clone()).await?;
    on_authenticating.await;
    let secrets = if key_changed.load(Ordering::Relaxed) {
        auth::Secrets::Withheld
    } else {
        auth::Secrets::Allowed
    };
    auth::authenticate(&mut handle, target, prompter, secrets).await?;
    Ok(handle)
}

/// The transport and key exchange, bounded by the connect timeout.
async fn handshake(
    engine: &Engine,
    target: &Target,
    prompter: &Prompter,
    key_changed: Arc<AtomicBool>,
) -> Result<Connection, Failure> {
    let rejection = Arc::new(Mutex::new(None));
    let handler = ClientHandler {
        policy: target.host_key.clone(),
        host: target.host.clone(),
        port: target.port,
        rejection: rejection.clone(),
        key_changed,
    };
    let why_failed = |e: russh::Error| {
        rejection
            .lock()
            .ok()
            .and_then(|mut r| r.take())
            .ok_or_else(|| e.to_string())
    };
    let attempt = async {
        let (stream, proxy) = transport(engine, target, prompter).await?;
        // Every route's stream, so the event view names each session whose socket woke the
        // loop (a relaxed atomic load per read and write while nobody looks).
        let stream = crate::sys::wakeups::Traced::new(stream, &target.name);
        let config = client_config(target, known_host_key_order(target));
        let result = client::connect_stream(config, stream, handler).await;
        match (result.map_err(why_failed), proxy) {
            (Ok(handle), _) => Ok(handle),
            (Err(Ok(rejected)), _) => Err(rejected),
            (Err(Err(reason)), Some(proxy)) => Err(proxy.explain(target.address(), reason).await),
            (Err(Err(reason)), None) => Err(SessionError::Handshake {
                address: target.address(),
                reason,
            }),
        }
    };
    // Each TCP attempt may take the whole connect timeout, as in OpenSSH.
    let attempts = target.connection_attempts.max(1);
    let timeout = (target.connect_timeout.saturating_mul(attempts))
        .saturating_add(RETRY_PAUSE.saturating_mul(attempts - 1));
    match tokio::time::timeout(timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(SessionError::TimedOut {
            after: timeout,
            phase: TimeoutPhase::Connect {
                address: target.address(),
            },
        }),
    }
}

/// The byte stream to `target`'s SSH server, by the one route its configuration gives:
/// through its jump host, through its ProxyCommand (with the proxy's watcher, which explains
/// a failure), or direct (the engine's dialer in tests, else resolve and dial TCP). Neither
/// a jump host nor a ProxyCommand ever falls back to the direct route.
async fn transport(
    engine: &Engine,
    target: &Target,
    prompter: &Prompter,
) -> Result<(Box<dyn Stream>, Option<ProxyWatch>), Failure> {
    if let Some(jump) = &target.jump {
        let via = engine.jump_connection(jump, prompter).await?;
        let channel = via
            .channel_open_direct_tcpip(target.host.clone(), target.port.into(), "127.0.0.1", 0)
            .await
            .map_err(|e| SessionError::JumpUnreachable {
                jump: jump.name.clone(),
                address: target.address(),
                reason: e.to_string(),
            })?;
        return Ok((Box::new(channel.into_stream()), None));
    }
    if let Some(command) = &target.proxy {
        let (stream, watch) = proxy::spawn(command, &target.name)
            .map_err(|e| proxy::spawn_failed(target.address(), &e))?;
        return Ok((Box::new(stream), Some(watch)));
    }
    if let Some(dial) = engine.dialer() {
        let stream = dial(target.host.clone(), target.port)
            .await
            .map_err(|e| SessionError::connect(target.address(), &e))?;
        return Ok((stream, None));
    }
    let stream = connect_tcp(engine, target).await?;
    Ok((Box::new(stream), None))
}

/// Between two TCP connects to one host (ConnectionAttempts), as OpenSSH waits.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Resolves and connects, up to `connection_attempts` times one second apart while the TCP
/// connect fails (not when SSH fails later: that is no reason to knock again).
async fn connect_tcp(engine: &Engine, target: &Target) -> Result<TcpStream, Failure> {
    let attempts = target.connection_attempts.max(1);
    let mut tried = 0;
    loop {
        tried += 1;
        let addrs = (engine.resolver())(target.host.clone(), target.port)
            .await
            .map_err(|e| SessionError::Resolve {
                host: target.host.clone(),
                reason: e.to_string(),
            })?;
        let error = match tokio::time::timeout(target.connect_timeout, connect_any(&addrs)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Ok(Err(e)) => e,
            Err(_) => std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"),
        };
        if tried >= attempts {
            let mut failure = SessionError::connect(target.address(), &error);
            if attempts > 1
                && let SessionError::Refused { reason, .. }
                | SessionError::ConnectFailed { reason, .. } = &mut failure
            {
                reason.push_str(&format!(" (tried {attempts} times, ConnectionAttempts)"));
            }
            return Err(failure);
        }
        tracing::debug!(host = %target.host, port = target.port, "connect failed ({error}); trying again");
        tokio::time::sleep(RETRY_PAUSE).await;
    }
}

/// The host-key algorithms to ask for, known types first, when known_hosts knows the host.
fn known_host_key_order(target: &Target) -> Option<Vec<Algorithm>> {
    match &target.host_key {
        HostKeyPolicy::KnownHosts { store, .. } => {
            algorithms::host_key_order(&store.known_key_types(&target.host, target.port))
        }
        HostKeyPolicy::Pinned(_) => None,
    }
}

fn client_config(target: &Target, host_keys: Option<Vec<Algorithm>>) -> Arc<client::Config> {
    let build = |interval: Duration, host_keys: Option<Vec<Algorithm>>| {
        let mut config = client::Config {
            inactivity_timeout: None,
            keepalive_interval: Some(interval),
            keepalive_max: target.keepalive_max,
            nodelay: true,
            ..Default::default()
        };
        if let Some(kex) = &target.kex {
            config.preferred = algorithms::preferred(kex, algorithms::Side::Client);
        }
        config.preferred.cipher = algorithms::client_ciphers().into();
        if let Some(keys) = host_keys {
            config.preferred.key = keys.into();
        }
        Arc::new(config)
    };
    let default_max = target.keepalive_max == super::target::DEFAULT_KEEPALIVE_MAX;
    match (target.keepalive, &target.kex) {
        (None, None) if default_max => {
            shared_config(host_keys, |keys| build(DEFAULT_KEEPALIVE, keys))
        }
        (keepalive, _) => build(keepalive.unwrap_or(DEFAULT_KEEPALIVE), host_keys),
    }
}

/// The configs of the usual case (no keepalive or kex of the host's own), one per host-key
/// order, shared by every session: building one per session would cost allocations per
/// host, and there are only as many orders as combinations of known key types.
fn shared_config(
    host_keys: Option<Vec<Algorithm>>,
    build: impl FnOnce(Option<Vec<Algorithm>>) -> Arc<client::Config>,
) -> Arc<client::Config> {
    type Shared = Vec<(Option<Vec<Algorithm>>, Arc<client::Config>)>;
    static SHARED: Mutex<Shared> = Mutex::new(Vec::new());
    let mut shared = crate::sys::lock(&SHARED);
    if let Some((_, config)) = shared.iter().find(|(keys, _)| *keys == host_keys) {
        return config.clone();
    }
    let config = build(host_keys.clone());
    shared.push((host_keys, config.clone()));
    config
}

/// Keepalive when ssh_config sets no ServerAliveInterval: notices a dead server within
/// a few minutes without bothering a live one.
const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(30);

pub(super) async fn connect_any(addrs: &[std::net::SocketAddr]) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// russh's per-connection handler: only host-key checking is ours.
pub(super) struct ClientHandler {
    policy: HostKeyPolicy,
    host: String,
    port: u16,
    /// Why the host key was refused, for the session's error (russh only reports a
    /// generic "unknown key").
    rejection: Arc<Mutex<Option<SessionError>>>,
    /// Set when the key differs from the known one and checking is off: authentication
    /// then withholds passwords.
    key_changed: Arc<AtomicBool>,
}

impl ClientHandler {
    fn refuse(&self, why: SessionError) -> bool {
        // The refusal is the session's error, which every front end shows; a warning as well
        // would say it twice.
        tracing::debug!(host = %self.host, port = self.port, "{why}");
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
                return Ok(self.refuse(SessionError::HostCertificate {
                    host: self.host.clone(),
                    port: self.port,
                }));
            }
        };
        let verdict = match &self.policy {
            HostKeyPolicy::Pinned(expected) if expected.key_data() == key.key_data() => Ok(()),
            HostKeyPolicy::Pinned(_) => Err(SessionError::HostKeyMismatch {
                host: self.host.clone(),
                port: self.port,
            }),
            HostKeyPolicy::KnownHosts { mode, store, hash } => store
                .verify(*mode, &self.host, self.port, key, *hash)
                .map(|verdict| {
                    if verdict == Verdict::ChangedUnchecked {
                        tracing::warn!(
                            "the host key of {}:{} has CHANGED and host key checking is off: \
                             password and keyboard-interactive authentication are disabled \
                             for it (someone may be impersonating the host)",
                            self.host,
                            self.port
                        );
                        self.key_changed.store(true, Ordering::Relaxed);
                    }
                }),
        };
        Ok(match verdict {
            Ok(()) => true,
            Err(why) => self.refuse(why),
        })
    }
}
