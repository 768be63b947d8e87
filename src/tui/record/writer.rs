//! The writer thread of [`super::Recorder`]: asciicast v2 files and rotated plain-text logs.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::time::{Instant, SystemTime};

use anyhow::Context;
use tokio::sync::mpsc::UnboundedSender;

use super::{Job, RecordOptions};
use crate::app::Msg;
use crate::lang::trf;
use crate::ssh::SessionId;
use crate::text::capture::{PlainLines, Utf8Carry};
use crate::tui::effects::Finished;

/// Takes jobs until the loop's side is dropped, then ends every file properly.
pub(super) fn run(jobs: Receiver<Job>, options: RecordOptions, report: UnboundedSender<Finished>) {
    let mut writer = Writer {
        options,
        casts: HashMap::new(),
        logs: HashMap::new(),
        report,
    };
    while let Ok(job) = jobs.recv() {
        writer.take(job);
        // Whatever else is queued before one flush: a flood costs one write per batch.
        while let Ok(job) = jobs.try_recv() {
            writer.take(job);
        }
        writer.flush();
    }
    let ids: Vec<SessionId> = writer
        .casts
        .keys()
        .chain(writer.logs.keys())
        .copied()
        .collect();
    for id in ids {
        writer.close(id);
    }
}

struct Writer {
    options: RecordOptions,
    casts: HashMap<SessionId, Cast>,
    logs: HashMap<SessionId, Log>,
    report: UnboundedSender<Finished>,
}

impl Writer {
    fn tell(&self, msg: Msg) {
        let _ = self.report.send(Finished::Msg(msg));
    }

    fn take(&mut self, job: Job) {
        match job {
            Job::StartCast {
                id,
                name,
                size,
                started,
                announce,
            } => {
                if self.casts.contains_key(&id) {
                    return;
                }
                let Some(dir) = self.options.dir.clone() else {
                    return;
                };
                match Cast::create(&dir, &name, size, started) {
                    Ok(cast) => {
                        if announce {
                            let to = cast.path.display();
                            self.tell(Msg::Notice(trf(
                                "{name}: recording to {to}",
                                &[("name", &name), ("to", &to)],
                            )));
                        }
                        self.casts.insert(id, cast);
                    }
                    Err(e) => self.tell(Msg::RecordStopped {
                        id,
                        why: trf(
                            "{name}: not recorded: {why}",
                            &[("name", &name), ("why", &format!("{e:#}"))],
                        ),
                    }),
                }
            }
            Job::StopCast { id, announce } => {
                if let Some(cast) = self.casts.remove(&id) {
                    let name = cast.name.clone();
                    match cast.finish() {
                        Ok(path) if announce => self.tell(Msg::Notice(trf(
                            "{name}: recording saved to {path}",
                            &[("name", &name), ("path", &path.display())],
                        ))),
                        Ok(_) => {}
                        Err(e) => self.tell(Msg::Notice(trf(
                            "{name}: recording: {why}",
                            &[("name", &name), ("why", &format!("{e:#}"))],
                        ))),
                    }
                }
            }
            Job::StartLog { id, name, started } => {
                if self.logs.contains_key(&id) {
                    return;
                }
                let Some(dir) = self.options.log_dir.clone() else {
                    return;
                };
                match Log::create(&dir, &name, started, &self.options) {
                    Ok(log) => {
                        self.logs.insert(id, log);
                    }
                    Err(e) => self.tell(Msg::Notice(trf(
                        "{name}: not logged: {why}",
                        &[("name", &name), ("why", &format!("{e:#}"))],
                    ))),
                }
            }
            Job::Output { id, at, data } => {
                if let Some(cast) = self.casts.get_mut(&id) {
                    let text = cast.output.push(&data);
                    let written = cast.event(at, "o", &text);
                    self.cast_result(id, written);
                }
                if let Some(log) = self.logs.get_mut(&id) {
                    let written = log.output(at, &data);
                    self.log_result(id, written);
                }
            }
            Job::Input { id, at, data } => {
                if let Some(cast) = self.casts.get_mut(&id) {
                    let text = cast.input.push(&data);
                    let written = cast.event(at, "i", &text);
                    self.cast_result(id, written);
                }
            }
            Job::Resize { id, at, size } => {
                if let Some(cast) = self.casts.get_mut(&id) {
                    let written = cast.event(at, "r", &format!("{}x{}", size.0, size.1));
                    self.cast_result(id, written);
                }
            }
            Job::Close { id } => self.close(id),
        }
    }

