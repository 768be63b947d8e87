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

use std::collections::VecDeque;
use std::mem;

use unicode_width::UnicodeWidthChar;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    En,
    Zh,
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
        let (title, welcome) = match self.cfg.lang {
            Lang::En => (
                "===== mtssh mock SSH server =====".to_string(),
                format!(
                    "Welcome, {}, to {}. Type 'help' for commands.",
                    self.cfg.user, self.cfg.hostname
                ),
            ),
            Lang::Zh => (
                "=====本地模拟SSH服务=====".to_string(),
                format!(
                    "欢迎 {} 登录 {}。输入 'help' 查看可用命令。",
                    self.cfg.user, self.cfg.hostname
                ),
            ),
        };
        out.text(&format!("{title}\n{welcome}\n"));
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

    fn prompt(&self, out: &mut Out) {
        out.text(&format!("{}@{}:~$ ", self.cfg.user, self.cfg.hostname));
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

    fn byte(&mut self, b: u8, out: &mut Out) {
        match self.esc {
            Esc::Ground => {}
            Esc::Start => match b {
                b'[' => return self.esc = Esc::Csi(0),
                b'O' => return self.esc = Esc::Ss3,
                0x1b => return,
                // A control char cannot be part of the sequence; honour it so
                // ESC followed by Enter still enters.
                0x00..=0x1f => self.esc = Esc::Ground,
                // Alt+key and other two-byte sequences.
                _ => return self.esc = Esc::Ground,
            },
            Esc::Csi(n) => match b {
                0x40..=0x7e => return self.esc = Esc::Ground,
                0x20..=0x3f if n < MAX_CSI => return self.esc = Esc::Csi(n + 1),
                _ => self.esc = Esc::Ground,
            },
            Esc::Ss3 => {
                self.esc = Esc::Ground;
                if b >= 0x20 {
                    return;
                }
            }
        }
        self.ground(b, out);
    }

    fn ground(&mut self, b: u8, out: &mut Out) {
        if !self.utf8.is_empty() {
            if (0x80..=0xbf).contains(&b) {
                self.utf8.push(b);
                if self.utf8.len() >= self.utf8_need {
                    let bytes = mem::take(&mut self.utf8);
                    // from_utf8 rejects overlongs and surrogates the lead-byte
                    // check let through.
                    if let Ok(s) = std::str::from_utf8(&bytes) {
                        for c in s.chars() {
                            self.insert(c, out);
                        }
                    }
                }
                return;
            }
            // Truncated sequence: drop it and let this byte stand on its own.
            self.utf8.clear();
        }
        let was_cr = mem::take(&mut self.after_cr);
        match b {
            b'\r' => {
                self.after_cr = true;
                self.enter(out);
            }
            b'\n' => {
                if !was_cr {
                    self.enter(out);
                }
            }
            0x03 => {
                self.clear_line_state();
                self.last_status = STATUS_INTERRUPTED;
                out.text("^C\n");
                self.prompt(out);
            }
            0x04 => {
                if self.line.is_empty() {
                    out.text("logout\n");
                    self.exit(0, out);
                }
            }
            0x7f | 0x08 => {
                if let Some(c) = self.line.pop() {
                    self.erase(c, out);
                }
            }
            0x15 => self.kill_back(|_| true, out),
            0x17 => {
                self.kill_back(char::is_whitespace, out);
                self.kill_back(|c| !c.is_whitespace(), out);
            }
            0x0c => {
                if self.crlf() {
                    out.raw(b"\x1b[H\x1b[2J");
                    self.prompt(out);
                    out.raw(self.line.as_bytes());
                }
            }
            0x1b => self.esc = Esc::Start,
            0x20..=0x7e => self.insert(char::from(b), out),
            0xc2..=0xdf => self.begin_utf8(b, 2),
            0xe0..=0xef => self.begin_utf8(b, 3),
            0xf0..=0xf4 => self.begin_utf8(b, 4),
            // Other controls, stray continuation bytes, invalid leads.
            _ => {}
        }
    }

    fn begin_utf8(&mut self, lead: u8, need: usize) {
        self.utf8.push(lead);
        self.utf8_need = need;
    }

    fn clear_line_state(&mut self) {
        self.line.clear();
        self.overflowed = false;
        self.utf8.clear();
    }

    fn insert(&mut self, c: char, out: &mut Out) {
        // C1 controls arrive as valid UTF-8 but are still controls.
        if c.is_control() {
            return;
        }
        if self.line.len() + c.len_utf8() > MAX_LINE {
            if !self.overflowed {
                self.overflowed = true;
                out.raw(b"\x07");
            }
            return;
        }
        self.line.push(c);
        if self.crlf() {
            let mut buf = [0u8; 4];
            out.raw(c.encode_utf8(&mut buf).as_bytes());
        }
    }

    /// Rubs out as many columns as the glyph occupied, so a CJK char takes
    /// two `\b \b` and the cursor stays aligned with the buffer.
    fn erase(&mut self, c: char, out: &mut Out) {
        if self.crlf() {
            for _ in 0..c.width().unwrap_or(0) {
                out.raw(b"\x08 \x08");
            }
        }
        self.overflowed = false;
    }

    fn kill_back(&mut self, pred: impl Fn(char) -> bool, out: &mut Out) {
        while let Some(c) = self.line.chars().next_back() {
            if !pred(c) {
                break;
            }
            self.line.pop();
            self.erase(c, out);
        }
    }

    fn enter(&mut self, out: &mut Out) {
        if self.crlf() {
            out.raw(b"\r\n");
        }
        let line = mem::take(&mut self.line);
        self.clear_line_state();
        self.queue.extend(split_segments(&line));
        self.run_queue(out);
    }

    fn run_queue(&mut self, out: &mut Out) {
        while let Some(seg) = self.queue.pop_front() {
            match self.run_segment(&seg, out) {
                Flow::Next => {}
                Flow::Busy => return,
                Flow::Exit(code) => {
                    out.text("logout\n");
                    self.exit(code, out);
                    return;
                }
            }
        }
        self.prompt(out);
    }

    fn env_pairs(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("USER".to_string(), self.cfg.user.clone()),
            ("HOME".to_string(), self.home()),
            ("SHELL".to_string(), SHELL_PATH.to_string()),
        ];
        let client_term = self.cfg.env.iter().any(|e| e.0 == "TERM");
        if self.cfg.pty.is_some() && !client_term {
            v.push(("TERM".to_string(), "xterm-256color".to_string()));
        }
        // Like sshd, the identity variables are the server's to set.
        for (k, val) in &self.cfg.env {
            if !matches!(k.as_str(), "USER" | "HOME" | "SHELL") {
                v.push((k.clone(), val.clone()));
            }
        }
        v
    }

    fn home(&self) -> String {
        format!("/home/{}", self.cfg.user)
    }

    fn lookup(&self, name: &str) -> String {
        self.env_pairs()
            .into_iter()
            .find(|e| e.0 == name)
            .map(|e| e.1)
            .unwrap_or_default()
    }

    /// `$?`, `$NAME` and `${NAME}`; anything else after `$` is literal.
    /// Returns the index after what was consumed.
    fn expand_var(&self, chars: &[char], i: usize, cur: &mut String) -> usize {
        let is_start = |c: char| c == '_' || c.is_ascii_alphabetic();
        let is_name = |c: char| c == '_' || c.is_ascii_alphanumeric();
        match chars.get(i) {
            Some('?') => {
                cur.push_str(&self.last_status.to_string());
                i + 1
            }
            Some('{') => {
                let name_end = chars[i + 1..]
                    .iter()
                    .position(|&c| !is_name(c))
                    .map_or(chars.len(), |p| i + 1 + p);
                if name_end > i + 1 && chars.get(name_end) == Some(&'}') {
                    let name: String = chars[i + 1..name_end].iter().collect();
                    cur.push_str(&self.lookup(&name));
                    name_end + 1
                } else {
                    cur.push('$');
                    i
                }
            }
            Some(&c) if is_start(c) => {
                let end = chars[i..]
                    .iter()
                    .position(|&c| !is_name(c))
                    .map_or(chars.len(), |p| i + p);
                let name: String = chars[i..end].iter().collect();
                cur.push_str(&self.lookup(&name));
                end
            }
            _ => {
                cur.push('$');
                i
            }
        }
    }

    /// Enough of sh word syntax for students' habits: whitespace splitting,
    /// single and double quotes, backslash, `$` expansion. An unterminated
    /// quote is closed at the end instead of asking for more input.
    fn words(&self, raw: &str) -> Vec<String> {
        let chars: Vec<char> = raw.chars().collect();
        let mut words = Vec::new();
        let mut cur = String::new();
        let mut has = false;
        let mut quote = Quote::None;
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            i += 1;
            match quote {
                Quote::None => match c {
                    c if c.is_whitespace() => {
                        if has {
                            words.push(mem::take(&mut cur));
                            has = false;
                        }
                    }
                    '\'' => {
                        quote = Quote::Single;
                        has = true;
                    }
                    '"' => {
                        quote = Quote::Double;
                        has = true;
                    }
                    '\\' => {
                        match chars.get(i) {
                            Some(&n) => {
                                cur.push(n);
                                i += 1;
                            }
                            None => cur.push('\\'),
                        }
                        has = true;
                    }
                    '$' => {
                        let before = cur.len();
                        i = self.expand_var(&chars, i, &mut cur);
                        // An unquoted empty expansion vanishes, as in sh.
                        has |= cur.len() > before;
                    }
                    c => {
                        cur.push(c);
                        has = true;
                    }
                },
                Quote::Single => {
                    if c == '\'' {
                        quote = Quote::None;
                    } else {
                        cur.push(c);
                    }
                }
                Quote::Double => match c {
                    '"' => quote = Quote::None,
                    '\\' => match chars.get(i) {
                        Some(&n) if matches!(n, '"' | '\\' | '$') => {
                            cur.push(n);
                            i += 1;
                        }
                        _ => cur.push('\\'),
                    },
                    '$' => i = self.expand_var(&chars, i, &mut cur),
                    c => cur.push(c),
                },
            }
        }
        if has {
            words.push(cur);
        }
        words
    }

    fn run_segment(&mut self, raw: &str, out: &mut Out) -> Flow {
        let words = self.words(raw);
        let Some(name) = words.first() else {
            return Flow::Next;
        };
        let args = &words[1..];
        let lang = self.lang();
        let mut status = 0;
        match name.as_str() {
            "help" => out.text(help_text(lang)),
            "echo" => {
                let (newline, args) = match args.first() {
                    Some(a) if a == "-n" => (false, &args[1..]),
                    _ => (true, args),
                };
                out.text(&clean_text(&args.join(" ")));
                if newline {
                    out.text("\n");
                }
            }
            "hostname" => out.text(&format!("{}\n", self.cfg.hostname)),
            "whoami" => out.text(&format!("{}\n", self.cfg.user)),
            "pwd" => out.text(&format!("{}\n", self.home())),
            "date" => out.text(&format!("{}\n", format_date(self.now_unix(), lang))),
            "uptime" => {
                let now = self.now_unix();
                let up = now.saturating_sub(self.cfg.started_at_unix);
                out.text(&format!("{}\n", format_uptime(now, up, lang)));
            }
            "env" | "printenv" => self.print_env(out),
            "show" if args.len() == 2 && args[0] == "local" && args[1] == "env" => {
                self.print_env(out)
            }
            "size" => match self.cfg.pty {
                Some((c, r)) => out.text(&format!("{c}x{r}\n")),
                None => out.text(tr(lang, "no pty\n", "no pty（未分配伪终端）\n")),
            },
            "clear" => {
                if self.crlf() {
                    out.raw(b"\x1b[H\x1b[2J");
                }
            }
            "true" => {}
            "false" => status = 1,
            "sleep" => match parse_sleep(args) {
                Ok(0) => {}
                Ok(millis) => {
                    self.last_status = 0;
                    self.busy = Busy::Sleep(millis);
                    out.action(Action::Sleep { millis });
                    return Flow::Busy;
                }
                Err(e) => {
                    out.text(&format!("sleep: {}\n", e.message(lang)));
                    status = 1;
                }
            },
            "seq" => match parse_seq(args) {
                Ok(0) => {}
                Ok(count) => {
                    self.last_status = 0;
                    self.busy = Busy::Seq;
                    out.action(Action::Seq { count });
                    return Flow::Busy;
                }
                Err(e) => {
                    out.text(&format!("seq: {}\n", e.message(lang)));
                    status = 1;
                }
            },
            "exit" | "logout" => match args {
                [] => return Flow::Exit(self.last_status),
                [a] => match a.trim().parse::<i64>() {
                    // Like sh: the status is a byte, so -1 becomes 255 and
                    // 256 becomes 0.
                    Ok(n) => return Flow::Exit((n & 0xff) as u32),
                    Err(_) => {
                        let msg = tr(lang, "numeric argument required", "需要数字参数");
                        out.text(&format!("exit: {}: {msg}\n", clean_line(a)));
                        return Flow::Exit(STATUS_BAD_EXIT_ARG);
                    }
                },
                _ => {
                    out.text(tr(lang, "exit: too many arguments\n", "exit: 参数太多\n"));
                    status = 1;
                }
            },
            _ => {
                let prefix = tr(lang, "server received: ", "服务端收到指令：");
                out.text(&format!("{prefix}{}\n", clean_text(raw.trim())));
            }
        }
        self.last_status = status;
        Flow::Next
    }

    fn print_env(&self, out: &mut Out) {
        for (k, v) in self.env_pairs() {
            out.text(&format!("{}={}\n", clean_line(&k), clean_line(&v)));
        }
    }
}

