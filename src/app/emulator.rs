//! A pane's terminal emulator: vt100 0.16 plus what it lacks for real programs. Resizes keep
//! every line ([`reflow`]: what a shrink pushes off goes to the scrollback, a width change
//! rewraps wrapped lines), queries are answered (cursor position, status, device
//! attributes), and DEC line drawing works ([`super::charset`]). Every vt100 call runs under a
//! panic guard: vt100 panics on some inputs, and one host's output must not take the program
//! down.

use super::charset::Charsets;
use super::reflow;

thread_local! {
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a panic now comes from an emulator call that [`Emulator`] catches: the TUI's panic
/// hook then leaves the terminal alone.
pub fn in_guarded_emulator() -> bool {
    GUARDED.with(|g| g.get())
}

/// Runs an emulator call, catching its panic.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, ()> {
    let outer = GUARDED.with(|g| g.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(outer));
    result.map_err(|_| ())
}

/// Most reply bytes one chunk of output may cause: a host flooding queries gets this much
/// back per chunk, not an unbounded buffer.
const MAX_REPLY: usize = 64 * 1024;

/// The answers to terminal queries, collected while vt100 parses; the pane's owner sends them
/// back to the session.
#[derive(Debug, Default)]
pub struct Replies {
    out: Vec<u8>,
}

impl Replies {
    fn push(&mut self, reply: &[u8]) {
        if self.out.len() + reply.len() <= MAX_REPLY {
            self.out.extend_from_slice(reply);
        }
    }
}

impl vt100::Callbacks for Replies {
    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        let first = params.first().and_then(|p| p.first()).copied().unwrap_or(0);
        match (i1, i2, c, first) {
            // DSR: "status?" → "OK".
            (None, None, 'n', 5) => self.push(b"\x1b[0n"),
            // CPR (and DEC's form with `?`): 1-based row and column of the cursor.
            (None | Some(b'?'), None, 'n', 6) => {
                let (row, col) = screen.cursor_position();
                let (_, cols) = screen.size();
                // A cursor waiting to wrap sits past the last column; terminals report the last.
                let col = (col + 1).min(cols.max(1));
                let mark = if i1.is_some() { "?" } else { "" };
                self.push(format!("\x1b[{mark}{};{col}R", row + 1).as_bytes());
            }
            // Primary device attributes: a VT100 with the advanced video option.
            (None, None, 'c', 0) => self.push(b"\x1b[?1;2c"),
            // Secondary device attributes: a VT220, firmware 10, no options.
            (Some(b'>'), None, 'c', 0) => self.push(b"\x1b[>1;10;0c"),
            _ => {}
        }
    }
}

pub struct Emulator {
    parser: vt100::Parser<Replies>,
    charsets: Charsets,
    /// Lines of history to keep (more for a while after a narrowing, see [`reflow`]).
    scrollback: usize,
    /// The most columns this emulator has had.
    widest: u16,
    /// How many times a vt100 panic reset it (the pane logs each with its name).
    pub resets: u64,
}

impl Emulator {
    pub fn new(rows: u16, cols: u16, scrollback: usize) -> Self {
        Emulator {
            parser: fresh(rows, cols, scrollback),
            charsets: Charsets::default(),
            scrollback,
            widest: cols,
            resets: 0,
        }
    }

    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    /// Lines of history it keeps now.
    pub fn scrollback_limit(&self) -> usize {
        self.scrollback
    }

    /// (rows, cols).
    pub fn size(&self) -> (u16, u16) {
        self.parser.screen().size()
    }

    /// Scrolls the view `offset` lines back into the history (vt100 clamps).
    pub fn set_scrollback(&mut self, offset: usize) {
        self.parser.screen_mut().set_scrollback(offset);
    }

    /// Feeds remote output; returns the replies to the queries in it, for the session. A
    /// chunk vt100 panics on (found by fuzzing: a wide character cut in half by a resize,
    /// then written over) is lost and the emulator is rebuilt from what the screen held.
    pub fn process(&mut self, bytes: &[u8]) -> Vec<u8> {
        let bytes = self.charsets.filter(bytes);
        if guarded(|| self.parser.process(&bytes)).is_err() {
            self.recover();
        }
        std::mem::take(&mut self.parser.callbacks_mut().out)
    }

    /// A fresh emulator of the same size with the old screen's contents (scrollback and the
    /// hidden alternate screen are lost).
    fn recover(&mut self) {
        self.resets += 1;
        let (rows, cols) = self.size();
        let contents = guarded(|| self.parser.screen().contents_formatted()).unwrap_or_default();
        self.parser = fresh(rows, cols, self.scrollback);
        if guarded(|| self.parser.process(&contents)).is_err() {
            self.parser = fresh(rows, cols, self.scrollback);
        }
    }

