//! How late the event loop runs: a timer asks to be woken every [`LAG_TICK`]; how much later
//! than asked it actually runs is time the one thread spent elsewhere (drawing, parsing a
//! flood of output, a handshake's crypto). The gauge keeps the worst of the last second or so.

use std::time::Duration;

use tokio::time::Instant;

/// The probe's period.
pub const LAG_TICK: Duration = Duration::from_millis(10);
/// The gauge shows the worst lateness seen in the current and the previous window.
const WINDOW: Duration = Duration::from_secs(1);

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
