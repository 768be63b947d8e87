//! File transfers over an SFTP subsystem's channel (`Work::Subsystem`), for `mtssh push` and
//! `mtssh pull`, through our own SFTP client (`sftp_client`). Everything runs on the one
//! event loop: each file keeps up to [`IN_FLIGHT`] reads or writes outstanding, so
//! throughput does not wait on round trips, and local file IO goes through the blocking pool
//! a megabyte at a time (`local_chunks` reads, shared by the hosts of one push;
//! `local_writer` writes).
//!
//! Nothing is half-written under its final name: a file goes to a temporary name beside it
//! (`.NAME.mtssh-XXXXXXXX.part`) and is renamed over the final name once complete; a failed
//! transfer removes its temporary file when the peer can still be asked to.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesOrdered;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, OpenFlags, StatusCode};
use sha2::{Digest, Sha256};

pub use super::local_chunks::SharedReads;
use super::sftp_client::SftpClient;
use super::target::SubsystemChannel;
use crate::lang::{tr, trf};

/// Bytes per READ or WRITE request when the server states no limits: what every SFTP
/// server takes (OpenSSH's own client's default).
pub const CHUNK: usize = 32 * 1024;

/// The largest request made even when a server's `limits@openssh.com` allows more:
/// OpenSSH's sftp-server allows 256 KiB messages, reads and writes of 255 KiB; so does
/// its own client (sftp, and scp since OpenSSH 9) against it.
pub const MAX_CHUNK: usize = 255 * 1024;

/// Bytes outstanding per file, enough to fill a fast link's round trip (and as much as an
/// OpenSSH channel window): [`IN_FLIGHT`] requests of [`CHUNK`], fewer larger ones.
const BYTES_IN_FLIGHT: usize = 2 * 1024 * 1024;

/// Requests outstanding per file, at most.
pub const IN_FLIGHT: usize = 64;

/// Requests outstanding per file, at least (8 of [`MAX_CHUNK`] are the 2 MiB).
const MIN_IN_FLIGHT: usize = 8;

/// Seconds one request may wait for its answer before the host counts as stalled.
const REQUEST_TIMEOUT_SECS: u64 = 60;

/// `local_sha256`'s read buffer: one read per megabyte.
const LOCAL_BUFFER: usize = 1024 * 1024;

/// Which way, and what.
#[derive(Debug, Clone)]
pub enum Direction {
    /// Local files (directories with `recursive`) into one remote directory.
    Push {
        locals: Vec<PathBuf>,
        remote_dir: String,
    },
    /// Remote paths (with `*`/`?` globs) into one local directory (the host's own).
    Pull {
        remotes: Vec<String>,
        local_dir: PathBuf,
    },
}

#[derive(Debug, Clone)]
pub struct TransferSpec {
    pub direction: Direction,
    /// Directories too, whole (`-r`).
    pub recursive: bool,
    /// Keep modes and modification times (`-p`).
    pub preserve: bool,
    /// Hash each file's bytes as they pass, for `--verify`.
    pub hash: bool,
    /// A push's local reads, shared with the other hosts' transfers of the same files
    /// (the clones of one [`SharedReads`]); `None`: this transfer reads for itself.
    pub shared_reads: Option<SharedReads>,
}

/// What one host's transfer did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transferred {
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
    /// Each file's remote path and the SHA-256 (hex) of the bytes sent or received, when
    /// hashing was asked for.
    pub hashes: Vec<(String, String)>,
}

/// Bytes moved so far, read by the progress display while the transfer runs.
pub type ByteCounter = Arc<AtomicU64>;

/// Set to `true` to stop a running transfer: the file under way loses its temporary file
/// (nothing under the final name) and the transfer ends with [`CANCELLED`].
pub type CancelSignal = tokio::sync::watch::Receiver<bool>;

/// The error of a cancelled transfer (before translation).
pub const CANCELLED: &str = "cancelled";

