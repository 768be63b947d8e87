//! DEC special graphics (the VT100 line-drawing set) in front of vt100, which ignores charset
//! designations: `ESC ( 0` (G0) or `ESC ) 0` plus SO (G1) make `q` a `─`, `x` a `│` and so on,
//! which is how `tput smacs`, `dialog` and `mc` draw boxes.
//!
//! The filter follows the escape-sequence structure the way vte (vt100's parser) does, so a
//! designation split across chunks still counts and the same bytes inside a CSI, OSC, DCS or
//! other string are left alone. Only printable ASCII in the ground state is ever rewritten.

use std::borrow::Cow;

/// What a G0/G1 slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Set {
    #[default]
    Ascii,
    Graphics,
}

/// Where in an escape sequence the stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Ground,
    /// After ESC.
    Escape,
    /// After ESC and intermediates; `slot` is the G slot a single `(`/`)` names.
    EscapeIntermediate {
        slot: Option<u8>,
    },
    Csi,
    /// OSC: ends at BEL as well as at ESC.
    Osc,
    /// DCS, SOS, PM, APC: end at ESC (the ST's first byte).
    Text,
}

#[derive(Debug, Default, Clone)]
pub struct Charsets {
    g0: Set,
    g1: Set,
    /// SO selected G1; SI goes back to G0.
    shifted: bool,
    state: State,
}

const ESC: u8 = 0x1b;
const SO: u8 = 0x0e;
const SI: u8 = 0x0f;
const CAN: u8 = 0x18;
const SUB: u8 = 0x1a;
const BEL: u8 = 0x07;

impl Charsets {
    fn active(&self) -> Set {
        if self.shifted { self.g1 } else { self.g0 }
    }

    /// The bytes with line-drawing characters in place of the ASCII that stands for them;
    /// borrowed unchanged when nothing is drawn with the graphics set (the usual case).
    pub fn filter<'a>(&mut self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let mut out: Option<Vec<u8>> = None;
        let mut i = 0;
        while i < bytes.len() {
            // Skip quickly what cannot change anything: plain text (only ESC, SO and SI
            // matter there) and the body of a CSI sequence.
            let run = match self.state {
                State::Ground if self.active() == Set::Ascii => {
                    memchr::memchr3(ESC, SO, SI, &bytes[i..]).unwrap_or(bytes.len() - i)
                }
                State::Csi => bytes[i..]
                    .iter()
                    .position(|&b| !matches!(b, 0x20..=0x3f))
                    .unwrap_or(bytes.len() - i),
                _ => 0,
            };
            if run > 0 {
                if let Some(out) = out.as_mut() {
                    out.extend_from_slice(&bytes[i..i + run]);
                }
                i += run;
                if i == bytes.len() {
                    break;
                }
            }
            let b = bytes[i];
            i += 1;
            match self.step(b) {
                Some(drawn) => {
                    let out = out.get_or_insert_with(|| bytes[..i - 1].to_vec());
                    let mut utf8 = [0; 4];
                    out.extend_from_slice(drawn.encode_utf8(&mut utf8).as_bytes());
                }
                None => {
                    if let Some(out) = out.as_mut() {
                        out.push(b);
                    }
                }
            }
        }
        match out {
            Some(out) => Cow::Owned(out),
            None => Cow::Borrowed(bytes),
        }
    }

    /// Advances over one byte; returns the character to print instead of it, if any.
    fn step(&mut self, b: u8) -> Option<char> {
        // Anywhere: CAN and SUB abort a sequence, ESC starts a new one (and ends a string).
        match b {
            CAN | SUB => {
                self.state = State::Ground;
                return None;
            }
            ESC => {
                self.state = State::Escape;
                return None;
            }
            _ => {}
        }
        match self.state {
            State::Ground => {
                self.shift(b);
                match self.active() {
                    Set::Graphics => graphic(b),
                    Set::Ascii => None,
                }
            }
            State::Escape => {
                self.state = match b {
                    0x20..=0x2f => State::EscapeIntermediate {
                        slot: matches!(b, b'(' | b')').then_some(b),
                    },
                    b'[' => State::Csi,
                    b']' => State::Osc,
                    b'P' | b'X' | b'^' | b'_' => State::Text,
                    0x30..=0x7e => {
                        if b == b'c' {
                            // RIS: a full reset, charsets included.
                            *self = Charsets::default();
                        }
                        State::Ground
                    }
                    _ => {
                        // C0 controls inside an escape are executed (vte does so).
                        self.shift(b);
                        State::Escape
                    }
                };
                None
            }
            State::EscapeIntermediate { slot } => {
                match b {
                    0x20..=0x2f => self.state = State::EscapeIntermediate { slot: None },
                    0x30..=0x7e => {
                        let set = if b == b'0' { Set::Graphics } else { Set::Ascii };
                        match slot {
                            Some(b'(') => self.g0 = set,
                            Some(b')') => self.g1 = set,
                            _ => {}
                        }
                        self.state = State::Ground;
                    }
                    _ => self.shift(b),
                }
                None
            }
            State::Csi => {
                match b {
                    0x40..=0x7e => self.state = State::Ground,
                    _ => self.shift(b),
                }
                None
            }
            State::Osc => {
                if b == BEL {
                    self.state = State::Ground;
                }
                None
            }
            State::Text => None,
        }
    }

    /// SO and SI switch between G0 and G1 wherever vte executes controls.
    fn shift(&mut self, b: u8) {
        match b {
            SO => self.shifted = true,
            SI => self.shifted = false,
            _ => {}
        }
    }
}

