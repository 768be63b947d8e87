//! A stream polled only when it asked to be: [`WokenOnly`] passes a poll on to the stream it
//! wraps only after that stream woke its task (or on the first poll, or while it has items).
//!
//! Why: the loop's `tokio::select!` polls every branch on every wake-up, and crossterm's
//! `EventStream` answers each poll by trying its reader's lock, which its own thread holds
//! while it waits for the terminal. parking_lot spins and calls `sched_yield` about seven
//! times before that try gives up, so every socket read of every session cost the loop a burst
//! of syscalls (~1900 `sched_yield`/s measured idle, more in a broadcast round) on the core it
//! shares with the terminal. The stream's own wake-up says when there is something to read.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures::Stream;
use futures::task::AtomicWaker;

/// Wraps a stream so that a poll reaches it only when it has woken the task since its last
/// `Pending` (see the module's comment).
pub struct WokenOnly<S> {
    inner: S,
    signal: Arc<WakeSignal>,
    /// The waker handed to the inner stream: always the same one, so a waker the inner stream
    /// kept from an earlier poll still reaches whichever task polls now.
    inner_waker: Waker,
}

/// Set by the inner stream's wake-up, taken by the next poll.
struct WakeSignal {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl Wake for WakeSignal {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl<S> WokenOnly<S> {
    pub fn new(inner: S) -> Self {
        let signal = Arc::new(WakeSignal {
            // The first poll always reaches the inner stream: nothing has asked for a wake-up yet.
            woken: AtomicBool::new(true),
            task: AtomicWaker::new(),
        });
        let inner_waker = Waker::from(signal.clone());
        Self {
            inner,
            signal,
            inner_waker,
        }
    }
}

impl<S: Stream + Unpin> Stream for WokenOnly<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        // Registered before the flag is read: a wake-up between the two still wakes this task.
        self.signal.task.register(cx.waker());
        if !self.signal.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let this = &mut *self;
        let mut inner_cx = Context::from_waker(&this.inner_waker);
        match Pin::new(&mut this.inner).poll_next(&mut inner_cx) {
            Poll::Ready(item) => {
                // There may be more ready behind this item: the next poll asks again.
                this.signal.woken.store(true, Ordering::Release);
                Poll::Ready(item)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use futures::StreamExt;
    use tokio::sync::mpsc;

    use super::*;

    /// A tokio receiver as a stream that counts its polls.
    struct ReceiverStream {
        rx: mpsc::UnboundedReceiver<u32>,
        polls: Rc<Cell<u32>>,
    }

    impl Stream for ReceiverStream {
        type Item = u32;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u32>> {
            self.polls.set(self.polls.get() + 1);
            self.rx.poll_recv(cx)
        }
    }

    fn counted() -> (
        mpsc::UnboundedSender<u32>,
        WokenOnly<ReceiverStream>,
        Rc<Cell<u32>>,
    ) {
        let (tx, rx) = mpsc::unbounded_channel();
        let polls = Rc::new(Cell::new(0));
        let stream = ReceiverStream {
            rx,
            polls: polls.clone(),
        };
        (tx, WokenOnly::new(stream), polls)
    }

    /// Polls once with a waker that only counts.
    fn poll_once(stream: &mut WokenOnly<ReceiverStream>) -> Poll<Option<u32>> {
        let waker = futures::task::noop_waker();
        stream.poll_next_unpin(&mut Context::from_waker(&waker))
    }

    #[test]
    fn polls_without_a_wake_up_do_not_reach_the_inner_stream() {
        let (_tx, mut stream, polls) = counted();
        assert_eq!(poll_once(&mut stream), Poll::Pending);
        assert_eq!(polls.get(), 1, "the first poll reaches it");
        for _ in 0..50 {
            assert_eq!(poll_once(&mut stream), Poll::Pending);
        }
        assert_eq!(
            polls.get(),
            1,
            "no wake-up came: no further poll reached it"
        );
    }

    #[test]
    fn a_wake_up_lets_every_ready_item_through_in_order() {
        let (tx, mut stream, polls) = counted();
        assert_eq!(poll_once(&mut stream), Poll::Pending);
        for n in 1..=3 {
            tx.send(n).unwrap();
        }
        assert_eq!(poll_once(&mut stream), Poll::Ready(Some(1)));
        assert_eq!(poll_once(&mut stream), Poll::Ready(Some(2)));
        assert_eq!(poll_once(&mut stream), Poll::Ready(Some(3)));
        assert_eq!(poll_once(&mut stream), Poll::Pending);
        let seen = polls.get();
        assert_eq!(poll_once(&mut stream), Poll::Pending);
        assert_eq!(polls.get(), seen, "drained and not woken: not polled");
        drop(tx);
        assert_eq!(
            poll_once(&mut stream),
            Poll::Ready(None),
            "the end is a wake-up too"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_task_that_polls_is_woken_by_an_item_sent_from_another_thread() {
        let (tx, mut stream, _polls) = counted();
        let sender = std::thread::spawn(move || {
            for n in 0..100 {
                tx.send(n).unwrap();
            }
        });
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while got.len() < 100 {
            let item = tokio::time::timeout_at(deadline, stream.next())
                .await
                .expect("every item arrives before the deadline");
            got.push(item.expect("the sender is still there"));
        }
        sender.join().unwrap();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    }
}
