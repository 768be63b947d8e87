//! A small SFTP (version 3) client over a russh channel, for [`super::sftp`]'s transfers.
//!
//! Why not russh-sftp's `RawSftpSession`: a push's bytes were copied three times on the
//! client before the cipher saw them. It serialises a WRITE into a fresh buffer (a copy of
//! the data), hands that to a channel stream that copies it again into each SSH packet's
//! `Bytes`, and it answers a READ with a zeroed `Vec` filled from its own reader. Here a
//! WRITE's data goes to russh as the very `Bytes` the file was read into (russh's
//! `data_bytes` slices it into packets without a copy), behind a small header sent first,
//! and a READ's answer is a slice of the frame it arrived in. Every other request and answer
//! goes through russh-sftp's own protocol types and codec, so the wire format stays theirs.
//!
//! One task reads the channel and hands each answer to the request waiting for its id;
//! another sends the requests' messages from a queue, each whole and in order, so requests in
//! flight never interleave or get cut short on the stream.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use russh::client::Msg;
use russh::{Channel, ChannelMsg, ChannelReadHalf, ChannelWriteHalf};
use russh_sftp::client::error::Error;
use russh_sftp::extensions::LimitsExtension;
use russh_sftp::protocol::{
    Attrs, Close, Extended, FileAttributes, Handle, Init, MkDir, Name, Open, OpenDir, OpenFlags,
    Packet, Read, ReadDir, Remove, Rename, SetStat, Stat, Status, StatusCode, Version,
};

/// The answer types read here rather than by russh-sftp's codec.
const SSH_FXP_VERSION: u8 = 2;
const SSH_FXP_WRITE: u8 = 6;
const SSH_FXP_DATA: u8 = 103;

/// The largest answer taken (OpenSSH's sftp-server sends at most 256 KiB): a longer length
/// is a broken or hostile stream, and the session ends instead of buffering it.
const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// The id the version answer is filed under (it has none; requests count from 1).
const VERSION_ID: u32 = 0;

/// What came back for a request.
enum Answer {
    Packet(Packet),
    /// A READ's bytes, a slice of the frame they came in.
    Data(Bytes),
}

/// Requests waiting for their answers; `None` once the session is over (the reader ended,
/// or a request could not be sent whole), so that every waiting request fails at once.
type Waiting = Arc<Mutex<Option<HashMap<u32, tokio::sync::oneshot::Sender<Answer>>>>>;

/// How far the stream got, for a timeout's message: a request that gets no answer was
/// either never sent whole (the channel's window stayed shut) or met a silent server.
#[derive(Default)]
struct Traffic {
    /// Messages handed to russh whole.
    sent: AtomicU64,
    /// Bytes of answers read from the channel.
    received: AtomicU64,
}

pub struct SftpClient {
    /// Messages for the writer task, which sends each whole and in order.
    outgoing: tokio::sync::mpsc::UnboundedSender<Outgoing>,
    waiting: Waiting,
    traffic: Arc<Traffic>,
    /// Messages queued so far (the writer's `sent` catches up with it).
    queued: AtomicU64,
    next_id: AtomicU32,
    timeout: Duration,
    reader: tokio::task::JoinHandle<()>,
}

/// What the writer task sends: one SFTP message (its head, and a WRITE's data after it).
enum Outgoing {
    Message(Bytes, Option<Bytes>),
    /// End of input, then close the channel.
    Finish,
}

impl Drop for SftpClient {
    fn drop(&mut self) {
        // The writer task ends by itself, closing the channel, once its queue is dropped.
        self.reader.abort();
    }
}

fn lock(
    waiting: &Waiting,
) -> MutexGuard<'_, Option<HashMap<u32, tokio::sync::oneshot::Sender<Answer>>>> {
    // A panic while the lock was held cannot leave the map half-changed: take it as it is.
    waiting
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn closed() -> Error {
    Error::UnexpectedBehavior("the SFTP session closed".into())
}

fn unexpected(answer: Answer) -> Error {
    match answer {
        Answer::Packet(Packet::Status(status)) if status.status_code != StatusCode::Ok => {
            Error::Status(status)
        }
        _ => Error::UnexpectedPacket,
    }
}

impl SftpClient {
    /// Starts reading and writing `channel` (an `sftp` subsystem already accepted);
    /// `timeout` bounds each request from its sending to its answer.
    pub fn new(channel: Channel<Msg>, timeout: Duration) -> Self {
        let (read, write) = channel.split();
        let waiting: Waiting = Arc::new(Mutex::new(Some(HashMap::new())));
        let traffic = Arc::new(Traffic::default());
        let reader = tokio::spawn(read_answers(read, waiting.clone(), traffic.clone()));
        let (outgoing, queue) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(write_messages(
            write,
            queue,
            waiting.clone(),
            traffic.clone(),
        ));
        SftpClient {
            outgoing,
            waiting,
            traffic,
            queued: AtomicU64::new(0),
            next_id: AtomicU32::new(VERSION_ID + 1),
            timeout,
            reader,
        }
    }