/// The DEC special graphics character for `b` (0x5f..=0x7e), as xterm draws it.
fn graphic(b: u8) -> Option<char> {
    const TABLE: [char; 32] = [
        '\u{a0}', // _ blank
        '◆', '▒', '␉', '␌', '␍', '␊', '°', '±', // ` a b c d e f g
        '␤', '␋', '┘', '┐', '┌', '└', '┼', '⎺', // h i j k l m n o
        '⎻', '─', '⎼', '⎽', '├', '┤', '┴', '┬', // p q r s t u v w
        '│', '≤', '≥', 'π', '≠', '£', '·', // x y z { | } ~
    ];
    let index = b.checked_sub(0x5f)?;
    TABLE.get(usize::from(index)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&[u8]]) -> String {
        let mut charsets = Charsets::default();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend_from_slice(&charsets.filter(chunk));
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn g0_graphics_draws_boxes() {
        // `tput -T xterm smacs` is ESC ( 0 and `rmacs` is ESC ( B.
        let text = run(&[b"\x1b(0lqqk\r\nx  x\r\nmqqj\x1b(B lqk"]);
        assert_eq!(text, "\x1b(0┌──┐\r\n│  │\r\n└──┘\x1b(B lqk");
    }

    #[test]
    fn the_whole_table_maps() {
        let text = run(&[b"\x1b(0`afgjklmnopqrstuvwxyz{|}~\x1b(B"]);
        assert_eq!(text, "\x1b(0◆▒°±┘┐┌└┼⎺⎻─⎼⎽├┤┴┬│≤≥π≠£·\x1b(B");
        // Outside the table, and non-ASCII, pass through.
        assert_eq!(run(&[b"\x1b(0AZ09 \xc3\xa9"]), "\x1b(0AZ09 é");
    }

    #[test]
    fn g1_is_reached_with_so_and_left_with_si() {
        let text = run(&[b"\x1b)0q\x0eq\x0fq"]);
        assert_eq!(text, "\x1b)0q\x0e─\x0fq");
    }

    #[test]
    fn a_designation_split_across_chunks_counts() {
        assert_eq!(
            run(&[b"\x1b", b"(", b"0q", b"q\x1b(", b"Bq"]),
            "\x1b(0──\x1b(Bq"
        );
    }

    #[test]
    fn sequences_inside_strings_and_csi_are_not_designations() {
        // In an OSC title, a DCS and an APC the bytes `(0` mean nothing.
        assert_eq!(run(&[b"\x1b]0;a(0q\x07q"]), "\x1b]0;a(0q\x07q");
        assert_eq!(run(&[b"\x1bP(0q\x1b\\q"]), "\x1bP(0q\x1b\\q");
        assert_eq!(run(&[b"\x1b_(0", b"q\x1b\\q"]), "\x1b_(0q\x1b\\q");
        // Graphics on: CSI parameters and OSC text stay ASCII, the text after them does not.
        assert_eq!(
            run(&[b"\x1b(0\x1b[1;2q", b"q\x1b]2;qq\x07q"]),
            "\x1b(0\x1b[1;2q─\x1b]2;qq\x07─"
        );
        // An OSC cut by ESC ends there; CAN aborts a CSI.
        assert_eq!(
            run(&[b"\x1b(0\x1b]0;q\x1b\\q\x1b[1\x18q"]),
            "\x1b(0\x1b]0;q\x1b\\─\x1b[1\x18─"
        );
    }

    #[test]
    fn reset_and_other_sets_go_back_to_ascii() {
        assert_eq!(run(&[b"\x1b(0q\x1bcq"]), "\x1b(0─\x1bcq");
        assert_eq!(run(&[b"\x1b(0q\x1b(Aq"]), "\x1b(0─\x1b(Aq");
        // Two intermediates are not a G0 designation.
        assert_eq!(run(&[b"\x1b( 0q"]), "\x1b( 0q");
    }

    #[test]
    fn plain_output_is_borrowed() {
        let mut charsets = Charsets::default();
        assert!(matches!(
            charsets.filter(b"hello \x1b[1mq\x1b[m"),
            Cow::Borrowed(_)
        ));
    }
}
