//! Reconnecting: F5 / Shift-F5 on the user's word, and `reconnect = "auto"` by itself after
//! a lost connection, with backoff. The model keeps every pane's tries and deadlines; the
//! loop's clock reaches it as [`super::Msg::Tick`] while some pane waits
//! ([`App::needs_clock`]), and a try is an [`Effect::Reconnect`].

use std::time::Instant;

use super::pane::Pane;
use super::{App, Effect};
use crate::lang::{tr, trf};
use crate::ssh::reconnect::{delay_before, is_lost};
use crate::ssh::{SessionId, SessionState};

/// Where a pane is in reconnecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Retry {
    /// Nothing under way.
    #[default]
    Idle,
    /// The connection was lost: try `attempt` (1-based) starts at `due`; `None` until the
    /// next tick, which counts the wait from its own time (the model reads no clock).
    Waiting { attempt: u32, due: Option<Instant> },
    /// A new session is under way: automatic try `attempt`, or 0 for one the user asked for.
    Connecting { attempt: u32 },
    /// Back after automatic try `attempt`, not yet for [`STABLE_AFTER`] (`since`: from
    /// the first tick after it was ready): lost again meanwhile, the next try carries on
    /// from here, so a server that drops every session at once is not tried every second
    /// for ever.
    Back {
        attempt: u32,
        since: Option<Instant>,
    },
    /// Every automatic try failed; F5 starts over.
    GaveUp { tries: u32 },
}

/// How long a reconnected session must stay up before its tries count from 1 again: the
/// longest wait between tries.
pub const STABLE_AFTER: std::time::Duration = crate::ssh::reconnect::MAX_DELAY;

impl Retry {
    /// Down and coming back: out of the broadcast until its session is ready.
    pub fn is_active(&self) -> bool {
        matches!(self, Retry::Waiting { .. } | Retry::Connecting { .. })
    }

    /// Down and trying again by itself (what the status bar counts).
    pub fn is_retrying(&self) -> bool {
        matches!(
            self,
            Retry::Waiting { .. } | Retry::Connecting { attempt: 1.. }
        )
    }
}

/// Starts a pane's session again; its scrollback stays. `attempt`: the automatic try this
/// is (0: the user's F5); a dim line marks the first one, [`App::retry_state`] the success.
pub(super) fn reconnect(pane: &mut Pane, attempt: u32) -> Effect {
    pane.state = SessionState::Connecting;
    pane.exit_status = None;
    pane.retry = Retry::Connecting { attempt };
    pane.scroll_to_live();
    if attempt <= 1 {
        let line = tr("--- reconnecting ---");
        pane.process(format!("\r\n\x1b[2m{line}\x1b[0m\r\n").as_bytes());
    }
    Effect::Reconnect { id: pane.id }
}

impl App {
    /// A session's new state, for its pane's reconnecting: a loss schedules the next try
    /// (or gives up), a ready session after a reconnect gets its marked line.
    pub(super) fn retry_state(&mut self, id: SessionId, state: &SessionState) {
        let Some(pane) = self.pane_mut(id) else {
            return;
        };
        match state {
            SessionState::Ready => {
                let Retry::Connecting { attempt } = pane.retry else {
                    pane.retry = Retry::Idle;
                    return;
                };
                let at = crate::sys::local_time_of_day(std::time::SystemTime::now());
                let line = trf("--- reconnected at {time} ---", &[("time", &at)]);
                pane.process(format!("\x1b[2m{line}\x1b[0m\r\n").as_bytes());
                pane.retry = if attempt > 0 && pane.reconnect.is_auto() {
                    Retry::Back {
                        attempt,
                        since: None,
                    }
                } else {
                    Retry::Idle
                };
            }
            state if state.is_finished() => {
                if !pane.reconnect.is_auto() || !is_lost(state, pane.exit_status) {
                    pane.retry = Retry::Idle;
                    return;
                }
                let attempt = match pane.retry {
                    Retry::Connecting { attempt } | Retry::Back { attempt, .. } => attempt + 1,
                    _ => 1,
                };
                let tries = pane.reconnect.tries;
                if attempt > tries {
                    tracing::warn!(pane = %pane.name, tries, "gave up reconnecting");
                    pane.retry = Retry::GaveUp { tries };
                    let name = pane.name.clone();
                    self.notice = Some(trf(
                        "{name}: gave up reconnecting after {tries} tries; F5 tries again",
                        &[("name", &name), ("tries", &tries)],
                    ));
                } else {
                    pane.retry = Retry::Waiting { attempt, due: None };
                }
            }
            _ => {}
        }
    }

