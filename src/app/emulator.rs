//! A pane's terminal emulator: vt100 0.16 plus what it lacks for real programs. Lines that
//! leave the screen go to a compact [`History`] (vt100's own scrollback is a few rows of
//! conduit, [`capture`]). Resizes keep every line ([`reflow`]: what a shrink pushes off goes
//! to the history, a width change rewraps wrapped lines), queries are answered (cursor position, status, device
//! attributes), and DEC line drawing works ([`super::charset`]). Every vt100 call runs under a
//! panic guard: vt100 panics on some inputs, and one host's output must not take the program
//! down.

use super::charset::Charsets;
use super::history::capture::{self, CONDUIT_ROWS, Scanner};
use super::history::{Budget, History};
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
    /// The lines that left the screen (vt100's own scrollback is only their conduit).
    history: History,
    scanner: Scanner,
    /// How many times a vt100 panic reset it (the pane logs each with its name).
    pub resets: u64,
    /// Bumped by everything that may change the screen (output, resize): a drawing of the
    /// screen made at one generation is still right at the same one.
    generation: u64,
}

impl Emulator {
    pub fn new(rows: u16, cols: u16, budget: Budget) -> Self {
        Emulator {
            parser: fresh(rows, cols, CONDUIT_ROWS),
            charsets: Charsets::default(),
            history: History::new(budget),
            scanner: Scanner::default(),
            resets: 0,
            generation: 0,
        }
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    pub fn history_mut(&mut self) -> &mut History {
        &mut self.history
    }

    pub fn screen(&self) -> &vt100::Screen {
        self.parser.screen()
    }

    /// Changes whenever the screen may have ([`Emulator::process`], [`Emulator::resize`]).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// (rows, cols).
    pub fn size(&self) -> (u16, u16) {
        self.parser.screen().size()
    }

    /// Feeds remote output; returns the replies to the queries in it, for the session. A
    /// chunk vt100 panics on (found by fuzzing: a wide character cut in half by a resize,
    /// then written over) is lost and the emulator is rebuilt from what the screen held.
    pub fn process(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.generation += 1;
        let bytes = self.charsets.filter(bytes);
        let (parser, history, scanner) = (&mut self.parser, &mut self.history, &mut self.scanner);
        if guarded(|| capture::feed(parser, history, scanner, &bytes)).is_err() {
            self.recover();
        }
        std::mem::take(&mut self.parser.callbacks_mut().out)
    }

    /// A fresh emulator of the same size with the old screen's contents (the history stays;
    /// the hidden alternate screen is lost).
    fn recover(&mut self) {
        self.resets += 1;
        let (rows, cols) = self.size();
        let contents = guarded(|| self.parser.screen().contents_formatted()).unwrap_or_default();
        self.scanner = Scanner::default();
        self.parser = fresh(rows, cols, CONDUIT_ROWS);
        if guarded(|| self.parser.process(&contents)).is_err() {
            self.parser = fresh(rows, cols, CONDUIT_ROWS);
        }
    }

    /// Resizes to `rows` x `cols` keeping every line: the primary screen and its history are
    /// replayed, rewrapped, into an emulator of the new size; the alternate screen (a
    /// full-screen program, which redraws on SIGWINCH) is cut or padded.
    pub fn resize(&mut self, rows: u16, cols: u16) {
        if (rows, cols) == self.size() {
            return;
        }
        self.generation += 1;
        let budget = self.history.budget();
        let (parser, history) = (&mut self.parser, &mut self.history);
        let rebuilt = guarded(|| reflow::resized(parser, history, rows, cols));
        // Even when the resize panicked halfway.
        self.history.restore_budget(budget);
        self.scanner = Scanner::default();
        match rebuilt {
            Ok(parser) => self.parser = parser,
            Err(()) => {
                // The old way as a fallback: cut to size.
                self.recover();
                if guarded(|| self.parser.screen_mut().set_size(rows, cols)).is_err() {
                    self.parser = fresh(rows, cols, CONDUIT_ROWS);
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

    fn test_budget() -> Budget {
        Budget {
            lines: 10,
            bytes: usize::MAX,
        }
    }

    fn reply(emulator: &mut Emulator, chunks: &[&[u8]]) -> String {
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend(emulator.process(chunk));
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn queries_are_answered() {
        let mut e = Emulator::new(24, 80, test_budget());
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
        let mut e = Emulator::new(24, 80, test_budget());
        assert_eq!(reply(&mut e, &[b"x\x1b", b"[", b"6"]), "");
        assert_eq!(reply(&mut e, &[b"n"]), "\x1b[1;2R");
    }

    #[test]
    fn a_cursor_waiting_to_wrap_reports_the_last_column() {
        let mut e = Emulator::new(5, 10, test_budget());
        assert_eq!(reply(&mut e, &[b"0123456789\x1b[6n"]), "\x1b[1;10R");
    }

    #[test]
    fn a_query_flood_gets_a_bounded_reply() {
        let mut e = Emulator::new(5, 10, test_budget());
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
        let mut e = Emulator::new(5, 20, test_budget());
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
            let mut e = Emulator::new(5, 20, test_budget());
            e.process(&bytes);
            assert_eq!(e.screen().contents(), "┌─┐\n└─┘ lqk", "{term}: {bytes:?}");
        }
    }

    #[test]
    fn line_drawing_reaches_the_screen() {
        let mut e = Emulator::new(5, 10, test_budget());
        e.process(b"\x1b(0lqk\r\nx");
        e.process(b"\x1b(Bx");
        assert_eq!(e.screen().contents(), "┌─┐\n│x");
    }
}
