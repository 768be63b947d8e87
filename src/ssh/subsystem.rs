//! Subsystems (`sftp`) opened on an extra channel of a live session's connection, for the
//! TUI's uploads and downloads: no new handshake and no new authentication, and the
//! session's shell goes on beside it.

use russh::ChannelMsg;
use russh::client;
use tokio::sync::oneshot;

use super::connect::ClientHandler;
use super::target::SubsystemChannel;

/// What a subsystem request hands back: the channel, or why there is none.
pub type SubsystemReply = Result<SubsystemChannel, String>;

/// A subsystem the front end asks a session to open beside its shell.
#[derive(Debug)]
pub struct SubsystemRequest {
    pub name: String,
    pub reply: oneshot::Sender<SubsystemReply>,
}

/// How long the server may take to open the channel and take the request.
const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Opens `request`'s subsystem on a new channel of `handle` and hands it over.
pub(super) async fn open_subsystem(
    handle: &client::Handle<ClientHandler>,
    request: SubsystemRequest,
) {
    let SubsystemRequest { name, reply } = request;
    let opened = match tokio::time::timeout(OPEN_TIMEOUT, open(handle, &name)).await {
        Ok(opened) => opened,
        Err(_) => Err(crate::lang::trf(
            "the server did not open the {name} channel in time",
            &[("name", &name)],
        )),
    };
    // The asker may have given up meanwhile: the channel then closes as it is dropped.
    let _ = reply.send(opened);
}

async fn open(handle: &client::Handle<ClientHandler>, name: &str) -> SubsystemReply {
    let channel = handle
        .channel_open_session()
        .await
        .map_err(|e| crate::lang::trf("the server refused a new channel: {why}", &[("why", &e)]))?;
    channel.request_subsystem(true, name).await.map_err(|e| {
        crate::lang::trf(
            "the {name} request could not be sent: {why}",
            &[("name", &name), ("why", &e)],
        )
    })?;
    let mut channel = channel;
    loop {
        match channel.wait().await {
            Some(ChannelMsg::Success) => return Ok(SubsystemChannel::new(channel)),
            Some(ChannelMsg::Failure) | Some(ChannelMsg::Close) | None => {
                return Err(crate::lang::trf(
                    "the server refused the {name} subsystem",
                    &[("name", &name)],
                ));
            }
            // Window adjustments and the like before the answer: nothing to keep.
            Some(_) => {}
        }
    }
}