    fn next_id(&self) -> u32 {
        // Ids wrap after 4 billion requests; 0 stays the version answer's.
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if id == VERSION_ID {
            self.next_id.fetch_add(1, Ordering::Relaxed)
        } else {
            id
        }
    }

    /// Queues `head` (and `data` after it: one SFTP message) and waits for answer `id`.
    /// The message is queued whole before this first waits, so a request dropped while it
    /// waits (a cancelled transfer, an error elsewhere) never leaves the stream cut short;
    /// the queue holds at most what the caller keeps in flight.
    async fn ask(&self, id: u32, head: Bytes, data: Option<Bytes>) -> Result<Answer, Error> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        match lock(&self.waiting).as_mut() {
            Some(waiting) => waiting.insert(id, tx),
            None => return Err(closed()),
        };
        if self.outgoing.send(Outgoing::Message(head, data)).is_err() {
            return Err(closed());
        }
        let queued = self.queued.fetch_add(1, Ordering::Relaxed) + 1;
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(closed()),
            Err(_) => {
                // No answer in time: the host counts as stalled, and nothing more is asked.
                lock(&self.waiting).take();
                Err(self.no_answer(queued))
            }
        }
    }

    /// Why request number `queued` got no answer in time, as far as the stream shows.
    fn no_answer(&self, queued: u64) -> Error {
        let sent = self.traffic.sent.load(Ordering::Relaxed);
        let received = self.traffic.received.load(Ordering::Relaxed);
        let secs = self.timeout.as_secs().to_string();
        let why = if sent < queued {
            // russh never took the whole message: the server's window stayed shut.
            crate::lang::trf(
                "no answer in {secs} s: the request could not be sent (the server took no more data)",
                &[("secs", &secs)],
            )
        } else {
            crate::lang::trf(
                "no answer in {secs} s: the server was sent the request and answered nothing ({received} bytes of answers before it)",
                &[("secs", &secs), ("received", &received.to_string())],
            )
        };
        tracing::debug!(sent, queued, received, "sftp request timed out");
        Error::UnexpectedBehavior(why)
    }

    async fn request(&self, id: u32, packet: Packet) -> Result<Answer, Error> {
        self.ask(id, Bytes::try_from(packet)?, None).await
    }

    async fn status(&self, id: u32, packet: Packet) -> Result<Status, Error> {
        match self.request(id, packet).await? {
            Answer::Packet(Packet::Status(status)) if status.status_code == StatusCode::Ok => {
                Ok(status)
            }
            other => Err(unexpected(other)),
        }
    }

    async fn handle(&self, id: u32, packet: Packet) -> Result<Handle, Error> {
        match self.request(id, packet).await? {
            Answer::Packet(Packet::Handle(handle)) => Ok(handle),
            other => Err(unexpected(other)),
        }
    }

    async fn attrs(&self, id: u32, packet: Packet) -> Result<Attrs, Error> {
        match self.request(id, packet).await? {
            Answer::Packet(Packet::Attrs(attrs)) => Ok(attrs),
            other => Err(unexpected(other)),
        }
    }

    pub async fn init(&self) -> Result<Version, Error> {
        match self.request(VERSION_ID, Init::new().into()).await? {
            Answer::Packet(Packet::Version(version)) => Ok(version),
            other => Err(unexpected(other)),
        }
    }

    /// The server's `limits@openssh.com` answer.
    pub async fn limits(&self) -> Result<LimitsExtension, Error> {
        match self
            .extended(russh_sftp::extensions::LIMITS, Vec::new())
            .await?
        {
            Packet::ExtendedReply(reply) => Ok(russh_sftp::de::from_bytes::<LimitsExtension>(
                &mut reply.data.into(),
            )?),
            Packet::Status(status) if status.status_code != StatusCode::Ok => {
                Err(Error::Status(status))
            }
            _ => Err(Error::UnexpectedPacket),
        }
    }

    pub async fn extended(&self, request: &str, data: Vec<u8>) -> Result<Packet, Error> {
        let id = self.next_id();
        let packet = Extended {
            id,
            request: request.into(),
            data,
        };
        match self.request(id, packet.into()).await? {
            Answer::Packet(packet) => Ok(packet),
            Answer::Data(_) => Err(Error::UnexpectedPacket),
        }
    }

    pub async fn open(
        &self,
        path: &str,
        flags: OpenFlags,
        attrs: FileAttributes,
    ) -> Result<Handle, Error> {
        let id = self.next_id();
        let open = Open {
            id,
            filename: path.into(),
            pflags: flags,
            attrs,
        };
        self.handle(id, open.into()).await
    }

    pub async fn opendir(&self, path: &str) -> Result<Handle, Error> {
        let id = self.next_id();
        self.handle(
            id,
            OpenDir {
                id,
                path: path.into(),
            }
            .into(),
        )
        .await
    }

    pub async fn readdir(&self, handle: &str) -> Result<Name, Error> {
        let id = self.next_id();
        let packet = ReadDir {
            id,
            handle: handle.into(),
        };
        match self.request(id, packet.into()).await? {
            Answer::Packet(Packet::Name(name)) => Ok(name),
            other => Err(unexpected(other)),
        }
    }

    pub async fn close(&self, handle: &str) -> Result<Status, Error> {
        let id = self.next_id();
        let packet = Close {
            id,
            handle: handle.into(),
        };
        self.status(id, packet.into()).await
    }

    pub async fn stat(&self, path: &str) -> Result<Attrs, Error> {
        let id = self.next_id();
        self.attrs(
            id,
            Stat {
                id,
                path: path.into(),
            }
            .into(),
        )
        .await
    }

    pub async fn setstat(&self, path: &str, attrs: FileAttributes) -> Result<Status, Error> {
        let id = self.next_id();
        let packet = SetStat {
            id,
            path: path.into(),
            attrs,
        };
        self.status(id, packet.into()).await
    }

    pub async fn mkdir(&self, path: &str, attrs: FileAttributes) -> Result<Status, Error> {
        let id = self.next_id();
        let packet = MkDir {
            id,
            path: path.into(),
            attrs,
        };
        self.status(id, packet.into()).await
    }

    pub async fn remove(&self, path: &str) -> Result<Status, Error> {
        let id = self.next_id();
        let packet = Remove {
            id,
            filename: path.into(),
        };
        self.status(id, packet.into()).await
    }

    pub async fn rename(&self, from: &str, to: &str) -> Result<Status, Error> {
        let id = self.next_id();
        let packet = Rename {
            id,
            oldpath: from.into(),
            newpath: to.into(),
        };
        self.status(id, packet.into()).await
    }

    /// Up to `len` bytes at `offset`; end of file is [`Error::Status`] with `Eof`.
    pub async fn read(&self, handle: &str, offset: u64, len: u32) -> Result<Bytes, Error> {
        let id = self.next_id();
        let packet = Read {
            id,
            handle: handle.into(),
            offset,
            len,
        };
        match self.request(id, packet.into()).await? {
            Answer::Data(data) => Ok(data),
            other => Err(unexpected(other)),
        }
    }

    /// Writes `data` at `offset`: the header goes first, then `data` itself, uncopied.
    pub async fn write(&self, handle: &str, offset: u64, data: Bytes) -> Result<Status, Error> {
        let id = self.next_id();
        let head = write_header(id, handle, offset, data.len())?;
        match self.ask(id, head, Some(data)).await? {
            Answer::Packet(Packet::Status(status)) if status.status_code == StatusCode::Ok => {
                Ok(status)
            }
            other => Err(unexpected(other)),
        }
    }

    /// Ends the session once what is queued is sent: the server's side sees end of input,
    /// and the channel closes.
    pub fn finish(&self) {
        let _ = self.outgoing.send(Outgoing::Finish);
    }
}

