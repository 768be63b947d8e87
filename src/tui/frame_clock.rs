//! When the loop draws: only after something changed; as soon as a burst of changes pauses
//! ([`QUIET`]: the last reply of a broadcast is drawn ~1 ms after it arrives, not in the next
//! fixed slot), but never more than [`FRAME`] after the first undrawn change (a flood that
//! never pauses still gets ~60 frames a second) and never sooner than [`MIN_GAP`] after the
//! last frame (a burst with pauses costs a few frames, not one per reply). Keys that only
//! went to the remote side wait for their echo (or [`ECHO_WAIT`]). After a broadcast the
//! frame waits for every receiver's reply (the model tells when they are in, see
//! `app::reply`), at most [`REPLY_HOLD`]: replies that trickle in over 20 ms never pause
//! for [`QUIET`], so without the hold the [`FRAME`] cap drew them half done and the last
//! ones waited for the frame after. Meanwhile the panes that answered are drawn every
//! [`PROGRESS`], so the frame drawn when the last reply lands holds only the last few panes
//! (a frame is drawn over the last, redrawing only the panes that changed, `ui::Renderer`),
//! not all of them; the loop says when such frames pay (not on the overview, which redraws
//! every cell).
//! Pure: the loop tells it what happened and when, and asks when to wake up.

use std::time::Duration;

use tokio::time::Instant;

/// The longest a change waits while changes keep coming: ~60 frames a second in a flood.
pub const FRAME: Duration = Duration::from_millis(16);
/// A pause this long in the changes means the burst is over: draw.
pub const QUIET: Duration = Duration::from_millis(1);
/// Frames are at least this far apart (at most 250 a second).
pub const MIN_GAP: Duration = Duration::from_millis(4);
/// A key that only goes to the remote side (focus or keystroke mode) changes nothing on
/// screen by itself: the remote's echo does. Drawing for the key would take the frame slot
/// and make the echo, a millisecond later, wait for the next one; so the key waits for its
/// echo this long at most before a frame is drawn anyway.
pub const ECHO_WAIT: Duration = Duration::from_millis(25);

/// The longest a broadcast's frame waits for the replies of every receiver.
pub const REPLY_HOLD: Duration = Duration::from_millis(40);

/// While a broadcast's replies are awaited, a frame shows those that came this long after the
/// first of them. The frame drawn when the last reply lands then has the last millisecond's
/// panes to draw and a few hundred bytes for the terminal to take in: 100 panes at once were
/// ~1 ms to draw and 16 KB that an outer tmux took another ~1.4 ms to pass on, all after the
/// last reply. Frames this close cost little because they are drawn over the last one
/// (`ui::Renderer`): ~10 µs a changed pane, 0.04 ms the rest, for 100 panes at 250x80.
pub const PROGRESS: Duration = Duration::from_millis(1);

#[derive(Debug, Clone)]
pub struct FrameClock {
    /// When the first and the latest change since the last frame happened.
    changes: Option<(Instant, Instant)>,
    last_draw: Instant,
    /// Set when keys went to the remote without changing the screen (see [`ECHO_WAIT`]).
    echo_deadline: Option<Instant>,
    /// Set while a broadcast's replies are awaited: when the frame is drawn anyway.
    hold: Option<Instant>,
    /// Every reply came: the frame is due at once.
    released: bool,
}

impl FrameClock {
    /// A clock with the first frame due at once.
    pub fn new(now: Instant) -> Self {
        FrameClock {
            changes: Some((now, now.checked_sub(QUIET).unwrap_or(now))),
            last_draw: now.checked_sub(MIN_GAP).unwrap_or(now),
            echo_deadline: None,
            hold: None,
            released: false,
        }
    }

    /// The model changed at `now`: draw once the changes pause.
    pub fn changed(&mut self, now: Instant) {
        let first = self.changes.map_or(now, |(first, _)| first);
        self.changes = Some((first, now));
    }

    /// Keys went to the remote side and changed nothing on screen: draw when their echo
    /// arrives ([`FrameClock::changed`]), or [`ECHO_WAIT`] from the first such key at the
    /// latest. A frame already due is not held back.
    pub fn echo_sent(&mut self, now: Instant) {
        if self.changes.is_none() && self.echo_deadline.is_none() {
            self.echo_deadline = Some(now + ECHO_WAIT);
        }
    }

    /// Input went out as a broadcast at `now`: the next frame waits for the replies
    /// ([`FrameClock::replies_in`]), [`REPLY_HOLD`] from the first such input at most.
    pub fn hold_for_replies(&mut self, now: Instant) {
        self.hold.get_or_insert(now + REPLY_HOLD);
        self.released = false;
    }

    /// Whether a frame waits for replies.
    pub fn holding(&self) -> bool {
        self.hold.is_some()
    }

