//! Putting the user's terminal into TUI mode and, whatever happens, back.

use std::io::{self, BufWriter, Stdout, stdout};

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// What frames are written through. std's `Stdout` is a `LineWriter` over a 1 KiB buffer,
/// so a 16 KB frame of 100 panes went out as 16 `write(2)`s, each one waking the terminal
/// (an outer tmux on the same core) to parse a piece of it. ratatui flushes once per frame,
/// so with this buffer a frame is one write; larger frames still go out in 64 KiB pieces.
pub type FrameOut = BufWriter<Stdout>;

/// The buffer behind [`FrameOut`].
const FRAME_BUFFER: usize = 64 * 1024;

pub type Term = Terminal<CrosstermBackend<FrameOut>>;

pub fn enter(mouse: bool) -> io::Result<()> {
    enable_raw_mode()?;
    execute!(stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
    set_mouse_capture(mouse)
}

/// Best effort and safe to repeat: used on quit, on errors, from the panic hook and signals.
pub fn leave() {
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
}

pub fn set_mouse_capture(on: bool) -> io::Result<()> {
    if on {
        execute!(stdout(), EnableMouseCapture)
    } else {
        execute!(stdout(), DisableMouseCapture)
    }
}

/// Restores the terminal before the default hook prints the panic, so the message is
/// readable and the shell is usable afterwards.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if crate::app::pane::in_guarded_emulator() {
            // Caught and recovered from by the pane: the TUI carries on.
            return;
        }
        leave();
        previous(info);
    }));
}

/// Leaves TUI mode for as long as the guard lives, including on early returns with `?`.
pub struct Guard;

impl Guard {
    pub fn new(mouse: bool) -> io::Result<(Guard, Term)> {
        install_panic_hook();
        enter(mouse)?;
        let guard = Guard;
        let out = BufWriter::with_capacity(FRAME_BUFFER, stdout());
        let terminal = Terminal::new(CrosstermBackend::new(out))?;
        Ok((guard, terminal))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        leave();
    }
}

/// Ctrl-Z: gives the terminal back to the shell, stops like any job, and takes it again on
/// `fg`. The whole loop stops meanwhile; sessions resume where they were. The caller
/// clears its terminal afterwards so the next frame repaints everything.
pub fn suspend(mouse: bool) -> io::Result<()> {
    leave();
    // SAFETY: raise only delivers a signal to this process; SIGTSTP's default action stops
    // it until SIGCONT, after which raise returns.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    enter(mouse)
}
