//! What a headless run shows on the terminal while it works: prompts for passphrases and
//! passwords (asked once, on the controlling terminal) and a one-line progress bar. Both
//! share stderr's last line ([`StatusLine`]), so the bar never covers a prompt nor glues
//! onto a line printed to the same terminal.

use std::io::{IsTerminal, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget};
use tokio::sync::mpsc;

use crate::ssh::Prompt;

/// What stderr's last line shows now. One for the process: the blocking modes run several
/// drivers at once, and they share one terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusLine {
    Empty,
    Progress,
    Prompt,
}

static STATUS_LINE: Mutex<StatusLine> = Mutex::new(StatusLine::Empty);

/// The password typed for the first host, reused for the following ones (like `pssh -A`):
/// for the process, so the blocking modes ask once too.
static REMEMBERED_PASSWORD: Mutex<Option<String>> = Mutex::new(None);

/// One prompt on the terminal at a time, whichever driver asks.
static ASKING: Mutex<()> = Mutex::new(());

/// The transfer's indicatif bar while it is drawn on stderr: a prompt hides it while it
/// asks. (Not `ProgressBar::suspend`: that holds the bar's lock for the whole prompt, and
/// the event loop's next update would wait for the user's Enter.)
static SHOWN_BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// `bar` is drawn on stderr from now on.
pub(super) fn bar_shown(bar: &ProgressBar) {
    if let Ok(mut shown) = SHOWN_BAR.lock() {
        *shown = Some(bar.clone());
    }
}

/// The bar is gone (cleared at the end of the transfer).
pub(super) fn bar_withdrawn() {
    if let Ok(mut shown) = SHOWN_BAR.lock() {
        *shown = None;
    }
}

/// Takes the transfer's bar off the terminal (it goes on counting, undrawn) and erases its
/// line; the bar to give the terminal back to afterwards.
fn hide_bar() -> Option<ProgressBar> {
    let bar = SHOWN_BAR.lock().ok()?.clone()?;
    bar.set_draw_target(ProgressDrawTarget::hidden());
    // The bar is one line and the cursor is at its end. A failed write has nothing to erase.
    let _ = std::io::stderr().write_all(b"\r\x1b[K");
    Some(bar)
}

/// Erases the progress bar if it is drawn. Call before printing to a terminal that stderr
/// shares (`--inline` lines), so a line never starts after the bar's text.
pub fn clear_status_line() {
    let Ok(mut line) = STATUS_LINE.lock() else {
        return;
    };
    if *line == StatusLine::Progress {
        // A failed write (the terminal is gone) has nothing to erase.
        let _ = std::io::stderr().write_all(b"\r\x1b[K");
        *line = StatusLine::Empty;
    }
}

fn set_status_line(to: StatusLine) {
    if let Ok(mut line) = STATUS_LINE.lock() {
        *line = to;
    }
}

/// Where the driver hands prompts. Dropping it (the run ended, or was interrupted) ends a
/// prompt still waiting for an answer at once, instead of waiting for Enter.
pub(super) struct Prompts {
    queue: mpsc::UnboundedSender<Prompt>,
    /// The write end of the pipe that a waiting prompt polls; closing it cancels the prompt.
    _cancel: Option<OwnedFd>,
}

impl Prompts {
    /// False when the prompter is gone: the prompt's reply is dropped, which the session
    /// reads as "declined".
    pub(super) fn send(&self, prompt: Prompt) -> bool {
        self.queue.send(prompt).is_ok()
    }
}

/// Answers prompts one at a time from the controlling terminal, off the event loop; without
/// a terminal every prompt is declined at once.
pub(super) fn spawn_prompter() -> Prompts {
    let (queue, mut rx) = mpsc::unbounded_channel::<Prompt>();
    let (cancel_read, cancel_write) = match crate::sys::cancel_pipe() {
        Ok((read, write)) => (Some(Arc::new(read)), Some(write)),
        Err(_) => (None, None),
    };
    tokio::spawn(async move {
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        while let Some(prompt) = rx.recv().await {
            // Without a cancel pipe a prompt could not be interrupted: decline instead.
            let Some(cancel) = cancel_read.clone().filter(|_| interactive) else {
                let _ = prompt.reply.send(None);
                continue;
            };
            let is_password = prompt.text.starts_with("Password");
            let remembered = REMEMBERED_PASSWORD.lock().ok().and_then(|p| p.clone());
            if is_password && let Some(answer) = remembered {
                let _ = prompt.reply.send(Some(answer));
                continue;
            }
            let (text, echo) = (shown_prompt(&prompt.text), prompt.echo);
            let answer = tokio::task::spawn_blocking(move || ask(&text, echo, &cancel))
                .await
                .ok()
                .flatten();
            if is_password
                && answer.is_some()
                && let Ok(mut slot) = REMEMBERED_PASSWORD.lock()
            {
                slot.clone_from(&answer);
            }
            let _ = prompt.reply.send(answer);
        }
    });
    Prompts {
        queue,
        _cancel: cancel_write,
    }
}

