//! The event loop made visible: what woke the one thread and what it did while awake.
//!
//! A wake-up is the time between tokio's `on_thread_unpark` and the next `on_thread_park`
//! hook of the loop's runtime (`install`): the thread came back from `epoll_wait` and ran
//! tasks until it had none left. Each session's byte stream is wrapped in [`Traced`], which
//! notes, per wake-up, whether a read on it returned bytes (the socket was readable) or a
//! write went out (it was writable), and counts the reads and writes that would have blocked
//! (`EAGAIN`, tokio's `Pending`): one event per session and direction per wake-up, as
//! `epoll_wait` reports one per ready descriptor.
//!
//! Off by default. Off, the hooks and every wrapped stream cost one relaxed atomic load per
//! call. On (`start`), a wake-up costs two clock reads and a lock; each event a lock.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Whether wake-ups are being recorded.
static ENABLED: AtomicBool = AtomicBool::new(false);
/// The number of the wake-up in progress (0: none, tracing is off).
static WAKE: AtomicU64 = AtomicU64::new(0);
static STATE: Mutex<State> = Mutex::new(State::new());

/// How many finished wake-ups are kept for the event view.
pub const RECENT: usize = 64;

/// Which way a session's socket was ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Readable,
    Writable,
}

impl Readiness {
    pub fn label(self) -> &'static str {
        match self {
            Readiness::Readable => "readable",
            Readiness::Writable => "writable",
        }
    }
}

/// One session's socket being ready in one wake-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketEvent {
    pub session: Arc<str>,
    pub readiness: Readiness,
}

/// One finished wake-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wake {
    /// Counted from 1 since tracing started.
    pub number: u64,
    /// When it began, since tracing started.
    pub at: Duration,
    pub events: Vec<SocketEvent>,
    /// From the unpark to the next park: the time the thread ran tasks.
    pub awake: Duration,
}

/// Everything counted since tracing started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub wakeups: u64,
    pub events: u64,
    /// The most events any one wake-up had.
    pub most_events: usize,
    pub awake: Duration,
    /// Since tracing started.
    pub elapsed: Duration,
    /// Reads that found nothing (`EAGAIN`) and waited for the next readiness.
    pub reads_would_block: u64,
    /// Writes that found the socket's buffer full.
    pub writes_would_block: u64,
}

/// The totals and the last wake-ups, for the event view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub totals: Totals,
    /// Oldest first, at most [`RECENT`].
    pub recent: Vec<Wake>,
}

struct Building {
    number: u64,
    started: Instant,
    events: Vec<SocketEvent>,
}

struct State {
    began: Option<Instant>,
    current: Option<Building>,
    totals: Totals,
    recent: VecDeque<Wake>,
    /// Where finished wake-ups go as they end (`mtssh run --trace-events`).
    feed: Option<mpsc::Sender<Wake>>,
}

impl State {
    const fn new() -> State {
        State {
            began: None,
            current: None,
            totals: Totals {
                wakeups: 0,
                events: 0,
                most_events: 0,
                awake: Duration::ZERO,
                elapsed: Duration::ZERO,
                reads_would_block: 0,
                writes_would_block: 0,
            },
            recent: VecDeque::new(),
            feed: None,
        }
    }

    fn begin_wake(&mut self, now: Instant) {
        let number = self.totals.wakeups + 1;
        self.totals.wakeups = number;
        WAKE.store(number, Ordering::Relaxed);
        self.current = Some(Building {
            number,
            started: now,
            events: Vec::new(),
        });
    }

    fn end_wake(&mut self, now: Instant) {
        let (Some(wake), Some(began)) = (self.current.take(), self.began) else {
            return;
        };
        let wake = Wake {
            number: wake.number,
            at: wake.started.duration_since(began),
            awake: now.duration_since(wake.started),
            events: wake.events,
        };
        self.totals.events += wake.events.len() as u64;
        self.totals.most_events = self.totals.most_events.max(wake.events.len());
        self.totals.awake += wake.awake;
        if self.recent.len() == RECENT {
            self.recent.pop_front();
        }
        if let Some(feed) = &self.feed {
            let _ = feed.send(wake.clone());
        }
        self.recent.push_back(wake);
    }
}

/// Adds the park/unpark hooks to the loop's runtime (they do nothing until [`start`]), and
/// names its blocking pool's threads so that [`threads`] can tell them apart.
pub fn install(builder: &mut tokio::runtime::Builder) -> &mut tokio::runtime::Builder {
    builder
        .thread_name(BLOCKING_POOL_NAME)
        .on_thread_unpark(|| {
            if ENABLED.load(Ordering::Relaxed) {
                crate::sys::lock(&STATE).begin_wake(Instant::now());
            }
        })
        .on_thread_park(|| {
            if ENABLED.load(Ordering::Relaxed) {
                crate::sys::lock(&STATE).end_wake(Instant::now());
            }
        })
}

/// Starts recording (afresh), from within the loop (a wake-up is under way: it is the
/// first). `feed` gets every wake-up as it ends.
pub fn start(feed: Option<mpsc::Sender<Wake>>) {
    let mut state = crate::sys::lock(&STATE);
    let now = Instant::now();
    *state = State::new();
    state.began = Some(now);
    state.feed = feed;
    state.begin_wake(now);
    ENABLED.store(true, Ordering::Relaxed);
}

