//! What a headless run shows on the terminal while it works: prompts for passphrases and
//! passwords (asked once, on the controlling terminal) and a one-line progress bar.

use std::io::IsTerminal;

use tokio::sync::mpsc;

use crate::ssh::Prompt;

/// Answers prompts one at a time from the controlling terminal, off the event loop; without
/// a terminal every prompt is declined at once. A password typed once is reused for the
/// following hosts (like `pssh -A`).
pub(super) fn spawn_prompter() -> mpsc::UnboundedSender<Prompt> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Prompt>();
    tokio::spawn(async move {
        let mut remembered: Option<String> = None;
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        while let Some(prompt) = rx.recv().await {
            if !interactive {
                let _ = prompt.reply.send(None);
                continue;
            }
            let is_password = prompt.text.starts_with("Password");
            if is_password && let Some(answer) = &remembered {
                let _ = prompt.reply.send(Some(answer.clone()));
                continue;
            }
            let text = prompt.text.clone();
            let answer = tokio::task::spawn_blocking(move || crate::sys::read_secret(&text))
                .await
                .ok()
                .flatten();
            if is_password {
                remembered.clone_from(&answer);
            }
            let _ = prompt.reply.send(answer);
        }
    });
    tx
}

/// A one-line progress display on stderr, only when stderr is a terminal.
pub(super) struct Progress {
    total: usize,
    done: usize,
    enabled: bool,
    drawn: bool,
}

impl Progress {
    pub(super) fn new(total: usize) -> Progress {
        Progress {
            total,
            done: 0,
            enabled: std::io::stderr().is_terminal(),
            drawn: false,
        }
    }

    pub(super) fn done(&mut self, done: usize) {
        self.done = done;
    }

    pub(super) fn draw(&mut self) {
        if !self.enabled || self.done == self.total {
            return;
        }
        let width = 30;
        let filled = width * self.done / self.total.max(1);
        let bar = format!("{}{}", "#".repeat(filled), "-".repeat(width - filled));
        eprint!("\r\x1b[K[{bar}] {}/{} hosts done", self.done, self.total);
        self.drawn = true;
    }

    pub(super) fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[K");
        }
    }
}
