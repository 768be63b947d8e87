//! `--streams`: how many hosts' files move at once, and the `auto` rule that finds it.
//!
//! Moving every host's files at once is right when each host has its own machine and link:
//! a transfer that waits only wastes time. Hosts that share what the bytes go through
//! (virtual machines on one hypervisor, containers on one disk, one uplink) are another
//! matter, and `auto` (the default) handles a push of large files ([`BULK_BYTES`] or more
//! per host) in two steps:
//!
//! 1. **A start gate.** While hosts' SFTP sessions are still starting, only
//!    [`WHILE_STARTING`] host's files move: until every host's session has started, or
//!    [`START_QUIET`] has passed with no session starting (a host that is down does not
//!    hold the others long), or [`START_GATE`] after the first did. Measured with 50 sshd
//!    hosts on one core: when many transfers run while the others' sessions are still
//!    starting, those take the CPU the others need to start, and the rest trickle in about
//!    one a second (the last host began 50 s after the first); one transfer beside 49
//!    starting sessions leaves them the CPU and still moves bytes meanwhile.
//! 2. **A measured ramp.** It starts [`START`] hosts and doubles them while the bytes per
//!    second of all hosts together rise by at least [`GAIN`] per doubling. When the first
//!    doubling gains less, it halves them instead while the rate stays within [`GAIN`] of
//!    the best (the fewest hosts that move the most: on one shared server fewer streams
//!    cost it less per byte). Then it keeps the count found and tries again every
//!    [`REPROBE`] (the hosts still to come may be slower ones). A rate is only taken while
//!    hosts wait for a place and as many run as the limit says (after a halving, until
//!    enough running hosts have finished), and while no session starts.
//!
//! Small files, and a pull (whose sizes are not known before it starts), move on every
//! host at once: their time is round trips, not bytes.

use std::fmt;
use std::num::NonZeroUsize;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// `--streams`: `auto`, `all` (or 0), or a number of hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Streams {
    /// Measured: see the module's text.
    #[default]
    Auto,
    /// Every connected host at once.
    All,
    /// At most this many hosts at once.
    AtMost(NonZeroUsize),
}

impl FromStr for Streams {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "auto" => Ok(Streams::Auto),
            "all" | "0" => Ok(Streams::All),
            other => other
                .parse::<NonZeroUsize>()
                .map(Streams::AtMost)
                .map_err(|_| format!("`{other}` is not `auto`, `all` or a number of hosts")),
        }
    }
}

impl fmt::Display for Streams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Streams::Auto => f.write_str("auto"),
            Streams::All => f.write_str("all"),
            Streams::AtMost(n) => write!(f, "{n}"),
        }
    }
}

/// Hosts `auto` starts with once every session has started.
pub const START: usize = 8;
/// Hosts whose files `auto` moves while other hosts' sessions are still starting.
pub const WHILE_STARTING: usize = 1;
/// The rise in bytes per second a doubling must bring to be kept (10 %); a halving is kept
/// while the rate stays above the best divided by this.
pub const GAIN: f64 = 1.10;
/// `auto` measures only pushes of at least this many bytes per host.
pub const BULK_BYTES: u64 = 16 << 20;
/// Time for streams just started to get going before their rate counts.
const SETTLE: Duration = Duration::from_millis(200);
/// How long one rate is measured.
const WINDOW: Duration = Duration::from_millis(600);
/// How long a count found best is kept before `auto` tries more again.
pub const REPROBE: Duration = Duration::from_secs(5);

/// How long after the first host's SFTP session started the others are waited for at most
/// before the ramp begins anyway.
pub const START_GATE: Duration = Duration::from_secs(10);
/// The start gate opens once no session has started for this long (the rest are still
/// connecting slowly, down, or beyond `--fanout`).
pub const START_QUIET: Duration = Duration::from_secs(1);

