//! When the loop draws: only after something changed, at most one frame per [`FRAME`], and
//! for keys that only went to the remote side, not before their echo (or [`ECHO_WAIT`]).
//! Pure: the loop tells it what happened and when, and asks when to wake up.

use std::time::Duration;

use tokio::time::Instant;

/// At most ~60 frames a second however fast output arrives.
pub const FRAME: Duration = Duration::from_millis(16);
/// A key that only goes to the remote side (focus or keystroke mode) changes nothing on
/// screen by itself: the remote's echo does. Drawing for the key would take the frame slot
/// and make the echo, a millisecond later, wait a whole frame; so the key waits for its echo
/// this long at most before a frame is drawn anyway.
pub const ECHO_WAIT: Duration = Duration::from_millis(25);

#[derive(Debug, Clone)]
pub struct FrameClock {
    /// The model changed since the last frame.
    dirty: bool,
    last_draw: Instant,
    /// Set when keys went to the remote without changing the screen (see [`ECHO_WAIT`]).
    echo_deadline: Option<Instant>,
}

impl FrameClock {
    /// A clock with the first frame due at once.
    pub fn new(now: Instant) -> Self {
        FrameClock {
            dirty: true,
            last_draw: now.checked_sub(FRAME).unwrap_or(now),
            echo_deadline: None,
        }
    }

    /// The model changed: draw in the next frame slot.
    pub fn changed(&mut self) {
        self.dirty = true;
    }

    /// Keys went to the remote side and changed nothing on screen: draw when their echo
    /// arrives ([`FrameClock::changed`]), or [`ECHO_WAIT`] from the first such key at the
    /// latest. A frame already due is not held back.
    pub fn echo_sent(&mut self, now: Instant) {
        if !self.dirty && self.echo_deadline.is_none() {
            self.echo_deadline = Some(now + ECHO_WAIT);
        }
    }

    /// When the next frame is due; `None` while there is nothing to draw.
    pub fn next_deadline(&self) -> Option<Instant> {
        let frame = self.dirty.then(|| self.last_draw + FRAME);
        match (frame, self.echo_deadline) {
            (Some(frame), Some(echo)) => Some(frame.min(echo)),
            (frame, echo) => frame.or(echo),
        }
    }

    /// Whether a frame is due at `now`.
    pub fn should_draw(&self, now: Instant) -> bool {
        self.next_deadline().is_some_and(|due| now >= due)
    }

    /// A frame was drawn at `now`: it shows every change so far.
    pub fn drawn(&mut self, now: Instant) {
        self.last_draw = now;
        self.dirty = false;
        self.echo_deadline = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy)]
    enum Op {
        Changed,
        Echo,
        Drawn,
    }
    use Op::*;

    struct Case {
        name: &'static str,
        /// What happened, at milliseconds from the clock's creation.
        ops: &'static [(u64, Op)],
        /// The expected next deadline, in the same milliseconds.
        deadline: Option<u64>,
        /// Whether a frame is due at these times.
        draw_at: &'static [(u64, bool)],
    }

    const CASES: &[Case] = &[
        Case {
            name: "a fresh clock draws at once",
            ops: &[],
            deadline: Some(0),
            draw_at: &[(0, true)],
        },
        Case {
            name: "nothing changed after a frame: nothing to draw",
            ops: &[(0, Drawn)],
            deadline: None,
            draw_at: &[(1000, false)],
        },
        Case {
            name: "a change right after a frame waits for the frame slot",
            ops: &[(0, Drawn), (5, Changed)],
            deadline: Some(16),
            draw_at: &[(5, false), (15, false), (16, true)],
        },
        Case {
            name: "a change long after a frame is drawn at once",
            ops: &[(0, Drawn), (100, Changed)],
            deadline: Some(16),
            draw_at: &[(100, true)],
        },
        Case {
            name: "a key for the remote waits for its echo",
            ops: &[(0, Drawn), (5, Echo)],
            deadline: Some(30),
            draw_at: &[(16, false), (29, false), (30, true)],
        },
        Case {
            name: "the echo is drawn in the frame slot",
            ops: &[(0, Drawn), (5, Echo), (7, Changed)],
            deadline: Some(16),
            draw_at: &[(15, false), (16, true)],
        },
        Case {
            name: "more keys do not push the echo deadline back",
            ops: &[(0, Drawn), (5, Echo), (20, Echo)],
            deadline: Some(30),
            draw_at: &[(30, true)],
        },
        Case {
            name: "a key does not hold back a frame already due",
            ops: &[(0, Drawn), (2, Changed), (5, Echo)],
            deadline: Some(16),
            draw_at: &[(16, true)],
        },
        Case {
            name: "a frame ends the wait for an echo",
            ops: &[(0, Drawn), (5, Echo), (6, Changed), (16, Drawn)],
            deadline: None,
            draw_at: &[(30, false), (100, false)],
        },
        Case {
            name: "after a frame the next slot counts from it",
            ops: &[(0, Drawn), (50, Changed), (51, Drawn), (52, Changed)],
            deadline: Some(67),
            draw_at: &[(66, false), (67, true)],
        },
    ];

    #[test]
    fn frame_clock_table() {
        let base = Instant::now();
        let at = |ms: u64| base + Duration::from_millis(ms);
        for case in CASES {
            let mut clock = FrameClock::new(base);
            for &(ms, op) in case.ops {
                match op {
                    Changed => clock.changed(),
                    Echo => clock.echo_sent(at(ms)),
                    Drawn => clock.drawn(at(ms)),
                }
            }
            assert_eq!(
                clock.next_deadline(),
                case.deadline.map(at),
                "{}",
                case.name
            );
            for &(ms, due) in case.draw_at {
                assert_eq!(clock.should_draw(at(ms)), due, "{} at {ms} ms", case.name);
            }
        }
    }
}