#[derive(Clone, Copy)]
enum Quote {
    None,
    Single,
    Double,
}

/// Splits on unquoted `;` and newline (exec commands may carry several
/// lines). Segments keep their raw text because an unknown command is echoed
/// as typed.
fn split_segments(line: &str) -> Vec<String> {
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut quote = Quote::None;
    let mut escaped = false;
    let mut push = |cur: &mut String| {
        let t = cur.trim();
        if !t.is_empty() {
            segs.push(t.to_string());
        }
        cur.clear();
    };
    for c in line.chars() {
        if escaped {
            escaped = false;
            cur.push(c);
            continue;
        }
        match (quote, c) {
            (Quote::Single, '\'') => quote = Quote::None,
            (Quote::Single, _) => {}
            (_, '\\') => escaped = true,
            (Quote::Double, '"') => quote = Quote::None,
            (Quote::Double, _) => {}
            (Quote::None, '"') => quote = Quote::Double,
            (Quote::None, '\'') => quote = Quote::Single,
            (Quote::None, ';' | '\n') => {
                push(&mut cur);
                continue;
            }
            (Quote::None, _) => {}
        }
        cur.push(c);
    }
    push(&mut cur);
    segs
}

/// Text shown to the user that they (or the client) supplied: controls other
/// than newline and tab become `?` so nothing can smuggle escapes through an
/// echo.
fn clean_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// As [`clean_text`] but for things that must stay on one line.
fn clean_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn tr(lang: Lang, en: &'static str, zh: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Zh => zh,
    }
}