/// How many transfers may run at once, and (for `auto`) the measurements that move it.
#[derive(Debug)]
pub struct StreamLimit {
    limit: usize,
    ramp: Option<Ramp>,
    /// `auto`'s bulk push moves [`WHILE_STARTING`] transfers until each host's SFTP session
    /// has started (on a shared server, many transfers already moving take the CPU the
    /// others' sessions need to start: they trickle in, one a second at 50 hosts);
    /// `Some((first, last))` start once one did.
    gate: Option<Option<(Instant, Instant)>>,
}

#[derive(Debug)]
struct Ramp {
    /// Every host: no limit is ever higher.
    most: usize,
    /// The count this round of probing began from.
    from: usize,
    /// The count to keep so far in this round of probing, and the best bytes per second
    /// measured in it.
    best: Option<(usize, f64)>,
    /// Doubling, or (once the first doubling gained too little) halving.
    halving: bool,
    phase: Phase,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Waiting for a measurement to begin (streams getting going, none waiting, or more
    /// running than the limit after a halving).
    Settling { until: Instant },
    /// Counting the bytes moved since `from`, when `bytes` had moved.
    Measuring { from: Instant, bytes: u64 },
    /// Keeping the best count found until `until`, then climbing from it again.
    Holding { until: Instant },
}

impl StreamLimit {
    /// The limit for `hosts` hosts that each move `bytes_per_host` (when known).
    pub fn new(streams: Streams, hosts: usize, bytes_per_host: Option<u64>, now: Instant) -> Self {
        let fixed = |limit| StreamLimit {
            limit,
            ramp: None,
            gate: None,
        };
        match streams {
            Streams::All => fixed(usize::MAX),
            Streams::AtMost(n) => fixed(n.get()),
            Streams::Auto if hosts <= START || bytes_per_host.is_none_or(|b| b < BULK_BYTES) => {
                fixed(usize::MAX)
            }
            Streams::Auto => StreamLimit {
                limit: START,
                ramp: Some(Ramp {
                    most: hosts,
                    from: START,
                    best: None,
                    halving: false,
                    phase: Phase::Settling { until: now },
                }),
                gate: Some(None),
            },
        }
    }

    /// Transfers that may run at once now ([`WHILE_STARTING`] while the start gate holds).
    pub fn limit(&self) -> usize {
        if self.gate.is_some() {
            WHILE_STARTING
        } else {
            self.limit
        }
    }

    /// A host's SFTP session started (or the host ended); `still_starting` hosts have not
    /// got that far. Says the limit when that opens the start gate.
    pub fn host_started(&mut self, now: Instant, still_starting: usize) -> Option<usize> {
        let starts = self.gate.as_mut()?;
        starts.get_or_insert((now, now)).1 = now;
        if still_starting == 0 {
            return Some(self.open_gate(now));
        }
        None
    }

    fn open_gate(&mut self, now: Instant) -> usize {
        self.gate = None;
        if let Some(ramp) = self.ramp.as_mut() {
            ramp.phase = Phase::Settling {
                until: now + SETTLE,
            };
        }
        self.limit
    }

    /// A session opened: the handshakes still under way cost the servers too (on a shared
    /// machine they take from the transfers), so a rate measured across them says nothing
    /// about the limit. The measurement starts again.
    pub fn session_opened(&mut self, now: Instant) {
        if let Some(ramp) = self.ramp.as_mut()
            && matches!(ramp.phase, Phase::Measuring { .. })
        {
            ramp.phase = Phase::Settling {
                until: now + SETTLE,
            };
        }
    }