/// One prompt on the terminal, with the progress bar out of its way. Blocking.
fn ask(text: &str, echo: bool, cancel: &OwnedFd) -> Option<String> {
    let _turn = ASKING.lock();
    clear_status_line();
    let bar = hide_bar();
    set_status_line(StatusLine::Prompt);
    let answer = crate::sys::read_answer(text, echo, cancel.as_fd());
    set_status_line(StatusLine::Empty);
    if let Some(bar) = bar {
        // Drawn afresh below the answered prompt at the loop's next tick.
        bar.set_draw_target(ProgressDrawTarget::stderr());
    }
    answer
}

/// Hosts done out of the hosts of one run, shared by all its drivers: the blocking modes run
/// a driver per host (on threads of their own), and the bar counts the whole run, not
/// `0/1` in each.
#[derive(Debug, Clone, Default)]
pub struct RunProgress(Arc<(AtomicUsize, AtomicUsize)>);

impl RunProgress {
    /// Counts `total` hosts, unless a total was set before (by the blocking modes).
    pub(super) fn start(&self, total: usize) {
        let _ = self
            .0
            .0
            .compare_exchange(0, total, Ordering::Relaxed, Ordering::Relaxed);
    }

    pub(super) fn finished_one(&self) {
        self.0.1.fetch_add(1, Ordering::Relaxed);
    }

    /// (done, total)
    fn counts(&self) -> (usize, usize) {
        (
            self.0.1.load(Ordering::Relaxed),
            self.0.0.load(Ordering::Relaxed),
        )
    }
}

/// A one-line progress display on stderr, only when stderr is a terminal.
pub(super) struct Progress {
    counts: RunProgress,
    enabled: bool,
}

impl Progress {
    pub(super) fn new(counts: RunProgress, total: usize, wanted: bool) -> Progress {
        counts.start(total);
        Progress {
            counts,
            enabled: wanted && std::io::stderr().is_terminal(),
        }
    }

    pub(super) fn finished_one(&self) {
        self.counts.finished_one();
    }

    pub(super) fn draw(&mut self) {
        self.draw_with("");
    }

    /// The bar with `extra` after the hosts count (a transfer's bytes and rate).
    pub(super) fn draw_with(&mut self, extra: &str) {
        let (done, total) = self.counts.counts();
        if !self.enabled || done >= total {
            return;
        }
        let Ok(mut line) = STATUS_LINE.lock() else {
            return;
        };
        // A prompt is waiting for an answer on this line: leave it alone.
        if *line == StatusLine::Prompt {
            return;
        }
        let width = 30;
        let filled = width * done / total.max(1);
        let bar = format!("{}{}", "#".repeat(filled), "-".repeat(width - filled));
        let done = crate::lang::trf(
            "{done}/{total} hosts done{extra}",
            &[("done", &done), ("total", &total), ("extra", &extra)],
        );
        let text = format!("\r\x1b[K[{bar}] {done}");
        // eprint! would panic on a terminal that is gone (EIO after a hangup).
        let _ = std::io::stderr().write_all(text.as_bytes());
        *line = StatusLine::Progress;
    }

    pub(super) fn clear(&mut self) {
        clear_status_line();
    }
}

/// A prompt in the user's language: the engine's password prompt (`Password for NAME:`) is
/// translated here, where it is shown, so code matching the English text keeps working;
/// other prompts (a server's own keyboard-interactive text) stay as the server wrote them.
fn shown_prompt(text: &str) -> String {
    match text
        .strip_prefix("Password for ")
        .and_then(|rest| rest.strip_suffix(':'))
    {
        Some(name) => crate::lang::trf("Password for {name}:", &[("name", &name)]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::shown_prompt;
    use crate::lang::{Lang, with};

    #[test]
    fn the_password_prompt_is_shown_in_chinese_and_other_prompts_as_written() {
        with(Lang::Zh, || {
            assert_eq!(
                shown_prompt("Password for test@mock-01:"),
                "test@mock-01 的密码："
            );
            assert_eq!(shown_prompt("Verification code: "), "Verification code: ");
        });
        with(Lang::En, || {
            assert_eq!(
                shown_prompt("Password for test@mock-01:"),
                "Password for test@mock-01:"
            );
        });
    }
}
