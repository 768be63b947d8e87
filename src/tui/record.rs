//! Recordings (asciicast v2, `--record`, Alt-V) and plain-text logs (`--log`) of sessions.
//! The loop only hands copies of output, typed input and resizes to a writer thread over a
//! channel (no file IO on the loop); the thread creates the files, encodes and writes them,
//! rotates logs, and reports every failure back as a message for the status bar, so nothing
//! stops being written without the user being told.
//!
//! Hidden input never gets here: the model asks for an input event ([`Effect::RecordInput`])
//! only for what it sent visibly, and logs hold output only.
//!
//! [`Effect::RecordInput`]: crate::app::Effect::RecordInput

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use tokio::sync::mpsc::UnboundedSender;

use super::effects::Finished;
use crate::app::Msg;
use crate::lang::{tr, trf};
use crate::ssh::SessionId;

mod writer;

/// The default size at which a log is rotated (`--log-max-size`).
pub const DEFAULT_LOG_MAX_SIZE: u64 = 10 * 1024 * 1024;
/// How many rotated logs of a session are kept (`--log-keep`).
pub const DEFAULT_LOG_KEEP: usize = 5;

/// What the TUI records and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordOptions {
    /// Where recordings go: `--record DIR`, or (for Alt-V alone) the state directory's.
    pub dir: Option<PathBuf>,
    /// Every pane records from its start (`--record`).
    pub all: bool,
    /// Typed input becomes `"i"` events (`--record-input`); hidden input never does.
    pub input: bool,
    /// `--log DIR`: a plain-text log per session.
    pub log_dir: Option<PathBuf>,
    /// A log is rotated before it passes this many bytes.
    pub log_max_size: u64,
    /// Rotated logs kept per session (`NAME.log.1` newest).
    pub log_keep: usize,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            dir: None,
            all: false,
            input: false,
            log_dir: None,
            log_max_size: DEFAULT_LOG_MAX_SIZE,
            log_keep: DEFAULT_LOG_KEEP,
        }
    }
}

/// How long quitting waits for the writer thread to write out what it was given.
const FINISH_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// What the writer thread is asked to do.
enum Job {
    StartCast {
        id: SessionId,
        name: String,
        size: (u16, u16),
        started: (Instant, SystemTime),
        /// Say where it goes (Alt-V), not for every pane of `--record`.
        announce: bool,
    },
    StopCast {
        id: SessionId,
        announce: bool,
    },
    StartLog {
        id: SessionId,
        name: String,
        started: (Instant, SystemTime),
    },
    Output {
        id: SessionId,
        at: Instant,
        data: Vec<u8>,
    },
    Input {
        id: SessionId,
        at: Instant,
        data: bytes::Bytes,
    },
    Resize {
        id: SessionId,
        at: Instant,
        size: (u16, u16),
    },
    /// The session's pane is gone: end its recording and log.
    Close {
        id: SessionId,
    },
}

/// The loop's side: which sessions are recorded or logged, and the channel to the writer
/// thread (started on first use).
pub struct Recorder {
    options: RecordOptions,
    casting: HashSet<SessionId>,
    logging: HashSet<SessionId>,
    jobs: Option<std::sync::mpsc::Sender<Job>>,
    /// Closed by the writer thread as it ends: what [`Recorder::finish`] waits on.
    done: Option<std::sync::mpsc::Receiver<()>>,
    report: UnboundedSender<Finished>,
    /// After [`Recorder::finish`] nothing starts the thread again.
    ended: bool,
}

impl Recorder {
    pub fn new(options: RecordOptions, report: UnboundedSender<Finished>) -> Recorder {
        Recorder {
            options,
            casting: HashSet::new(),
            logging: HashSet::new(),
            jobs: None,
            done: None,
            report,
            ended: false,
        }
    }

    pub fn options(&self) -> &RecordOptions {
        &self.options
    }

    fn send(&mut self, job: Job) {
        if self.ended {
            return;
        }
        if self.jobs.is_none() {
            let (tx, rx) = std::sync::mpsc::channel();
            let report = self.report.clone();
            let options = self.options.clone();
            let (done_tx, done) = std::sync::mpsc::channel::<()>();
            let spawned = std::thread::Builder::new()
                .name("mtssh-record".into())
                .spawn(move || {
                    writer::run(rx, options, report);
                    drop(done_tx);
                });
            match spawned {
                Ok(_) => {
                    self.done = Some(done);
                    self.jobs = Some(tx);
                }
                Err(e) => {
                    let why = trf(
                        "recordings and logs are off: no writer thread: {why}",
                        &[("why", &e)],
                    );
                    let _ = self.report.send(Finished::Msg(Msg::Notice(why)));
                    self.casting.clear();
                    self.logging.clear();
                    return;
                }
            }
        }
        if let Some(jobs) = &self.jobs {
            // Fails only once the thread has ended, which it does only after `finish`.
            let _ = jobs.send(job);
        }
    }

    /// Starts recording a session at its PTY size; the message that says it cannot, if so.
    pub fn start_cast(
        &mut self,
        id: SessionId,
        name: &str,
        size: (u16, u16),
        announce: bool,
    ) -> Option<Msg> {
        if self.options.dir.is_none() {
            return Some(Msg::RecordStopped {
                id,
                why: tr("nowhere to record: no state directory; start with --record DIR").into(),
            });
        }
        // Sent even when the loop thinks it records already: a recording that failed on the
        // writer's side may be started again (the writer ignores a second start).
        self.casting.insert(id);
        self.send(Job::StartCast {
            id,
            name: name.to_string(),
            size,
            started: (Instant::now(), SystemTime::now()),
            announce,
        });
        None
    }