    /// The loop's clock: waits start counting, and tries that are due begin.
    pub(super) fn retry_tick(&mut self, now: Instant) -> Vec<Effect> {
        self.now = Some(now);
        let mut effects = Vec::new();
        for pane in &mut self.panes {
            if let Retry::Back { attempt, since } = pane.retry {
                let since = since.unwrap_or(now);
                pane.retry = if now.saturating_duration_since(since) >= STABLE_AFTER {
                    Retry::Idle
                } else {
                    Retry::Back {
                        attempt,
                        since: Some(since),
                    }
                };
            }
            let Retry::Waiting { attempt, due } = pane.retry else {
                continue;
            };
            let due = due.unwrap_or_else(|| now + delay_before(attempt));
            if due <= now {
                tracing::info!(pane = %pane.name, attempt, "reconnecting by itself");
                effects.push(reconnect(pane, attempt));
            } else {
                pane.retry = Retry::Waiting {
                    attempt,
                    due: Some(due),
                };
            }
        }
        if !effects.is_empty() {
            self.panes_epoch += 1;
        }
        effects
    }

    /// Whether the model needs [`super::Msg::Tick`]s: held output, a try to start, or a
    /// reconnected session to see stay up.
    pub fn needs_clock(&self) -> bool {
        self.panes
            .iter()
            .any(|p| p.is_hiding() || matches!(p.retry, Retry::Waiting { .. } | Retry::Back { .. }))
    }

    /// Changes when a drawn countdown ("retrying in 4 s") does: the loop redraws then.
    pub fn retry_countdown(&self) -> u64 {
        self.panes
            .iter()
            .filter_map(|p| Some((p.id, self.seconds_to_retry(p)?)))
            .fold(0, |acc, (id, secs)| {
                acc.wrapping_mul(31).wrapping_add(id as u64 ^ (secs << 40))
            })
    }

    /// Whole seconds (rounded up) until a waiting pane's next try.
    fn seconds_to_retry(&self, pane: &Pane) -> Option<u64> {
        let Retry::Waiting { attempt, due } = pane.retry else {
            return None;
        };
        let left = match (due, self.now) {
            (Some(due), Some(now)) => due.saturating_duration_since(now),
            _ => delay_before(attempt),
        };
        Some(left.as_secs() + u64::from(left.subsec_nanos() > 0))
    }

    /// What a pane's title says of its reconnecting: "retrying in 4 s (try 3/10)".
    pub fn retry_label(&self, pane: &Pane) -> Option<String> {
        let tries = pane.reconnect.tries;
        match pane.retry {
            Retry::Idle | Retry::Connecting { attempt: 0 } | Retry::Back { .. } => None,
            Retry::Waiting { attempt, .. } => {
                let secs = self.seconds_to_retry(pane).unwrap_or_default();
                Some(trf(
                    "retrying in {secs} s (try {attempt}/{tries})",
                    &[("secs", &secs), ("attempt", &attempt), ("tries", &tries)],
                ))
            }
            Retry::Connecting { attempt } => Some(trf(
                "reconnecting (try {attempt}/{tries})",
                &[("attempt", &attempt), ("tries", &tries)],
            )),
            Retry::GaveUp { tries } => {
                Some(trf("gave up after {tries} tries", &[("tries", &tries)]))
            }
        }
    }

    /// Panes down and trying again by itself, and panes that gave up: the status bar's
    /// "2 down, retrying".
    pub fn down_counts(&self) -> (usize, usize) {
        let retrying = self.panes.iter().filter(|p| p.retry.is_retrying()).count();
        let gave_up = self
            .panes
            .iter()
            .filter(|p| matches!(p.retry, Retry::GaveUp { .. }))
            .count();
        (retrying, gave_up)
    }

    /// A pane's reconnecting, for tests and the title.
    pub fn pane_retry(&self, id: SessionId) -> Option<Retry> {
        self.pane(id).map(|p| p.retry)
    }
}