/// Sends the queued messages in order, each whole, as the channel's window allows; at
/// [`Outgoing::Finish`] or when the client is gone, ends the input and closes the channel. A
/// message that cannot be sent ends the session (every waiting request fails).
async fn write_messages(
    write: ChannelWriteHalf<Msg>,
    mut queue: tokio::sync::mpsc::UnboundedReceiver<Outgoing>,
    waiting: Waiting,
    traffic: Arc<Traffic>,
) {
    while let Some(Outgoing::Message(head, data)) = queue.recv().await {
        let sent = match write.data_bytes(head).await {
            Ok(()) => match data {
                Some(data) => write.data_bytes(data).await,
                None => Ok(()),
            },
            Err(e) => Err(e),
        };
        if sent.is_err() {
            lock(&waiting).take();
            break;
        }
        traffic.sent.fetch_add(1, Ordering::Relaxed);
    }
    let _ = write.eof().await;
    let _ = write.close().await;
}

/// An SSH_FXP_WRITE message up to its data: length, type, id, handle, offset, data length.
fn write_header(id: u32, handle: &str, offset: u64, len: usize) -> Result<Bytes, Error> {
    let too_long = || Error::Limited("a write larger than SFTP can frame".into());
    let handle_len = u32::try_from(handle.len()).map_err(|_| too_long())?;
    let data_len = u32::try_from(len).map_err(|_| too_long())?;
    // type + id + handle's length and bytes + offset + data's length, then the data.
    let body = 1 + 4 + 4 + handle.len() + 8 + 4;
    let total = u32::try_from(body + len).map_err(|_| too_long())?;
    let mut head = BytesMut::with_capacity(4 + body);
    head.put_u32(total);
    head.put_u8(SSH_FXP_WRITE);
    head.put_u32(id);
    head.put_u32(handle_len);
    head.put_slice(handle.as_bytes());
    head.put_u64(offset);
    head.put_u32(data_len);
    Ok(head.freeze())
}

