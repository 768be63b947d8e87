//! `ProxyCommand`: a local command whose stdin and stdout carry the SSH connection, run as
//! OpenSSH runs it (`$SHELL -c "exec COMMAND"`). Its stderr is kept (the last few KB) for
//! the host's error, and the process is killed and reaped when the connection ends.

use std::io;
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout};
use tokio::sync::{oneshot, watch};

use super::error::SessionError;

/// A ProxyCommand with its `%` tokens already expanded for one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyCommand {
    pub command: String,
}

/// How much of the proxy's stderr is kept for the error: its last lines are what explain.
const STDERR_TAIL: usize = 4096;

/// How long a proxy may take to exit by itself once its stdin is closed, before it is
/// killed: `nc` and `ssh -W` exit on EOF, and their last words are worth keeping.
const EXIT_GRACE: Duration = Duration::from_millis(200);

/// How long a failed handshake waits for the proxy's exit status and last stderr.
const REPORT_WAIT: Duration = Duration::from_secs(1);

/// The connection's byte stream: the proxy's stdout and stdin. Dropping it (the connection
/// ended) closes stdin and has the watcher end the process.
pub(super) struct ProxyStream {
    reader: ChildStdout,
    writer: ChildStdin,
    _ended: oneshot::Sender<()>,
}

/// What the proxy process did, for the error of a failed connection.
#[derive(Debug, Default, Clone)]
struct State {
    /// Set once the process has been reaped; `killed`: by us, after the connection ended.
    exit: Option<(ExitStatus, bool)>,
    stderr: Vec<u8>,
    stderr_closed: bool,
}

/// The watcher's report on the proxy, read when a handshake through it fails.
pub(super) struct ProxyWatch {
    state: watch::Receiver<State>,
}

/// Starts `proxy` for `host` (named in logs). The process runs until the stream is dropped.
pub(super) fn spawn(proxy: &ProxyCommand, host: &str) -> io::Result<(ProxyStream, ProxyWatch)> {
    // OpenSSH's choice of shell; `exec` so that the shell does not stay as the parent.
    let shell = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".to_string());
    tracing::debug!(host, command = %proxy.command, "starting ProxyCommand");
    let mut child = tokio::process::Command::new(shell)
        .arg("-c")
        .arg(format!("exec {}", proxy.command))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Should the watcher task itself be dropped (the runtime shutting down).
        .kill_on_drop(true)
        .spawn()?;
    let missing = || io::Error::other("the ProxyCommand's pipes were not set up");
    let reader = child.stdout.take().ok_or_else(missing)?;
    let writer = child.stdin.take().ok_or_else(missing)?;
    let stderr = child.stderr.take().ok_or_else(missing)?;
    let (ended, ended_rx) = oneshot::channel();
    let (state, state_rx) = watch::channel(State::default());
    tokio::spawn(watch_proxy(
        child,
        stderr,
        ended_rx,
        state,
        host.to_string(),
    ));
    Ok((
        ProxyStream {
            reader,
            writer,
            _ended: ended,
        },
        ProxyWatch { state: state_rx },
    ))
}

/// Owns the process: keeps its stderr's tail, and reaps it when it exits or (after a
/// grace period) kills it once the connection has ended.
async fn watch_proxy(
    mut child: Child,
    stderr: ChildStderr,
    ended: oneshot::Receiver<()>,
    state: watch::Sender<State>,
    host: String,
) {
    let exit = async {
        let status = tokio::select! {
            biased;
            status = child.wait() => status.map(|s| (s, false)),
            _ = ended => match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
                Ok(status) => status.map(|s| (s, false)),
                Err(_) => {
                    let _ = child.start_kill();
                    child.wait().await.map(|s| (s, true))
                }
            },
        };
        match status {
            Ok(exit) => {
                tracing::debug!(host, status = %exit.0, killed = exit.1, "ProxyCommand ended");
                state.send_modify(|s| s.exit = Some(exit));
            }
            Err(e) => tracing::warn!(host, "could not wait for the ProxyCommand: {e}"),
        }
    };
    tokio::join!(exit, keep_stderr(stderr, &state, &host));
}

async fn keep_stderr(mut stderr: ChildStderr, state: &watch::Sender<State>, host: &str) {
    let mut buf = [0u8; 1024];
    loop {
        match stderr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                tracing::debug!(
                    host,
                    "ProxyCommand stderr: {}",
                    String::from_utf8_lossy(&buf[..n])
                );
                state.send_modify(|s| {
                    s.stderr.extend_from_slice(&buf[..n]);
                    let excess = s.stderr.len().saturating_sub(STDERR_TAIL);
                    s.stderr.drain(..excess);
                });
            }
        }
    }
    state.send_modify(|s| s.stderr_closed = true);
}

