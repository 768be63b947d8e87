//! Commands run on extra exec channels of a session's connection (`:CMD` in the TUI): no new
//! handshake, the session's shell goes on, and each command's stdout, stderr and exit status
//! come back as [`ExecEvent`]s tagged with the run they belong to.

use std::time::Duration;

use russh::ChannelMsg;
use russh::client;
use tokio::sync::{mpsc, oneshot};

use super::connect::ClientHandler;
use super::events::{ExecEnd, ExecEvent, SessionEvent, SessionId};

/// A command the front end asks a session to run beside its shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub run: u64,
    pub command: String,
    /// The whole run, from opening the channel to its close.
    pub timeout: Duration,
}

/// The `:CMD` runs a session has going, each cancellable by its run number.
#[derive(Default)]
pub(super) struct ExecRuns(Vec<(u64, oneshot::Sender<()>)>);

impl ExecRuns {
    /// Cancels the runs in `cancel` and starts `requests` on `handle`: returns their
    /// futures, for the session's loop to drive.
    pub(super) fn update<'h>(
        &mut self,
        handle: &'h client::Handle<ClientHandler>,
        id: SessionId,
        events: &mpsc::Sender<SessionEvent>,
        cancel: &[u64],
        requests: Vec<ExecRequest>,
    ) -> Vec<impl Future<Output = ()> + use<'h>> {
        self.0.retain(|(run, _)| !cancel.contains(run));
        requests
            .into_iter()
            .map(|request| {
                let (cancel, cancelled) = oneshot::channel();
                self.0.push((request.run, cancel));
                run_exec(handle, id, request, events.clone(), cancelled)
            })
            .collect()
    }

    /// Forgets the runs that ended (their receivers are gone).
    pub(super) fn prune(&mut self) {
        self.0.retain(|(_, cancel)| !cancel.is_closed());
    }
}

/// Runs `request` on a new channel of `handle` and reports it under `id`; ends early with
/// `Cancelled` when `cancel` fires (or its sender is dropped with the run's entry).
async fn run_exec(
    handle: &client::Handle<ClientHandler>,
    id: SessionId,
    request: ExecRequest,
    events: mpsc::Sender<SessionEvent>,
    cancel: oneshot::Receiver<()>,
) {
    let run = request.run;
    let emit = |event: ExecEvent| {
        let events = events.clone();
        async move {
            let _ = events.send(SessionEvent::Exec { id, run, event }).await;
        }
    };
    let deadline = tokio::time::Instant::now() + request.timeout;
    let mut cancel = cancel;
    let opened = tokio::select! {
        opened = tokio::time::timeout_at(deadline, open(handle, &request.command)) => opened,
        _ = &mut cancel => return emit(ExecEvent::End(ExecEnd::Cancelled)).await,
    };
    let mut channel = match opened {
        Ok(Ok(channel)) => channel,
        Ok(Err(end)) => return emit(ExecEvent::End(end)).await,
        Err(_) => return emit(ExecEvent::End(ExecEnd::TimedOut(request.timeout))).await,
    };
    let end = tokio::select! {
        ended = tokio::time::timeout_at(deadline, pump(&mut channel, &emit)) => ended.ok(),
        _ = &mut cancel => Some(ExecEnd::Cancelled),
    };
    let end = match end {
        Some(ExecEnd::Cancelled) | None => {
            // A dropped russh channel stays open on the server: close it, so the remote
            // command is not left running for as long as the connection lasts.
            let _ = channel.close().await;
            end.unwrap_or(ExecEnd::TimedOut(request.timeout))
        }
        Some(end) => end,
    };
    emit(ExecEvent::End(end)).await;
}

/// A new session channel on the connection, with `command` started on it.
async fn open(
    handle: &client::Handle<ClientHandler>,
    command: &str,
) -> Result<russh::Channel<client::Msg>, ExecEnd> {
    let channel = handle
        .channel_open_session()
        .await
        .map_err(|e| ExecEnd::Failed(format!("the server refused a new channel: {e}")))?;
    channel
        .exec(true, command.as_bytes())
        .await
        .map_err(|e| ExecEnd::Failed(format!("the exec request could not be sent: {e}")))?;
    Ok(channel)
}

/// Hands the channel's output on until it closes; how the command ended.
async fn pump<F, Fut>(channel: &mut russh::Channel<client::Msg>, emit: &F) -> ExecEnd
where
    F: Fn(ExecEvent) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (mut status, mut signal) = (None, None);
    while let Some(message) = channel.wait().await {
        match message {
            ChannelMsg::Data { data } => emit(ExecEvent::Stdout(data.to_vec())).await,
            ChannelMsg::ExtendedData { data, .. } => emit(ExecEvent::Stderr(data.to_vec())).await,
            ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
            ChannelMsg::ExitSignal { signal_name, .. } => {
                signal = Some(super::session::signal_text(&signal_name))
            }
            ChannelMsg::Failure => {
                return ExecEnd::Failed("the server refused to run the command".into());
            }
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    match (status, signal) {
        (_, Some(signal)) => ExecEnd::Signal(signal),
        (Some(status), None) => ExecEnd::Exited(status),
        (None, None) => ExecEnd::Failed("the channel closed without an exit status".into()),
    }
}