/// Stops recording and returns the totals; the wake-up in progress counts as ended now.
pub fn stop() -> Totals {
    ENABLED.store(false, Ordering::Relaxed);
    WAKE.store(0, Ordering::Relaxed);
    let mut state = crate::sys::lock(&STATE);
    let now = Instant::now();
    state.end_wake(now);
    state.feed = None;
    state.totals.elapsed = state
        .began
        .map_or(Duration::ZERO, |b| now.duration_since(b));
    state.totals
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The totals so far and the last [`RECENT`] wake-ups.
pub fn snapshot() -> Snapshot {
    let state = crate::sys::lock(&STATE);
    let mut totals = state.totals;
    totals.elapsed = state.began.map_or(Duration::ZERO, |b| b.elapsed());
    Snapshot {
        totals,
        recent: state.recent.iter().cloned().collect(),
    }
}

fn note_event(session: &Arc<str>, readiness: Readiness) {
    let mut state = crate::sys::lock(&STATE);
    if let Some(wake) = &mut state.current {
        wake.events.push(SocketEvent {
            session: session.clone(),
            readiness,
        });
    }
}

fn note_would_block(readiness: Readiness) {
    let mut state = crate::sys::lock(&STATE);
    match readiness {
        Readiness::Readable => state.totals.reads_would_block += 1,
        Readiness::Writable => state.totals.writes_would_block += 1,
    }
}

/// A session's byte stream, noting its readiness while tracing is on.
pub struct Traced<S> {
    inner: S,
    session: Arc<str>,
    /// The wake-ups this stream last counted as readable / writable in: one event each per
    /// wake-up, however many reads it took.
    read_in: u64,
    written_in: u64,
}

impl<S> Traced<S> {
    pub fn new(inner: S, session: &str) -> Traced<S> {
        Traced {
            inner,
            session: session.into(),
            read_in: 0,
            written_in: 0,
        }
    }

    fn note<T>(&mut self, readiness: Readiness, poll: &Poll<io::Result<T>>) {
        if !ENABLED.load(Ordering::Relaxed) {
            return;
        }
        match poll {
            Poll::Pending => note_would_block(readiness),
            Poll::Ready(_) => {
                let wake = WAKE.load(Ordering::Relaxed);
                let last = match readiness {
                    Readiness::Readable => &mut self.read_in,
                    Readiness::Writable => &mut self.written_in,
                };
                if wake != 0 && *last != wake {
                    *last = wake;
                    note_event(&self.session, readiness);
                }
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Traced<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        this.note(Readiness::Readable, &poll);
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Traced<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.note(Readiness::Writable, &poll);
        poll
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.note(Readiness::Writable, &poll);
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The threads of this process by role, from `/proc/self/task/*/comm`: the loop (this
/// process's main thread), tokio's blocking pool, and the rest (crossterm's terminal reader,
/// the trace printer, per-session threads of the blocking modes). Reads a few /proc files:
/// not for every wake-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Threads {
    pub total: usize,
    pub blocking_pool: usize,
}

pub fn threads() -> Threads {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Threads::default();
    };
    let mut threads = Threads::default();
    for task in tasks.flatten() {
        threads.total += 1;
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == BLOCKING_POOL_NAME {
            threads.blocking_pool += 1;
        }
    }
    threads
}

/// The name of the loop runtime's blocking-pool threads (at most the kernel's 15 bytes).
const BLOCKING_POOL_NAME: &str = "mtssh-blocking";

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The global state is shared: one test drives it.
    #[test]
    fn a_wakeup_names_the_sessions_whose_sockets_were_ready_once_each() {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        let runtime = install(builder.enable_all()).build().unwrap();
        let (feed, wakes) = mpsc::channel();
        let totals = runtime.block_on(async {
            let (a, mut a_peer) = tokio::io::duplex(64);
            let (b, mut b_peer) = tokio::io::duplex(64);
            let (mut a, mut b) = (Traced::new(a, "web01"), Traced::new(b, "web02"));
            start(Some(feed));
            // Nothing to read yet: a read waits (Pending), the thread parks, and the
            // peers' writes wake it with both sockets readable.
            let reader = tokio::spawn(async move {
                let mut buf = [0; 8];
                a.read_exact(&mut buf[..4]).await.unwrap();
                b.read_exact(&mut buf[..2]).await.unwrap();
                b.read_exact(&mut buf[..2]).await.unwrap();
                a.write_all(b"ok").await.unwrap();
                (a, b)
            });
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(5)).await;
            a_peer.write_all(b"ping").await.unwrap();
            b_peer.write_all(b"hiho").await.unwrap();
            let _streams = reader.await.unwrap();
            stop()
        });
        let wakes: Vec<Wake> = wakes.try_iter().collect();
        let events: Vec<(String, Readiness)> = wakes
            .iter()
            .flat_map(|w| w.events.iter())
            .map(|e| (e.session.to_string(), e.readiness))
            .collect();
        assert!(
            events.contains(&("web01".into(), Readiness::Readable)),
            "{events:?}"
        );
        assert!(events.contains(&("web01".into(), Readiness::Writable)));
        // web02 read twice in one wake-up: one event.
        let web02 = events.iter().filter(|e| e.0 == "web02").count();
        assert_eq!(web02, 1, "{events:?}");
        assert!(totals.wakeups >= 2, "{totals:?}");
        assert_eq!(totals.events, events.len() as u64);
        assert!(totals.reads_would_block >= 1, "{totals:?}");
        assert!(wakes.windows(2).all(|w| w[0].number < w[1].number));
        assert!(!enabled());
    }

    #[test]
    fn threads_counts_this_process() {
        let threads = threads();
        assert!(threads.total >= 1);
        assert!(threads.blocking_pool <= threads.total);
    }
}