    /// Called now and then with the bytes all hosts have moved so far, whether any host is
    /// waiting for a place and how many transfers run; says the new limit when it changed.
    pub fn tick(
        &mut self,
        now: Instant,
        moved: u64,
        waiting: bool,
        running: usize,
    ) -> Option<usize> {
        if let Some(first) = self.gate {
            return match first {
                Some((first, last)) if now >= first + START_GATE || now >= last + START_QUIET => {
                    Some(self.open_gate(now))
                }
                _ => None,
            };
        }
        let ramp = self.ramp.as_mut()?;
        match ramp.phase {
            Phase::Settling { until } => {
                if now >= until && waiting && running <= self.limit {
                    ramp.phase = Phase::Measuring {
                        from: now,
                        bytes: moved,
                    };
                }
                None
            }
            Phase::Measuring { from, bytes } => {
                let elapsed = now.saturating_duration_since(from);
                if elapsed < WINDOW {
                    return None;
                }
                if !waiting {
                    // Nobody waits: the limit does not bind, so there is nothing to learn.
                    ramp.phase = Phase::Settling { until: now };
                    return None;
                }
                let rate = moved.saturating_sub(bytes) as f64 / elapsed.as_secs_f64();
                let next = ramp.judge(self.limit, rate);
                tracing::debug!(
                    streams = self.limit,
                    mb_per_s = rate / 1e6,
                    next,
                    halving = ramp.halving,
                    "--streams auto: measured"
                );
                ramp.phase = if next.is_some() {
                    Phase::Settling {
                        until: now + SETTLE,
                    }
                } else {
                    Phase::Holding {
                        until: now + REPROBE,
                    }
                };
                let new = next.or(ramp.best.map(|(count, _)| count))?;
                if new == self.limit {
                    return None;
                }
                self.limit = new;
                Some(new)
            }
            Phase::Holding { until } => {
                if now >= until {
                    // Conditions change as hosts finish: probe again from here.
                    ramp.from = self.limit;
                    ramp.best = None;
                    ramp.halving = false;
                    ramp.phase = Phase::Settling { until: now };
                }
                None
            }
        }
    }
}

impl Ramp {
    /// Takes the rate measured with `limit` transfers running: says the count to measure
    /// next, or `None` when this round of probing is over (`best` holds the count to keep).
    fn judge(&mut self, limit: usize, rate: f64) -> Option<usize> {
        let Some((kept, best)) = self.best else {
            // The first measurement of a round: try a doubling next.
            self.best = Some((limit, rate));
            return self.doubled(limit);
        };
        if self.halving {
            if rate * GAIN < best {
                return None; // fewer lost too much: keep the last count that did not
            }
            self.best = Some((limit, best.max(rate)));
            return (limit > 1).then_some(limit / 2);
        }
        if rate >= best * GAIN {
            self.best = Some((limit, rate));
            return self.doubled(limit);
        }
        if kept == self.from && kept > 1 {
            // The first doubling gained too little: perhaps fewer move as much.
            self.halving = true;
            return Some(kept / 2);
        }
        None
    }

