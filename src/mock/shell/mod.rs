//! The practice shell behind the mock SSH server.
//!
//! It is a pure state machine so that every terminal quirk (split UTF-8,
//! CR/LF pairs, Ctrl-C during a sleep, type-ahead) can be unit tested without
//! sockets or timers. The SSH runner feeds it bytes and performs the
//! [`Action`]s it returns, strictly in order.
//!
//! Runner contract, interactive (`shell` request):
//! - `Output`: write the bytes to the channel.
//! - `Sleep { millis }`: start a timer; when it fires call
//!   [`Shell::sleep_finished`]. Keep calling [`Shell::feed`] meanwhile.
//! - `Seq { count }`: stream `seq_chunk(a, b, shell.crlf())` pieces covering
//!   `1..=count` with flow control, then call [`Shell::seq_finished`].
//! - `CancelSleep` / `CancelSeq`: Ctrl-C arrived; drop the timer or stop the
//!   stream and do NOT call `*_finished`. The cancel action always comes
//!   before the `Output` carrying `^C` and the new prompt, so the stream is
//!   stopped before that text is written.
//! - `Exit(status)`: send exit-status and close the channel; the shell
//!   ignores all later calls.
//!
//! Runner contract, exec ([`run_exec`]): the returned list is a script.
//! Perform it top to bottom, awaiting each `Sleep` and streaming each `Seq`
//! inline; there is no `Shell`, so no `*_finished` calls. It always ends with
//! exactly one `Exit`.
//!
//! The pieces: `line` is the line discipline (bytes to an edited line),
//! `words` splits a line into commands and words and expands `$VAR`,
//! `builtins` runs one command, `texts` holds the bilingual texts and
//! `clock` the calendar maths behind `date` and `uptime`.

mod builtins;
mod clock;
mod line;
#[cfg(test)]
mod marks_tests;
#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests;
mod texts;
mod words;

use std::collections::VecDeque;
use std::mem;

pub use super::differ::Difference;
pub use crate::lang::Lang;
pub use builtins::seq_chunk;
use texts::{HANDOUT_BANNER, HANDOUT_PROMPT, banner, clean_line};
use words::split_segments;

/// Longest line the editor keeps; a client must not be able to grow memory
/// without bound by never pressing Enter.
pub const MAX_LINE: usize = 4096;
/// Type-ahead held while a command runs; excess is dropped like a full tty
/// input queue.
pub const MAX_PENDING: usize = 64 * 1024;
/// `sleep` is clamped to this so a student cannot park a session forever.
pub const MAX_SLEEP_MS: u64 = 3_600_000;
/// `seq` is clamped to this.
pub const MAX_SEQ: u64 = 100_000_000;
/// Environment entries accepted through `set_env`, and their sizes.
pub const MAX_ENV_VARS: usize = 128;
const MAX_ENV_NAME: usize = 256;
const MAX_ENV_VALUE: usize = 4096;
/// A CSI longer than this is not a key press; give up and treat the rest as
/// text so a stray ESC cannot swallow the user's whole line.
const MAX_CSI: u8 = 32;
const SHELL_PATH: &str = "/bin/mtssh-mock";
/// What bash reports after SIGINT (128 + 2).
const STATUS_INTERRUPTED: u32 = 130;
/// What bash uses for `exit foo`.
const STATUS_BAD_EXIT_ARG: u32 = 2;

/// What the shell looks like to its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShellStyle {
    /// The practice shell: `user@host:~$ ` prompts, builtins, OSC 133 marks.
    #[default]
    Practice,
    /// The course handout's echo server: its Chinese banner, a `> ` prompt, and every line
    /// echoed as `服务端收到指令：<line>` (only `exit` is a command), so clients written
    /// from the handout (which read until `> `) work unchanged.
    Handout,
}

impl ShellStyle {
    /// Every style, in the order of [`ShellStyle::NAMES`].
    pub const ALL: [ShellStyle; 2] = [ShellStyle::Practice, ShellStyle::Handout];
    pub const NAMES: &[&str] = &["practice", "handout"];

