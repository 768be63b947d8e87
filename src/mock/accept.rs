//! How connections come and go: the accept loop, in-memory connections, and one
//! connection's life (the login grace time, the stop signal).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use russh::Disconnect;
use russh::server;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::console::Peer;
use super::server::{Connection, Shared};

/// How long the accept loop waits after an accept error (EMFILE, ENOBUFS…) before retrying.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Accepts until the server is stopped. Accept errors (out of file descriptors, …) are
/// logged and retried after a pause: a server that must stay up never returns on them, unlike
/// russh's own `run_on_socket`.
pub(super) async fn accept_loop(
    listener: TcpListener,
    hostname: String,
    config: Arc<server::Config>,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    debug!(%peer, host = %hostname, "mock: connection");
                    // russh only acts on a disconnect request once the session is
                    // established; a client stalling inside the key exchange is cut off at
                    // the socket instead.
                    let killer = SocketKiller::new(&stream);
                    let handler = Connection::new(hostname.clone(), shared.clone(), Peer(Some(peer)));
                    tokio::spawn(serve_connection(
                        stream,
                        Some(killer),
                        config.clone(),
                        handler,
                        stopped.clone(),
                    ));
                }
                Err(e) => {
                    warn!(host = %hostname, error = %e, "mock: accept failed; retrying");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
    }
}

/// Serves one connection that did not come through a listener (an in-memory pipe) as host
/// `hostname`. There is no socket to cut off: a client that stalls inside the key exchange
/// past the login grace time is only asked to disconnect.
pub(super) fn serve_stream<S>(
    stream: S,
    hostname: String,
    config: Arc<server::Config>,
    shared: Arc<Shared>,
    stopped: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    debug!(host = %hostname, "mock: in-memory connection");
    let handler = Connection::new(hostname, shared, Peer(None));
    tokio::spawn(serve_connection(stream, None, config, handler, stopped));
}

async fn serve_connection<S>(
    stream: S,
    killer: Option<SocketKiller>,
    config: Arc<server::Config>,
    handler: Connection,
    mut stopped: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let grace = handler.shared.login_grace;
    let authenticated = handler.authenticated.clone();
    // run_stream reads the client's version line before returning: a silent client must
    // not hold this task forever.
    let running =
        match tokio::time::timeout(grace, server::run_stream(config, stream, handler)).await {
            Ok(Ok(running)) => running,
            Ok(Err(e)) => {
                debug!(error = %e, "mock: handshake failed");
                return;
            }
            Err(_) => {
                debug!("mock: client sent no version line within the login grace time");
                return;
            }
        };
    let handle = running.handle();
    tokio::pin!(running);
    let grace_timer = tokio::time::sleep(grace);
    tokio::pin!(grace_timer);
    let mut grace_over = false;
    loop {
        tokio::select! {
            result = &mut running => {
                if let Err(e) = result {
                    debug!(error = %e, "mock: session ended with an error");
                }
                return;
            }
            _ = &mut grace_timer, if !grace_over => {
                grace_over = true;
                if !authenticated.load(Ordering::Relaxed) {
                    info!("mock: dropping a connection that did not log in within the grace time");
                    match &killer {
                        Some(killer) => killer.kill(),
                        None => {
                            let _ = handle
                                .disconnect(
                                    Disconnect::ByApplication,
                                    "login grace time over".into(),
                                    String::new(),
                                )
                                .await;
                        }
                    }
                }
            }
            changed = stopped.changed() => {
                let _ = changed;
                let _ = handle
                    .disconnect(Disconnect::ByApplication, "server stopping".into(), String::new())
                    .await;
                // Wait for the session to wind down, but never longer than a moment.
                if tokio::time::timeout(Duration::from_secs(2), &mut running).await.is_err()
                    && let Some(killer) = &killer
                {
                    killer.kill();
                }
                return;
            }
        }
    }
}

/// A second descriptor for a connection's socket, so the connection can be shut down from
/// outside the russh session that owns the stream. Holding our own duplicate means the
/// number can never be reused by another socket while we might still use it.
struct SocketKiller(Option<std::os::fd::OwnedFd>);

impl SocketKiller {
    fn new(stream: &TcpStream) -> SocketKiller {
        use std::os::fd::AsFd;
        SocketKiller(stream.as_fd().try_clone_to_owned().ok())
    }

    fn kill(&self) {
        use std::os::fd::AsRawFd;
        if let Some(fd) = &self.0 {
            // SAFETY: shutdown on a descriptor we own; it wakes the session's reader with EOF.
            unsafe {
                libc::shutdown(fd.as_raw_fd(), libc::SHUT_RDWR);
            }
        }
    }
}