    /// Every awaited reply is in: draw at once (a frame per broadcast, not per reply, so the
    /// minimum gap is not needed to bound the rate).
    pub fn replies_in(&mut self) {
        if self.hold.take().is_some() {
            self.released = true;
        }
    }

    /// When the next frame is due; `None` while there is nothing to draw. `progress`: frames
    /// that show a broadcast's replies while more are awaited pay (see [`PROGRESS`]).
    pub fn next_deadline(&self, progress: bool) -> Option<Instant> {
        let frame = self.changes.map(|(first, last)| match self.hold {
            Some(hold) if !progress => hold,
            // Changes come after the last frame, so these frames are PROGRESS apart.
            Some(hold) => hold.min(first + PROGRESS),
            None if self.released => first,
            None => (first + FRAME)
                .min(last + QUIET)
                .max(self.last_draw + MIN_GAP),
        });
        // While replies are awaited they are the echo: the hold bounds the wait, and its end
        // is a frame even with nothing new (after frames drawn while replies came), so that
        // what a silent host still owes is forgotten then, not at some later change.
        let echo = self.hold.or(self.echo_deadline);
        match (frame, echo) {
            (Some(frame), Some(echo)) => Some(frame.min(echo)),
            (frame, echo) => frame.or(echo),
        }
    }

    /// Whether a frame is due at `now` ([`FrameClock::next_deadline`]).
    pub fn should_draw(&self, now: Instant, progress: bool) -> bool {
        self.next_deadline(progress).is_some_and(|due| now >= due)
    }

    /// A frame was drawn at `now`: it shows every change so far. One drawn while replies
    /// are awaited, before the hold's end, keeps the hold: the replies still to come are
    /// drawn when the last lands ([`FrameClock::holding`] tells the loop to keep waiting).
    pub fn drawn(&mut self, now: Instant) {
        self.last_draw = now;
        self.changes = None;
        self.echo_deadline = None;
        self.released = false;
        if self.hold.is_some_and(|hold| now >= hold) {
            self.hold = None;
        }
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
        /// A broadcast went out: hold for its replies.
        Hold,
        /// Every reply is in.
        RepliesIn,
    }
    use Op::*;

    struct Case {
        name: &'static str,
        /// What happened, at milliseconds from the clock's creation.
        ops: &'static [(u64, Op)],
        /// Whether frames showing replies as they come pay (the loop says).
        progress: bool,
        /// The expected next deadline, in the same milliseconds.
        deadline: Option<u64>,
        /// Whether a frame is due at these times.
        draw_at: &'static [(u64, bool)],
    }