fn help_text(lang: Lang) -> &'static str {
    tr(
        lang,
        "Available commands:\n\
         \x20 help                 show this list\n\
         \x20 echo ARGS...         print the arguments ('echo $?' shows the last status)\n\
         \x20 hostname             print the server's host name\n\
         \x20 whoami               print your user name\n\
         \x20 pwd                  print the working directory\n\
         \x20 date                 print the date and time (UTC)\n\
         \x20 uptime               show how long the server has been running\n\
         \x20 env, show local env  print the environment\n\
         \x20 size                 print the terminal size (COLSxROWS)\n\
         \x20 sleep N              wait N seconds (fractions allowed, Ctrl-C interrupts)\n\
         \x20 seq N                print the numbers 1 to N\n\
         \x20 true, false          succeed / fail\n\
         \x20 clear                clear the screen\n\
         \x20 exit [N]             close the session with status N\n\
         Commands can be joined with ';'. Anything else is echoed back by the server.\n",
        "可用命令：\n\
         \x20 help                 显示本列表\n\
         \x20 echo 参数...         输出参数（'echo $?' 显示上一条命令的退出码）\n\
         \x20 hostname             显示服务器主机名\n\
         \x20 whoami               显示当前用户名\n\
         \x20 pwd                  显示当前工作目录\n\
         \x20 date                 显示日期和时间（UTC）\n\
         \x20 uptime               显示服务器已运行多久\n\
         \x20 env, show local env  显示环境变量\n\
         \x20 size                 显示终端大小（列x行）\n\
         \x20 sleep N              等待 N 秒（可用小数，Ctrl-C 可中断）\n\
         \x20 seq N                输出 1 到 N\n\
         \x20 true, false          成功 / 失败\n\
         \x20 clear                清屏\n\
         \x20 exit [N]             以退出码 N 结束会话\n\
         多条命令可用 ';' 分隔。其他输入会被服务端原样回显。\n",
    )
}