/// Runs `spec` over an SFTP subsystem's channel until done or until `cancel` turns `true`
/// (the TUI's uploads and downloads). The error says which path failed and why.
pub async fn transfer_cancellable(
    channel: SubsystemChannel,
    spec: &TransferSpec,
    counter: ByteCounter,
    cancel: CancelSignal,
) -> Result<Transferred, String> {
    start(channel)
        .await?
        .run_cancellable(spec, counter, cancel)
        .await
}

/// An SFTP session that has started (the server's version and limits known), its files
/// not yet moved: `push` starts every host's before any moves bulk bytes.
pub struct StartedSftp {
    sftp: SftpClient,
    posix_rename: bool,
    chunk: usize,
}

/// Starts the SFTP session on `channel`: INIT, and the server's limits when it has them.
pub async fn start(channel: SubsystemChannel) -> Result<StartedSftp, String> {
    let channel = channel
        .take()
        .ok_or_else(|| tr("the SFTP channel was already used"))?;
    let sftp = SftpClient::new(channel, Duration::from_secs(REQUEST_TIMEOUT_SECS));
    let version = sftp
        .init()
        .await
        .map_err(|e| trf("the SFTP session did not start: {why}", &[("why", &e)]))?;
    let chunk = if version.extensions.contains_key(LIMITS) {
        // A server that cannot answer keeps the size every server takes.
        sftp.limits().await.map_or(CHUNK, |limits| {
            request_size(
                limits.max_packet_len,
                limits.max_read_len,
                limits.max_write_len,
            )
        })
    } else {
        CHUNK
    };
    Ok(StartedSftp {
        sftp,
        posix_rename: version.extensions.contains_key(POSIX_RENAME),
        chunk,
    })
}

impl StartedSftp {
    /// Moves `spec`'s files; the session ends with it.
    pub async fn run(
        self,
        spec: &TransferSpec,
        counter: ByteCounter,
    ) -> Result<Transferred, String> {
        // Never cancelled: the sender goes, and a receiver whose sender is gone waits forever.
        let (_never, cancel) = tokio::sync::watch::channel(false);
        self.run_cancellable(spec, counter, cancel).await
    }

    /// [`StartedSftp::run`] that stops when `cancel` turns `true`.
    pub async fn run_cancellable(
        self,
        spec: &TransferSpec,
        counter: ByteCounter,
        cancel: CancelSignal,
    ) -> Result<Transferred, String> {
        let StartedSftp {
            sftp,
            posix_rename,
            chunk,
        } = self;
        let mut job = Job {
            sftp,
            spec,
            counter,
            posix_rename,
            chunk,
            in_flight: (BYTES_IN_FLIGHT / chunk).clamp(MIN_IN_FLIGHT, IN_FLIGHT),
            done: Transferred::default(),
            cancel,
        };
        let outcome = job.run().await;
        // Ended in every case, so the server's side goes even where the connection stays up
        // (the TUI's sessions).
        job.sftp.finish();
        outcome.map(|()| job.done)
    }
}

const POSIX_RENAME: &str = "posix-rename@openssh.com";
const LIMITS: &str = "limits@openssh.com";

/// Room for a READ answer's or WRITE request's own fields (type, id, handle, offset,
/// length) inside the server's largest message.
const REQUEST_HEADER_ROOM: u64 = 1024;

/// Bytes per request for a server that stated its limits (0: no limit): the smallest of
/// its read and write lengths and its message size less header room, at most
/// [`MAX_CHUNK`]; a server stating less than [`CHUNK`] gets what it asks for.
fn request_size(max_packet: u64, max_read: u64, max_write: u64) -> usize {
    let stated = |limit: u64| if limit == 0 { u64::MAX } else { limit };
    let size = stated(max_read)
        .min(stated(max_write))
        .min(stated(max_packet).saturating_sub(REQUEST_HEADER_ROOM))
        .min(MAX_CHUNK as u64);
    usize::try_from(size).map_or(CHUNK, |size| size.max(1))
}

struct Job<'s> {
    sftp: SftpClient,
    spec: &'s TransferSpec,
    counter: ByteCounter,
    /// The server renames over an existing file (OpenSSH's extension; SFTP v3's own rename
    /// refuses an existing target).
    posix_rename: bool,
    /// Bytes per READ or WRITE request ([`request_size`]).
    chunk: usize,
    /// Requests outstanding per file.
    in_flight: usize,
    done: Transferred,
    cancel: CancelSignal,
}