    const CASES: &[Case] = &[
        Case {
            name: "a fresh clock draws at once",
            progress: true,
            ops: &[],
            deadline: Some(0),
            draw_at: &[(0, true)],
        },
        Case {
            name: "nothing changed after a frame: nothing to draw",
            progress: true,
            ops: &[(0, Drawn)],
            deadline: None,
            draw_at: &[(1000, false)],
        },
        Case {
            name: "a change right after a frame waits for the minimum gap",
            progress: true,
            ops: &[(0, Drawn), (1, Changed)],
            deadline: Some(4),
            draw_at: &[(2, false), (3, false), (4, true)],
        },
        Case {
            name: "a change long after a frame is drawn once the changes pause",
            progress: true,
            ops: &[(0, Drawn), (100, Changed)],
            deadline: Some(101),
            draw_at: &[(100, false), (101, true)],
        },
        Case {
            name: "a burst is drawn 1 ms after its last change",
            progress: true,
            ops: &[
                (0, Drawn),
                (100, Changed),
                (100, Changed),
                (101, Changed),
                (103, Changed),
            ],
            deadline: Some(104),
            draw_at: &[(103, false), (104, true)],
        },
        Case {
            name: "changes that never pause are drawn 16 ms after the first",
            progress: true,
            ops: &[
                (0, Drawn),
                (100, Changed),
                (101, Changed),
                (102, Changed),
                (103, Changed),
                (104, Changed),
                (105, Changed),
                (106, Changed),
                (107, Changed),
                (108, Changed),
                (109, Changed),
                (110, Changed),
                (111, Changed),
                (112, Changed),
                (113, Changed),
                (114, Changed),
                (115, Changed),
                (116, Changed),
            ],
            deadline: Some(116),
            draw_at: &[(115, false), (116, true)],
        },
        Case {
            name: "a key for the remote waits for its echo",
            progress: true,
            ops: &[(0, Drawn), (5, Echo)],
            deadline: Some(30),
            draw_at: &[(16, false), (29, false), (30, true)],
        },
        Case {
            name: "the echo is drawn once it pauses",
            progress: true,
            ops: &[(0, Drawn), (5, Echo), (7, Changed)],
            deadline: Some(8),
            draw_at: &[(7, false), (8, true)],
        },
        Case {
            name: "more keys do not push the echo deadline back",
            progress: true,
            ops: &[(0, Drawn), (5, Echo), (20, Echo)],
            deadline: Some(30),
            draw_at: &[(30, true)],
        },
        Case {
            name: "a key does not hold back a frame already due",
            progress: true,
            ops: &[(0, Drawn), (2, Changed), (5, Echo)],
            deadline: Some(4),
            draw_at: &[(3, false), (4, true)],
        },
        Case {
            name: "a frame ends the wait for an echo",
            progress: true,
            ops: &[(0, Drawn), (5, Echo), (6, Changed), (16, Drawn)],
            deadline: None,
            draw_at: &[(30, false), (100, false)],
        },
        Case {
            name: "after a frame the next one waits for the gap from it",
            progress: true,
            ops: &[(0, Drawn), (50, Changed), (51, Drawn), (52, Changed)],
            deadline: Some(55),
            draw_at: &[(54, false), (55, true)],
        },
        Case {
            name: "replies that keep coming are drawn 1 ms after the first, not held",
            progress: true,
            ops: &[(0, Drawn), (100, Hold), (100, Changed), (100, Changed)],
            deadline: Some(101),
            draw_at: &[(100, false), (101, true)],
        },
        Case {
            name: "a frame while replies come keeps the hold: the next shows 1 ms more",
            progress: true,
            ops: &[
                (0, Drawn),
                (100, Hold),
                (100, Changed),
                (101, Drawn),
                (110, Changed),
                (110, Changed),
            ],
            deadline: Some(111),
            draw_at: &[(110, false), (111, true)],
        },
        Case {
            name: "where frames showing replies do not pay, they wait for the last or the hold",
            progress: false,
            ops: &[(0, Drawn), (100, Hold), (100, Changed), (101, Changed)],
            deadline: Some(140),
            draw_at: &[(103, false), (139, false), (140, true)],
        },
        Case {
            name: "where frames showing replies do not pay, the last is still drawn at once",
            progress: false,
            ops: &[(0, Drawn), (100, Hold), (100, Changed), (120, RepliesIn)],
            deadline: Some(100),
            draw_at: &[(120, true)],
        },
        Case {
            name: "replies drawn while they come are drawn at the hold's end at the latest",
            progress: true,
            ops: &[
                (0, Drawn),
                (100, Hold),
                (100, Changed),
                (103, Drawn),
                (139, Changed),
            ],
            deadline: Some(140),
            draw_at: &[(139, false), (140, true)],
        },
        Case {
            name: "the last reply is drawn at once",
            progress: true,
            ops: &[
                (0, Drawn),
                (100, Hold),
                (100, Changed),
                (110, Changed),
                (125, Changed),
                (125, RepliesIn),
            ],
            // Due since the first change: overdue, so drawn at once.
            deadline: Some(100),
            draw_at: &[(125, true)],
        },
        Case {
            name: "the last reply is drawn at once, even right after a frame",
            progress: true,
            ops: &[
                (0, Drawn),
                (1, Hold),
                (2, Changed),
                (3, Drawn),
                (4, Changed),
                (4, RepliesIn),
            ],
            deadline: Some(4),
            draw_at: &[(4, true)],
        },
        Case {
            name: "a hold does not move back when more input goes out",
            progress: true,
            ops: &[(0, Drawn), (100, Hold), (130, Hold), (139, Changed)],
            deadline: Some(140),
            draw_at: &[(139, false), (140, true)],
        },
        Case {
            name: "a hold replaces the wait for an echo; nothing came: a frame at its end",
            progress: true,
            ops: &[(0, Drawn), (100, Echo), (100, Hold)],
            deadline: Some(140),
            draw_at: &[(125, false), (140, true)],
        },
        Case {
            name: "the frame at a hold's end ends it",
            progress: true,
            ops: &[
                (0, Drawn),
                (100, Hold),
                (100, Changed),
                (103, Drawn),
                (140, Drawn),
            ],
            deadline: None,
            draw_at: &[(200, false)],
        },
        Case {
            name: "a frame ends the hold",
            progress: true,
            ops: &[
                (0, Drawn),
                (100, Hold),
                (100, Changed),
                (140, Drawn),
                (150, Changed),
            ],
            deadline: Some(151),
            draw_at: &[(150, false), (151, true)],
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
                    Changed => clock.changed(at(ms)),
                    Echo => clock.echo_sent(at(ms)),
                    Drawn => clock.drawn(at(ms)),
                    Hold => clock.hold_for_replies(at(ms)),
                    RepliesIn => clock.replies_in(),
                }
            }
            assert_eq!(
                clock.next_deadline(case.progress),
                case.deadline.map(at),
                "{}",
                case.name
            );
            for &(ms, due) in case.draw_at {
                assert_eq!(
                    clock.should_draw(at(ms), case.progress),
                    due,
                    "{} at {ms} ms",
                    case.name
                );
            }
        }
    }
}