    /// A recording that could not be written is ended, and the user told (the pane's
    /// marker goes).
    fn cast_result(&mut self, id: SessionId, written: anyhow::Result<()>) {
        if let Err(e) = written
            && let Some(cast) = self.casts.remove(&id)
        {
            self.tell(Msg::RecordStopped {
                id,
                why: trf(
                    "{name}: recording stopped: {why}",
                    &[("name", &cast.name), ("why", &format!("{e:#}"))],
                ),
            });
        }
    }

    fn log_result(&mut self, id: SessionId, written: anyhow::Result<()>) {
        if let Err(e) = written
            && let Some(log) = self.logs.remove(&id)
        {
            self.tell(Msg::Notice(trf(
                "{name}: log stopped: {why}",
                &[("name", &log.name), ("why", &format!("{e:#}"))],
            )));
        }
    }

    fn flush(&mut self) {
        let failed: Vec<(SessionId, anyhow::Error)> = self
            .casts
            .iter_mut()
            .filter_map(|(id, cast)| cast.flush().err().map(|e| (*id, e)))
            .collect();
        for (id, e) in failed {
            self.cast_result(id, Err(e));
        }
        let failed: Vec<(SessionId, anyhow::Error)> = self
            .logs
            .iter_mut()
            .filter_map(|(id, log)| log.flush().err().map(|e| (*id, e)))
            .collect();
        for (id, e) in failed {
            self.log_result(id, Err(e));
        }
    }

    fn close(&mut self, id: SessionId) {
        if let Some(cast) = self.casts.remove(&id) {
            let name = cast.name.clone();
            if let Err(e) = cast.finish() {
                self.tell(Msg::Notice(trf(
                    "{name}: recording: {why}",
                    &[("name", &name), ("why", &format!("{e:#}"))],
                )));
            }
        }
        if let Some(log) = self.logs.remove(&id) {
            let name = log.name.clone();
            if let Err(e) = log.finish() {
                self.tell(Msg::Notice(trf(
                    "{name}: log: {why}",
                    &[("name", &name), ("why", &format!("{e:#}"))],
                )));
            }
        }
    }
}

/// One asciicast v2 file: a JSON header line, then `[seconds, "o"|"i"|"r", text]` lines.
struct Cast {
    name: String,
    path: PathBuf,
    out: BufWriter<File>,
    started: Instant,
    output: Utf8Carry,
    input: Utf8Carry,
}

impl Cast {
    fn create(
        dir: &Path,
        name: &str,
        (cols, rows): (u16, u16),
        (started, wall): (Instant, SystemTime),
    ) -> anyhow::Result<Cast> {
        let stem = crate::text::safe_file_name(name);
        let (path, file) = crate::sys::create_numbered_file(dir, |n| numbered(&stem, n, "cast"))?;
        let timestamp = wall
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let header = serde_json::json!({
            "version": 2,
            "width": cols,
            "height": rows,
            "timestamp": timestamp,
            "title": name,
        });
        let mut cast = Cast {
            name: name.to_string(),
            path,
            out: BufWriter::new(file),
            started,
            output: Utf8Carry::default(),
            input: Utf8Carry::default(),
        };
        cast.line(&header)?;
        Ok(cast)
    }

    fn line(&mut self, value: &impl serde::Serialize) -> anyhow::Result<()> {
        serde_json::to_writer(&mut self.out, value)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"))
            .with_context(|| trf("writing {path}", &[("path", &self.path.display())]))
    }