    /// The next count of a climb from `limit`, unless every host already runs.
    fn doubled(&self, limit: usize) -> Option<usize> {
        (limit < self.most).then(|| (limit * 2).min(self.most))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    #[test]
    fn streams_parse_auto_all_and_numbers_and_refuse_the_rest() {
        assert_eq!("auto".parse::<Streams>(), Ok(Streams::Auto));
        assert_eq!("all".parse::<Streams>(), Ok(Streams::All));
        assert_eq!("0".parse::<Streams>(), Ok(Streams::All));
        assert_eq!(
            "4".parse::<Streams>(),
            Ok(Streams::AtMost(NonZeroUsize::new(4).unwrap()))
        );
        assert!("-1".parse::<Streams>().is_err());
        assert!("many".parse::<Streams>().unwrap_err().contains("many"));
        assert_eq!(
            Streams::AtMost(NonZeroUsize::new(3).unwrap()).to_string(),
            "3"
        );
        assert_eq!(Streams::default().to_string(), "auto");
    }

    #[test]
    fn auto_limits_only_large_pushes_to_more_hosts_than_it_starts_with() {
        let now = Instant::now();
        assert_eq!(
            StreamLimit::new(Streams::Auto, 50, None, now).limit(),
            usize::MAX
        );
        assert_eq!(
            StreamLimit::new(Streams::Auto, 50, Some(MB), now).limit(),
            usize::MAX
        );
        assert_eq!(
            StreamLimit::new(Streams::Auto, START, Some(100 * MB), now).limit(),
            usize::MAX
        );
        assert_eq!(
            StreamLimit::new(Streams::Auto, 50, Some(100 * MB), now).limit(),
            WHILE_STARTING,
            "held by the start gate"
        );
        assert_eq!(
            StreamLimit::new(Streams::All, 50, Some(100 * MB), now).limit(),
            usize::MAX
        );
        let three = Streams::AtMost(NonZeroUsize::new(3).unwrap());
        let mut fixed = StreamLimit::new(three, 50, Some(100 * MB), now);
        assert_eq!(fixed.tick(now + REPROBE * 3, 10 * MB, true, 3), None);
        assert_eq!(fixed.limit(), 3);
    }

    /// Drives a limit through time in 100 ms steps with the given rate (bytes per second
    /// as a function of the running limit) for `seconds`; returns the limits it took.
    fn drive(
        limit: &mut StreamLimit,
        start: Instant,
        seconds: u64,
        rate: impl Fn(usize) -> f64,
    ) -> Vec<usize> {
        let mut moved = 0.0;
        let mut seen = vec![limit.limit()];
        for step in 1..=seconds * 10 {
            moved += rate(limit.limit()) / 10.0;
            let running = limit.limit();
            if let Some(new) = limit.tick(
                start + Duration::from_millis(step * 100),
                moved as u64,
                true,
                running,
            ) {
                seen.push(new);
            }
        }
        seen
    }

    /// An `auto` limit for 50 hosts × 100 MB whose hosts have all started.
    fn auto_started(start: Instant) -> StreamLimit {
        let mut limit = StreamLimit::new(Streams::Auto, 50, Some(100 * MB), start);
        assert_eq!(limit.host_started(start, 0), Some(START));
        limit
    }

    #[test]
    fn auto_holds_a_bulk_push_until_every_host_has_started_or_the_gate_times_out() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut limit = StreamLimit::new(Streams::Auto, 50, Some(100 * MB), start);
        assert_eq!(limit.limit(), WHILE_STARTING);
        assert_eq!(
            limit.tick(at(5000), 0, true, WHILE_STARTING),
            None,
            "no host started: no clock yet"
        );
        assert_eq!(limit.host_started(at(5000), 3), None);
        assert_eq!(limit.host_started(at(5100), 2), None);
        assert_eq!(limit.tick(at(6000), 0, true, WHILE_STARTING), None);
        assert_eq!(limit.limit(), WHILE_STARTING);
        // A second without a start: the two left may be down.
        assert_eq!(limit.tick(at(6100), 0, true, WHILE_STARTING), Some(START));
        assert_eq!(limit.limit(), START);
        // Starts that keep trickling in hold it for START_GATE at most.
        let mut trickle = StreamLimit::new(Streams::Auto, 50, Some(100 * MB), start);
        for step in 0..40u64 {
            let now = at(step * 500);
            assert_eq!(trickle.host_started(now, 40 - step as usize), None);
            if let Some(open) = trickle.tick(now + Duration::from_millis(100), 0, true, 1) {
                assert_eq!(
                    (open, step * 500 + 100),
                    (START, 10_100),
                    "opened at the first tick past the cap"
                );
                break;
            }
            assert!(step * 500 < 10_000, "still held after the cap");
        }
        assert_eq!(trickle.limit(), START);
        // Every host started: open at once.
        let mut all = StreamLimit::new(Streams::Auto, 50, Some(100 * MB), start);
        assert_eq!(all.host_started(at(10), 1), None);
        assert_eq!(all.host_started(at(20), 0), Some(START));
        assert_eq!(all.host_started(at(30), 0), None, "opened once");
        // A fixed limit has no gate.
        let mut fixed = StreamLimit::new(Streams::All, 50, Some(100 * MB), start);
        assert_eq!(fixed.host_started(at(10), 49), None);
        assert_eq!(fixed.limit(), usize::MAX);
    }

    #[test]
    fn auto_doubles_to_every_host_while_each_host_adds_its_own_bandwidth() {
        let start = Instant::now();
        let mut limit = auto_started(start);
        let seen = drive(&mut limit, start, 6, |n| n.min(50) as f64 * 10e6);
        assert_eq!(seen, vec![8, 16, 32, 50]);
        assert_eq!(limit.limit(), 50);
    }