/// `dir/name` in the remote's `/` syntax.
pub fn join_remote(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The last component of a remote path (`a/b/` is `b`).
fn remote_name(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

/// A temporary name beside `name` for a file until it is complete.
fn temp_name(name: &str) -> String {
    format!(".{name}.mtssh-{:08x}.part", rand::random::<u32>())
}

/// Resolves once `cancel` turns `true`; never when its sender is gone without it.
async fn cancelled(mut cancel: CancelSignal) {
    if cancel.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// `PATH: why`. An SFTP status whose message repeats its code (`Permission denied:
/// Permission denied`, OpenSSH's way) says it once.
fn failed(path: &str, e: impl std::fmt::Display) -> String {
    let text = e.to_string();
    match text.split_once(": ") {
        Some((code, message)) if code == message => format!("{path}: {code}"),
        _ => format!("{path}: {text}"),
    }
}

/// `cannot read LOCAL: why`, in the user's language.
fn cannot_read(local: &Path, e: impl std::fmt::Display) -> String {
    trf(
        "cannot read {path}: {why}",
        &[("path", &local.display()), ("why", &e)],
    )
}

fn is_eof(e: &SftpError) -> bool {
    matches!(e, SftpError::Status(s) if s.status_code == StatusCode::Eof)
}

fn unix_seconds(time: std::io::Result<std::time::SystemTime>) -> Option<u32> {
    let secs = time
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    u32::try_from(secs).ok()
}

/// The attributes `-p` keeps: permission bits, access and modification times.
fn kept_attributes(meta: &std::fs::Metadata) -> FileAttributes {
    use std::os::unix::fs::PermissionsExt;
    let mut attrs = FileAttributes::empty();
    attrs.permissions = Some(meta.permissions().mode() & 0o7777);
    attrs.atime = unix_seconds(meta.accessed());
    attrs.mtime = unix_seconds(meta.modified());
    if attrs.atime.is_none() {
        attrs.atime = attrs.mtime;
    }
    attrs
}

/// The access and modification times `attrs` carries (the access time falls back to the
/// modification time), as a local file takes them.
pub fn file_times(attrs: &FileAttributes) -> Option<std::fs::FileTimes> {
    let at = |secs: u32| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.into());
    let mtime = attrs.mtime?;
    Some(
        std::fs::FileTimes::new()
            .set_accessed(at(attrs.atime.unwrap_or(mtime)))
            .set_modified(at(mtime)),
    )
}

/// Sets a local path's mode and times from SFTP attributes (`pull -p`, and the mock's
/// `setstat`).
pub async fn keep_locally(path: &Path, attrs: &FileAttributes) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = path.to_path_buf();
    let (mode, times) = (attrs.permissions, file_times(attrs));
    tokio::task::spawn_blocking(move || {
        if let Some(times) = times {
            std::fs::File::open(&path)?.set_times(times)?;
        }
        if let Some(mode) = mode {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o7777))?;
        }
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)?
}