enum ArgError {
    Missing,
    Extra(String),
    Invalid(String),
    BadInterval(String),
}

impl ArgError {
    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (ArgError::Missing, Lang::En) => "missing operand".to_string(),
            (ArgError::Missing, Lang::Zh) => "缺少操作数".to_string(),
            (ArgError::Extra(a), Lang::En) => format!("extra operand '{}'", clean_line(a)),
            (ArgError::Extra(a), Lang::Zh) => format!("多余的操作数 '{}'", clean_line(a)),
            (ArgError::Invalid(a), Lang::En) => format!("invalid number '{}'", clean_line(a)),
            (ArgError::Invalid(a), Lang::Zh) => format!("无效的数字 '{}'", clean_line(a)),
            (ArgError::BadInterval(a), Lang::En) => {
                format!("invalid time interval '{}'", clean_line(a))
            }
            (ArgError::BadInterval(a), Lang::Zh) => {
                format!("无效的时间间隔 '{}'", clean_line(a))
            }
        }
    }
}

fn single_arg(args: &[String]) -> Result<&str, ArgError> {
    match args {
        [] => Err(ArgError::Missing),
        [a] => Ok(a.as_str()),
        [_, extra, ..] => Err(ArgError::Extra(extra.clone())),
    }
}

/// Seconds with an optional fraction and an optional GNU-style unit suffix
/// (s, m, h, d). Only plain decimal digits are accepted so `inf`, `nan` and
/// exponents cannot reach the float maths. Clamped to [`MAX_SLEEP_MS`].
fn parse_sleep(args: &[String]) -> Result<u64, ArgError> {
    let a = single_arg(args)?;
    let bad = || ArgError::BadInterval(a.to_string());
    let (num, mult) = match a.as_bytes().last() {
        Some(b's') => (&a[..a.len() - 1], 1.0),
        Some(b'm') => (&a[..a.len() - 1], 60.0),
        Some(b'h') => (&a[..a.len() - 1], 3600.0),
        Some(b'd') => (&a[..a.len() - 1], 86400.0),
        _ => (a, 1.0),
    };
    let digits = num.bytes().filter(u8::is_ascii_digit).count();
    let dots = num.bytes().filter(|&b| b == b'.').count();
    if digits == 0 || dots > 1 || digits + dots != num.len() {
        return Err(bad());
    }
    let secs: f64 = num.parse().map_err(|_| bad())?;
    let ms = (secs * mult * 1000.0).round();
    if ms >= MAX_SLEEP_MS as f64 {
        Ok(MAX_SLEEP_MS)
    } else {
        // Finite, non-negative and below the cap, so the cast is exact enough.
        Ok(ms as u64)
    }
}

