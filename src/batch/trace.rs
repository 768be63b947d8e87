//! `mtssh run --trace-events`: a line on stderr per wake-up of the event loop (which
//! sessions' sockets were ready, how long the thread was awake, how many OS threads the
//! process has), and a summary at the end. The lines are written by a thread of their own,
//! so the loop never waits on stderr; that thread is counted among the threads shown.

use std::io::{IsTerminal, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::lang::{tr, trf};
use crate::sys::wakeups::{self, Threads, Totals, Wake};

/// Sessions named per line; the rest are counted.
const NAMED_PER_LINE: usize = 16;
/// How often the printer reads the thread count: often enough to see a blocking-pool
/// thread come and go, not a dozen /proc reads per wake-up.
const THREAD_SAMPLE: Duration = Duration::from_millis(20);

/// The running trace; [`Trace::finish`] stops it and prints the summary.
pub(super) struct Trace {
    printed: tokio::sync::oneshot::Receiver<Threads>,
}

impl Trace {
    /// Starts recording; call on the loop, just before the sessions start.
    pub(super) fn start() -> std::io::Result<Trace> {
        let (feed, wakes) = mpsc::channel();
        let (done, printed) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("mtssh-trace".into())
            .spawn(move || {
                let _ = done.send(print_wakes(wakes));
            })?;
        wakeups::start(Some(feed));
        Ok(Trace { printed })
    }

    /// Stops recording, waits for the printer to write what it has (stopping ends its
    /// feed), then prints the summary.
    pub(super) async fn finish(self) {
        let totals = wakeups::stop();
        let threads = self.printed.await.unwrap_or_default();
        super::say(&summary(&totals, threads));
    }
}

/// The printer thread: a line per wake-up until the feed ends; returns the most threads
/// seen (the blocking pool's count at that moment).
fn print_wakes(wakes: mpsc::Receiver<Wake>) -> Threads {
    let mut stderr = std::io::stderr();
    let terminal = stderr.is_terminal();
    let mut threads = wakeups::threads();
    let mut peak = threads;
    let mut sampled = Instant::now();
    for wake in wakes {
        if sampled.elapsed() >= THREAD_SAMPLE {
            threads = wakeups::threads();
            sampled = Instant::now();
            if threads.total > peak.total {
                peak = threads;
            }
        }
        let line = wake_line(&wake, threads.total);
        // Host names come from the user's files: neutralised on a terminal.
        let _ = if terminal {
            writeln!(stderr, "{}", crate::text::neutralize(line.as_bytes()))
        } else {
            writeln!(stderr, "{line}")
        };
    }
    let last = wakeups::threads();
    if last.total > peak.total { last } else { peak }
}

/// `wake #N +T ms: 3 events: web01 readable, web02 readable, web03 writable; awake 0.21 ms;
/// threads 2`.
pub fn wake_line(wake: &Wake, threads: usize) -> String {
    // `wake #N +T ms:` stays as it is in every language: scripts (and tests) find the lines by it.
    let mut line = format!("wake #{} +{:.1} ms: ", wake.number, millis(wake.at));
    match wake.events.len() {
        0 => line.push_str(tr("no socket events (a timer or another task)")),
        n => {
            let named: Vec<String> = wake
                .events
                .iter()
                .take(NAMED_PER_LINE)
                .map(|e| format!("{} {}", e.session, tr(e.readiness.label())))
                .collect();
            let mut named = named.join(", ");
            if n > NAMED_PER_LINE {
                let more = n - NAMED_PER_LINE;
                named.push_str(&trf(", {more} more", &[("more", &more)]));
            }
            let template = if n == 1 {
                "{n} event: {named}"
            } else {
                "{n} events: {named}"
            };
            line.push_str(&trf(template, &[("n", &n), ("named", &named)]));
        }
    }
    line.push_str(&trf(
        "; awake {awake} ms; threads {threads}",
        &[
            ("awake", &format!("{:.2}", millis(wake.awake))),
            ("threads", &threads),
        ],
    ));
    line
}

/// `event loop: 12 wake-ups, 40 socket events (3.3 per wake-up, at most 9); awake 4.10 ms
/// of 230.0 ms (1.8 %); reads that would block (EAGAIN) 31, writes 0; threads at most 3
/// (the event loop, the trace printer and the blocking pool: 1 in the blocking pool)`.
/// `event loop: ` and the number after it stay in every language (tests read them).
pub fn summary(totals: &Totals, threads: Threads) -> String {
    let per_wake = if totals.wakeups > 0 {
        totals.events as f64 / totals.wakeups as f64
    } else {
        0.0
    };
    let elapsed = millis(totals.elapsed);
    let share = if elapsed > 0.0 {
        millis(totals.awake) / elapsed * 100.0
    } else {
        0.0
    };
    let body = trf(
        "{wakeups} wake-ups, {events} socket events ({per_wake} per wake-up, at most {most}); \
         awake {awake} ms of {elapsed} ms ({share} %); reads that would block (EAGAIN) {reads}, \
         writes {writes}; threads at most {threads} (the event loop, the trace printer and the \
         blocking pool: {pool} in the blocking pool)",
        &[
            ("wakeups", &totals.wakeups),
            ("events", &totals.events),
            ("per_wake", &format!("{per_wake:.1}")),
            ("most", &totals.most_events),
            ("awake", &format!("{:.2}", millis(totals.awake))),
            ("elapsed", &format!("{elapsed:.1}")),
            ("share", &format!("{share:.1}")),
            ("reads", &totals.reads_would_block),
            ("writes", &totals.writes_would_block),
            ("threads", &threads.total),
            ("pool", &threads.blocking_pool),
        ],
    );
    format!("event loop: {body}")
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::wakeups::{Readiness, SocketEvent};

    fn event(session: &str, readiness: Readiness) -> SocketEvent {
        SocketEvent {
            session: session.into(),
            readiness,
        }
    }

    #[test]
    fn a_wake_line_names_each_ready_session_and_counts_past_sixteen() {
        let wake = Wake {
            number: 7,
            at: Duration::from_micros(12_340),
            events: vec![
                event("web01", Readiness::Readable),
                event("web02", Readiness::Readable),
                event("web03", Readiness::Writable),
            ],
            awake: Duration::from_micros(210),
        };
        assert_eq!(
            wake_line(&wake, 2),
            "wake #7 +12.3 ms: 3 events: web01 readable, web02 readable, web03 writable; \
             awake 0.21 ms; threads 2"
        );
        let many = Wake {
            events: (0..18)
                .map(|i| event(&format!("h{i}"), Readiness::Readable))
                .collect(),
            ..wake.clone()
        };
        assert!(wake_line(&many, 1).contains("h15 readable, 2 more; awake"));
        let idle = Wake {
            events: Vec::new(),
            ..wake
        };
        assert!(wake_line(&idle, 1).contains(": no socket events"));
    }

    #[test]
    fn in_chinese_the_trace_keeps_its_prefixes_for_scripts() {
        let wake = Wake {
            number: 3,
            at: Duration::from_micros(1_500),
            events: vec![event("web01", Readiness::Readable)],
            awake: Duration::from_micros(120),
        };
        crate::lang::with(crate::lang::Lang::Zh, || {
            assert_eq!(
                wake_line(&wake, 2),
                "wake #3 +1.5 ms: 1 个事件：web01 可读；忙碌 0.12 ms；线程 2"
            );
            let totals = Totals {
                wakeups: 12,
                events: 40,
                most_events: 9,
                awake: Duration::from_micros(4_100),
                elapsed: Duration::from_millis(230),
                reads_would_block: 31,
                writes_would_block: 0,
            };
            let threads = Threads {
                total: 3,
                blocking_pool: 1,
            };
            let line = summary(&totals, threads);
            assert!(line.starts_with("event loop: 唤醒 12 次，"), "{line}");
            assert!(line.contains("230.0 ms 中忙碌 4.10 ms（1.8 %）"), "{line}");
        });
    }
}
