//! Line discipline: raw input bytes (split UTF-8, escape sequences, CR/LF
//! pairs, editing keys) become an edited line, echoed when there is a pty.

use std::mem;

use unicode_width::UnicodeWidthChar;

use super::words::split_segments;
use super::{Esc, Flow, MAX_CSI, MAX_LINE, Out, STATUS_INTERRUPTED, Shell};

impl Shell {
    pub(super) fn byte(&mut self, b: u8, out: &mut Out) {
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

    pub(super) fn enter(&mut self, out: &mut Out) {
        if self.crlf() {
            out.raw(b"\r\n");
        }
        let line = mem::take(&mut self.line);
        self.clear_line_state();
        if !line.trim().is_empty() {
            self.mark_output(out);
        }
        if self.handout() {
            // The handout's server echoes the line whole: `;` is just a character there.
            self.queue.push_back(line);
        } else {
            self.queue.extend(split_segments(&line));
        }
        self.run_queue(out);
    }

    pub(super) fn run_queue(&mut self, out: &mut Out) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::shell::test_util::*;
    use crate::mock::shell::{Action, Lang};

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
}
