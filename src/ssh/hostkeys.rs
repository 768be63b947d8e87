//! Host-key verification against known_hosts, loaded once into an index.
//!
//! The index is read off the event loop at start; lookups are in memory. Learned keys go
//! into the index at once and to the file through one writer task, so concurrent sessions
//! never interleave or lose lines and the event loop never waits on the disk.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use russh::keys::{HashAlg, PublicKey};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use super::error::{OfferedKey, SessionError};
use super::known_hosts::{self, HostKeyStatus, KnownHosts};
use super::target::HostKeyCheck;

enum WriterMsg {
    Append(String),
    Flush(oneshot::Sender<()>),
}

/// The known_hosts index of one run, and the file new hosts are learned into.
pub struct KnownHostsStore {
    index: Mutex<KnownHosts>,
    learn_path: PathBuf,
    writer: mpsc::UnboundedSender<WriterMsg>,
}

impl KnownHostsStore {
    /// Loads `files` (missing ones count as empty) off the event loop. New hosts are
    /// appended to `learn_path` (normally the first of the user's files).
    pub async fn load(files: Vec<PathBuf>, learn_path: PathBuf) -> KnownHostsStore {
        let index = tokio::task::spawn_blocking(move || KnownHosts::load(&files))
            .await
            .unwrap_or_else(|_| KnownHosts::parse("", Path::new("")));
        for warning in index.warnings() {
            warn!("{warning}");
        }
        let (writer, queue) = mpsc::unbounded_channel();
        tokio::spawn(write_learned(learn_path.clone(), queue));
        KnownHostsStore {
            index: Mutex::new(index),
            learn_path,
            writer,
        }
    }

    /// The files a user normally has: `~/.ssh/known_hosts` (learned into) and the system's.
    pub fn default_files(home: &Path) -> (Vec<PathBuf>, PathBuf) {
        let user = home.join(".ssh").join("known_hosts");
        (
            vec![user.clone(), PathBuf::from("/etc/ssh/ssh_known_hosts")],
            user,
        )
    }

    /// Decides whether `key` may be trusted for `host:port`. On `Err` the error says what is
    /// wrong and how to fix it. A key learned is written hashed when `hash` says so
    /// (HashKnownHosts) or the files already hold hashed names.
    pub fn verify(
        &self,
        mode: HostKeyCheck,
        host: &str,
        port: u16,
        key: &PublicKey,
        hash: bool,
    ) -> Result<Verdict, SessionError> {
        let algo = key.algorithm().as_str().to_string();
        let blob = key
            .to_bytes()
            .map_err(|e| SessionError::HostKeyUnreadable {
                reason: e.to_string(),
            })?;
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let offered = || {
            Box::new(OfferedKey {
                algo: algo.clone(),
                fingerprint: fingerprint.clone(),
            })
        };
        let mut index = self
            .index
            .lock()
            .map_err(|_| SessionError::Other("known_hosts index unavailable".into()))?;
        match index.check(host, port, &algo, &blob) {
            HostKeyStatus::Known => Ok(Verdict::Known),
            HostKeyStatus::Revoked { path, line } => Err(SessionError::HostKeyRevoked {
                key: offered(),
                path,
                line,
            }),
            HostKeyStatus::Changed {
                path,
                line,
                known_algo,
            } if mode != HostKeyCheck::Off => Err(SessionError::HostKeyChanged {
                pattern: known_hosts::host_pattern(host, port),
                key: offered(),
                fix: known_hosts::fix_hint(&path, host, port),
                path,
                line,
                known_algo,
            }),
            // As OpenSSH with StrictHostKeyChecking=no: go on, but the front end must not
            // send secrets (passwords) to what may be an impostor.
            HostKeyStatus::Changed { .. } => Ok(Verdict::ChangedUnchecked),
            HostKeyStatus::Unknown => match mode {
                HostKeyCheck::Strict => Err(SessionError::HostKeyUnknown {
                    pattern: known_hosts::host_pattern(host, port),
                    host: host.to_string(),
                    port,
                    key: offered(),
                    learn_path: self.learn_path.clone(),
                }),
                HostKeyCheck::AcceptNew => {
                    let hashed = hash || index.uses_hashing();
                    let line = known_hosts::format_entry(host, port, &algo, &blob, hashed);
                    // Its real line, for a "changed" error that cites it later.
                    let line_number = index.next_line_number(&self.learn_path);
                    index.add(host, port, &algo, &blob, &self.learn_path, line_number);
                    let _ = self.writer.send(WriterMsg::Append(line));
                    Ok(Verdict::Learned)
                }
                HostKeyCheck::Off => Ok(Verdict::Unchecked),
            },
        }
    }

    /// The key types known for `host:port`, for the client to ask for them first.
    pub fn known_key_types(&self, host: &str, port: u16) -> Vec<String> {
        match self.index.lock() {
            Ok(index) => index.key_types(host, port),
            Err(_) => Vec::new(),
        }
    }

    /// Waits until every learned key is on disk (call before the program exits).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.writer.send(WriterMsg::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

/// The outcome of a host-key check that lets the connection go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Known,
    /// Unknown before; now recorded in known_hosts.
    Learned,
    /// Not checked (`host_key_check = "off"`).
    Unchecked,
    /// The key differs from the one known and checking is off: the connection goes on
    /// (public keys prove nothing secret to an impostor) but no password or
    /// keyboard-interactive answer may be sent, as OpenSSH does.
    ChangedUnchecked,
}

/// The one writer of learned keys: appends in arrival order, each batch in one blocking call.
async fn write_learned(path: PathBuf, mut queue: mpsc::UnboundedReceiver<WriterMsg>) {
    while let Some(first) = queue.recv().await {
        let mut lines = Vec::new();
        let mut acks = Vec::new();
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                WriterMsg::Append(line) => lines.push(line),
                WriterMsg::Flush(ack) => acks.push(ack),
            }
            next = queue.try_recv().ok();
        }
        if !lines.is_empty() {
            let target = path.clone();
            let written = tokio::task::spawn_blocking(move || {
                lines
                    .iter()
                    .try_for_each(|line| known_hosts::append_entry(&target, line))
            })
            .await;
            match written {
                Ok(Ok(())) => {}
                Ok(Err(e)) => warn!("could not record new host keys in {}: {e}", path.display()),
                Err(e) => warn!("known_hosts writer failed: {e}"),
            }
        }
        for ack in acks {
            let _ = ack.send(());
        }
    }
}
