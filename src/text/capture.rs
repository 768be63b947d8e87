//! Turning a session's output, as it arrives in chunks, into text for recordings and logs:
//! UTF-8 decoded across chunk boundaries, and (for logs) with control sequences removed.

/// Decodes a byte stream as UTF-8 chunk by chunk. A character cut across two chunks is kept
/// back until its rest arrives, so it is not turned into U+FFFD; bytes that can never be
/// UTF-8 still become U+FFFD (asciicast events and logs must be valid text).
#[derive(Debug, Default)]
pub struct Utf8Carry {
    /// The start of a character whose rest has not come yet (at most 3 bytes).
    tail: Vec<u8>,
}

impl Utf8Carry {
    /// The text of `bytes` that is complete, after what was kept back last time.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        let joined;
        let mut rest: &[u8] = if self.tail.is_empty() {
            bytes
        } else {
            self.tail.extend_from_slice(bytes);
            joined = std::mem::take(&mut self.tail);
            &joined
        };
        let mut out = String::with_capacity(rest.len());
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    out.push_str(valid);
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    // from_utf8 said so: this part is valid.
                    out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(bad) => {
                            out.push('\u{fffd}');
                            rest = &after[bad..];
                        }
                        None => {
                            // A character's start at the very end: its rest may come next.
                            self.tail = after.to_vec();
                            break;
                        }
                    }
                }
            }
        }
        out
    }

    /// What was kept back, at the end of the stream (U+FFFD: it never got its rest).
    pub fn finish(&mut self) -> String {
        let tail = std::mem::take(&mut self.tail);
        String::from_utf8_lossy(&tail).into_owned()
    }
}

/// Where [`PlainLines`] is inside an escape sequence (these run across chunks too).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Escape {
    #[default]
    None,
    /// After ESC.
    Esc,
    /// After ESC and an intermediate byte (`ESC ( B`): one more character ends it.
    EscIntermediate,
    /// CSI: parameters up to a final byte.
    Csi,
    /// OSC, DCS, SOS, PM, APC: a string up to BEL or ST.
    Text,
    /// ESC inside such a string: `\` ends it.
    TextEsc,
}

/// The longest line kept before it is written as it is (a program that never prints a
/// newline must not grow the buffer without end).
const MAX_LINE: usize = 64 * 1024;

/// Terminal output as plain lines for a log: escape sequences (colours, cursor moves,
/// titles, OSC 133 marks) and other controls removed, a backspace taking back the
/// character before it, carriage returns dropped, tabs kept.
#[derive(Debug, Default)]
pub struct PlainLines {
    escape: Escape,
    line: String,
}

impl PlainLines {
    /// Feeds `text`; each complete line (without its newline) goes to `line_done`.
    pub fn push(&mut self, text: &str, mut line_done: impl FnMut(&str)) {
        for c in text.chars() {
            self.escape = match (self.escape, c) {
                (Escape::None, '\u{1b}') => Escape::Esc,
                (Escape::None, '\u{9b}') => Escape::Csi,
                (Escape::None, '\u{90}' | '\u{9d}' | '\u{98}' | '\u{9e}' | '\u{9f}') => {
                    Escape::Text
                }
                (Escape::None, '\n') => {
                    line_done(&self.line);
                    self.line.clear();
                    Escape::None
                }
                (Escape::None, '\u{8}') => {
                    self.line.pop();
                    Escape::None
                }
                (Escape::None, '\t') => {
                    self.line.push(c);
                    Escape::None
                }
                (Escape::None, c) if c.is_control() => Escape::None,
                (Escape::None, c) => {
                    self.line.push(c);
                    if self.line.len() >= MAX_LINE {
                        line_done(&self.line);
                        self.line.clear();
                    }
                    Escape::None
                }
                (Escape::Esc, '[') => Escape::Csi,
                (Escape::Esc, ']' | 'P' | 'X' | '^' | '_') => Escape::Text,
                (Escape::Esc, ' '..='/') => Escape::EscIntermediate,
                (Escape::Esc | Escape::EscIntermediate, _) => Escape::None,
                (Escape::Csi, '@'..='~') => Escape::None,
                (Escape::Csi, _) => Escape::Csi,
                (Escape::Text | Escape::TextEsc, '\u{7}' | '\u{9c}') => Escape::None,
                (Escape::Text | Escape::TextEsc, '\u{1b}') => Escape::TextEsc,
                (Escape::TextEsc, '\\') => Escape::None,
                (Escape::Text | Escape::TextEsc, _) => Escape::Text,
            };
        }
    }

    /// The line begun but not ended, if any (at the end of the log).
    pub fn finish(&mut self) -> Option<String> {
        self.escape = Escape::None;
        (!self.line.is_empty()).then(|| std::mem::take(&mut self.line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_cut_between_chunks_comes_out_whole() {
        let text = "añ中🎉".as_bytes();
        // Every way of cutting it in two.
        for cut in 0..=text.len() {
            let mut carry = Utf8Carry::default();
            let mut out = carry.push(&text[..cut]);
            out.push_str(&carry.push(&text[cut..]));
            out.push_str(&carry.finish());
            assert_eq!(out, "añ中🎉", "cut at {cut}");
        }
        // One byte at a time.
        let mut carry = Utf8Carry::default();
        let out: String = text.iter().map(|b| carry.push(&[*b])).collect();
        assert_eq!(out, "añ中🎉");
    }

    #[test]
    fn bytes_that_are_never_utf8_become_replacement_characters() {
        let mut carry = Utf8Carry::default();
        assert_eq!(carry.push(b"a\xffb\xc3"), "a\u{fffd}b");
        assert_eq!(carry.push(b"("), "\u{fffd}(");
        assert_eq!(carry.push(b"\xe4\xb8"), "");
        assert_eq!(carry.finish(), "\u{fffd}");
    }

    fn plain(chunks: &[&str]) -> Vec<String> {
        let mut lines = Vec::new();
        let mut plain = PlainLines::default();
        for chunk in chunks {
            plain.push(chunk, |l| lines.push(l.to_string()));
        }
        lines.extend(plain.finish());
        lines
    }

    #[test]
    fn logs_keep_the_text_and_drop_the_control_sequences() {
        let lines = plain(&[
            "\x1b[1;32muser@web01\x1b[0m:~$ ls\r\n",
            "\x1b]0;title\x07\x1b]133;A\x1b\\a\tb\x1b(Bc\r\n",
            "typo\x08\x08\x08\x08fixed\r\n\x1b[?2004h",
            "prompt$ ",
        ]);
        assert_eq!(lines, ["user@web01:~$ ls", "a\tbc", "fixed", "prompt$ "]);
    }

    #[test]
    fn an_escape_cut_between_chunks_is_still_removed() {
        let whole = "x\x1b[38;5;196mred\x1b]8;;http://a\x1b\\link\u{9b}0m\n";
        for cut in whole.char_indices().map(|(i, _)| i) {
            let lines = plain(&[&whole[..cut], &whole[cut..]]);
            assert_eq!(lines, ["xredlink"], "cut at {cut}");
        }
    }
}
