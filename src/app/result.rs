//! What a pane's last command answered, read from its output stream as it arrives.
//!
//! With OSC 133 semantic-prompt marks (FinalTerm's, as iTerm2, WezTerm, kitty and VS Code
//! use them: `A` prompt, `B` command, `C` output, `D;status` done) the output is exactly what
//! came between `C` and `D`, with the exit status `D` carries. Without marks, the output is
//! what the pane printed after the echo of a line mtssh sent, up to the next prompt (the
//! prompt learned from the cursor's line when the line was sent); the status is unknown.
//! vt100 ignores OSC 133, so the bytes are scanned here, next to it, by a byte-at-a-time
//! machine that survives marks split across chunks.

/// Most output kept per pane and command: the results view compares outputs, it does not
/// archive them (the scrollback does).
pub const MAX_OUTPUT: usize = 64 * 1024;
/// An OSC longer than this is no mark; it is dropped and scanning goes on.
const MAX_OSC: usize = 64;
/// Output bytes kept for finding the prompt at its end: a prompt longer than half of this
/// is not found.
const TAIL: usize = 1024;

use crate::ssh::{ExecEnd, ExecEvent};

/// Exec output as text: no PTY, so only CRs to drop (a remote may still send some).
fn plain(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\r', "")
}

/// Where the last command is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    Running,
    /// Ended with this exit status (from a `D;status` mark, or an exec channel).
    Exited(u32),
    /// The next prompt came, but nothing said how the command ended.
    Finished,
    /// A `:CMD` run the user cancelled, or that ran out of time.
    Cancelled,
    TimedOut,
    /// A `:CMD` that could not run or was killed; [`CommandResult::note`] says why.
    Failed,
}

/// The last command of a pane and what it printed (escapes removed, `\r` dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandResult {
    /// The line as sent or as typed between `B` and `C`; empty when unknown.
    pub line: String,
    pub output: String,
    /// Standard error, kept apart only for `:CMD` (a PTY mixes it into `output`).
    pub stderr: String,
    pub status: RunStatus,
    /// Why a `:CMD` ended without an exit status.
    pub note: String,
    /// More than [`MAX_OUTPUT`] came; `output` holds the start.
    pub truncated: bool,
}