    #[test]
    fn auto_goes_back_to_the_best_count_when_a_doubling_gains_little_and_probes_again_later() {
        let start = Instant::now();
        let mut limit = auto_started(start);
        // One shared server: 8 streams fill it, more only cost it.
        let shared = |n: usize| {
            if n <= 8 {
                n as f64 * 15e6
            } else {
                120e6 - n as f64 * 1e6
            }
        };
        let first = drive(&mut limit, start, 3, shared);
        assert_eq!(
            first,
            vec![8, 16, 4, 8],
            "16 gains too little, 4 loses too much"
        );
        assert_eq!(limit.limit(), 8);
        // Held for REPROBE, then it tries both once more and comes back.
        let later = drive(&mut limit, start + Duration::from_secs(3), 8, shared);
        assert_eq!(later, vec![8, 16, 4, 8]);
    }

    #[test]
    fn auto_halves_to_the_fewest_hosts_that_move_as_much_when_more_only_cost_a_shared_server() {
        let start = Instant::now();
        let mut limit = auto_started(start);
        // One server core for every host: each stream more costs it a little per byte.
        let shared = |n: usize| 250e6 - n as f64 * 1e6;
        let first = drive(&mut limit, start, 4, shared);
        assert_eq!(first, vec![8, 16, 4, 2, 1]);
        assert_eq!(limit.limit(), 1);
        // Probing again from one: two gain nothing, so back to one.
        let later = drive(&mut limit, start + Duration::from_secs(4), 8, shared);
        assert_eq!(later, vec![1, 2, 1]);
        // A rate that falls off below 4 keeps 4.
        let mut limit = auto_started(start);
        let knee = |n: usize| if n >= 4 { 200e6 } else { n as f64 * 40e6 };
        assert_eq!(drive(&mut limit, start, 4, knee), vec![8, 16, 4, 2, 4]);
    }

    #[test]
    fn a_halving_is_measured_only_once_enough_running_hosts_have_finished() {
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        let mut limit = auto_started(start);
        let mut moved = 0;
        let mut step = 0u64;
        let mut tick = |limit: &mut StreamLimit, rate: u64, running: usize| {
            step += 1;
            moved += rate / 10;
            limit.tick(at(step * 100), moved, true, running)
        };
        // 8 and 16 move the same: the next try is 4.
        let mut changes = Vec::new();
        while changes.len() < 2 {
            let running = limit.limit();
            changes.extend(tick(&mut limit, 200 * MB, running));
        }
        assert_eq!(changes, vec![16, 4]);
        // 16 still run: however long, nothing is learnt from them about 4.
        for _ in 0..50 {
            assert_eq!(tick(&mut limit, 100 * MB, 16), None);
        }
        // Down to 4 running, moving as much: 4 is kept and 2 tried.
        let mut next = None;
        for _ in 0..20 {
            next = next.or(tick(&mut limit, 200 * MB, 4));
        }
        assert_eq!(next, Some(2));
    }

    #[test]
    fn a_rate_measured_while_sessions_open_does_not_count() {
        let start = Instant::now();
        let mut limit = auto_started(start);
        let at = |ms| start + Duration::from_millis(ms);
        assert_eq!(limit.tick(at(300), 0, true, START), None);
        // Sessions keep opening: no window ends, the limit stays.
        for step in 2..30u64 {
            limit.session_opened(at(step * 100 + 50));
            assert_eq!(
                limit.tick(at(step * 100 + 100), step * 10 * MB, true, START),
                None
            );
        }
        // Once they stop, one window later it climbs.
        let mut moved = 300 * MB;
        let mut changed = None;
        for step in 31..45u64 {
            moved += 10 * MB;
            changed = changed.or(limit.tick(at(step * 100), moved, true, START));
        }
        assert_eq!(changed, Some(2 * START));
    }

    #[test]
    fn auto_learns_nothing_while_no_host_waits() {
        let start = Instant::now();
        let mut limit = auto_started(start);
        for step in 1..=100u64 {
            let now = start + Duration::from_millis(step * 100);
            assert_eq!(limit.tick(now, step * MB, false, START), None);
        }
        assert_eq!(limit.limit(), START);
    }
}