    fn event(&mut self, at: Instant, kind: &str, text: &str) -> anyhow::Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        // Microseconds are all a player can use.
        let secs = at.saturating_duration_since(self.started).as_micros() as f64 / 1e6;
        self.line(&(secs, kind, text))
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.out
            .flush()
            .with_context(|| trf("writing {path}", &[("path", &self.path.display())]))
    }

    /// Writes what was kept back and closes the file; where it is.
    fn finish(mut self) -> anyhow::Result<PathBuf> {
        let tail = self.output.finish();
        let now = Instant::now();
        self.event(now, "o", &tail)?;
        let tail = self.input.finish();
        self.event(now, "i", &tail)?;
        self.flush()?;
        Ok(self.path)
    }
}

/// `STEM.EXT` first, then `STEM-2.EXT`, …: two sessions of one name get a file each.
fn numbered(stem: &str, n: usize, ext: &str) -> String {
    if n == 1 {
        format!("{stem}.{ext}")
    } else {
        format!("{stem}-{n}.{ext}")
    }
}

/// One session's plain-text log: `TIMESTAMP text` per line, rotated at a size.
struct Log {
    name: String,
    path: PathBuf,
    out: BufWriter<File>,
    /// Bytes in the current file.
    size: u64,
    max_size: u64,
    keep: usize,
    /// The wall clock of `started`, to turn the loop's instants into times of day.
    started: (Instant, SystemTime),
    utf8: Utf8Carry,
    plain: PlainLines,
}

impl Log {
    fn create(
        dir: &Path,
        name: &str,
        started: (Instant, SystemTime),
        options: &RecordOptions,
    ) -> anyhow::Result<Log> {
        let stem = crate::text::safe_file_name(name);
        let (path, file) = crate::sys::create_numbered_file(dir, |n| numbered(&stem, n, "log"))?;
        Ok(Log {
            name: name.to_string(),
            path,
            out: BufWriter::new(file),
            size: 0,
            max_size: options.log_max_size.max(1),
            keep: options.log_keep,
            started,
            utf8: Utf8Carry::default(),
            plain: PlainLines::default(),
        })
    }

    fn output(&mut self, at: Instant, data: &[u8]) -> anyhow::Result<()> {
        let text = self.utf8.push(data);
        let mut lines = Vec::new();
        self.plain.push(&text, |line| lines.push(line.to_string()));
        let wall = self.started.1 + at.saturating_duration_since(self.started.0);
        lines.iter().try_for_each(|line| self.line(wall, line))
    }

    /// `line` stamped with `wall` (when its end arrived, as `ts` stamps a pipe's lines).
    fn line(&mut self, wall: SystemTime, line: &str) -> anyhow::Result<()> {
        let stamped = format!("{} {line}\n", crate::sys::utc_timestamp(wall));
        if self.size > 0 && self.size + stamped.len() as u64 > self.max_size {
            self.rotate()?;
        }
        self.out
            .write_all(stamped.as_bytes())
            .with_context(|| trf("writing {path}", &[("path", &self.path.display())]))?;
        self.size += stamped.len() as u64;
        Ok(())
    }

    /// `NAME.log` becomes `NAME.log.1` (the older ones move up one, the oldest beyond
    /// `keep` goes) and a new `NAME.log` begins. Renames replace a planted symlink itself,
    /// never what it points to; the new file is created exclusively.
    fn rotate(&mut self) -> anyhow::Result<()> {
        self.flush()?;
        let rotated = |n: usize| PathBuf::from(format!("{}.{n}", self.path.display()));
        if self.keep == 0 {
            remove_if_there(&self.path)?;
        } else {
            remove_if_there(&rotated(self.keep))?;
            for n in (1..self.keep).rev() {
                rename_if_there(&rotated(n), &rotated(n + 1))?;
            }
            rename_if_there(&self.path, &rotated(1))?;
        }
        let file = crate::sys::open_private_file(&self.path, crate::sys::PrivateOpen::CreateNew)
            .with_context(|| trf("creating {path}", &[("path", &self.path.display())]))?;
        self.out = BufWriter::new(file);
        self.size = 0;
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.out
            .flush()
            .with_context(|| trf("writing {path}", &[("path", &self.path.display())]))
    }