    pub fn name(self) -> &'static str {
        match self {
            ShellStyle::Practice => "practice",
            ShellStyle::Handout => "handout",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellConfig {
    pub hostname: String,
    pub user: String,
    pub lang: Lang,
    /// `(cols, rows)` from pty-req; `None` means no line discipline.
    pub pty: Option<(u16, u16)>,
    pub env: Vec<(String, String)>,
    /// Server start, for `uptime`.
    pub started_at_unix: u64,
    /// Wrap prompts and commands in OSC 133 semantic-prompt marks (pty only).
    pub marks: bool,
    /// This host differs on purpose (`mtssh mock --differ`).
    pub differ: Option<Difference>,
    pub style: ShellStyle,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Bytes to send to the client.
    Output(Vec<u8>),
    /// Busy until the runner calls [`Shell::sleep_finished`].
    Sleep { millis: u64 },
    /// Ctrl-C during a sleep: drop the timer.
    CancelSleep,
    /// Stream `1..=count` via [`seq_chunk`], then call [`Shell::seq_finished`].
    Seq { count: u64 },
    /// Ctrl-C during a seq: stop streaming.
    CancelSeq,
    /// Close the channel with this exit status.
    Exit(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Busy {
    Idle,
    Sleep(u64),
    Seq,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Esc {
    Ground,
    /// Saw ESC.
    Start,
    /// Inside `ESC [`, with the count of bytes so far.
    Csi(u8),
    /// `ESC O` (application cursor keys): one more byte follows.
    Ss3,
}

enum Flow {
    Next,
    Busy,
    Exit(u32),
}

/// Collects text and actions, merging adjacent text into one `Output` so the
/// runner does one channel write per batch.
struct Out {
    crlf: bool,
    buf: Vec<u8>,
    actions: Vec<Action>,
}

impl Out {
    fn new(crlf: bool) -> Self {
        Out {
            crlf,
            buf: Vec::new(),
            actions: Vec::new(),
        }
    }

    /// Program text: every `\n` becomes `\r\n` on a pty, as `onlcr` would.
    fn text(&mut self, s: &str) {
        for b in s.bytes() {
            if b == b'\n' && self.crlf {
                self.buf.push(b'\r');
            }
            self.buf.push(b);
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn action(&mut self, a: Action) {
        self.flush();
        self.actions.push(a);
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.actions.push(Action::Output(mem::take(&mut self.buf)));
        }
    }

    fn finish(mut self) -> Vec<Action> {
        self.flush();
        self.actions
    }
}

#[derive(Debug)]
pub struct Shell {
    cfg: ShellConfig,
    line: String,
    /// Only the first overflowing key rings, so a huge paste is not answered
    /// with a huge run of bells.
    overflowed: bool,
    utf8: Vec<u8>,
    utf8_need: usize,
    esc: Esc,
    /// A `\r` was the last byte, so a following `\n` is the same Enter.
    after_cr: bool,
    busy: Busy,
    pending: Vec<u8>,
    /// Remaining `;`-separated commands of the line being run.
    queue: VecDeque<String>,
    last_status: u32,
    /// Best known time; advanced by finished sleeps because
    /// `sleep_finished` gets no clock.
    now_ms: u64,
    eof_pending: bool,
    exited: bool,
    /// An OSC 133 `C` went out, so the next prompt owes a `D;status`.
    command_open: bool,
}

impl Shell {
    pub fn new(cfg: ShellConfig) -> Shell {
        let mut cfg = cfg;
        // Both come from outside (the auth request, config); printing them
        // raw would let them carry terminal escapes into every prompt.
        cfg.user = clean_line(&cfg.user);
        cfg.hostname = clean_line(&cfg.hostname);
        let now_ms = cfg.started_at_unix.saturating_mul(1000);
        Shell {
            cfg,
            line: String::new(),
            overflowed: false,
            utf8: Vec::with_capacity(4),
            utf8_need: 0,
            esc: Esc::Ground,
            after_cr: false,
            busy: Busy::Idle,
            pending: Vec::new(),
            queue: VecDeque::new(),
            last_status: 0,
            now_ms,
            eof_pending: false,
            exited: false,
            command_open: false,
        }
    }

    /// Whether output (including `seq_chunk`) must use `\r\n`.
    pub fn crlf(&self) -> bool {
        self.cfg.pty.is_some()
    }

    pub fn has_exited(&self) -> bool {
        self.exited
    }

    pub fn start(&mut self, now_unix: u64) -> Vec<Action> {
        let mut out = self.out();
        if self.exited {
            return out.finish();
        }
        self.set_now(now_unix);
        if self.handout() {
            out.text(HANDOUT_BANNER);
        } else {
            out.text(&banner(self.lang(), &self.cfg.user, &self.cfg.hostname));
        }
        self.prompt(&mut out);
        out.finish()
    }

    pub fn feed(&mut self, bytes: &[u8], now_unix: u64) -> Vec<Action> {
        let mut out = self.out();
        if self.exited {
            return out.finish();
        }
        self.set_now(now_unix);
        self.input(bytes, &mut out);
        self.check_eof(&mut out);
        out.finish()
    }

    /// Stale calls (after Ctrl-C already cancelled) are ignored, so the
    /// runner need not synchronise its timer with the cancel action.
    pub fn sleep_finished(&mut self) -> Vec<Action> {
        let mut out = self.out();
        if let Busy::Sleep(ms) = self.busy {
            self.now_ms = self.now_ms.saturating_add(ms);
            self.finish_busy(&mut out);
        }
        out.finish()
    }

    pub fn seq_finished(&mut self) -> Vec<Action> {
        let mut out = self.out();
        if self.busy == Busy::Seq {
            self.finish_busy(&mut out);
        }
        out.finish()
    }

    /// A window-change without a pty-req does not create a pty: the client
    /// asked for raw mode and switching discipline mid-session would garble
    /// it.
    pub fn resize(&mut self, cols: u16, rows: u16) {
        if let Some(p) = self.cfg.pty.as_mut() {
            *p = (cols, rows);
        }
    }

    /// Call with the pty-req terminal name as `TERM`, plus any `env`
    /// requests. Bounded in count and size since clients choose them.
    pub fn set_env(&mut self, name: &str, value: &str) {
        if name.is_empty() || name.len() > MAX_ENV_NAME || value.len() > MAX_ENV_VALUE {
            return;
        }
        if let Some(e) = self.cfg.env.iter_mut().find(|e| e.0 == name) {
            e.1 = value.to_string();
        } else if self.cfg.env.len() < MAX_ENV_VARS {
            self.cfg.env.push((name.to_string(), value.to_string()));
        }
    }

    /// Like a shell reading a pipe: a final unterminated line still runs, a
    /// running command is allowed to finish, then the shell exits with the
    /// last status.
    pub fn eof(&mut self) -> Vec<Action> {
        let mut out = self.out();
        if self.exited {
            return out.finish();
        }
        self.eof_pending = true;
        self.check_eof(&mut out);
        out.finish()
    }

    fn out(&self) -> Out {
        Out::new(self.crlf())
    }

    fn set_now(&mut self, now_unix: u64) {
        self.now_ms = now_unix.saturating_mul(1000);
    }

    fn now_unix(&self) -> u64 {
        self.now_ms / 1000
    }

    /// With marks, as a FinalTerm-style shell integration would: `D;status` closes the
    /// command that ran, `A` … `B` bracket the prompt.
    fn prompt(&mut self, out: &mut Out) {
        if self.handout() {
            out.text(HANDOUT_PROMPT);
            return;
        }
        let marks = self.marks();
        if marks && mem::take(&mut self.command_open) {
            out.raw(format!("\x1b]133;D;{}\x07", self.last_status).as_bytes());
        }
        if marks {
            out.raw(b"\x1b]133;A\x07");
        }
        out.text(&format!("{}@{}:~$ ", self.cfg.user, self.cfg.hostname));
        if marks {
            out.raw(b"\x1b]133;B\x07");
        }
    }

    /// `C`: the line was accepted and its output starts here.
    fn mark_output(&mut self, out: &mut Out) {
        if self.marks() {
            out.raw(b"\x1b]133;C\x07");
            self.command_open = true;
        }
    }

    fn marks(&self) -> bool {
        // The handout's clients read until `> `: a mark after it would reach them as noise.
        self.cfg.marks && self.crlf() && !self.handout()
    }

    fn handout(&self) -> bool {
        self.cfg.style == ShellStyle::Handout
    }

    fn lang(&self) -> Lang {
        self.cfg.lang
    }

    fn input(&mut self, bytes: &[u8], out: &mut Out) {
        let mut i = 0;
        while i < bytes.len() && !self.exited {
            if self.busy != Busy::Idle {
                let rest = &bytes[i..];
                match rest.iter().position(|&b| b == 0x03) {
                    Some(p) => {
                        self.interrupt(out);
                        i += p + 1;
                    }
                    None => {
                        let room = MAX_PENDING.saturating_sub(self.pending.len());
                        let take = rest.len().min(room);
                        self.pending.extend_from_slice(&rest[..take]);
                        return;
                    }
                }
                continue;
            }
            self.byte(bytes[i], out);
            i += 1;
        }
    }

    /// Ctrl-C while busy. Type-ahead typed before it is discarded, as a tty
    /// flushes its input queue on SIGINT, and so are the remaining commands of
    /// a `;` list, as bash aborts the list.
    fn interrupt(&mut self, out: &mut Out) {
        let cancel = match self.busy {
            Busy::Sleep(_) => Action::CancelSleep,
            Busy::Seq => Action::CancelSeq,
            Busy::Idle => return,
        };
        self.busy = Busy::Idle;
        self.pending.clear();
        self.queue.clear();
        self.last_status = STATUS_INTERRUPTED;
        out.action(cancel);
        out.text("^C\n");
        self.prompt(out);
    }

    fn finish_busy(&mut self, out: &mut Out) {
        self.busy = Busy::Idle;
        self.last_status = 0;
        self.run_queue(out);
        if self.busy == Busy::Idle && !self.exited {
            let pending = mem::take(&mut self.pending);
            self.input(&pending, out);
        }
        self.check_eof(out);
    }

    fn check_eof(&mut self, out: &mut Out) {
        if !self.eof_pending || self.busy != Busy::Idle || self.exited {
            return;
        }
        if !self.line.is_empty() || !self.utf8.is_empty() {
            self.utf8.clear();
            self.enter(out);
            if self.busy != Busy::Idle || self.exited {
                return;
            }
        }
        self.eof_pending = false;
        if self.crlf() {
            out.text("logout\n");
        }
        let status = self.last_status;
        self.exit(status, out);
    }

    fn exit(&mut self, status: u32, out: &mut Out) {
        self.exited = true;
        self.queue.clear();
        self.pending.clear();
        self.line.clear();
        out.action(Action::Exit(status));
    }
}

/// Runs an exec request's command line. See the module docs for how the
/// runner performs the returned script; it always ends with one `Exit`.
/// The words of an exec command that is one simple command (no `;` or newline between
/// commands), quotes removed and `$VAR`s expanded as the practice shell would: for the
/// commands the server runs itself (`sha256sum`, which reads files).
pub fn exec_words(cfg: &ShellConfig, command: &str) -> Option<Vec<String>> {
    let segments = split_segments(command);
    let [only] = segments.as_slice() else {
        return None;
    };
    Some(Shell::new(cfg.clone()).words(only))
}

pub fn run_exec(cfg: &ShellConfig, command: &str, now_unix: u64) -> Vec<Action> {
    let mut sh = Shell::new(cfg.clone());
    sh.set_now(now_unix);
    let mut out = sh.out();
    for seg in split_segments(command) {
        match sh.run_segment(&seg, &mut out) {
            Flow::Next => {}
            Flow::Busy => {
                if let Busy::Sleep(ms) = sh.busy {
                    sh.now_ms = sh.now_ms.saturating_add(ms);
                }
                sh.busy = Busy::Idle;
            }
            Flow::Exit(code) => {
                out.action(Action::Exit(code));
                return out.finish();
            }
        }
    }
    out.action(Action::Exit(sh.last_status));
    out.finish()
}
