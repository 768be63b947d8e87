//! Slows password guessing per client address, across all its connections.
//!
//! russh already makes each wrong answer cost 400 ms on its connection, but a guesser opens
//! many connections at once: without a shared limit the mock answered ~225 guesses/s to one
//! paramiko script (docs/BENCHMARKS.md). OpenSSH bounds this with MaxStartups (unauthenticated
//! connections) and, since 9.8, PerSourcePenalties (a source that fails logins is shut out
//! for a while). MaxStartups would break what the mock is for — a student opening a thousand
//! sessions at once — so the mock keeps only the per-source part, as a token bucket that
//! only failures drain: every address has `burst` free wrong passwords, then one per
//! `interval`. A correct password costs nothing, so any number of concurrent logins pass,
//! unless their address is in the penalty: then they wait their turn like a guess (the
//! answer must not come sooner for a right password, or a guesser would not need to wait).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many wrong passwords an address may try, and how fast after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimit {
    /// Wrong passwords an address may try without waiting.
    pub burst: u32,
    /// Then one attempt per this long.
    pub interval: Duration,
    /// An attempt that would wait longer is refused without its password being looked at.
    pub max_wait: Duration,
}

impl Default for LoginLimit {
    fn default() -> Self {
        LoginLimit {
            burst: 10,
            interval: Duration::from_secs(1),
            max_wait: Duration::from_secs(10),
        }
    }
}

/// What an attempt must do before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Wait this long (zero: go at once). `first_wait`: the address just ran out of free
    /// attempts (the console says so once).
    Wait { wait: Duration, first_wait: bool },
    /// Refuse unchecked: the queue of this address is too long.
    Refuse,
}

/// Entries kept before the ones whose penalty is over are dropped.
const PRUNE_AT: usize = 4096;

struct Slot {
    /// When the address's bucket is full again (the "theoretical arrival time").
    full_at: Instant,
    /// The address has waited since its bucket last ran dry.
    waited: bool,
}

/// Per-address buckets; `None` is every in-memory connection.
pub struct Limiter {
    limit: LoginLimit,
    slots: Mutex<HashMap<Option<IpAddr>, Slot>>,
}

impl Limiter {
    pub fn new(limit: LoginLimit) -> Limiter {
        Limiter {
            limit,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Reserves a turn for one password attempt from `source`. The reservation stands for
    /// a wrong password; [`Limiter::refund`] returns it for a right one.
    pub fn reserve(&self, source: Option<IpAddr>, now: Instant) -> Turn {
        let LoginLimit {
            burst,
            interval,
            max_wait,
        } = self.limit;
        let mut slots = crate::sys::lock(&self.slots);
        if slots.len() >= PRUNE_AT {
            slots.retain(|_, slot| slot.full_at > now);
        }
        let slot = slots.entry(source).or_insert(Slot {
            full_at: now,
            waited: false,
        });
        if slot.full_at <= now {
            slot.full_at = now;
            slot.waited = false;
        }
        let full_at = slot.full_at + interval;
        let allowance = interval.saturating_mul(burst);
        let wait = full_at
            .saturating_duration_since(now)
            .saturating_sub(allowance);
        if wait > max_wait {
            return Turn::Refuse;
        }
        slot.full_at = full_at;
        let first_wait = !wait.is_zero() && !slot.waited;
        slot.waited |= first_wait;
        Turn::Wait { wait, first_wait }
    }

    /// The attempt was a right password: it costs its address nothing.
    pub fn refund(&self, source: Option<IpAddr>) {
        let mut slots = crate::sys::lock(&self.slots);
        if let Some(slot) = slots.get_mut(&source)
            && let Some(earlier) = slot.full_at.checked_sub(self.limit.interval)
        {
            slot.full_at = earlier;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([127, 0, 0, last]))
    }

    fn waits(turn: Turn) -> Duration {
        match turn {
            Turn::Wait { wait, .. } => wait,
            Turn::Refuse => Duration::MAX,
        }
    }

    #[test]
    fn a_burst_is_free_then_one_guess_per_interval_then_refusal() {
        let limiter = Limiter::new(LoginLimit::default());
        let now = Instant::now();
        for _ in 0..10 {
            assert_eq!(waits(limiter.reserve(ip(1), now)), Duration::ZERO);
        }
        assert_eq!(
            limiter.reserve(ip(1), now),
            Turn::Wait {
                wait: Duration::from_secs(1),
                first_wait: true
            }
        );
        assert_eq!(waits(limiter.reserve(ip(1), now)), Duration::from_secs(2));
        for _ in 0..8 {
            limiter.reserve(ip(1), now);
        }
        assert_eq!(limiter.reserve(ip(1), now), Turn::Refuse);
        // Another address has its own bucket; time refills this one.
        assert_eq!(waits(limiter.reserve(ip(2), now)), Duration::ZERO);
        let later = now + Duration::from_secs(30);
        assert_eq!(
            limiter.reserve(ip(1), later),
            Turn::Wait {
                wait: Duration::ZERO,
                first_wait: false
            }
        );
    }

    #[test]
    fn right_passwords_cost_nothing() {
        let limiter = Limiter::new(LoginLimit::default());
        let now = Instant::now();
        for _ in 0..1000 {
            assert_eq!(waits(limiter.reserve(ip(1), now)), Duration::ZERO);
            limiter.refund(ip(1));
        }
    }
}