impl CommandResult {
    fn running(line: String) -> CommandResult {
        CommandResult {
            line,
            output: String::new(),
            stderr: String::new(),
            status: RunStatus::Running,
            note: String::new(),
            truncated: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Esc {
    Ground,
    Escape,
    Csi,
    Osc,
    /// ESC inside an OSC: `ESC \` ends it.
    OscEscape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    /// A line was sent to a shell without marks: its echo runs to the first newline.
    Echo,
    /// Collecting output (after `C`, or after the echo).
    Output,
    /// Between `B` and `C`: the command line being typed.
    Command,
}

/// One pane's scanner and its last result.
#[derive(Debug)]
pub struct ResultTracker {
    esc: Esc,
    osc: Vec<u8>,
    phase: Phase,
    /// The shell has sent OSC 133 marks: they, not the prompt, delimit commands.
    marked: bool,
    /// The prompt text learned when a line was sent (no marks).
    prompt: String,
    /// The output's last bytes, past the cap too (no marks).
    tail: Vec<u8>,
    text: Vec<u8>,
    command: Vec<u8>,
    last: Option<CommandResult>,
    /// The `:CMD` run `last` belongs to while it runs; its stdout and stderr so far.
    exec: Option<u64>,
    exec_out: Vec<u8>,
    exec_err: Vec<u8>,
    /// Grows whenever `last` (or the partial output shown for it) may have changed: the
    /// results view regroups only then.
    generation: u64,
}

impl Default for ResultTracker {
    fn default() -> Self {
        ResultTracker {
            esc: Esc::Ground,
            osc: Vec::new(),
            phase: Phase::Idle,
            marked: false,
            prompt: String::new(),
            tail: Vec::new(),
            text: Vec::new(),
            command: Vec::new(),
            last: None,
            exec: None,
            exec_out: Vec::new(),
            exec_err: Vec::new(),
            generation: 0,
        }
    }
}

impl ResultTracker {
    pub fn last(&self) -> Option<&CommandResult> {
        self.last.as_ref()
    }

    /// See [`ResultTracker::generation`]'s field: equal numbers, same result.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether the shell marks its prompts (OSC 133 seen).
    pub fn marked(&self) -> bool {
        self.marked
    }

    /// mtssh sent `line` to the shell; `prompt` is the cursor's line up to the cursor.
    pub fn sent(&mut self, line: &str, prompt: &str) {
        self.generation += 1;
        self.last = Some(CommandResult::running(line.trim().to_string()));
        self.exec = None;
        self.text.clear();
        self.tail.clear();
        if !self.marked {
            self.prompt = prompt.trim_end().to_string();
            self.phase = Phase::Echo;
        }
    }

    /// Scans output; the result changes when a mark or (without marks) the prompt arrives.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.phase == Phase::Idle && !self.marked && self.esc == Esc::Ground {
            // Nothing to look for but the first mark: skip the byte machine for bulk output.
            if !bytes.contains(&0x1b) {
                return;
            }
        }
        // Output between commands changes no result: only a command under way (or a mark
        // starting one) does.
        let idle = self.phase == Phase::Idle;
        for &b in bytes {
            self.byte(b);
        }
        if self.phase == Phase::Output && !self.marked {
            self.check_prompt();
        }
        if !idle || self.phase != Phase::Idle {
            self.generation += 1;
        }
    }

    fn byte(&mut self, b: u8) {
        match self.esc {
            Esc::Ground => match b {
                0x1b => self.esc = Esc::Escape,
                _ => self.text_byte(b),
            },
            Esc::Escape => {
                self.esc = match b {
                    b'[' => Esc::Csi,
                    b']' => {
                        self.osc.clear();
                        Esc::Osc
                    }
                    _ => Esc::Ground,
                }
            }
            Esc::Csi => {
                if (0x40..=0x7e).contains(&b) {
                    self.esc = Esc::Ground;
                }
            }
            Esc::Osc => match b {
                0x07 => self.end_osc(),
                0x1b => self.esc = Esc::OscEscape,
                _ if self.osc.len() < MAX_OSC => self.osc.push(b),
                _ => {}
            },
            Esc::OscEscape => {
                if b == b'\\' {
                    self.end_osc();
                } else {
                    self.esc = Esc::Ground;
                }
            }
        }
    }

    fn text_byte(&mut self, b: u8) {
        let buf = match self.phase {
            Phase::Idle => return,
            Phase::Command => &mut self.command,
            Phase::Echo => {
                if b == b'\n' {
                    self.phase = Phase::Output;
                }
                return;
            }
            Phase::Output => &mut self.text,
        };
        let printable = matches!(b, b'\n' | b'\t' | 0x20..) && b != 0x7f;
        match b {
            _ if printable => {
                if buf.len() < MAX_OUTPUT {
                    buf.push(b);
                } else if let Some(last) = self.last.as_mut() {
                    last.truncated = true;
                }
            }
            // Backspace: shells erase echoed characters this way.
            0x08 => {
                buf.pop();
            }
            _ => {}
        }
        if self.phase == Phase::Output && !self.marked {
            self.keep_tail(b, printable);
        }
    }

    /// The last bytes of the output, for finding the prompt (see [`Self::check_prompt`]).
    fn keep_tail(&mut self, b: u8, printable: bool) {
        match (b, printable) {
            (0x08, _) => {
                self.tail.pop();
            }
            (_, true) => {
                if self.tail.len() >= TAIL {
                    self.tail.drain(..TAIL / 2);
                }
                self.tail.push(b);
            }
            _ => {}
        }
    }

    fn end_osc(&mut self) {
        self.esc = Esc::Ground;
        let osc = std::mem::take(&mut self.osc);
        let Some(mark) = osc.strip_prefix(b"133;") else {
            return;
        };
        self.marked = true;
        if self.exec.is_some() {
            // The shell's own marks do not end a `:CMD` run.
            return;
        }
        let mut fields = mark.split(|&b| b == b';');
        match fields.next() {
            Some(b"B") => {
                self.command.clear();
                self.phase = Phase::Command;
            }
            Some(b"C") => self.output_starts(),
            Some(b"D") => {
                let status = fields
                    .next()
                    .and_then(|s| std::str::from_utf8(s).ok())
                    .and_then(|s| s.trim().parse().ok());
                self.finish(status.map_or(RunStatus::Finished, RunStatus::Exited));
            }
            // `A` (a prompt starts) ends nothing: `D` came before it, or nothing ran.
            _ => {}
        }
    }

    fn output_starts(&mut self) {
        let typed = String::from_utf8_lossy(&self.command).trim().to_string();
        self.command.clear();
        let sent = self
            .last
            .as_ref()
            .filter(|r| r.status == RunStatus::Running && !r.line.is_empty())
            .map(|r| r.line.clone());
        self.last = Some(CommandResult::running(sent.unwrap_or(typed)));
        self.text.clear();
        self.phase = Phase::Output;
    }

    fn finish(&mut self, status: RunStatus) {
        if self.phase != Phase::Output {
            return;
        }
        self.phase = Phase::Idle;
        let text = std::mem::take(&mut self.text);
        if let Some(last) = self.last.as_mut() {
            last.output = String::from_utf8_lossy(&text).into_owned();
            last.status = status;
        }
    }

    /// Without marks: the command is over when its output ends in the prompt, on a line of
    /// its own.
    fn check_prompt(&mut self) {
        if self.prompt.is_empty() {
            return;
        }
        // Only the end matters: a long output is not rescanned on every chunk, and output
        // past the cap still ends at the prompt.
        let tail = self.tail.trim_ascii_end();
        let Some(before) = tail.strip_suffix(self.prompt.as_bytes()) else {
            return;
        };
        if !(before.is_empty() || before.ends_with(b"\n")) {
            return;
        }
        let mut text = std::mem::take(&mut self.text);
        let truncated = self.last.as_ref().is_some_and(|l| l.truncated);
        if !truncated {
            // The prompt (and what trails it) is at the end of `text` too.
            let keep = text
                .trim_ascii_end()
                .len()
                .saturating_sub(self.prompt.len());
            text.truncate(keep);
        }
        self.phase = Phase::Idle;
        self.tail.clear();
        if let Some(last) = self.last.as_mut() {
            last.output = String::from_utf8_lossy(&text).into_owned();
            last.status = RunStatus::Finished;
        }
    }

    /// The output so far of a running command (the results view shows it live).
    pub fn partial_output(&self) -> String {
        if self.exec.is_some() {
            return plain(&self.exec_out);
        }
        match self.phase {
            Phase::Output => String::from_utf8_lossy(&self.text).into_owned(),
            _ => String::new(),
        }
    }

    pub fn exec_run(&self) -> Option<u64> {
        self.exec
    }

    /// A `:CMD` run starts on this pane's connection: its result replaces the last one.
    pub fn exec_started(&mut self, run: u64, line: &str) {
        self.generation += 1;
        self.last = Some(CommandResult::running(line.to_string()));
        self.exec = Some(run);
        self.exec_out.clear();
        self.exec_err.clear();
        self.phase = Phase::Idle;
    }

    /// What the run's exec channel reported; events of older runs are ignored.
    pub fn exec_event(&mut self, run: u64, event: ExecEvent) {
        if self.exec != Some(run) {
            return;
        }
        self.generation += 1;
        let room = |buf: &Vec<u8>| MAX_OUTPUT.saturating_sub(buf.len());
        match event {
            ExecEvent::Stdout(data) => {
                let take = data.len().min(room(&self.exec_out));
                self.exec_out.extend_from_slice(&data[..take]);
                self.mark_truncated(take < data.len());
            }
            ExecEvent::Stderr(data) => {
                let take = data.len().min(room(&self.exec_err));
                self.exec_err.extend_from_slice(&data[..take]);
                self.mark_truncated(take < data.len());
            }
            ExecEvent::End(end) => {
                let (status, note) = match end {
                    ExecEnd::Exited(code) => (RunStatus::Exited(code), String::new()),
                    ExecEnd::Signal(name) => {
                        (RunStatus::Failed, format!("killed by signal {name}"))
                    }
                    ExecEnd::Failed(why) => (RunStatus::Failed, why),
                    ExecEnd::Cancelled => (RunStatus::Cancelled, "cancelled".into()),
                    ExecEnd::TimedOut(after) => (
                        RunStatus::TimedOut,
                        format!("timed out after {}", crate::ssh::humantime(after)),
                    ),
                };
                self.end_exec(status, note);
            }
        }
    }

    /// The session ended under a running `:CMD`.
    pub fn session_ended(&mut self) {
        if self.exec.is_some() {
            self.generation += 1;
            self.end_exec(RunStatus::Failed, "the session ended".into());
        }
    }

    fn end_exec(&mut self, status: RunStatus, note: String) {
        self.exec = None;
        let (out, err) = (plain(&self.exec_out), plain(&self.exec_err));
        if let Some(last) = self.last.as_mut() {
            last.output = out;
            last.stderr = err;
            last.status = status;
            last.note = note;
        }
    }

    fn mark_truncated(&mut self, cut: bool) {
        if let (true, Some(last)) = (cut, self.last.as_mut()) {
            last.truncated = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(t: &ResultTracker) -> Option<RunStatus> {
        t.last().map(|r| r.status)
    }

    #[test]
    fn marks_give_output_and_status_even_split_byte_by_byte() {
        let stream = b"\x1b]133;A\x07$ \x1b]133;B\x07ls -l\r\n\x1b]133;C\x07a\r\nb\r\n\x1b]133;D;2\x1b\\\x1b]133;A\x07$ ";
        for chunk in [stream.len(), 1, 3] {
            let mut t = ResultTracker::default();
            for piece in stream.chunks(chunk) {
                t.feed(piece);
            }
            let last = t.last().expect("a result");
            assert_eq!(last.line, "ls -l");
            assert_eq!(last.output, "a\nb\n");
            assert_eq!(last.status, RunStatus::Exited(2));
            assert!(t.marked());
        }
    }

    #[test]
    fn a_sent_line_runs_until_d_and_keeps_its_text() {
        let mut t = ResultTracker::default();
        t.feed(b"\x1b]133;A\x07$ \x1b]133;B\x07");
        t.sent("echo hi", "$ ");
        assert_eq!(status(&t), Some(RunStatus::Running));
        t.feed(b"echo hi\r\n\x1b]133;C\x07\x1b[1mhi\x1b[0m\r\n");
        assert_eq!(t.partial_output(), "hi\n");
        assert_eq!(status(&t), Some(RunStatus::Running));
        t.feed(b"\x1b]133;D\x07");
        let last = t.last().expect("a result");
        assert_eq!(
            (last.line.as_str(), last.output.as_str()),
            ("echo hi", "hi\n")
        );
        assert_eq!(last.status, RunStatus::Finished);
    }

    #[test]
    fn without_marks_the_prompt_ends_the_output() {
        let mut t = ResultTracker::default();
        t.sent("uptime", "user@web1:~$ ");
        t.feed(b"upt");
        t.feed(b"ime\r\n 10:00 up 3 days\r\n");
        assert_eq!(status(&t), Some(RunStatus::Running));
        // A prompt-like text inside a line is not the prompt.
        t.feed(b"x user@web1:~$\r\nuser@web1");
        assert_eq!(status(&t), Some(RunStatus::Running));
        t.feed(b":~$ ");
        let last = t.last().expect("a result");
        assert_eq!(last.output, " 10:00 up 3 days\nx user@web1:~$\n");
        assert_eq!(last.status, RunStatus::Finished);
    }

    #[test]
    fn without_marks_a_capped_output_still_ends_at_the_prompt() {
        let mut t = ResultTracker::default();
        t.sent("seq", "$ ");
        t.feed(b"seq\r\n");
        for _ in 0..(MAX_OUTPUT / 1000 + 2) {
            t.feed(&[b'y'; 1000]);
        }
        t.feed(b"\r\n$ ");
        let last = t.last().expect("a result");
        assert_eq!(last.status, RunStatus::Finished);
        assert!(last.truncated && last.output.len() == MAX_OUTPUT);
    }

    #[test]
    fn output_is_capped_and_other_oscs_are_ignored() {
        let mut t = ResultTracker::default();
        t.feed(b"\x1b]0;title\x07\x1b]133;C\x07");
        t.feed(&vec![b'x'; MAX_OUTPUT + 10]);
        t.feed(b"\x1b]133;D;0\x07");
        let last = t.last().expect("a result");
        assert_eq!(last.output.len(), MAX_OUTPUT);
        assert!(last.truncated);
        assert_eq!(last.status, RunStatus::Exited(0));
        // A bogus status is "unknown", not a panic.
        t.feed(b"\x1b]133;C\x07\x1b]133;D;zz\x07");
        assert_eq!(status(&t), Some(RunStatus::Finished));
    }
}
