//! One session's input on its way to the remote side: a queue bounded in bytes, drained by
//! the session's writer as the SSH channel window allows. Nothing put in it is ever dropped
//! silently: input that does not fit is refused whole (the caller tells the user), and only
//! [`InputQueue::discard`] — a user's decision — throws queued bytes away.
//!
//! The front end pushes without waiting (the event loop must never block on one slow
//! session); `mtssh run --stdin` waits for room instead.

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;
use tokio::sync::Notify;

/// Input a session may hold unsent by default: a large paste fits, a runaway one is refused.
pub const DEFAULT_INPUT_LIMIT: usize = 64 * 1024 * 1024;

/// Pieces the writer hands to the channel one at a time, so the pending count moves as the
/// remote side takes the input and a discard stops a paste within one piece.
const PIECE: usize = 32 * 1024;

/// Why input was not queued. Nothing of it was queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputRefused {
    /// The input would take the queue past its bound.
    #[error(
        "{} would exceed the {} input queue ({} still unsent)",
        human_bytes(*len as u64),
        human_bytes(*limit as u64),
        human_bytes(*pending as u64)
    )]
    Full {
        len: usize,
        pending: usize,
        limit: usize,
    },
    /// The session has ended (or its input side was closed with EOF): nobody will read it.
    #[error("the session takes no more input")]
    Ended,
}

/// What the writer does next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    Data(Bytes),
    /// Every byte queued before it is written: send EOF.
    Eof,
}

#[derive(Debug, Default)]
struct Queue {
    pieces: VecDeque<Bytes>,
    /// Bytes in `pieces` plus the piece the writer is sending now.
    pending: usize,
    /// EOF was asked for after the queued bytes.
    eof: bool,
    /// No more input will be taken: EOF was asked for, or the session ended.
    closed: bool,
    /// The session ended: what is still pending will never be written.
    ended: bool,
}

#[derive(Debug)]
pub struct InputQueue {
    queue: Mutex<Queue>,
    limit: usize,
    /// Wakes the writer: input or EOF was queued, or the queue closed.
    queued: Notify,
    /// Wakes those waiting for room.
    room: Notify,
}