impl Job<'_> {
    async fn run(&mut self) -> Result<(), String> {
        let spec = self.spec;
        match &spec.direction {
            Direction::Push { locals, remote_dir } => {
                for local in locals {
                    self.push_path(local, remote_dir).await?;
                }
            }
            Direction::Pull { remotes, local_dir } => {
                for pattern in remotes {
                    for remote in self.expand(pattern).await? {
                        self.pull_path(&remote, local_dir).await?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The cancelled error, naming `path`, once the transfer is asked to stop.
    fn check_cancel(&self, path: &str) -> Result<(), String> {
        if *self.cancel.borrow() {
            return Err(failed(path, tr(CANCELLED)));
        }
        Ok(())
    }

    async fn push_path(&mut self, local: &Path, remote_dir: &str) -> Result<(), String> {
        let shown = local.display().to_string();
        let meta = tokio::fs::metadata(local)
            .await
            .map_err(|e| failed(&shown, e))?;
        let name = local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| failed(&shown, tr("names no file or directory")))?;
        let remote = join_remote(remote_dir, &name);
        if meta.is_dir() {
            if !self.spec.recursive {
                return Err(failed(
                    &shown,
                    tr("is a directory (give -r to copy it whole)"),
                ));
            }
            self.ensure_remote_dir(&remote).await?;
            self.done.dirs += 1;
            let mut entries = tokio::fs::read_dir(local)
                .await
                .map_err(|e| failed(&shown, e))?;
            let mut children = Vec::new();
            while let Some(entry) = entries.next_entry().await.map_err(|e| failed(&shown, e))? {
                children.push(entry.path());
            }
            children.sort();
            for child in children {
                Box::pin(self.push_path(&child, &remote)).await?;
            }
            if self.spec.preserve {
                self.sftp
                    .setstat(&remote, kept_attributes(&meta))
                    .await
                    .map_err(|e| failed(&remote, e))?;
            }
            Ok(())
        } else if meta.is_file() {
            self.push_file(local, &meta, remote_dir, &name).await
        } else {
            Err(failed(&shown, tr("is neither a file nor a directory")))
        }
    }

    /// Makes a remote directory unless one is there already.
    async fn ensure_remote_dir(&self, remote: &str) -> Result<(), String> {
        if let Ok(attrs) = self.sftp.stat(remote).await {
            return if attrs.attrs.is_dir() {
                Ok(())
            } else {
                Err(failed(remote, tr("exists and is not a directory")))
            };
        }
        self.sftp
            .mkdir(remote, FileAttributes::empty())
            .await
            .map(|_| ())
            .map_err(|e| failed(remote, e))
    }

    async fn push_file(
        &mut self,
        local: &Path,
        meta: &std::fs::Metadata,
        remote_dir: &str,
        name: &str,
    ) -> Result<(), String> {
        use std::os::unix::fs::PermissionsExt;
        let remote = join_remote(remote_dir, name);
        self.check_cancel(&remote)?;
        let temp = join_remote(remote_dir, &temp_name(name));
        let mut attrs = FileAttributes::empty();
        // The source's permission bits, as scp gives a new file (the server's umask applies).
        attrs.permissions = Some(meta.permissions().mode() & 0o777);
        let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE;
        let handle = self
            .sftp
            .open(&temp, flags, attrs)
            .await
            .map_err(|e| failed(&remote, e))?
            .handle;
        let written = self.write_from(&handle, local).await;
        let closed = self.sftp.close(&handle).await.map_err(|e| e.to_string());
        let hash = match (written, closed) {
            (Ok(hash), Ok(_)) => hash,
            (Err(e), _) | (Ok(_), Err(e)) => {
                let _ = self.sftp.remove(&temp).await;
                return Err(failed(&remote, e));
            }
        };
        if self.spec.preserve
            && let Err(e) = self.sftp.setstat(&temp, kept_attributes(meta)).await
        {
            let _ = self.sftp.remove(&temp).await;
            return Err(failed(&remote, e));
        }
        if let Err(e) = self.rename_over(&temp, &remote).await {
            let _ = self.sftp.remove(&temp).await;
            return Err(failed(&remote, e));
        }
        self.done.files += 1;
        if let Some(hash) = hash {
            self.done.hashes.push((remote, hash));
        }
        Ok(())
    }

    /// Sends a local file's bytes with `self.in_flight` writes outstanding; its hash if asked.
    async fn write_from(&mut self, handle: &str, local: &Path) -> Result<Option<String>, String> {
        let shared = self.spec.shared_reads.as_ref();
        let mut chunks = super::local_chunks::LocalChunks::open(local, self.chunk, shared)
            .await
            .map_err(|e| cannot_read(local, e))?;
        let mut hasher = self.spec.hash.then(Sha256::new);
        let mut in_flight = FuturesOrdered::new();
        let mut offset = 0u64;
        let mut at_end = false;
        let most = self.in_flight;
        loop {
            while !at_end && in_flight.len() < most {
                let Some(chunk) = chunks.next().await.map_err(|e| cannot_read(local, e))? else {
                    at_end = true;
                    break;
                };
                let filled = chunk.len();
                if let Some(hasher) = hasher.as_mut() {
                    hasher.update(&chunk);
                }
                let at = offset;
                offset += filled as u64;
                let sftp = &self.sftp;
                let counter = &self.counter;
                in_flight.push_back(async move {
                    sftp.write(handle, at, chunk).await?;
                    counter.fetch_add(filled as u64, Ordering::Relaxed);
                    Ok::<_, SftpError>(())
                });
            }
            let next = tokio::select! {
                next = in_flight.next() => next,
                () = cancelled(self.cancel.clone()) => return Err(tr(CANCELLED).into()),
            };
            match next {
                Some(Ok(())) => {}
                Some(Err(e)) => return Err(e.to_string()),
                None => break,
            }
        }
        self.done.bytes += offset;
        Ok(hasher.map(|h| hex(&h.finalize())))
    }

    /// Renames `from` over `to`, replacing a file already there.
    async fn rename_over(&self, from: &str, to: &str) -> Result<(), SftpError> {
        if self.posix_rename {
            let mut data = Vec::new();
            for path in [from, to] {
                data.extend_from_slice(&(path.len() as u32).to_be_bytes());
                data.extend_from_slice(path.as_bytes());
            }
            return match self.sftp.extended(POSIX_RENAME, data).await? {
                russh_sftp::protocol::Packet::Status(s) if s.status_code == StatusCode::Ok => {
                    Ok(())
                }
                russh_sftp::protocol::Packet::Status(s) => Err(SftpError::Status(s)),
                _ => Err(SftpError::UnexpectedPacket),
            };
        }
        match self.sftp.rename(from, to).await {
            Ok(_) => Ok(()),
            // SFTP v3 refuses an existing target: take the old file away first.
            Err(first) => {
                if self.sftp.remove(to).await.is_err() {
                    return Err(first);
                }
                self.sftp.rename(from, to).await.map(|_| ())
            }
        }
    }

    /// The remote paths a pattern names: `*` and `?` in any component match the names a
    /// directory listing gives (hidden names only for a pattern starting with `.`).
    async fn expand(&self, pattern: &str) -> Result<Vec<String>, String> {
        if !pattern.contains(['*', '?']) {
            return Ok(vec![pattern.to_string()]);
        }
        let absolute = pattern.starts_with('/');
        let mut found: Vec<String> = vec![if absolute { "/".into() } else { String::new() }];
        for part in pattern.split('/').filter(|p| !p.is_empty()) {
            let mut next = Vec::new();
            for base in &found {
                if !part.contains(['*', '?']) {
                    next.push(join_remote(base, part));
                    continue;
                }
                let dir = if base.is_empty() { "." } else { base.as_str() };
                let Ok(names) = self.list(dir).await else {
                    continue;
                };
                let mut matched: Vec<String> = names
                    .into_iter()
                    .filter(|(name, _)| name != "." && name != "..")
                    .filter(|(name, _)| part.starts_with('.') || !name.starts_with('.'))
                    .filter(|(name, _)| glob_match(part, name))
                    .map(|(name, _)| join_remote(base, &name))
                    .collect();
                matched.sort();
                next.extend(matched);
            }
            found = next;
        }
        if found.is_empty() {
            return Err(failed(
                pattern,
                tr("no such file (the pattern matched nothing)"),
            ));
        }
        Ok(found)
    }

    /// A remote directory's entries (name, attributes).
    async fn list(&self, dir: &str) -> Result<Vec<(String, FileAttributes)>, String> {
        let handle = self
            .sftp
            .opendir(dir)
            .await
            .map_err(|e| failed(dir, e))?
            .handle;
        let mut entries = Vec::new();
        let result = loop {
            match self.sftp.readdir(handle.as_str()).await {
                Ok(name) => entries.extend(name.files.into_iter().map(|f| (f.filename, f.attrs))),
                Err(e) if is_eof(&e) => break Ok(()),
                Err(e) => break Err(failed(dir, e)),
            }
        };
        let _ = self.sftp.close(&handle).await;
        result.map(|()| entries)
    }

    async fn pull_path(&mut self, remote: &str, local_dir: &Path) -> Result<(), String> {
        let attrs = self
            .sftp
            .stat(remote)
            .await
            .map_err(|e| failed(remote, e))?
            .attrs;
        let name = remote_name(remote);
        if name.is_empty() || name == "." || name == ".." {
            return Err(failed(
                remote,
                tr("names no file to pull (name a file or directory)"),
            ));
        }
        let local = local_dir.join(crate::text::safe_file_name(name));
        if attrs.is_dir() {
            if !self.spec.recursive {
                return Err(failed(
                    remote,
                    tr("is a directory (give -r to copy it whole)"),
                ));
            }
            match tokio::fs::create_dir(&local).await {
                Ok(()) => {}
                Err(e)
                    if e.kind() == std::io::ErrorKind::AlreadyExists
                        && tokio::fs::metadata(&local).await.is_ok_and(|m| m.is_dir()) => {}
                Err(e) => return Err(failed(&local.display().to_string(), e)),
            }
            self.done.dirs += 1;
            let mut children: Vec<String> = self
                .list(remote)
                .await?
                .into_iter()
                .map(|(name, _)| name)
                .filter(|name| name != "." && name != "..")
                .collect();
            children.sort();
            for child in children {
                Box::pin(self.pull_path(&join_remote(remote, &child), &local)).await?;
            }
            if self.spec.preserve {
                keep_locally(&local, &attrs)
                    .await
                    .map_err(|e| failed(&local.display().to_string(), e))?;
            }
            Ok(())
        } else if attrs.is_regular() {
            self.pull_file(remote, &attrs, local_dir, &local).await
        } else {
            Err(failed(remote, tr("is neither a file nor a directory")))
        }
    }

    async fn pull_file(
        &mut self,
        remote: &str,
        attrs: &FileAttributes,
        local_dir: &Path,
        local: &Path,
    ) -> Result<(), String> {
        let name = local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.check_cancel(remote)?;
        let temp = local_dir.join(temp_name(&name));
        let shown_local = local.display().to_string();
        let handle = self
            .sftp
            .open(remote, OpenFlags::READ, FileAttributes::empty())
            .await
            .map_err(|e| failed(remote, e))?
            .handle;
        let received = self.read_into(&handle, remote, &temp).await;
        let _ = self.sftp.close(&handle).await;
        let finish = async {
            let hash = received?;
            if self.spec.preserve {
                keep_locally(&temp, attrs)
                    .await
                    .map_err(|e| failed(&shown_local, e))?;
            }
            tokio::fs::rename(&temp, local)
                .await
                .map_err(|e| failed(&shown_local, e))?;
            Ok::<_, String>(hash)
        };
        match finish.await {
            Ok(hash) => {
                self.done.files += 1;
                if let Some(hash) = hash {
                    self.done.hashes.push((remote.to_string(), hash));
                }
                Ok(())
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp).await;
                Err(e)
            }
        }
    }

    /// Receives a remote file into `temp` with `self.in_flight` reads outstanding, until the
    /// server says end of file; its hash if asked.
    async fn read_into(
        &mut self,
        handle: &str,
        remote: &str,
        temp: &Path,
    ) -> Result<Option<String>, String> {
        let shown = temp.display().to_string();
        let mut writer = super::local_writer::LocalWriter::create(temp)
            .await
            .map_err(|e| failed(&shown, e))?;
        let mut hasher = self.spec.hash.then(Sha256::new);
        let sftp = &self.sftp;
        let counter = &self.counter;
        let (size, most) = (self.chunk, self.in_flight);
        let read_at = |offset: u64| async move {
            match sftp.read(handle, offset, size as u32).await {
                Ok(data) => Ok((offset, data)),
                Err(e) if is_eof(&e) => Ok((offset, bytes::Bytes::new())),
                Err(e) => Err(e),
            }
        };
        let mut in_flight = FuturesOrdered::new();
        let mut next_offset = 0u64;
        let mut written = 0u64;
        let mut at_end = false;
        loop {
            while !at_end && in_flight.len() < most {
                in_flight.push_back(read_at(next_offset));
                next_offset += size as u64;
            }
            let next = tokio::select! {
                next = in_flight.next() => next,
                () = cancelled(self.cancel.clone()) => return Err(failed(remote, tr(CANCELLED))),
            };
            let Some(answer) = next else {
                break;
            };
            let (offset, first) = answer.map_err(|e| failed(remote, e))?;
            if at_end || offset != written {
                // Past the end (or behind a short read already refilled): nothing to keep.
                continue;
            }
            let mut data = first;
            // A short answer: the rest of this chunk is asked for again, in order, before
            // the answers already in flight for later chunks are taken.
            while !data.is_empty() && data.len() < size {
                let more_at = offset + data.len() as u64;
                let want = (size - data.len()) as u32;
                match sftp.read(handle, more_at, want).await {
                    Ok(more) if !more.is_empty() => {
                        let mut joined = Vec::with_capacity(data.len() + more.len());
                        joined.extend_from_slice(&data);
                        joined.extend_from_slice(&more);
                        data = joined.into();
                    }
                    Ok(_) => break,
                    Err(e) if is_eof(&e) => break,
                    Err(e) => return Err(failed(remote, e)),
                }
            }
            if data.len() < size {
                at_end = true;
            }
            if let Some(hasher) = hasher.as_mut() {
                hasher.update(&data);
            }
            writer.write(&data).await.map_err(|e| failed(&shown, e))?;
            written += data.len() as u64;
            counter.fetch_add(data.len() as u64, Ordering::Relaxed);
        }
        writer.finish().await.map_err(|e| failed(&shown, e))?;
        self.done.bytes += written;
        Ok(hasher.map(|h| hex(&h.finalize())))
    }
}

/// A word for a POSIX shell: single-quoted, a `'` inside as `'\''`.
pub fn remote_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `*` (any run) and `?` (any one character) against a whole name.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some('?') => {
                pi += 1;
                ni += 1;
            }
            Some(c) if *c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The SHA-256 of a local file (hex), read on the blocking pool (`--verify` for push).
pub async fn local_sha256(path: &Path) -> std::io::Result<String> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut file = std::fs::File::open(&path)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0; LOCAL_BUFFER];
        loop {
            match file.read(&mut buffer)? {
                0 => break,
                n => hasher.update(&buffer[..n]),
            }
        }
        Ok(hex(&hasher.finalize()))
    })
    .await
    .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_size_follows_the_servers_limits() {
        // OpenSSH's sftp-server: 256 KiB messages, 255 KiB reads and writes.
        assert_eq!(request_size(262144, 261120, 261120), MAX_CHUNK);
        // No limit stated (0) is not a limit; a larger server still gets MAX_CHUNK.
        assert_eq!(request_size(0, 0, 0), MAX_CHUNK);
        assert_eq!(request_size(1 << 20, 1 << 20, 1 << 20), MAX_CHUNK);
        // The smallest of the three, the message less room for the header.
        assert_eq!(request_size(0, 100_000, 64 * 1024), 64 * 1024);
        assert_eq!(request_size(65536 + 1024, 0, 0), 65536);
        // Less than usual is still honoured.
        assert_eq!(request_size(4096, 1024, 2048), 1024);
        assert_eq!(request_size(100, 0, 0), 1);
    }

    #[test]
    fn globs_match_whole_names() {
        assert!(glob_match("*.log", "a.log"));
        assert!(glob_match("*.log", ".log"));
        assert!(!glob_match("*.log", "a.log.1"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(glob_match("exact", "exact"));
    }

    #[test]
    fn remote_paths_join_and_name_like_the_remote_does() {
        assert_eq!(join_remote(".", "f"), "./f");
        assert_eq!(join_remote("/tmp/", "f"), "/tmp/f");
        assert_eq!(join_remote("", "f"), "f");
        assert_eq!(remote_name("/var/log/"), "log");
        assert_eq!(remote_name("file"), "file");
        let temp = temp_name("f.txt");
        assert!(temp.starts_with(".f.txt.mtssh-") && temp.ends_with(".part"));
    }
}
