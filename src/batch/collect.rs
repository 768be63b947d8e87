//! Where a run's output goes while it arrives: `--inline` lines to stdout, every byte to the
//! `--outdir` files, and (with `--outdir` but no `--inline`) a copy kept up to `--max-output`
//! for the report. And stdout itself: a write that fails is remembered and told, and a
//! closed pipe (`| head`) stops the run.

use std::collections::HashMap;
use std::io::Write;
use std::rc::Rc;

use tokio::sync::Notify;

use super::outdir::Outdir;
use super::report::push_inline_lines;
use crate::modes::{HostResult, Stream};

/// Standard output, written without panicking, with its first failure kept.
pub(super) struct StdoutWriter {
    terminal: bool,
    /// Told when the reader of a pipe went away, to stop the run.
    closed: Rc<Notify>,
    pipe_closed: bool,
    failure: Option<std::io::Error>,
    /// One buffer, reused: a chunk of lines is formatted into it and written at once
    /// (stdout is line-buffered; a write per line would cost a syscall per line).
    chunk: Vec<u8>,
}

impl StdoutWriter {
    pub(super) fn new(terminal: bool) -> StdoutWriter {
        StdoutWriter {
            terminal,
            closed: Rc::new(Notify::new()),
            pipe_closed: false,
            failure: None,
            chunk: Vec::new(),
        }
    }

    /// Notified once when stdout's reader is gone (EPIPE).
    pub(super) fn closed_signal(&self) -> Rc<Notify> {
        self.closed.clone()
    }

    pub(super) fn pipe_closed(&self) -> bool {
        self.pipe_closed
    }

    /// Why writing to stdout failed (other than a closed pipe), if it did.
    pub(super) fn failure(&self) -> Option<&std::io::Error> {
        self.failure.as_ref()
    }

    fn stopped(&self) -> bool {
        self.pipe_closed || self.failure.is_some()
    }

    fn fail(&mut self, e: std::io::Error) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            self.pipe_closed = true;
            // A permit is stored if the run has not started waiting yet.
            self.closed.notify_one();
        } else if self.failure.is_none() {
            self.failure = Some(e);
        }
    }

    /// `name: line` for each line of `bytes`.
    pub(super) fn inline(&mut self, name: &str, bytes: &[u8], neutralize: bool) {
        if self.stopped() {
            return;
        }
        let mut chunk = std::mem::take(&mut self.chunk);
        chunk.clear();
        push_inline_lines(&mut chunk, name, bytes, neutralize);
        if self.terminal {
            // The progress bar shares this terminal: a line must not start after it.
            crate::modes::clear_status_line();
        }
        let written = std::io::stdout().lock().write_all(&chunk);
        self.chunk = chunk;
        if let Err(e) = written {
            self.fail(e);
        }
    }

    /// A whole report, written by `write`.
    pub(super) fn whole(
        &mut self,
        write: impl FnOnce(&mut std::io::StdoutLock<'static>) -> std::io::Result<()>,
    ) {
        if self.stopped() {
            return;
        }
        let written = write(&mut std::io::stdout().lock());
        if let Err(e) = written {
            self.fail(e);
        }
    }

    pub(super) fn flush(&mut self) {
        if self.stopped() {
            return;
        }
        if let Err(e) = std::io::stdout().lock().flush() {
            self.fail(e);
        }
    }
}

/// The driver's line sink of one run, host by host.
pub(super) struct Collector<'a> {
    index: HashMap<String, usize>,
    outdir: Option<&'a Outdir>,
    inline: bool,
    /// Keep a capped copy for the report: the driver forgets what it hands a sink.
    keep: bool,
    max: usize,
    kept: Vec<[Vec<u8>; 2]>,
    dropped: Vec<[u64; 2]>,
    /// Each host's latest stderr piece, held back until the next one or the end: the driver
    /// ends a failed host's lines with `mtssh: ERROR` (see `modes::driver::finish`), which
    /// the host did not print and its .err file must not hold.
    held: Vec<Option<Vec<u8>>>,
}

impl<'a> Collector<'a> {
    /// `names` are unique (see `unique_names`) and in target order. `keep`: keep a copy for
    /// a report at the end (the driver forgets what it hands a sink).
    pub(super) fn new(
        names: &[String],
        outdir: Option<&'a Outdir>,
        inline: bool,
        keep: bool,
        max: usize,
    ) -> Collector<'a> {
        Collector {
            index: names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), i))
                .collect(),
            outdir,
            inline,
            keep,
            max,
            kept: vec![[Vec::new(), Vec::new()]; names.len()],
            dropped: vec![[0, 0]; names.len()],
            held: vec![None; names.len()],
        }
    }

    /// Whether the driver should hand its lines here (and forget them).
    pub(super) fn takes_lines(&self) -> bool {
        self.inline || self.outdir.is_some() || self.keep
    }

    /// One call of the driver's sink.
    pub(super) fn lines(
        &mut self,
        name: &str,
        stream: Stream,
        lines: &[u8],
        neutralize: bool,
        out: &mut StdoutWriter,
    ) {
        if self.inline {
            out.inline(name, lines, neutralize);
        }
        if self.outdir.is_none() && !self.keep {
            return;
        }
        let Some(&host) = self.index.get(name) else {
            return;
        };
        match stream {
            Stream::Stdout => self.release(host, stream, lines),
            Stream::Stderr => {
                if let Some(previous) = self.held[host].replace(lines.to_vec()) {
                    self.release(host, stream, &previous);
                }
            }
        }
    }

    fn release(&mut self, host: usize, stream: Stream, bytes: &[u8]) {
        if let Some(outdir) = self.outdir {
            outdir.append(host, stream, bytes);
        }
        if self.keep {
            let which = usize::from(stream == Stream::Stderr);
            let buffer = &mut self.kept[host][which];
            let taken = self.max.saturating_sub(buffer.len()).min(bytes.len());
            buffer.extend_from_slice(&bytes[..taken]);
            self.dropped[host][which] += (bytes.len() - taken) as u64;
        }
    }

    /// When host `host` is done: releases what was held back (but the driver's own error
    /// line), and gives its result the kept copies.
    pub(super) fn finish_host(&mut self, host: usize, r: &mut HostResult) {
        if let Some(held) = self.held.get_mut(host).and_then(Option::take) {
            let ours = r
                .error
                .as_ref()
                .is_some_and(|e| held == format!("mtssh: {e}").as_bytes());
            if !ours {
                self.release(host, Stream::Stderr, &held);
            }
        }
        if let Some(outdir) = self.outdir {
            outdir.ended(host, r);
        }
        if self.keep
            && let Some(kept) = self.kept.get_mut(host)
        {
            let [stdout, stderr] = std::mem::take(kept);
            r.stdout = stdout;
            r.stderr = stderr;
            r.dropped = (self.dropped[host][0], self.dropped[host][1]);
        }
    }
}
