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
        let swallowed = match self.esc {
            Esc::Ground => false,
            Esc::Start => {
                self.esc = match b {
                    b'[' => Esc::Csi(0),
                    b'O' => Esc::Ss3,
                    0x1b => Esc::Start,
                    _ => Esc::Ground,
                };
                // A control char cannot belong to the sequence; honour it so
                // ESC followed by Enter still enters. Anything else is
                // Alt+key and is dropped with the ESC.
                b >= 0x20 || b == 0x1b
            }
            Esc::Csi(n) => match b {
                0x40..=0x7e => {
                    self.esc = Esc::Ground;
                    true
                }
                0x20..=0x3f if n < MAX_CSI => {
                    self.esc = Esc::Csi(n + 1);
                    true
                }
                _ => {
                    self.esc = Esc::Ground;
                    false
                }
            },
            Esc::Ss3 => {
                self.esc = Esc::Ground;
                b >= 0x20
            }
        };
        if !swallowed {
            self.ground(b, out);
        }
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
            b'\n' if !was_cr => self.enter(out),
            0x03 => {
                self.clear_line_state();
                self.last_status = STATUS_INTERRUPTED;
                out.text("^C\n");
                self.prompt(out);
            }
            // On a non-empty line Ctrl-D is ignored rather than deleting.
            0x04 if self.line.is_empty() => {
                out.text("logout\n");
                self.exit(0, out);
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
            0x0c if self.crlf() => {
                out.raw(b"\x1b[H\x1b[2J");
                self.prompt(out);
                out.raw(self.line.as_bytes());
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
                [] => return Flow::Exit(0),
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

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "alice@lab:~$ ";

    fn cfg(lang: Lang, pty: bool) -> ShellConfig {
        ShellConfig {
            hostname: "lab".to_string(),
            user: "alice".to_string(),
            lang,
            pty: pty.then_some((80, 24)),
            env: vec![("LANG".to_string(), "C.UTF-8".to_string())],
            started_at_unix: 1_795_796_680 - 93_784, // 1 day 2:03:04 before
        }
    }

    const NOW: u64 = 1_795_796_680; // Fri Nov 27 16:24:40 UTC 2026

    fn shell(lang: Lang, pty: bool) -> Shell {
        let mut sh = Shell::new(cfg(lang, pty));
        sh.start(NOW);
        sh
    }

    fn text(actions: &[Action]) -> String {
        let mut v = Vec::new();
        for a in actions {
            if let Action::Output(b) = a {
                v.extend_from_slice(b);
            }
        }
        String::from_utf8(v).expect("shell output is UTF-8")
    }

    fn others(actions: &[Action]) -> Vec<Action> {
        actions
            .iter()
            .filter(|a| !matches!(a, Action::Output(_)))
            .cloned()
            .collect()
    }

    fn feed(sh: &mut Shell, s: &str) -> Vec<Action> {
        sh.feed(s.as_bytes(), NOW)
    }

    /// Output of one command typed without a pty, minus the trailing prompt.
    fn run(lang: Lang, line: &str) -> String {
        let mut sh = shell(lang, false);
        let out = text(&feed(&mut sh, &format!("{line}\n")));
        out.strip_suffix(P).expect("ends with prompt").to_string()
    }

    fn exec(line: &str) -> Vec<Action> {
        run_exec(&cfg(Lang::En, false), line, NOW)
    }

    #[test]
    fn banner_en_pty() {
        let mut sh = Shell::new(cfg(Lang::En, true));
        let out = text(&sh.start(NOW));
        assert_eq!(
            out,
            "===== mtssh mock SSH server =====\r\n\
             Welcome, alice, to lab. Type 'help' for commands.\r\n\
             alice@lab:~$ "
        );
    }

    #[test]
    fn banner_zh_no_pty() {
        let mut sh = Shell::new(cfg(Lang::Zh, false));
        let out = text(&sh.start(NOW));
        assert!(out.starts_with("=====本地模拟SSH服务=====\n欢迎 alice 登录 lab。"));
        assert!(!out.contains('\r'));
        assert!(out.ends_with(P));
    }

    #[test]
    fn unknown_line_echoed_pty() {
        let mut sh = shell(Lang::En, true);
        let out = text(&feed(&mut sh, "hello world\r"));
        assert_eq!(
            out,
            format!("hello world\r\nserver received: hello world\r\n{P}")
        );
        let mut sh = shell(Lang::Zh, true);
        let out = text(&feed(&mut sh, "你好\r"));
        assert_eq!(out, format!("你好\r\n服务端收到指令：你好\r\n{P}"));
    }

    #[test]
    fn empty_line_just_prompts() {
        let mut sh = shell(Lang::En, true);
        assert_eq!(text(&feed(&mut sh, "\r")), format!("\r\n{P}"));
        assert_eq!(text(&feed(&mut sh, "   \r")), format!("   \r\n{P}"));
        assert_eq!(run(Lang::En, ""), "");
    }

    #[test]
    fn help_both_langs() {
        let en = run(Lang::En, "help");
        for cmd in [
            "echo",
            "sleep N",
            "seq N",
            "show local env",
            "exit [N]",
            "size",
        ] {
            assert!(en.contains(cmd), "{cmd} missing from help");
        }
        let zh = run(Lang::Zh, "help");
        assert!(zh.starts_with("可用命令："));
        assert!(zh.contains("seq N"));
    }

    #[test]
    fn echo_quotes_and_vars() {
        assert_eq!(run(Lang::En, "echo a   b  c"), "a b c\n");
        assert_eq!(run(Lang::En, "echo \"a   b\" 'c  d'"), "a   b c  d\n");
        assert_eq!(run(Lang::En, "echo it\\'s \"x\\\"y\""), "it's x\"y\n");
        assert_eq!(
            run(Lang::En, "echo '$USER' \"$USER\" ${HOME}"),
            "$USER alice /home/alice\n"
        );
        assert_eq!(run(Lang::En, "echo $NOPE x $ 5$"), "x $ 5$\n");
        assert_eq!(run(Lang::En, "echo"), "\n");
        assert_eq!(run(Lang::En, "echo -n hi"), "hi");
        assert_eq!(run(Lang::En, "echo 'unterminated"), "unterminated\n");
        assert_eq!(run(Lang::Zh, "echo 中文 测试"), "中文 测试\n");
    }

    #[test]
    fn identity_builtins() {
        for lang in [Lang::En, Lang::Zh] {
            assert_eq!(run(lang, "hostname"), "lab\n");
            assert_eq!(run(lang, "whoami"), "alice\n");
            assert_eq!(run(lang, "pwd"), "/home/alice\n");
        }
    }

    #[test]
    fn date_both_langs() {
        assert_eq!(run(Lang::En, "date"), "Fri Nov 27 16:24:40 UTC 2026\n");
        assert_eq!(
            run(Lang::Zh, "date"),
            "2026年 11月 27日 星期五 16:24:40 UTC\n"
        );
    }

    #[test]
    fn date_math_matches_gnu_date() {
        let cases = [
            (0, "Thu Jan  1 00:00:00 UTC 1970"),
            (951_782_400, "Tue Feb 29 00:00:00 UTC 2000"),
            (1_000_000_000, "Sun Sep  9 01:46:40 UTC 2001"),
            (4_107_542_399, "Sun Feb 28 23:59:59 UTC 2100"),
            (253_402_300_799, "Fri Dec 31 23:59:59 UTC 9999"),
        ];
        for (t, want) in cases {
            assert_eq!(format_date(t, Lang::En), want);
        }
        // Far future must not panic or overflow.
        let _ = format_date(u64::MAX, Lang::En);
        let _ = format_date(u64::MAX, Lang::Zh);
    }

    #[test]
    fn uptime_both_langs() {
        assert_eq!(
            run(Lang::En, "uptime"),
            " 16:24:40 up 1 day,  2:03,  1 user,  load average: 0.00, 0.00, 0.00\n"
        );
        assert!(run(Lang::Zh, "uptime").contains("已运行 1 天 2 小时 3 分钟"));
        assert_eq!(
            format_uptime(NOW, 300, Lang::En).split(',').next(),
            Some(" 16:24:40 up 5 min")
        );
        assert!(format_uptime(NOW, 3 * 86_400, Lang::En).contains("up 3 days, 0 min,"));
        // A clock behind the start time reads as zero, not a panic.
        let mut c = cfg(Lang::En, false);
        c.started_at_unix = u64::MAX;
        assert!(text(&run_exec(&c, "uptime", 0)).contains("up 0 min"));
    }

    #[test]
    fn env_and_alias() {
        let mut sh = shell(Lang::En, true);
        sh.set_env("FOO", "bar");
        sh.set_env("USER", "mallory");
        let out = text(&feed(&mut sh, "env\r"));
        let body = out
            .strip_prefix("env\r\n")
            .and_then(|s| s.strip_suffix(P))
            .expect("framing");
        assert_eq!(
            body,
            "USER=alice\r\nHOME=/home/alice\r\nSHELL=/bin/mtssh-mock\r\nTERM=xterm-256color\r\n\
             LANG=C.UTF-8\r\nFOO=bar\r\n"
        );
        let alias = text(&feed(&mut sh, "show local env\r"));
        assert_eq!(alias.replace("show local env", "env"), out);
        // Client TERM (from pty-req) replaces the default.
        sh.set_env("TERM", "vt100");
        let out = text(&feed(&mut sh, "env\r"));
        assert!(out.contains("TERM=vt100") && !out.contains("xterm"));
        // No pty: no TERM, \n endings, Zh same content.
        let zh = run(Lang::Zh, "show   local env");
        assert_eq!(
            zh,
            "USER=alice\nHOME=/home/alice\nSHELL=/bin/mtssh-mock\nLANG=C.UTF-8\n"
        );
        assert!(run(Lang::En, "show local").starts_with("server received: show local"));
    }

    #[test]
    fn set_env_is_bounded() {
        let mut sh = shell(Lang::En, false);
        for i in 0..1000 {
            sh.set_env(&format!("V{i}"), "x");
        }
        sh.set_env("BIG", &"x".repeat(MAX_ENV_VALUE + 1));
        sh.set_env("", "x");
        assert_eq!(sh.cfg.env.len(), MAX_ENV_VARS);
        sh.set_env("V0", "changed");
        assert!(text(&feed(&mut sh, "env\n")).contains("V0=changed\n"));
    }

    #[test]
    fn size_pty_resize_and_none() {
        let mut sh = shell(Lang::En, true);
        assert_eq!(
            text(&feed(&mut sh, "size\r")),
            format!("size\r\n80x24\r\n{P}")
        );
        sh.resize(132, 50);
        assert!(text(&feed(&mut sh, "size\r")).contains("132x50\r\n"));
        assert_eq!(run(Lang::En, "size"), "no pty\n");
        assert!(run(Lang::Zh, "size").contains("no pty"));
        let mut sh = shell(Lang::En, false);
        sh.resize(10, 10);
        assert_eq!(text(&feed(&mut sh, "size\n")), format!("no pty\n{P}"));
    }

    #[test]
    fn true_false_and_status() {
        let mut sh = shell(Lang::En, false);
        assert_eq!(text(&feed(&mut sh, "false\n")), P);
        assert_eq!(text(&feed(&mut sh, "echo $?\n")), format!("1\n{P}"));
        feed(&mut sh, "true\n");
        assert_eq!(text(&feed(&mut sh, "echo $?\n")), format!("0\n{P}"));
        feed(&mut sh, "sleep x\n");
        assert_eq!(text(&feed(&mut sh, "echo \"$?\"\n")), format!("1\n{P}"));
        feed(&mut sh, "whatever\n");
        assert_eq!(text(&feed(&mut sh, "echo $?\n")), format!("0\n{P}"));
    }

    #[test]
    fn sleep_parsing() {
        let ok = |a: &str| parse_sleep(&[a.to_string()]).ok();
        assert_eq!(ok("1"), Some(1000));
        assert_eq!(ok("0.5"), Some(500));
        assert_eq!(ok(".25"), Some(250));
        assert_eq!(ok("2."), Some(2000));
        assert_eq!(ok("1.5s"), Some(1500));
        assert_eq!(ok("2m"), Some(120_000));
        assert_eq!(ok("0"), Some(0));
        assert_eq!(ok("99999"), Some(MAX_SLEEP_MS));
        assert_eq!(ok("1d"), Some(MAX_SLEEP_MS));
        assert_eq!(ok(&"9".repeat(400)), Some(MAX_SLEEP_MS));
        for bad in [
            "", "x", "-1", "1e3", "inf", "nan", "1.2.3", ".", "s", "0x10", " 1", "1ms",
        ] {
            assert_eq!(ok(bad), None, "{bad:?} accepted");
        }
        assert!(parse_sleep(&[]).is_err());
        assert!(parse_sleep(&["1".into(), "2".into()]).is_err());
    }

    #[test]
    fn sleep_runs_and_finishes() {
        let mut sh = shell(Lang::En, true);
        let a = feed(&mut sh, "sleep 0.5\r");
        assert_eq!(a[0], Action::Output(b"sleep 0.5\r\n".to_vec()));
        assert_eq!(a[1], Action::Sleep { millis: 500 });
        assert_eq!(a.len(), 2);
        assert_eq!(text(&sh.sleep_finished()), P);
        // Stale completion is ignored.
        assert!(sh.sleep_finished().is_empty());
        assert!(sh.seq_finished().is_empty());
        // Zero needs no timer.
        assert_eq!(text(&feed(&mut sh, "sleep 0\r")), format!("sleep 0\r\n{P}"));
    }

    #[test]
    fn sleep_errors_both_langs() {
        assert_eq!(
            run(Lang::En, "sleep abc"),
            "sleep: invalid time interval 'abc'\n"
        );
        assert_eq!(run(Lang::En, "sleep"), "sleep: missing operand\n");
        assert_eq!(run(Lang::En, "sleep 1 2"), "sleep: extra operand '2'\n");
        assert_eq!(run(Lang::Zh, "sleep abc"), "sleep: 无效的时间间隔 'abc'\n");
        assert_eq!(run(Lang::Zh, "sleep"), "sleep: 缺少操作数\n");
    }

    #[test]
    fn sleep_interrupt() {
        let mut sh = shell(Lang::En, true);
        feed(&mut sh, "sleep 10\r");
        let a = feed(&mut sh, "\x03");
        assert_eq!(a[0], Action::CancelSleep);
        assert_eq!(text(&a), format!("^C\r\n{P}"));
        assert!(sh.sleep_finished().is_empty());
        assert_eq!(
            text(&feed(&mut sh, "echo $?\r")),
            format!("echo $?\r\n130\r\n{P}")
        );
    }

    #[test]
    fn sleep_and_interrupt_in_one_feed() {
        let mut sh = shell(Lang::En, true);
        let a = feed(&mut sh, "sleep 5\r\x03whoami\r");
        assert_eq!(
            others(&a),
            vec![Action::Sleep { millis: 5000 }, Action::CancelSleep]
        );
        assert!(text(&a).ends_with(&format!("^C\r\n{P}whoami\r\nalice\r\n{P}")));
    }

    #[test]
    fn type_ahead_held_until_sleep_ends() {
        let mut sh = shell(Lang::En, true);
        feed(&mut sh, "sleep 1\r");
        assert!(feed(&mut sh, "who").is_empty());
        assert!(feed(&mut sh, "ami\r").is_empty());
        let out = text(&sh.sleep_finished());
        assert_eq!(out, format!("{P}whoami\r\nalice\r\n{P}"));
    }

    #[test]
    fn type_ahead_chains_sleeps() {
        let mut sh = shell(Lang::En, false);
        feed(&mut sh, "sleep 1\n");
        assert!(feed(&mut sh, "sleep 2\necho done\n").is_empty());
        let a = sh.sleep_finished();
        assert_eq!(others(&a), vec![Action::Sleep { millis: 2000 }]);
        assert_eq!(text(&a), P);
        assert!(feed(&mut sh, "hostname\n").is_empty());
        assert_eq!(text(&sh.sleep_finished()), format!("{P}done\n{P}lab\n{P}"));
    }

    #[test]
    fn ctrl_c_flushes_type_ahead() {
        let mut sh = shell(Lang::En, true);
        feed(&mut sh, "sleep 1\r");
        feed(&mut sh, "whoami\r");
        let a = feed(&mut sh, "\x03");
        assert_eq!(text(&a), format!("^C\r\n{P}"));
        assert!(sh.sleep_finished().is_empty());
    }

    #[test]
    fn cr_lf_after_busy_is_one_enter() {
        let mut sh = shell(Lang::En, true);
        feed(&mut sh, "sleep 1\r");
        feed(&mut sh, "\n");
        assert_eq!(text(&sh.sleep_finished()), P);
    }

    #[test]
    fn type_ahead_is_bounded() {
        let mut sh = shell(Lang::En, false);
        feed(&mut sh, "sleep 1\n");
        for _ in 0..100 {
            feed(&mut sh, &"x".repeat(10_000));
        }
        assert_eq!(sh.pending.len(), MAX_PENDING);
        sh.sleep_finished();
        assert!(sh.line.len() <= MAX_LINE);
    }

    #[test]
    fn seq_interactive_and_cancel() {
        let mut sh = shell(Lang::En, true);
        assert!(sh.crlf());
        let a = feed(&mut sh, "seq 5\r");
        assert_eq!(others(&a), vec![Action::Seq { count: 5 }]);
        assert!(feed(&mut sh, "pwd\r").is_empty());
        assert_eq!(
            text(&sh.seq_finished()),
            format!("{P}pwd\r\n/home/alice\r\n{P}")
        );
        feed(&mut sh, "seq 999999999999\r");
        let a = feed(&mut sh, "\x03");
        assert_eq!(a[0], Action::CancelSeq);
        assert_eq!(text(&a), format!("^C\r\n{P}"));
        assert!(sh.seq_finished().is_empty());
    }

    #[test]
    fn seq_parsing_and_errors() {
        let ok = |a: &str| parse_seq(&[a.to_string()]).ok();
        assert_eq!(ok("10"), Some(10));
        assert_eq!(ok("+3"), Some(3));
        assert_eq!(ok("-4"), Some(0));
        assert_eq!(ok("100000001"), Some(MAX_SEQ));
        assert_eq!(ok(&"9".repeat(100)), Some(MAX_SEQ));
        for bad in ["", "x", "1.5", "-", "1e3", "--1"] {
            assert_eq!(ok(bad), None, "{bad:?} accepted");
        }
        assert_eq!(run(Lang::En, "seq 0"), "");
        assert_eq!(run(Lang::En, "seq"), "seq: missing operand\n");
        assert_eq!(run(Lang::En, "seq abc"), "seq: invalid number 'abc'\n");
        assert_eq!(run(Lang::En, "seq 1 2"), "seq: extra operand '2'\n");
        assert_eq!(run(Lang::Zh, "seq abc"), "seq: 无效的数字 'abc'\n");
    }

    #[test]
    fn seq_chunk_lines() {
        assert_eq!(seq_chunk(1, 3, false), b"1\n2\n3\n");
        assert_eq!(seq_chunk(9, 11, true), b"9\r\n10\r\n11\r\n");
        assert!(seq_chunk(5, 4, false).is_empty());
        assert_eq!(seq_chunk(0, 0, false), b"0\n");
        let top = seq_chunk(u64::MAX - 1, u64::MAX, false);
        assert_eq!(top, format!("{}\n{}\n", u64::MAX - 1, u64::MAX).as_bytes());
    }

    #[test]
    fn exit_variants() {
        let mut sh = shell(Lang::En, true);
        let a = feed(&mut sh, "exit\r");
        assert_eq!(others(&a), vec![Action::Exit(0)]);
        assert_eq!(text(&a), "exit\r\nlogout\r\n");
        assert!(sh.has_exited());
        assert!(feed(&mut sh, "whoami\r").is_empty());
        assert!(sh.eof().is_empty());

        let code = |line: &str| {
            let mut sh = shell(Lang::En, false);
            others(&feed(&mut sh, &format!("{line}\n")))
        };
        assert_eq!(code("exit 3"), vec![Action::Exit(3)]);
        assert_eq!(code("exit 256"), vec![Action::Exit(0)]);
        assert_eq!(code("exit 257"), vec![Action::Exit(1)]);
        assert_eq!(code("exit -1"), vec![Action::Exit(255)]);
        assert_eq!(code("false; exit"), vec![Action::Exit(0)]);
        assert_eq!(code("exit abc"), vec![Action::Exit(2)]);
        assert_eq!(code("exit 1 2"), vec![]);
        assert_eq!(code("logout 4"), vec![Action::Exit(4)]);
        assert_eq!(run(Lang::En, "exit 1 2"), "exit: too many arguments\n");
        assert_eq!(run(Lang::Zh, "exit 1 2"), "exit: 参数太多\n");
        let mut sh = shell(Lang::Zh, false);
        assert_eq!(
            text(&feed(&mut sh, "exit x\n")),
            "exit: x: 需要数字参数\nlogout\n"
        );
    }

    #[test]
    fn semicolons() {
        assert_eq!(
            run(Lang::En, "whoami; hostname ;; pwd"),
            "alice\nlab\n/home/alice\n"
        );
        assert_eq!(
            run(Lang::En, "echo 'a;b'; echo \"c;d\" e\\;f"),
            "a;b\nc;d e;f\n"
        );
        assert_eq!(run(Lang::En, "false; echo $?; echo $?"), "1\n0\n");
        let mut sh = shell(Lang::En, false);
        let a = feed(&mut sh, "echo a; exit 7; echo b\n");
        assert_eq!(text(&a), "a\nlogout\n");
        assert_eq!(others(&a), vec![Action::Exit(7)]);
        // The rest of a list waits for the sleep, and is dropped on Ctrl-C.
        let mut sh = shell(Lang::En, false);
        assert_eq!(text(&feed(&mut sh, "sleep 1; echo after\n")), "");
        assert_eq!(text(&sh.sleep_finished()), format!("after\n{P}"));
        feed(&mut sh, "sleep 1; echo after\n");
        assert_eq!(text(&feed(&mut sh, "\x03")), format!("^C\n{P}"));
    }

    #[test]
    fn date_after_sleep_advances() {
        let mut sh = shell(Lang::En, false);
        feed(&mut sh, "sleep 2; date\n");
        assert!(text(&sh.sleep_finished()).starts_with("Fri Nov 27 16:24:42 UTC 2026\n"));
    }

    #[test]
    fn backspace_ascii() {
        let mut sh = shell(Lang::En, true);
        assert_eq!(text(&feed(&mut sh, "ab\x7f")), "ab\x08 \x08");
        assert_eq!(text(&feed(&mut sh, "\x08\x7f\x7f")), "\x08 \x08");
        assert_eq!(
            text(&feed(&mut sh, "ok\r")),
            format!("ok\r\nserver received: ok\r\n{P}")
        );
    }

    #[test]
    fn backspace_multibyte_and_wide() {
        let mut sh = shell(Lang::En, true);
        assert_eq!(text(&feed(&mut sh, "xé\x7f")), "xé\x08 \x08");
        assert_eq!(text(&feed(&mut sh, "中\x7f")), "中\x08 \x08\x08 \x08");
        assert_eq!(sh.line, "x");
        assert_eq!(text(&feed(&mut sh, "\x7f\r")), format!("\x08 \x08\r\n{P}"));
    }

    #[test]
    fn backspace_without_pty_is_silent() {
        let mut sh = shell(Lang::En, false);
        assert!(feed(&mut sh, "who中\x7fami").is_empty());
        assert_eq!(text(&feed(&mut sh, "\n")), format!("alice\n{P}"));
    }

    #[test]
    fn ctrl_u_and_ctrl_w() {
        let mut sh = shell(Lang::En, true);
        feed(&mut sh, "a中");
        assert_eq!(text(&feed(&mut sh, "\x15")), "\x08 \x08".repeat(3));
        assert_eq!(sh.line, "");
        feed(&mut sh, "echo foo  ");
        assert_eq!(text(&feed(&mut sh, "\x17")), "\x08 \x08".repeat(5));
        assert_eq!(text(&feed(&mut sh, "bar\r")), format!("bar\r\nbar\r\n{P}"));
    }

    #[test]
    fn ctrl_c_cancels_line() {
        let mut sh = shell(Lang::En, true);
        let a = feed(&mut sh, "whoami\x03");
        assert_eq!(text(&a), format!("whoami^C\r\n{P}"));
        assert!(others(&a).is_empty());
        assert_eq!(text(&feed(&mut sh, "\r")), format!("\r\n{P}"));
    }

    #[test]
    fn ctrl_d() {
        let mut sh = shell(Lang::En, true);
        assert_eq!(text(&feed(&mut sh, "ab\x04")), "ab");
        assert!(!sh.has_exited());
        feed(&mut sh, "\x15");
        let a = feed(&mut sh, "\x04");
        assert_eq!(text(&a), "logout\r\n");
        assert_eq!(others(&a), vec![Action::Exit(0)]);
    }

    #[test]
    fn cr_lf_handling() {
        let mut sh = shell(Lang::En, false);
        let out = text(&feed(&mut sh, "whoami\r\nhostname\r\n"));
        assert_eq!(out, format!("alice\n{P}lab\n{P}"));
        assert_eq!(text(&feed(&mut sh, "pwd\r")), format!("/home/alice\n{P}"));
        assert_eq!(text(&feed(&mut sh, "\n")), "");
        assert_eq!(text(&feed(&mut sh, "\n")), P);
        assert_eq!(text(&feed(&mut sh, "\r\r")), format!("{P}{P}"));
        assert_eq!(text(&feed(&mut sh, "\n\n")), P);
    }

    #[test]
    fn split_utf8() {
        let mut sh = shell(Lang::En, true);
        let bytes = "中é😀".as_bytes();
        let mut out = Vec::new();
        for b in bytes {
            out.extend(sh.feed(&[*b], NOW));
        }
        assert_eq!(text(&out), "中é😀");
        assert_eq!(
            text(&feed(&mut sh, "\r")),
            format!("\r\nserver received: 中é😀\r\n{P}")
        );
    }

    #[test]
    fn invalid_utf8_dropped() {
        let mut sh = shell(Lang::En, false);
        // truncated lead, lone continuation, overlong, surrogate, invalid lead
        sh.feed(b"a\xe4\xb8b\x80\xc0\xaf\xed\xa0\x80\xffc\xc2\x85d\n", NOW);
        assert_eq!(sh.line, "");
        let mut sh = shell(Lang::En, false);
        let a = sh.feed(b"a\xe4\xb8b\x80\xc0\xaf\xed\xa0\x80\xffc\xc2\x85d\n", NOW);
        assert_eq!(text(&a), format!("server received: abcd\n{P}"));
    }

    #[test]
    fn escape_sequences_swallowed_even_when_split() {
        let mut sh = shell(Lang::En, true);
        let parts: [&[u8]; 6] = [
            b"a\x1b",
            b"[",
            b"A",
            b"\x1b[1;",
            b"5Cb\x1bO",
            b"Dc\x1bxd\x1b[200~e\x1b[201~",
        ];
        let mut out = Vec::new();
        for p in parts {
            out.extend(sh.feed(p, NOW));
        }
        assert_eq!(text(&out), "abcde");
        assert_eq!(sh.line, "abcde");
        // ESC then Enter still enters; an overlong CSI gives up.
        let mut sh = shell(Lang::En, true);
        feed(&mut sh, "x\x1b\r");
        assert_eq!(sh.line, "");
        let long = format!("\x1b[{}y\r", "1".repeat(100));
        let a = feed(&mut sh, &long);
        assert!(text(&a).contains("server received: "));
    }

    #[test]
    fn other_controls_ignored() {
        let mut sh = shell(Lang::En, true);
        assert!(feed(&mut sh, "\x00\x01\x02\x05\x07\t\x1a\x1c").is_empty());
        let a = feed(&mut sh, "x\x0c");
        assert_eq!(text(&a), format!("x\x1b[H\x1b[2J{P}x"));
    }

    #[test]
    fn no_pty_mode() {
        let mut sh = Shell::new(cfg(Lang::En, false));
        assert!(!sh.crlf());
        let banner = text(&sh.start(NOW));
        assert!(banner.ends_with(&format!("commands.\n{P}")));
        assert_eq!(text(&feed(&mut sh, "hi")), "");
        assert_eq!(
            text(&feed(&mut sh, "\n")),
            format!("server received: hi\n{P}")
        );
        assert_eq!(text(&feed(&mut sh, "\x03")), format!("^C\n{P}"));
    }

    #[test]
    fn eof_behaviour() {
        let mut sh = shell(Lang::En, false);
        feed(&mut sh, "false\nwhoami");
        let a = sh.eof();
        assert_eq!(text(&a), format!("alice\n{P}"));
        assert_eq!(others(&a), vec![Action::Exit(0)]);

        let mut sh = shell(Lang::En, false);
        feed(&mut sh, "false\n");
        assert_eq!(others(&sh.eof()), vec![Action::Exit(1)]);

        // EOF during a sleep waits for it and the type-ahead.
        let mut sh = shell(Lang::En, true);
        feed(&mut sh, "sleep 1\r");
        feed(&mut sh, "hostname\r");
        assert!(sh.eof().is_empty());
        let a = sh.sleep_finished();
        assert_eq!(text(&a), format!("{P}hostname\r\nlab\r\n{P}logout\r\n"));
        assert_eq!(others(&a), vec![Action::Exit(0)]);
    }

    #[test]
    fn huge_line_is_truncated_with_one_bell() {
        let mut sh = shell(Lang::En, false);
        let a = feed(&mut sh, &"a".repeat(10_000));
        assert_eq!(text(&a), "\x07");
        assert_eq!(sh.line.len(), MAX_LINE);
        feed(&mut sh, "中");
        assert_eq!(sh.line.len(), MAX_LINE);
        let out = text(&feed(&mut sh, "\n"));
        assert_eq!(
            out,
            format!("server received: {}\n{P}", "a".repeat(MAX_LINE))
        );
        // Multi-byte chars never get split at the limit.
        let mut sh = shell(Lang::En, true);
        feed(&mut sh, &"中".repeat(2000));
        assert_eq!(sh.line.len(), 1365 * 3);
        // Backspace makes room again and re-arms the bell.
        let a = feed(&mut sh, "\x7f中中");
        assert_eq!(text(&a), format!("\x08 \x08\x08 \x08中\x07"));
    }

    #[test]
    fn hostile_user_and_host_are_sanitized() {
        let mut c = cfg(Lang::En, true);
        c.user = "ev\x1b[2Jil\n".to_string();
        let mut sh = Shell::new(c);
        let out = text(&sh.start(NOW));
        assert!(!out.contains('\x1b'));
        assert!(out.ends_with("ev?[2Jil?@lab:~$ "));
        let out = text(&run_exec(&cfg(Lang::En, false), "bad\x1b[31m\x07", NOW));
        assert_eq!(out, "server received: bad?[31m?\n");
    }

    #[test]
    fn exec_statuses() {
        assert_eq!(exec("true"), vec![Action::Exit(0)]);
        assert_eq!(exec("false"), vec![Action::Exit(1)]);
        assert_eq!(exec(""), vec![Action::Exit(0)]);
        assert_eq!(exec("exit 3"), vec![Action::Exit(3)]);
        assert_eq!(exec("exit"), vec![Action::Exit(0)]);
        assert_eq!(
            exec("whoami"),
            vec![Action::Output(b"alice\n".to_vec()), Action::Exit(0)]
        );
        assert_eq!(
            exec("hello"),
            vec![
                Action::Output(b"server received: hello\n".to_vec()),
                Action::Exit(0)
            ]
        );
        assert_eq!(
            exec("sleep 1.5"),
            vec![Action::Sleep { millis: 1500 }, Action::Exit(0)]
        );
        assert_eq!(
            exec("seq 3"),
            vec![Action::Seq { count: 3 }, Action::Exit(0)]
        );
        assert_eq!(
            exec("sleep bad"),
            vec![
                Action::Output(b"sleep: invalid time interval 'bad'\n".to_vec()),
                Action::Exit(1)
            ]
        );
        assert_eq!(
            exec("echo a; sleep 1; date; exit 4; echo never"),
            vec![
                Action::Output(b"a\n".to_vec()),
                Action::Sleep { millis: 1000 },
                Action::Output(b"Fri Nov 27 16:24:41 UTC 2026\n".to_vec()),
                Action::Exit(4)
            ]
        );
        assert_eq!(text(&exec("whoami\nhostname\n")), "alice\nlab\n");
        assert_eq!(
            text(&exec("exit foo")),
            "exit: foo: numeric argument required\n"
        );
        assert_eq!(others(&exec("exit foo")), vec![Action::Exit(2)]);
    }

    #[test]
    fn exec_with_pty_and_zh() {
        let c = cfg(Lang::Zh, true);
        assert_eq!(
            run_exec(&c, "hi; size", NOW),
            vec![
                Action::Output("服务端收到指令：hi\r\n80x24\r\n".as_bytes().to_vec()),
                Action::Exit(0)
            ]
        );
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        // Biased toward bytes the parser treats specially, so the interesting
        // states are actually reached.
        const SPECIAL: &[u8] = b"\r\n\x03\x04\x08\x7f\x15\x17\x0c\x1b[O;$?'\"\\ 0123456789.\xe4\xb8\xad\xc3\xa9\xf0\x9f\x98\x80\xff";
        const WORDS: [&[u8]; 8] = [
            b"sleep ", b"seq ", b"exit ", b"echo ", b"env", b"date", b"1", b"\r",
        ];
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let configs = [
            cfg(Lang::En, true),
            cfg(Lang::En, false),
            cfg(Lang::Zh, true),
            cfg(Lang::Zh, false),
        ];
        let mut sh = Shell::new(configs[0].clone());
        for i in 0..10_000u64 {
            let len = (rng.next() % 64) as usize;
            let mut bytes = Vec::with_capacity(len);
            while bytes.len() < len {
                let r = rng.next();
                match r % 4 {
                    0 => bytes.push((r >> 8) as u8),
                    1 | 2 => bytes.push(SPECIAL[(r >> 8) as usize % SPECIAL.len()]),
                    _ => bytes.extend_from_slice(WORDS[(r >> 8) as usize % WORDS.len()]),
                }
            }
            let now = rng.next().is_multiple_of(2);
            let now = if now { rng.next() } else { NOW };
            let _ = sh.feed(&bytes, now);
            match rng.next() % 16 {
                0 => drop(sh.sleep_finished()),
                1 => drop(sh.seq_finished()),
                2 => sh.resize((rng.next() % 300) as u16, (rng.next() % 300) as u16),
                3 => sh.set_env(&String::from_utf8_lossy(&bytes), "v"),
                4 if rng.next().is_multiple_of(8) => drop(sh.eof()),
                _ => {}
            }
            assert!(sh.line.len() <= MAX_LINE);
            assert!(sh.pending.len() <= MAX_PENDING);
            let c = &configs[(i % 4) as usize];
            let actions = run_exec(c, &String::from_utf8_lossy(&bytes), now);
            assert!(matches!(actions.last(), Some(Action::Exit(_))));
            if sh.has_exited() {
                sh = Shell::new(c.clone());
                let _ = sh.start(now);
            }
        }
    }
}
