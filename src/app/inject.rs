//! Hides a pane's output while an injected line (shell integration) runs: from the moment the
//! line is sent until the sentinel it prints, so the pane never shows the line's echo.
//!
//! Never for ever and nothing lost: past a deadline (counted from the first tick after the
//! line was sent: the model has no clock of its own), or once more than [`MAX_HELD`] bytes
//! wait, everything held back is shown as it came.

use std::time::{Duration, Instant};

use crate::ssh::shell_integration::{ECHO_START, READY_SENTINEL};

/// Shown in place of the install line's echo: back to the start of the prompt's line and
/// clear it, so the prompt the hooks draw next replaces the one already shown.
const REDRAW_PROMPT_LINE: &[u8] = b"\r\x1b[K";

/// How long output is held back waiting for the sentinel.
pub const HIDE_TIMEOUT: Duration = Duration::from_secs(3);
/// Output held back beyond this is not an echo: show it.
pub const MAX_HELD: usize = 64 * 1024;

#[derive(Debug, Default)]
pub struct Hider {
    /// Output since the line was sent; `Some` while hiding.
    held: Option<Vec<u8>>,
    deadline: Option<Instant>,
}

impl Hider {
    /// The line was sent: hold output back from here on.
    pub fn start(&mut self) {
        self.held = Some(Vec::new());
        self.deadline = None;
    }

    pub fn is_hiding(&self) -> bool {
        self.held.is_some()
    }

    /// What of `bytes` the pane shows now: all of it when not hiding; while hiding nothing,
    /// until the sentinel arrives (in one chunk or split across several), then what the
    /// shell printed before the line's echo (the rest of a motd, the prompt), and whatever
    /// followed the sentinel. Only the echo and the line's own run are left out.
    pub fn filter(&mut self, bytes: &[u8]) -> Vec<u8> {
        let Some(held) = self.held.as_mut() else {
            return bytes.to_vec();
        };
        // Only the sentinel's tail can straddle chunks: search from just before the new bytes.
        let from = held.len().saturating_sub(READY_SENTINEL.len() - 1);
        held.extend_from_slice(bytes);
        if let Some(at) = find(&held[from..], READY_SENTINEL) {
            let sentinel = from + at;
            let mut shown = match find(&held[..sentinel], ECHO_START) {
                Some(echo) => {
                    let before = held[..echo].strip_suffix(b" ").unwrap_or(&held[..echo]);
                    [before, REDRAW_PROMPT_LINE].concat()
                }
                None => Vec::new(),
            };
            shown.extend_from_slice(&held[sentinel + READY_SENTINEL.len()..]);
            self.stop();
            return shown;
        }
        if held.len() > MAX_HELD {
            return self.release();
        }
        Vec::new()
    }

    /// A tick at `now`: past the deadline, everything held back, shown after all.
    pub fn expire(&mut self, now: Instant) -> Option<Vec<u8>> {
        self.held.as_ref()?;
        match self.deadline {
            Some(deadline) if now >= deadline => Some(self.release()),
            Some(_) => None,
            None => {
                self.deadline = Some(now + HIDE_TIMEOUT);
                None
            }
        }
    }

    fn release(&mut self) -> Vec<u8> {
        let held = self.held.take().unwrap_or_default();
        self.stop();
        held
    }

    fn stop(&mut self) {
        self.held = None;
        self.deadline = None;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_everything_when_not_hiding() {
        let mut h = Hider::default();
        assert_eq!(h.filter(b"abc"), b"abc");
        assert_eq!(h.expire(Instant::now() + HIDE_TIMEOUT * 2), None);
    }

    #[test]
    fn hides_until_the_sentinel_even_split_across_chunks() {
        let mut sentinel_split = READY_SENTINEL.to_vec();
        let tail = sentinel_split.split_off(5);
        for split in [1, 5, READY_SENTINEL.len() - 1] {
            let mut h = Hider::default();
            h.start();
            assert_eq!(h.filter(b" : __mtssh_install; echo of the line\r\n"), b"");
            assert_eq!(h.filter(&READY_SENTINEL[..split]), b"");
            let mut rest = READY_SENTINEL[split..].to_vec();
            rest.extend_from_slice(b"$ ");
            assert_eq!(h.filter(&rest), b"\r\x1b[K$ ", "split at {split}");
            assert!(!h.is_hiding());
            assert_eq!(h.filter(b"later"), b"later");
        }
        // The sentinel's own bytes are not taken for it one by one.
        let mut h = Hider::default();
        h.start();
        assert_eq!(h.filter(&sentinel_split), b"");
        assert_eq!(h.filter(&tail), b"");
        assert!(!h.is_hiding());
    }

    #[test]
    fn what_the_shell_printed_before_the_echo_is_kept() {
        let mut h = Hider::default();
        h.start();
        assert_eq!(h.filter(b"motd, second part\r\n$ "), b"");
        assert_eq!(h.filter(b" : __mtssh_install; if ...\r\n"), b"");
        let mut last = READY_SENTINEL.to_vec();
        last.extend_from_slice(b"\x1b]133;B\x07$ ");
        assert_eq!(
            h.filter(&last),
            b"motd, second part\r\n$ \r\x1b[K\x1b]133;B\x07$ "
        );
    }

    #[test]
    fn the_timeout_releases_all_that_was_held() {
        let now = Instant::now();
        let mut h = Hider::default();
        h.start();
        assert_eq!(h.filter(b"sh: 1: [[: not found\r\n"), b"");
        assert_eq!(h.expire(now), None);
        assert_eq!(h.filter(b"$ "), b"");
        assert_eq!(h.expire(now + HIDE_TIMEOUT / 2), None);
        assert_eq!(
            h.expire(now + HIDE_TIMEOUT).as_deref(),
            Some(&b"sh: 1: [[: not found\r\n$ "[..])
        );
        assert!(!h.is_hiding());
        assert_eq!(h.filter(b"x"), b"x");
    }

    #[test]
    fn too_much_held_is_shown() {
        let mut h = Hider::default();
        h.start();
        let big = vec![b'y'; MAX_HELD + 1];
        assert_eq!(h.filter(&big).len(), MAX_HELD + 1);
        assert!(!h.is_hiding());
    }
}
