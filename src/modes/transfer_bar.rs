//! The progress display of `mtssh push` / `mtssh pull`: one `indicatif` bar on stderr with
//! the hosts done, the bytes moved (of the total when it is known), the rate, the time left
//! and the slowest hosts. It is drawn from the event loop's own progress tick (no ticker
//! thread of indicatif's): each draw is one small write, and indicatif's rate limit keeps
//! even that to a few a second.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::prompter::{bar_shown, bar_withdrawn};
use crate::lang::trf;
use crate::ssh::{human_bytes, humantime};

/// One host as the display sees it.
#[derive(Debug, Clone, Copy)]
pub(super) struct HostBytes<'h> {
    pub name: &'h str,
    pub moved: u64,
    pub finished: bool,
}

/// The transfer's progress display. Hidden (and free) when not wanted or stderr is no
/// terminal.
pub(super) struct TransferBar {
    bar: ProgressBar,
    /// Bytes each host has to move, when known before the start (push: the local files).
    per_host: Option<u64>,
    last: (Instant, u64),
    /// Bytes per second, smoothed over the ticks.
    rate: f64,
    /// Drawn on stderr, and so known to the prompter.
    on_terminal: bool,
}

impl TransferBar {
    /// `wanted` is false with `-q` or `--json`; stderr must be a terminal too.
    pub(super) fn new(per_host: Option<u64>, hosts: usize, wanted: bool) -> TransferBar {
        if wanted && std::io::stderr().is_terminal() {
            let mut bar = TransferBar::with_target(per_host, hosts, ProgressDrawTarget::stderr());
            // A prompt hides it while it asks.
            bar_shown(&bar.bar);
            bar.on_terminal = true;
            bar
        } else {
            TransferBar::with_target(per_host, hosts, ProgressDrawTarget::hidden())
        }
    }

    pub(super) fn with_target(
        per_host: Option<u64>,
        hosts: usize,
        target: ProgressDrawTarget,
    ) -> TransferBar {
        // The length is set here, where it draws nothing: the first frame is the first tick's.
        let hosts_total = per_host.map(|per_host| per_host.saturating_mul(hosts as u64));
        let bar = ProgressBar::with_draw_target(hosts_total, target);
        // `wide_msg` cuts the text to the terminal's width: the display stays one line, which
        // is what the prompter erases before it asks.
        let style = if per_host.is_some() {
            ProgressStyle::with_template("[{bar:30}] {wide_msg}").map(|s| s.progress_chars("#>-"))
        } else {
            ProgressStyle::with_template("{spinner} {wide_msg}")
        };
        // The templates are constant and valid; the default style would do as well.
        if let Ok(style) = style {
            bar.set_style(style);
        }
        TransferBar {
            bar,
            per_host,
            last: (Instant::now(), 0),
            rate: 0.0,
            on_terminal: false,
        }
    }

    /// One tick of the loop: the bar from the hosts' counts now.
    pub(super) fn update(&mut self, hosts: &[HostBytes<'_>]) {
        self.update_at(hosts, Instant::now());
    }

    fn update_at(&mut self, hosts: &[HostBytes<'_>], now: Instant) {
        let moved: u64 = hosts.iter().map(|h| h.moved).sum();
        let elapsed = now.duration_since(self.last.0).as_secs_f64();
        if elapsed > 0.0 {
            let current = moved.saturating_sub(self.last.1) as f64 / elapsed;
            self.rate = if self.rate == 0.0 {
                current
            } else {
                0.7 * self.rate + 0.3 * current
            };
        }
        self.last = (now, moved);
        // Each call draws (within indicatif's rate limit): the text first, so that the frame
        // between the two shows only the bar one tick behind, never a text without its bar.
        self.bar
            .set_message(message(hosts, self.per_host, self.rate));
        match self.per_host {
            Some(per_host) => {
                // Work done: a finished host (even a failed one) has none left.
                let done: u64 = hosts
                    .iter()
                    .map(|h| {
                        if h.finished {
                            per_host
                        } else {
                            h.moved.min(per_host)
                        }
                    })
                    .sum();
                self.bar.set_position(done);
            }
            None => self.bar.tick(),
        }
    }

    /// Erases the display; nothing is left on the terminal.
    pub(super) fn finish(&mut self) {
        if std::mem::take(&mut self.on_terminal) {
            bar_withdrawn();
        }
        self.bar.finish_and_clear();
    }
}

impl Drop for TransferBar {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `3/10 hosts done, 1.0 MB of 10.0 MB, 512.0 KB/s, ETA 18s, slowest: c d e`. The time
/// left and the total only when the bytes per host are known (push); the slowest hosts
/// are the unfinished ones with the most bytes left, i.e. the fewest moved.
pub(super) fn message(hosts: &[HostBytes<'_>], per_host: Option<u64>, rate: f64) -> String {
    let done = hosts.iter().filter(|h| h.finished).count();
    let moved: u64 = hosts.iter().map(|h| h.moved).sum();
    let bytes = match per_host {
        Some(per_host) => trf(
            "{moved} of {total}",
            &[
                ("moved", &human_bytes(moved)),
                ("total", &human_bytes(per_host * hosts.len() as u64)),
            ],
        ),
        None => human_bytes(moved),
    };
    let left: u64 = per_host.map_or(0, |per_host| {
        hosts
            .iter()
            .filter(|h| !h.finished)
            .map(|h| per_host.saturating_sub(h.moved))
            .sum()
    });
    let eta = if per_host.is_some() && rate >= 1.0 && left > 0 {
        let secs = (left as f64 / rate).ceil().min(1e7) as u64;
        trf(
            ", ETA {eta}",
            &[("eta", &humantime(Duration::from_secs(secs)))],
        )
    } else {
        String::new()
    };
    let mut text = trf(
        "{done}/{total} hosts done",
        &[("done", &done), ("total", &hosts.len())],
    );
    text.push_str(&trf(
        ", {bytes}, {rate}/s{eta}{slowest}",
        &[
            ("bytes", &bytes),
            ("rate", &human_bytes(rate as u64)),
            ("eta", &eta),
            ("slowest", &slowest_hosts(hosts)),
        ],
    ));
    text
}

/// `, slowest: a b c`: the three unfinished hosts that moved the fewest bytes (each has the
/// same to move, so the most left); nothing while fewer than two are still going.
fn slowest_hosts(hosts: &[HostBytes<'_>]) -> String {
    let mut open: Vec<(u64, &str)> = hosts
        .iter()
        .filter(|h| !h.finished)
        .map(|h| (h.moved, h.name))
        .collect();
    if open.len() < 2 {
        return String::new();
    }
    open.sort();
    let names: Vec<&str> = open.iter().take(3).map(|(_, name)| *name).collect();
    trf(", slowest: {names}", &[("names", &names.join(" "))])
}

#[cfg(test)]
#[path = "transfer_bar_tests.rs"]
mod tests;
