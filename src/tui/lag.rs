//! How late the event loop runs: a timer asks to be woken every [`LAG_TICK`]; how much later
//! than asked it actually runs is time the one thread spent elsewhere (drawing, parsing a
//! flood of output, a handshake's crypto). The gauge keeps the worst of the last second or so.
//!
//! Lateness needs work to happen: once nothing has woken the loop for [`QUIET_AFTER`] (and
//! nothing on screen counts time), the probe ticks every [`IDLE_TICK`] instead, so an idle
//! mtssh wakes about once a second, not 100 times (a laptop's core can sleep between).

use std::time::Duration;

use tokio::time::Instant;

/// The probe's period while the loop has work.
pub const LAG_TICK: Duration = Duration::from_millis(10);
/// The probe's period in a quiet spell.
pub const IDLE_TICK: Duration = Duration::from_secs(1);
/// The gauge shows the worst lateness seen in the current and the previous window.
const WINDOW: Duration = Duration::from_secs(1);
/// How long nothing must have woken the loop for a quiet spell: by then the gauge has
/// forgotten the last busy window's lateness (it keeps two windows).
pub const QUIET_AFTER: Duration = Duration::from_secs(2);

/// Whether the loop is in a quiet spell: nothing but the probe woke it for `since_work`, and
/// nothing needs the clock (`clocked`: a countdown, held output, input still going out, the
/// event view).
pub fn quiet(since_work: Duration, clocked: bool) -> bool {
    !clocked && since_work >= QUIET_AFTER
}

/// When the tick after one due at `due`, run at `now`, is due: a period on, [`IDLE_TICK`] in
/// a quiet spell, else [`LAG_TICK`]; ticks missed while the loop was busy are skipped.
pub fn next_tick(due: Instant, now: Instant, quiet: bool) -> Instant {
    let period = if quiet { IDLE_TICK } else { LAG_TICK };
    let next = due + period;
    if next > now { next } else { now + period }
}

#[derive(Debug, Clone)]
pub struct LagGauge {
    window_start: Instant,
    current: Duration,
    previous: Duration,
}

impl LagGauge {
    pub fn new(now: Instant) -> Self {
        LagGauge {
            window_start: now,
            current: Duration::ZERO,
            previous: Duration::ZERO,
        }
    }

    /// Records one tick that was due at `due` and ran at `now`.
    pub fn record(&mut self, due: Instant, now: Instant) {
        let elapsed = now.saturating_duration_since(self.window_start);
        if elapsed >= WINDOW {
            // A gap of more than two windows means the previous one saw nothing newer.
            self.previous = if elapsed >= 2 * WINDOW {
                Duration::ZERO
            } else {
                self.current
            };
            self.current = Duration::ZERO;
            self.window_start = now;
        }
        self.current = self.current.max(now.saturating_duration_since(due));
    }

    /// The worst lateness over the last one to two seconds.
    pub fn value(&self) -> Duration {
        self.current.max(self.previous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_slow_down_only_in_a_quiet_spell_and_skip_what_was_missed() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        // Busy: every 10 ms, on the schedule.
        assert_eq!(next_tick(t0, t0 + ms(1), false), t0 + LAG_TICK);
        // Quiet: once a second.
        assert_eq!(next_tick(t0, t0 + ms(1), true), t0 + IDLE_TICK);
        // Run 35 ms late: the missed ticks are skipped, the next one is a period on.
        assert_eq!(next_tick(t0, t0 + ms(35), false), t0 + ms(45));
        // Quiet only after QUIET_AFTER without work, and never while the clock is needed.
        assert!(!quiet(QUIET_AFTER - ms(1), false));
        assert!(quiet(QUIET_AFTER, false));
        assert!(!quiet(QUIET_AFTER * 10, true));
    }

    #[test]
    fn keeps_the_worst_of_the_recent_window_then_forgets_it() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut gauge = LagGauge::new(t0);
        gauge.record(t0, t0 + ms(2));
        gauge.record(t0 + ms(10), t0 + ms(40));
        gauge.record(t0 + ms(50), t0 + ms(51));
        assert_eq!(gauge.value(), ms(30));
        // Next window: the old worst still counts ...
        gauge.record(t0 + ms(1100), t0 + ms(1101));
        assert_eq!(gauge.value(), ms(30));
        // ... and is gone one window later.
        gauge.record(t0 + ms(2200), t0 + ms(2203));
        assert_eq!(gauge.value(), ms(3));
        // After a long quiet spell nothing old lingers.
        gauge.record(t0 + ms(9000), t0 + ms(9001));
        assert_eq!(gauge.value(), ms(1));
    }
}