    /// Writes the line begun but not ended (a prompt) and closes the file.
    fn finish(mut self) -> anyhow::Result<()> {
        let mut text = self.utf8.finish();
        text.push('\n');
        let mut lines = Vec::new();
        self.plain.push(&text, |line| {
            if !line.is_empty() {
                lines.push(line.to_string())
            }
        });
        let now = SystemTime::now();
        for line in lines {
            self.line(now, &line)?;
        }
        self.flush()
    }
}

fn remove_if_there(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| trf("removing {path}", &[("path", &path.display())]))
        }
        _ => Ok(()),
    }
}

fn rename_if_there(from: &Path, to: &Path) -> anyhow::Result<()> {
    match std::fs::rename(from, to) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).with_context(|| {
            trf(
                "renaming {from} to {to}",
                &[("from", &from.display()), ("to", &to.display())],
            )
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(dir: &Path) -> RecordOptions {
        RecordOptions {
            dir: Some(dir.join("casts")),
            log_dir: Some(dir.join("logs")),
            ..Default::default()
        }
    }

    #[test]
    fn a_cast_is_a_header_then_events_and_a_cut_character_stays_whole() {
        let dir = tempfile::tempdir().unwrap();
        let started = (Instant::now(), SystemTime::now());
        let mut cast = Cast::create(dir.path(), "web/01", (80, 24), started).unwrap();
        let data = "héllo\r\n".as_bytes();
        for chunk in [&data[..2], &data[2..]] {
            let text = cast.output.push(chunk);
            cast.event(started.0, "o", &text).unwrap();
        }
        cast.event(started.0, "r", "100x30").unwrap();
        let path = cast.finish().unwrap();
        assert_eq!(path, dir.path().join("web_01.cast"));
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["version"], 2);
        assert_eq!(lines[0]["width"], 80);
        assert_eq!(lines[0]["height"], 24);
        assert_eq!(lines[0]["title"], "web/01");
        assert!(lines[0]["timestamp"].as_u64().unwrap() > 1_700_000_000);
        assert_eq!(lines[1], serde_json::json!([0.0, "o", "h"]));
        assert_eq!(lines[2], serde_json::json!([0.0, "o", "éllo\r\n"]));
        assert_eq!(lines[3], serde_json::json!([0.0, "r", "100x30"]));
        assert_eq!(lines.len(), 4);
        // A second session of that name gets a file of its own; the first is kept.
        let again = Cast::create(dir.path(), "web/01", (80, 24), started).unwrap();
        assert_eq!(again.path, dir.path().join("web_01-2.cast"));
    }

    #[test]
    fn a_log_rotates_at_its_size_and_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let mut options = options(dir.path());
        options.log_max_size = 100;
        options.log_keep = 2;
        let started = (Instant::now(), SystemTime::now());
        let logs = dir.path().join("logs");
        let mut log = Log::create(&logs, "db", started, &options).unwrap();
        for i in 0..20 {
            log.output(
                started.0,
                format!("\x1b[1mline {i:02}\x1b[0m\r\n").as_bytes(),
            )
            .unwrap();
        }
        log.finish().unwrap();
        let current = std::fs::read_to_string(logs.join("db.log")).unwrap();
        let older = std::fs::read_to_string(logs.join("db.log.1")).unwrap();
        let oldest = std::fs::read_to_string(logs.join("db.log.2")).unwrap();
        assert!(!logs.join("db.log.3").exists());
        for text in [&current, &older, &oldest] {
            assert!(text.len() <= 100, "{text}");
            for line in text.lines() {
                // `2026-12-02T17:02:44.123Z line 07`
                let (stamp, rest) = line.split_once(' ').unwrap();
                assert_eq!(stamp.len(), 24, "{line}");
                assert!(stamp.ends_with('Z') && stamp.contains('T'), "{line}");
                assert!(rest.starts_with("line "), "{line}");
            }
        }
        assert!(current.ends_with("line 19\n"), "{current}");
        assert!(!current.contains('\x1b'));
    }
}