/// Splits one answer frame (after its length) into the id it answers and the answer.
fn decode(frame: Bytes) -> Option<(u32, Answer)> {
    let mut fields = frame.clone();
    let kind = fields.try_get_u8().ok()?;
    let id = if kind == SSH_FXP_VERSION {
        VERSION_ID
    } else {
        fields.try_get_u32().ok()?
    };
    if kind == SSH_FXP_DATA {
        let len = usize::try_from(fields.try_get_u32().ok()?).ok()?;
        return (fields.len() >= len).then(|| (id, Answer::Data(fields.slice(..len))));
    }
    let mut whole = frame;
    Packet::try_from(&mut whole)
        .ok()
        .map(|packet| (id, Answer::Packet(packet)))
}

/// Reads the channel until it ends, handing each answer to the request waiting for its id.
async fn read_answers(mut read: ChannelReadHalf, waiting: Waiting, traffic: Arc<Traffic>) {
    let mut pending = BytesMut::new();
    'channel: while let Some(msg) = read.wait().await {
        let data = match msg {
            ChannelMsg::Data { data } => data,
            ChannelMsg::Eof | ChannelMsg::Close => break,
            // Window adjustments, stderr of the subsystem, and the like.
            _ => continue,
        };
        traffic
            .received
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        pending.extend_from_slice(&data);
        while pending.len() >= 4 {
            let len = u32::from_be_bytes([pending[0], pending[1], pending[2], pending[3]]);
            let Ok(len) = usize::try_from(len) else {
                break 'channel;
            };
            if len == 0 || len > MAX_ANSWER {
                break 'channel;
            }
            if pending.len() < 4 + len {
                // Room for the rest at once, not grown piece by piece as packets come.
                pending.reserve(4 + len - pending.len());
                break;
            }
            pending.advance(4);
            let Some((id, answer)) = decode(pending.split_to(len).freeze()) else {
                break 'channel;
            };
            let asker = lock(&waiting).as_mut().and_then(|w| w.remove(&id));
            if let Some(asker) = asker {
                // The asker may have given up (a cancelled transfer): nothing to do.
                let _ = asker.send(answer);
            }
        }
    }
    // Every request still waiting fails now, and later ones at once.
    lock(&waiting).take();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_header_frames_the_data_that_follows_it() {
        let data = b"hello";
        let head = write_header(7, "h1", 1 << 33, data.len()).unwrap();
        let mut message = head.to_vec();
        message.extend_from_slice(data);
        // russh-sftp's own codec reads it back as the same write.
        let mut body = Bytes::from(message.split_off(4));
        assert_eq!(
            u32::from_be_bytes(message[..4].try_into().unwrap()) as usize,
            body.len()
        );
        let Packet::Write(write) = Packet::try_from(&mut body).unwrap() else {
            panic!("not a write");
        };
        assert_eq!(
            (
                write.id,
                write.handle.as_str(),
                write.offset,
                write.data.as_slice()
            ),
            (7, "h1", 1 << 33, &data[..])
        );
    }

    #[test]
    fn answers_decode_by_id_and_data_is_sliced() {
        let frame = |packet: Packet| {
            let mut bytes = Bytes::try_from(packet).unwrap();
            bytes.advance(4);
            bytes
        };
        let data = russh_sftp::protocol::Data {
            id: 9,
            data: b"abc".to_vec(),
        };
        match decode(frame(data.into())) {
            Some((9, Answer::Data(bytes))) => assert_eq!(&bytes[..], b"abc"),
            _ => panic!("data not decoded"),
        }
        let status = Status {
            id: 4,
            status_code: StatusCode::Eof,
            error_message: "end".into(),
            language_tag: "en".into(),
        };
        match decode(frame(status.into())) {
            Some((4, Answer::Packet(Packet::Status(s)))) => {
                assert_eq!(s.status_code, StatusCode::Eof)
            }
            _ => panic!("status not decoded"),
        }
        let version = Version::new();
        assert!(matches!(
            decode(frame(version.into())),
            Some((VERSION_ID, Answer::Packet(Packet::Version(_))))
        ));
        // A data answer claiming more bytes than it has is refused.
        let mut short = frame(
            russh_sftp::protocol::Data {
                id: 1,
                data: b"abcd".to_vec(),
            }
            .into(),
        )
        .to_vec();
        short.truncate(short.len() - 1);
        assert!(decode(Bytes::from(short)).is_none());
    }
}