/// A non-negative integer, clamped to [`MAX_SEQ`]. A negative integer means
/// an empty range, as with GNU seq.
fn parse_seq(args: &[String]) -> Result<u64, ArgError> {
    let a = single_arg(args)?;
    let (neg, digits) = match a.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, a.strip_prefix('+').unwrap_or(a)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ArgError::Invalid(a.to_string()));
    }
    if neg {
        return Ok(0);
    }
    let n = digits.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    });
    Ok(n.min(MAX_SEQ))
}

/// The lines `from\n` ..= `to\n` (with `\r\n` when `crlf`). Empty when
/// `from > to`. The runner picks the chunk bounds; output size is its
/// responsibility.
pub fn seq_chunk(from: u64, to: u64, crlf: bool) -> Vec<u8> {
    let mut v = Vec::new();
    if from > to {
        return v;
    }
    let lines = (to - from).saturating_add(1);
    v.reserve(usize::try_from(lines.saturating_mul(9)).map_or(1 << 20, |n| n.min(1 << 20)));
    let mut n = from;
    loop {
        push_decimal(&mut v, n);
        if crlf {
            v.push(b'\r');
        }
        v.push(b'\n');
        if n == to {
            break;
        }
        n += 1;
    }
    v
}

fn push_decimal(v: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    v.extend_from_slice(&buf[i..]);
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31) in the proleptic
/// Gregorian calendar. Counting years from March puts the leap day last, so
/// month lengths follow a fixed 153-days-per-5-months pattern.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // shift epoch to 0000-03-01
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