    pub fn stop_cast(&mut self, id: SessionId, announce: bool) {
        if self.casting.remove(&id) {
            self.send(Job::StopCast { id, announce });
        }
    }

    /// Starts the session's log, if `--log` asked for logs.
    pub fn start_log(&mut self, id: SessionId, name: &str) {
        if self.options.log_dir.is_none() || !self.logging.insert(id) {
            return;
        }
        self.send(Job::StartLog {
            id,
            name: name.to_string(),
            started: (Instant::now(), SystemTime::now()),
        });
    }

    /// A copy of the session's output for its recording and log, if it has either.
    pub fn output(&mut self, id: SessionId, data: &[u8]) {
        if self.casting.contains(&id) || self.logging.contains(&id) {
            let at = Instant::now();
            self.send(Job::Output {
                id,
                at,
                data: data.to_vec(),
            });
        }
    }

    /// Input the model sent visibly, for `--record-input`.
    pub fn input(&mut self, id: SessionId, data: bytes::Bytes) {
        if self.options.input && self.casting.contains(&id) {
            let at = Instant::now();
            self.send(Job::Input { id, at, data });
        }
    }

    pub fn resize(&mut self, id: SessionId, cols: u16, rows: u16) {
        if self.casting.contains(&id) {
            let at = Instant::now();
            self.send(Job::Resize {
                id,
                at,
                size: (cols, rows),
            });
        }
    }

    pub fn close(&mut self, id: SessionId) {
        if self.casting.remove(&id) | self.logging.remove(&id) {
            self.send(Job::Close { id });
        }
    }

    /// Ends every recording and log and waits for the writer to have written them (at the
    /// end of the run: the loop has nothing left to do).
    pub fn finish(&mut self) {
        self.ended = true;
        self.casting.clear();
        self.logging.clear();
        self.jobs = None;
        // A writer stuck on a hung file system must not keep the program from quitting.
        if let Some(done) = self.done.take()
            && let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = done.recv_timeout(FINISH_WAIT)
        {
            let why = trf(
                "recordings and logs: the writer did not finish within {secs} s; their last output may be missing",
                &[("secs", &FINISH_WAIT.as_secs())],
            );
            tracing::warn!("{why}");
            eprint!("mtssh: {why}\r\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{App, Effect};
    use crate::ssh::{Engine, EngineSettings};
    use crate::tui::effects::EffectRunner;

    /// A runner recording into `dir`, and an app with one pane.
    fn recording_into(dir: PathBuf) -> (EffectRunner, App, SessionId) {
        let (engine, _events) = Engine::new(EngineSettings::default());
        let mut effects = EffectRunner::new(engine, None, None);
        effects.set_record_options(RecordOptions {
            dir: Some(dir),
            ..Default::default()
        });
        let mut app = App::new(80, 24, 1);
        let (id, _) = app.add_pane("web01");
        (effects, app, id)
    }

    async fn next_notice(effects: &mut EffectRunner, app: &mut App) -> String {
        let finished = effects.finished().await;
        let msgs = effects.on_finished(finished);
        assert!(effects.deliver(app, msgs).is_empty());
        app.notice().unwrap_or_default().to_string()
    }

    #[tokio::test]
    async fn a_recording_that_cannot_start_says_why_and_drops_its_marker() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        let (mut effects, mut app, id) = recording_into(file.join("sub"));
        let alt_v = crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('v'),
            crossterm::event::KeyModifiers::ALT,
        );
        let todo = app.update(Msg::Key(alt_v));
        assert!(matches!(todo.as_slice(), [Effect::Record { on: true, .. }]));
        assert!(effects.run(&mut app, todo).is_empty());
        let notice = next_notice(&mut effects, &mut app).await;
        assert!(
            notice.starts_with("web01: not recorded: creating "),
            "{notice}"
        );
        assert!(notice.contains("a-file/sub"), "{notice}");
        assert!(!app.panes[0].recording, "the ● REC marker stays");
        assert_eq!(app.panes[0].id, id);
        effects.shutdown();
    }

    #[tokio::test]
    async fn alt_v_says_where_the_recording_goes_and_where_it_was_saved() {
        let dir = tempfile::tempdir().unwrap();
        let casts = dir.path().join("casts");
        let (mut effects, mut app, id) = recording_into(casts.clone());
        let record = |on| Effect::Record {
            id,
            on,
            announce: true,
        };
        assert!(effects.run(&mut app, vec![record(true)]).is_empty());
        let started = next_notice(&mut effects, &mut app).await;
        let path = casts.join("web01.cast");
        assert_eq!(started, format!("web01: recording to {}", path.display()));
        let data = "héllo\r\n".as_bytes().to_vec();
        let _ = effects.event_msg(crate::ssh::SessionEvent::Output { id, data });
        assert!(effects.run(&mut app, vec![record(false)]).is_empty());
        let saved = next_notice(&mut effects, &mut app).await;
        assert_eq!(
            saved,
            format!("web01: recording saved to {}", path.display())
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .ends_with(r#","o","héllo\r\n"]"#),
            "{text}"
        );
        effects.shutdown();
    }
}