impl ProxyWatch {
    /// Why the handshake through the proxy failed: the proxy's own failure when it exited
    /// by itself unsuccessfully, otherwise `handshake` (the SSH side's reason) with what the
    /// proxy said.
    pub(super) async fn explain(mut self, address: String, handshake: String) -> SessionError {
        let _ = tokio::time::timeout(
            REPORT_WAIT,
            self.state.wait_for(|s| s.exit.is_some() && s.stderr_closed),
        )
        .await;
        let state = self.state.borrow().clone();
        let stderr = last_lines(&state.stderr);
        match state.exit {
            Some((status, false)) if !status.success() => SessionError::ProxyFailed {
                address,
                reason: exit_text(status),
                stderr,
            },
            _ if stderr.is_empty() => SessionError::Handshake {
                address,
                reason: handshake,
            },
            _ => SessionError::Handshake {
                address,
                reason: format!("{handshake}; the ProxyCommand said: {stderr}"),
            },
        }
    }
}

/// The proxy could not be started at all.
pub(super) fn spawn_failed(address: String, error: &io::Error) -> SessionError {
    SessionError::ProxyFailed {
        address,
        reason: format!("could not be started ({error})"),
        stderr: String::new(),
    }
}

fn exit_text(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => format!("was killed by signal {signal}"),
        (None, None) => format!("ended ({status})"),
    }
}

/// The last few lines of what the proxy wrote to stderr, on one line, with control
/// characters (a terminal escape, say) made harmless.
fn last_lines(stderr: &[u8]) -> String {
    const LINES: usize = 5;
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let start = lines.len().saturating_sub(LINES);
    lines[start..]
        .join(" / ")
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

impl AsyncRead for ProxyStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.reader).poll_read(cx, buf)
    }
}

impl AsyncWrite for ProxyStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.writer).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.writer).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.writer).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_lines_keeps_five_and_neutralises_escapes() {
        let text = b"1\n2\n\n3\n4\n5\n6 \x1b[31mred\n";
        assert_eq!(last_lines(text), "2 / 3 / 4 / 5 / 6 ?[31mred");
        assert_eq!(last_lines(b""), "");
    }

    #[tokio::test]
    async fn a_failing_proxy_is_reported_with_its_status_and_stderr() {
        let proxy = ProxyCommand {
            command: "sh -c 'echo boom >&2; exit 3'".into(),
        };
        let (stream, watch) = spawn(&proxy, "h").unwrap();
        let mut stream = stream;
        let mut buf = Vec::new();
        // The proxy's stdout closes without a byte: what russh would see as EOF.
        assert_eq!(stream.read_to_end(&mut buf).await.unwrap(), 0);
        drop(stream);
        let error = watch.explain("h:22".into(), "EOF".into()).await;
        assert_eq!(
            error.to_string(),
            "the ProxyCommand for h:22 exited with status 3: boom"
        );
        assert_eq!(error.kind(), "proxy-failed");
    }

    #[tokio::test]
    async fn a_proxy_that_was_fine_leaves_the_ssh_reason_with_its_words_added() {
        let proxy = ProxyCommand {
            command: "sh -c 'echo warning: slow link >&2; exec sleep 60'".into(),
        };
        let (stream, watch) = spawn(&proxy, "h").unwrap();
        drop(stream);
        let error = watch
            .explain("h:22".into(), "No common key algorithm".into())
            .await;
        assert_eq!(
            error,
            SessionError::Handshake {
                address: "h:22".into(),
                reason: "No common key algorithm; the ProxyCommand said: warning: slow link".into(),
            }
        );
    }

    #[tokio::test]
    async fn a_proxy_still_running_when_the_stream_ends_is_killed_and_reaped() {
        let proxy = ProxyCommand {
            command: "sleep 60".into(),
        };
        let (stream, watch) = spawn(&proxy, "h").unwrap();
        drop(stream);
        let mut state = watch.state.clone();
        let exit =
            tokio::time::timeout(Duration::from_secs(5), state.wait_for(|s| s.exit.is_some()))
                .await
                .expect("the proxy is reaped")
                .unwrap()
                .exit;
        assert!(matches!(exit, Some((_, true))), "{exit:?}");
    }
}
