//! The F12 event view's model: the last samples of the event loop's wake-ups (taken by the
//! loop while the view is open) and the rates between the last two.

use crate::sys::wakeups::{Snapshot, Threads};

/// What the loop read of itself at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSample {
    pub snapshot: Snapshot,
    pub threads: Threads,
}

/// Per second, between the last two samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    pub wakeups: f64,
    pub events: f64,
    /// The share of the time the thread was awake (0..=1).
    pub awake: f64,
}

/// The open event view.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventView {
    pub latest: Option<EventSample>,
    pub rates: Option<Rates>,
}

impl EventView {
    /// Takes a new sample; the rates come from its difference to the one before.
    pub fn take(&mut self, sample: EventSample) {
        if let Some(before) = &self.latest {
            let (a, b) = (&before.snapshot.totals, &sample.snapshot.totals);
            let span = b.elapsed.saturating_sub(a.elapsed).as_secs_f64();
            // A fresh start (the view was reopened) counts from zero again.
            if span > 0.0 && b.wakeups >= a.wakeups {
                self.rates = Some(Rates {
                    wakeups: (b.wakeups - a.wakeups) as f64 / span,
                    events: b.events.saturating_sub(a.events) as f64 / span,
                    awake: (b.awake.saturating_sub(a.awake).as_secs_f64() / span).min(1.0),
                });
            }
        }
        self.latest = Some(sample);
    }
}

impl super::App {
    /// Whether the F12 view is open: the loop records wake-ups only then.
    pub fn event_view_open(&self) -> bool {
        matches!(self.overlay, Some(super::Overlay::Events(_)))
    }

    pub(super) fn open_event_view(&mut self) {
        self.overlay = Some(super::Overlay::Events(EventView::default()));
    }

    pub(super) fn event_sample(&mut self, sample: EventSample) {
        if let Some(super::Overlay::Events(view)) = &mut self.overlay {
            view.take(sample);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sys::wakeups::Totals;

    fn sample(elapsed_ms: u64, wakeups: u64, events: u64, awake_ms: u64) -> EventSample {
        EventSample {
            snapshot: Snapshot {
                totals: Totals {
                    wakeups,
                    events,
                    awake: Duration::from_millis(awake_ms),
                    elapsed: Duration::from_millis(elapsed_ms),
                    ..Default::default()
                },
                recent: Vec::new(),
            },
            threads: Threads::default(),
        }
    }

    #[test]
    fn rates_come_from_the_last_two_samples() {
        let mut view = EventView::default();
        view.take(sample(1000, 100, 300, 10));
        assert_eq!(view.rates, None);
        view.take(sample(1500, 150, 400, 60));
        let rates = view.rates.unwrap();
        assert_eq!(rates.wakeups, 100.0);
        assert_eq!(rates.events, 200.0);
        assert!((rates.awake - 0.1).abs() < 1e-9);
        // Counting restarted: the old rates stay until two new samples.
        view.take(sample(10, 1, 0, 0));
        assert_eq!(view.rates, Some(rates));
    }
}
