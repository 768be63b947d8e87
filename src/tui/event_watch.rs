//! The loop's side of the F12 event view: records wake-ups while the view is open (off
//! otherwise), and hands the model a sample a few times a second.

use std::time::Duration;

use tokio::time::Instant;

use crate::app::Msg;
use crate::app::events::EventSample;
use crate::sys::wakeups;

/// How often the open view gets a new sample: live to the eye, and the few /proc reads of
/// the thread count stay far from every wake-up.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug, Default)]
pub(super) struct EventWatch {
    /// When the last sample was taken; `None`: not recording.
    sampled: Option<Instant>,
}

impl EventWatch {
    /// Starts or stops recording as the view opened or closed, and the sample due, if any.
    pub(super) fn follow(&mut self, view_open: bool, now: Instant) -> Option<Msg> {
        match (view_open, self.sampled) {
            (false, None) => None,
            (false, Some(_)) => {
                wakeups::stop();
                self.sampled = None;
                None
            }
            (true, None) => {
                wakeups::start(None);
                self.sampled = Some(now);
                Some(sample())
            }
            (true, Some(at)) if now.duration_since(at) >= SAMPLE_EVERY => {
                self.sampled = Some(now);
                Some(sample())
            }
            (true, Some(_)) => None,
        }
    }
}

fn sample() -> Msg {
    Msg::EventLoop(Box::new(EventSample {
        snapshot: wakeups::snapshot(),
        threads: wakeups::threads(),
    }))
}
