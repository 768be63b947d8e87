//! When each host's session reached each phase, on one clock shared by every mode and
//! thread of the process ([`crate::sys::since_start`]), for `--json` and the bench's timeline.

use std::time::Duration;

use serde::Serialize;

/// The moments one host's session passed, since the run started. The four phases are
/// contiguous: connect from `started` (waiting for a fan-out permit included) to
/// `authenticating`, authenticate to `ready`, the command to `exited` (its exit status
/// arrived), close to `ended`. A phase never reached is missing, and the last one reached
/// lasts until `ended`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostTimes {
    pub started: Duration,
    pub authenticating: Option<Duration>,
    pub ready: Option<Duration>,
    pub exited: Option<Duration>,
    pub ended: Duration,
}

/// The phases' lengths in milliseconds, as `--json` writes them (`null`: not reached).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Phases {
    pub connect: Option<f64>,
    pub authenticate: Option<f64>,
    pub command: Option<f64>,
    pub close: Option<f64>,
}

impl Phases {
    /// The phases in order, with their names.
    pub fn named(&self) -> [(&'static str, Option<f64>); 4] {
        [
            ("connect", self.connect),
            ("authenticate", self.authenticate),
            ("command", self.command),
            ("close", self.close),
        ]
    }
}

/// Milliseconds, to the microsecond.
pub fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

impl HostTimes {
    /// Now, on the run's clock.
    pub fn now() -> Duration {
        crate::sys::since_start()
    }

    pub fn phases(&self) -> Phases {
        let marks = [
            Some(self.started),
            self.authenticating,
            self.ready,
            self.exited,
        ];
        // Each phase reached ends where the next one reached begins, the last at the end.
        let mut lengths = [None; 4];
        for (i, mark) in marks.iter().enumerate() {
            let Some(from) = mark else { continue };
            let to = marks[i + 1..]
                .iter()
                .flatten()
                .next()
                .unwrap_or(&self.ended);
            lengths[i] = Some(millis(to.saturating_sub(*from)));
        }
        Phases {
            connect: lengths[0],
            authenticate: lengths[1],
            command: lengths[2],
            close: lengths[3],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn phases_are_contiguous_and_the_last_reached_lasts_until_the_end() {
        let done = HostTimes {
            started: 10 * MS,
            authenticating: Some(15 * MS),
            ready: Some(18 * MS),
            exited: Some(30 * MS),
            ended: 31 * MS,
        };
        assert_eq!(
            done.phases(),
            Phases {
                connect: Some(5.0),
                authenticate: Some(3.0),
                command: Some(12.0),
                close: Some(1.0),
            }
        );
        // Refused at the door: all of it was connecting.
        let refused = HostTimes {
            started: 10 * MS,
            ended: 12 * MS,
            ..Default::default()
        };
        assert_eq!(
            refused.phases(),
            Phases {
                connect: Some(2.0),
                ..Default::default()
            }
        );
        // Closed without an exit status: the command lasted until the end.
        let no_status = HostTimes {
            exited: None,
            ..done
        };
        assert_eq!(no_status.phases().command, Some(13.0));
        assert_eq!(no_status.phases().close, None);
    }
}