    /// Resizes to `rows` x `cols` keeping every line: the primary screen and its history are
    /// replayed, rewrapped, into an emulator of the new size; the alternate screen (a
    /// full-screen program, which redraws on SIGWINCH) is cut or padded.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        if (rows, cols) == self.size() {
            return;
        }
        let scrollback = self.scrollback;
        let widest = self.widest.max(cols);
        self.widest = widest;
        let rebuilt = guarded(|| reflow::resized(&mut self.parser, rows, cols, scrollback, widest));
        match rebuilt {
            Ok(parser) => self.parser = parser,
            Err(()) => {
                // The old way as a fallback: cut to size.
                self.recover();
                if guarded(|| self.parser.screen_mut().set_size(rows, cols)).is_err() {
                    self.parser = fresh(rows, cols, scrollback);
                }
            }
        }
    }
}

pub(super) fn fresh(rows: u16, cols: u16, scrollback: usize) -> vt100::Parser<Replies> {
    vt100::Parser::new_with_callbacks(rows, cols, scrollback, Replies::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(emulator: &mut Emulator, chunks: &[&[u8]]) -> String {
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(emulator.process(chunk));
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn queries_are_answered() {
        let mut e = Emulator::new(24, 80, 10);
        assert_eq!(reply(&mut e, &[b"ab\r\ncd\x1b[6n"]), "\x1b[2;3R");
        assert_eq!(reply(&mut e, &[b"\x1b[5n"]), "\x1b[0n");
        assert_eq!(
            reply(&mut e, &[b"\x1b[c", b"\x1b[0c"]),
            "\x1b[?1;2c\x1b[?1;2c"
        );
        assert_eq!(reply(&mut e, &[b"\x1b[>c"]), "\x1b[>1;10;0c");
        assert_eq!(reply(&mut e, &[b"\x1b[10;20H\x1b[?6n"]), "\x1b[?10;20R");
        // Not queries: nothing back.
        assert_eq!(reply(&mut e, &[b"\x1b[1n\x1b[2c\x1b[=c text"]), "");
    }

    #[test]
    fn a_query_split_across_chunks_is_answered_once_whole() {
        let mut e = Emulator::new(24, 80, 10);
        assert_eq!(reply(&mut e, &[b"x\x1b", b"[", b"6"]), "");
        assert_eq!(reply(&mut e, &[b"n"]), "\x1b[1;2R");
    }

    #[test]
    fn a_cursor_waiting_to_wrap_reports_the_last_column() {
        let mut e = Emulator::new(5, 10, 10);
        assert_eq!(reply(&mut e, &[b"0123456789\x1b[6n"]), "\x1b[1;10R");
    }

    #[test]
    fn a_query_flood_gets_a_bounded_reply() {
        let mut e = Emulator::new(5, 10, 10);
        let flood = b"\x1b[5n".repeat(100_000);
        assert!(e.process(&flood).len() <= MAX_REPLY);
    }

    #[test]
    fn a_panic_is_caught_and_the_pane_rebuilt_from_its_screen() {
        assert!(!in_guarded_emulator());
        let caught = guarded(|| {
            assert!(in_guarded_emulator());
            guarded(|| ()).ok();
            // Nested calls leave the flag to the outer one.
            assert!(in_guarded_emulator());
            panic!("as vt100 does");
        });
        assert!(caught.is_err() && !in_guarded_emulator());
        let mut e = Emulator::new(5, 20, 10);
        e.process(b"\x1b[31mkept\r\n$ ");
        e.recover();
        assert_eq!(e.screen().contents(), "kept\n$ ");
        assert_eq!(e.screen().cursor_position(), (1, 2));
        assert_eq!(
            e.screen().cell(0, 0).unwrap().fgcolor(),
            vt100::Color::Idx(1)
        );
    }

    /// What `tput -T <term> <cap>` prints, or `None` without tput or that terminfo entry.
    fn tput(term: &str, cap: &str) -> Option<Vec<u8>> {
        let out = std::process::Command::new("tput")
            .args(["-T", term, cap])
            .output()
            .ok()?;
        out.status.success().then_some(out.stdout)
    }

    #[test]
    fn boxes_drawn_with_tputs_own_bytes() {
        // xterm switches G0 (ESC ( 0); screen enables G1 once (enacs) and shifts to it (SO).
        for term in ["xterm", "screen"] {
            let (Some(smacs), Some(rmacs)) = (tput(term, "smacs"), tput(term, "rmacs")) else {
                crate::test_support::skip_without_peer(&format!("no tput or no {term} entry"));
                return;
            };
            let mut bytes = tput(term, "enacs").unwrap_or_default();
            bytes.extend(&smacs);
            bytes.extend(b"lqk\r\nmqj");
            bytes.extend(&rmacs);
            bytes.extend(b" lqk");
            let mut e = Emulator::new(5, 20, 10);
            e.process(&bytes);
            assert_eq!(e.screen().contents(), "┌─┐\n└─┘ lqk", "{term}: {bytes:?}");
        }
    }

    #[test]
    fn line_drawing_reaches_the_screen() {
        let mut e = Emulator::new(5, 10, 10);
        e.process(b"\x1b(0lqk\r\nx");
        e.process(b"\x1b(Bx");
        assert_eq!(e.screen().contents(), "┌─┐\n│x");
    }
}