impl InputQueue {
    pub fn new(limit: usize) -> Self {
        InputQueue {
            queue: Mutex::new(Queue::default()),
            limit: limit.max(1),
            queued: Notify::new(),
            room: Notify::new(),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes queued but not yet taken by the channel.
    pub fn pending(&self) -> usize {
        self.with(|q| q.pending)
    }

    /// Whether the session has ended (what is pending then stays unsent).
    pub fn has_ended(&self) -> bool {
        self.with(|q| q.ended)
    }

    /// Queues all of `bytes` or none of it, without waiting.
    pub fn push(&self, bytes: Bytes) -> Result<(), InputRefused> {
        let result = self.with(|q| {
            if q.closed {
                return Err(InputRefused::Ended);
            }
            if q.pending + bytes.len() > self.limit {
                return Err(InputRefused::Full {
                    len: bytes.len(),
                    pending: q.pending,
                    limit: self.limit,
                });
            }
            let mut at = 0;
            while at < bytes.len() {
                let end = (at + PIECE).min(bytes.len());
                q.pieces.push_back(bytes.slice(at..end));
                at = end;
            }
            q.pending += bytes.len();
            Ok(())
        });
        if result.is_ok() {
            self.queued.notify_one();
        }
        result
    }

    /// Queues all of `bytes`, waiting for room as the remote side reads: for callers that
    /// may wait (`mtssh run --stdin`). Input larger than the whole bound goes in parts.
    pub async fn push_wait(&self, bytes: Bytes) -> Result<(), InputRefused> {
        let mut at = 0;
        while at < bytes.len() {
            let part = bytes.slice(at..(at + self.limit).min(bytes.len()));
            at += part.len();
            loop {
                // Created before the check: a `notify_waiters` between the check and the
                // wait still wakes it.
                let room = self.room.notified();
                match self.push(part.clone()) {
                    Ok(()) => break,
                    Err(InputRefused::Full { .. }) => room.await,
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Sends EOF once everything queued so far is written; later input is refused.
    pub fn eof(&self) {
        self.with(|q| {
            if !q.closed {
                q.eof = true;
                q.closed = true;
            }
        });
        self.queued.notify_one();
        self.room.notify_waiters();
    }

    /// Throws away what is still queued (the user's choice); the piece being written
    /// finishes. Returns the bytes thrown away.
    pub fn discard(&self) -> usize {
        let dropped = self.with(|q| {
            let dropped: usize = q.pieces.drain(..).map(|p| p.len()).sum();
            q.pending -= dropped;
            dropped
        });
        self.room.notify_waiters();
        dropped
    }

    /// The session ended: refuse input from now on and wake whoever waits for room.
    pub(crate) fn close(&self) {
        self.with(|q| {
            q.closed = true;
            q.ended = true;
        });
        self.queued.notify_one();
        self.room.notify_waiters();
    }

    /// The writer's next step, waiting until there is one; `None` once closed and drained.
    /// The returned piece still counts as pending until [`InputQueue::written`].
    pub(crate) async fn next(&self) -> Option<Next> {
        loop {
            let queued = self.queued.notified();
            let next = self.with(|q| {
                if let Some(piece) = q.pieces.pop_front() {
                    Some(Some(Next::Data(piece)))
                } else if q.eof {
                    q.eof = false;
                    Some(Some(Next::Eof))
                } else if q.closed {
                    Some(None)
                } else {
                    None
                }
            });
            match next {
                Some(next) => return next,
                None => queued.await,
            }
        }
    }

    /// The writer handed `len` bytes to the channel.
    pub(crate) fn written(&self, len: usize) {
        self.with(|q| q.pending = q.pending.saturating_sub(len));
        self.room.notify_waiters();
    }

    fn with<T>(&self, f: impl FnOnce(&mut Queue) -> T) -> T {
        f(&mut crate::sys::lock(&self.queue))
    }
}

/// `512 B`, `64.0 KB`, `1.2 MB`, `3.0 GB` (powers of 1024, as the pending marker shows them).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain_now(queue: &InputQueue) -> Vec<u8> {
        let mut out = Vec::new();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        queue.close();
        runtime.block_on(async {
            while let Some(next) = queue.next().await {
                if let Next::Data(piece) = next {
                    out.extend_from_slice(&piece);
                    queue.written(piece.len());
                }
            }
        });
        out
    }

    #[test]
    fn input_is_queued_whole_or_refused_whole() {
        let queue = InputQueue::new(100_000);
        let paste: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
        let paste = Bytes::from(paste);
        queue.push(paste.clone()).unwrap();
        assert_eq!(queue.pending(), 70_000);
        assert_eq!(
            queue.push(paste.clone()),
            Err(InputRefused::Full {
                len: 70_000,
                pending: 70_000,
                limit: 100_000
            })
        );
        queue.push(Bytes::from_static(b"tail")).unwrap();
        let mut expected = paste.to_vec();
        expected.extend_from_slice(b"tail");
        assert_eq!(drain_now(&queue), expected);
        assert_eq!(queue.pending(), 0);
        assert_eq!(
            queue.push(Bytes::from_static(b"late")),
            Err(InputRefused::Ended)
        );
    }

    #[test]
    fn eof_comes_after_the_queued_input_and_ends_the_input() {
        let queue = InputQueue::new(1000);
        queue.push(Bytes::from_static(b"abc")).unwrap();
        queue.eof();
        assert_eq!(
            queue.push(Bytes::from_static(b"x")),
            Err(InputRefused::Ended)
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let steps = runtime.block_on(async {
            let mut steps = Vec::new();
            while let Some(next) = queue.next().await {
                steps.push(next);
            }
            steps
        });
        assert_eq!(
            steps,
            vec![Next::Data(Bytes::from_static(b"abc")), Next::Eof]
        );
    }

    #[test]
    fn discard_drops_what_is_queued_and_makes_room() {
        let queue = InputQueue::new(PIECE * 4);
        queue.push(Bytes::from(vec![b'x'; PIECE * 3])).unwrap();
        assert_eq!(queue.discard(), PIECE * 3);
        assert_eq!(queue.pending(), 0);
        queue.push(Bytes::from(vec![b'y'; PIECE * 4])).unwrap();
        assert_eq!(drain_now(&queue), vec![b'y'; PIECE * 4]);
    }

    #[test]
    fn push_wait_waits_for_the_writer_and_takes_more_than_the_bound() {
        let queue = std::sync::Arc::new(InputQueue::new(10));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let data: Vec<u8> = (0..95u8).collect();
        let got = runtime.block_on(async {
            let writer = {
                let queue = queue.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    while let Some(next) = queue.next().await {
                        if let Next::Data(piece) = next {
                            assert!(queue.pending() <= 10);
                            got.extend_from_slice(&piece);
                            tokio::task::yield_now().await;
                            queue.written(piece.len());
                        }
                    }
                    got
                })
            };
            queue.push_wait(Bytes::from(data.clone())).await.unwrap();
            queue.eof();
            writer.await.unwrap()
        });
        assert_eq!(got, data);
    }

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(64 * 1024), "64.0 KB");
        assert_eq!(human_bytes(1_258_291), "1.2 MB");
        assert_eq!(human_bytes(3 << 30), "3.0 GB");
    }
}
