//! `--outdir DIR`: each host's stdout and stderr in DIR/NAME.out and DIR/NAME.err, whole,
//! and how it ended in DIR/NAME.rc ([`status_line`]; empty while it has not).
//!
//! The directory and every file are made before anything connects, so a directory that
//! cannot be written is refused before a command runs. Output is then appended as it
//! arrives, by a thread of its own (the event loop never waits on the disk), so a file holds
//! all a host printed, not the `--max-output` cut the report keeps. A write that fails later
//! (the disk fills, the directory goes away) is told per file at the end, and the report is
//! still printed.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use anyhow::{Context, Result};

use crate::modes::{HostResult, Stream};

enum Message {
    /// Bytes of one host's stream, appended to its file.
    Append(usize, Stream, Vec<u8>),
    /// How one host ended: its `.rc` file's whole text.
    Ended(usize, String),
}

/// Index of the `.rc` file in a host's files (after `.out` and `.err`).
const RC: usize = 2;

/// A host's `.rc` line: its exit status (`0`), `signal TERM` when a signal killed the
/// command, or `error KIND` (`--json`'s `error_kind`: `refused`, `auth-failed`,
/// `command-timeout`, …) when it did not run to an end; a newline after it.
pub(super) fn status_line(r: &HostResult) -> String {
    match (&r.signal, r.exit_status, r.error_kind) {
        (_, _, Some(kind)) => format!("error {kind}\n"),
        (Some(signal), _, None) => format!("signal {signal}\n"),
        (None, Some(code), None) => format!("{code}\n"),
        (None, None, None) => "error no-exit-status\n".into(),
    }
}

/// The files of one run, and the thread that writes them.
pub(super) struct Outdir {
    dir: PathBuf,
    /// DIR/NAME.out, DIR/NAME.err and DIR/NAME.rc per host, in target order.
    files: Vec<[PathBuf; 3]>,
    queue: Option<mpsc::Sender<Message>>,
    writer: Option<std::thread::JoinHandle<Vec<String>>>,
}

impl Outdir {
    /// Creates `dir` and an empty NAME.out, NAME.err and NAME.rc for every host (truncating
    /// old ones), or says which path cannot be written. Blocking: run it off the event loop.
    pub(super) fn prepare(dir: &Path, names: &[String]) -> Result<Outdir> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("--outdir {}: cannot create the directory", dir.display()))?;
        let mut files = Vec::with_capacity(names.len());
        for name in names {
            let stem = crate::text::unique_file_name(name);
            let pair = [
                dir.join(format!("{stem}.out")),
                dir.join(format!("{stem}.err")),
                dir.join(format!("{stem}.rc")),
            ];
            for path in &pair {
                std::fs::File::create(path)
                    .with_context(|| format!("--outdir: cannot write {}", path.display()))?;
            }
            files.push(pair);
        }
        let (queue, inbox) = mpsc::channel();
        let paths = files.clone();
        let writer = std::thread::Builder::new()
            .name("mtssh-outdir".into())
            .spawn(move || write_all(&paths, &inbox))
            .context("--outdir: cannot start its writer thread")?;
        Ok(Outdir {
            dir: dir.to_path_buf(),
            files,
            queue: Some(queue),
            writer: Some(writer),
        })
    }

    /// Queues bytes for host `index`'s file of `stream`.
    pub(super) fn append(&self, index: usize, stream: Stream, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(queue) = &self.queue {
            // A gone writer thread has recorded why; nothing more to do here.
            let _ = queue.send(Message::Append(index, stream, bytes.to_vec()));
        }
    }

    /// Records how host `index` ended, in its `.rc` file.
    pub(super) fn ended(&self, index: usize, result: &HostResult) {
        if let Some(queue) = &self.queue {
            let _ = queue.send(Message::Ended(index, status_line(result)));
        }
    }

    /// The file of host `index`'s `stream`.
    pub(super) fn path(&self, index: usize, stream: Stream) -> &Path {
        &self.files[index][stream_index(stream)]
    }

    /// Waits until everything queued is written; returns one sentence per file that could
    /// not be written whole. Blocking.
    pub(super) fn finish(mut self) -> Vec<String> {
        self.queue = None;
        match self.writer.take().map(std::thread::JoinHandle::join) {
            Some(Ok(problems)) => problems,
            _ => vec![format!(
                "--outdir {}: its writer thread failed; the files may be incomplete",
                self.dir.display()
            )],
        }
    }
}

fn stream_index(stream: Stream) -> usize {
    match stream {
        Stream::Stdout => 0,
        Stream::Stderr => 1,
    }
}

/// The writer thread: appends each message to its file, opening it for every batch of
/// messages rather than holding a descriptor per host (a run of thousands of hosts would run
/// out of them). A file that fails once is not written again, so it holds a clean prefix of
/// the output, and its problem is told once.
fn write_all(files: &[[PathBuf; 3]], inbox: &mpsc::Receiver<Message>) -> Vec<String> {
    let mut failed: HashMap<PathBuf, String> = HashMap::new();
    let mut order = Vec::new();
    while let Ok(first) = inbox.recv() {
        // Everything already queued, grouped by file, in arrival order within each file.
        let mut batch: HashMap<(usize, usize), Vec<u8>> = HashMap::new();
        let mut keys = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next {
            let (key, bytes) = match message {
                Message::Append(host, stream, bytes) => ((host, stream_index(stream)), bytes),
                // A host ends once: its text is the whole file (made empty by `prepare`).
                Message::Ended(host, text) => ((host, RC), text.into_bytes()),
            };
            match batch.get_mut(&key) {
                Some(pending) => pending.extend_from_slice(&bytes),
                None => {
                    batch.insert(key, bytes);
                    keys.push(key);
                }
            }
            next = inbox.try_recv().ok();
        }
        for (host, which) in keys {
            let Some(bytes) = batch.remove(&(host, which)) else {
                continue;
            };
            let Some(path) = files.get(host).map(|pair| &pair[which]) else {
                continue;
            };
            if failed.contains_key(path) {
                continue;
            }
            let written = std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .and_then(|mut file| file.write_all(&bytes));
            if let Err(e) = written {
                failed.insert(
                    path.clone(),
                    format!(
                        "--outdir: writing {} failed ({e}); it holds only what came before",
                        path.display()
                    ),
                );
                order.push(path.clone());
            }
        }
    }
    order
        .into_iter()
        .filter_map(|path| failed.remove(&path))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rc_line_says_how_a_host_ended() {
        let base = HostResult::failed("h".into(), String::new());
        let ended = |status: Option<u32>, signal: Option<&str>, kind: Option<&'static str>| {
            status_line(&HostResult {
                exit_status: status,
                signal: signal.map(String::from),
                error_kind: kind,
                ..base.clone()
            })
        };
        assert_eq!(ended(Some(0), None, None), "0\n");
        assert_eq!(ended(Some(3), None, None), "3\n");
        assert_eq!(ended(None, Some("TERM"), None), "signal TERM\n");
        assert_eq!(ended(None, None, Some("refused")), "error refused\n");
        // A timeout that closed a command which had printed a status is still a timeout.
        assert_eq!(
            ended(Some(0), None, Some("command-timeout")),
            "error command-timeout\n"
        );
    }
}