struct Civil {
    year: i64,
    month: u32,
    day: u32,
    /// 0 = Sunday.
    weekday: usize,
    hour: u64,
    minute: u64,
    second: u64,
}

fn civil(unix: u64) -> Civil {
    let days = unix / 86_400;
    let secs = unix % 86_400;
    // u64::MAX / 86400 is about 2.1e14, well inside i64.
    let days_i = i64::try_from(days).unwrap_or(i64::MAX / 2);
    let (year, month, day) = civil_from_days(days_i);
    Civil {
        year,
        month,
        day,
        weekday: ((days + 4) % 7) as usize, // 1970-01-01 was a Thursday
        hour: secs / 3600,
        minute: secs / 60 % 60,
        second: secs % 60,
    }
}

/// `date` in the C locale (`%a %b %e %H:%M:%S %Z %Y`), or as zh_CN prints it.
fn format_date(unix: u64, lang: Lang) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const DAYS_ZH: [&str; 7] = ["日", "一", "二", "三", "四", "五", "六"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = civil(unix);
    let hms = format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second);
    match lang {
        Lang::En => {
            let month = MONTHS.get(c.month as usize - 1).unwrap_or(&"???");
            format!(
                "{} {month} {:>2} {hms} UTC {}",
                DAYS[c.weekday], c.day, c.year
            )
        }
        Lang::Zh => format!(
            "{}年 {:02}月 {:02}日 星期{} {hms} UTC",
            c.year, c.month, c.day, DAYS_ZH[c.weekday]
        ),
    }
}

/// Shaped like procps `uptime`; load averages are fixed since nothing runs.
fn format_uptime(now: u64, up: u64, lang: Lang) -> String {
    let c = civil(now);
    let clock = format!("{:02}:{:02}:{:02}", c.hour, c.minute, c.second);
    let days = up / 86_400;
    let hours = up % 86_400 / 3600;
    let mins = up % 3600 / 60;
    match lang {
        Lang::En => {
            let mut d = String::new();
            if days > 0 {
                let s = if days == 1 { "" } else { "s" };
                d.push_str(&format!("{days} day{s}, "));
            }
            if hours > 0 {
                d.push_str(&format!("{hours:2}:{mins:02}"));
            } else {
                d.push_str(&format!("{mins} min"));
            }
            format!(" {clock} up {d},  1 user,  load average: 0.00, 0.00, 0.00")
        }
        Lang::Zh => {
            let mut d = String::new();
            if days > 0 {
                d.push_str(&format!("{days} 天 "));
            }
            d.push_str(&format!("{hours} 小时 {mins} 分钟"));
            format!(" {clock} 已运行 {d}，1 个用户，平均负载：0.00, 0.00, 0.00")
        }
    }
}

/// Runs an exec request's command line. See the module docs for how the
/// runner performs the returned script; it always ends with one `Exit`.
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
