//! The per-call digit queue: digits already deduplicated (see [`Dedup`](super::Dedup))
//! wait here, in the order pressed (type-ahead), until a gather or a barge-in reads them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;
use voicebot_model::Digit;

/// Default number of unread digits a call keeps before dropping the oldest.
pub const DEFAULT_TYPE_AHEAD: usize = 64;

/// Creates a call's digit queue with the default type-ahead capacity.
pub fn digit_queue() -> (DigitSink, DigitQueue) {
    digit_queue_with(DEFAULT_TYPE_AHEAD)
}

/// Creates a call's digit queue keeping at most `capacity` unread digits (at least 1).
///
/// Overflow policy: a full queue drops its *oldest* unread digit and counts it
/// ([`DigitQueue::dropped`]). A caller who types 64 keys nobody reads is not
/// waiting for the first one any more, and memory stays bounded.
pub fn digit_queue_with(capacity: usize) -> (DigitSink, DigitQueue) {
    let shared = Arc::new(Shared {
        unread: Mutex::new(VecDeque::with_capacity(capacity.clamp(1, 16))),
        capacity: capacity.max(1),
        sinks: AtomicUsize::new(1),
        dropped: AtomicU64::new(0),
        changed: Notify::new(),
    });
    (
        DigitSink {
            shared: Arc::clone(&shared),
        },
        DigitQueue { shared },
    )
}

#[derive(Debug)]
struct Shared {
    unread: Mutex<VecDeque<Digit>>,
    capacity: usize,
    // Live sinks; the queue reads as closed once none is left and it is drained.
    sinks: AtomicUsize,
    dropped: AtomicU64,
    // Woken (all waiters) on every push and when the last sink goes.
    changed: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Digit>> {
        // A panic while holding this lock cannot leave the queue inconsistent (every
        // critical section is a single push, pop or clear), so a poisoned lock is usable.
        self.unread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_closed(&self) -> bool {
        self.sinks.load(Ordering::Acquire) == 0
    }

    /// Waits until `ready` returns `Some`, re-checking after every change. Registers
    /// for the wake-up before checking, so a push between the check and the wait is
    /// never missed, however many readers wait.
    async fn wait_for<T>(&self, mut ready: impl FnMut(&Self) -> Option<T>) -> T {
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(value) = ready(self) {
                return value;
            }
            changed.await;
        }
    }
}

/// The writing end of a call's digit queue. Cloneable: the call task pushes the
/// PBX's digits, the media task the ones its detector hears.
#[derive(Debug)]
pub struct DigitSink {
    shared: Arc<Shared>,
}

impl DigitSink {
    /// Queues `digit` (already deduplicated). Never blocks.
    pub fn push(&self, digit: Digit) {
        let mut unread = self.shared.lock();
        if unread.len() >= self.shared.capacity {
            unread.pop_front();
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
        unread.push_back(digit);
        drop(unread);
        self.shared.changed.notify_waiters();
    }
}

impl Clone for DigitSink {
    fn clone(&self) -> Self {
        self.shared.sinks.fetch_add(1, Ordering::AcqRel);
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for DigitSink {
    fn drop(&mut self) {
        if self.shared.sinks.fetch_sub(1, Ordering::AcqRel) == 1 {
            // Wake readers so they see the end instead of waiting forever.
            self.shared.changed.notify_waiters();
        }
    }
}

/// The reading end of a call's digit queue: unread digits in the order pressed.
/// Digits pressed while nobody reads stay here (type-ahead) for the next read.
///
/// Every method takes `&self` and holds the queue's lock only for one push, pop or
/// clear, never across a wait: a gather waiting for digits does not hold up
/// [`clear`](Self::clear), and a prompt's barge-in watch can wait beside it.
#[derive(Debug)]
pub struct DigitQueue {
    shared: Arc<Shared>,
}

impl DigitQueue {
    /// The next digit, waiting for one; `None` once every sink is gone and the queue
    /// is drained. With several readers waiting, each digit goes to one of them.
    ///
    /// # Cancellation
    /// Cancel-safe: a digit is removed only when this returns it.
    pub async fn next(&self) -> Option<Digit> {
        self.shared
            .wait_for(|shared| match shared.lock().pop_front() {
                Some(digit) => Some(Some(digit)),
                None if shared.is_closed() => Some(None),
                None => None,
            })
            .await
    }

    /// Waits until a digit is unread and returns it, without taking it; `None` if the
    /// queue closed empty. Used for barge-in: the digit that stops a prompt stays
    /// queued.
    ///
    /// # Cancellation
    /// Cancel-safe; nothing is consumed.
    pub async fn wait_unread(&self) -> Option<Digit> {
        self.shared
            .wait_for(|shared| match shared.lock().front() {
                Some(digit) => Some(Some(*digit)),
                None if shared.is_closed() => Some(None),
                None => None,
            })
            .await
    }

    /// Takes the next unread digit if there is one.
    pub fn try_next(&self) -> Option<Digit> {
        self.shared.lock().pop_front()
    }

    /// The next unread digit, left in the queue.
    pub fn peek(&self) -> Option<Digit> {
        self.shared.lock().front().copied()
    }

    /// Discards every unread digit (e.g. to stop type-ahead before a new menu);
    /// returns how many there were.
    pub fn clear(&self) -> usize {
        let mut unread = self.shared.lock();
        let count = unread.len();
        unread.clear();
        count
    }

    /// How many digits are unread.
    pub fn len(&self) -> usize {
        self.shared.lock().len()
    }

    /// Whether no digit is unread.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every sink is gone (no digit can arrive any more).
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }

    /// How many digits were dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn digit(key: char) -> Digit {
        Digit::new(key).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn type_ahead_is_kept_in_order() {
        let (sink, queue) = digit_queue();
        for key in "12#".chars() {
            sink.push(digit(key));
        }
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.peek(), Some(digit('1')));
        assert_eq!(queue.next().await, Some(digit('1')));
        assert_eq!(queue.next().await, Some(digit('2')));
        assert_eq!(queue.next().await, Some(digit('#')));
        assert!(queue.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn overflow_drops_the_oldest_and_counts() {
        let (sink, queue) = digit_queue_with(2);
        for key in "123".chars() {
            sink.push(digit(key));
        }
        assert_eq!(queue.dropped(), 1);
        assert_eq!(queue.try_next(), Some(digit('2')));
        assert_eq!(queue.try_next(), Some(digit('3')));
    }

    #[tokio::test(start_paused = true)]
    async fn closes_when_the_last_sink_goes_after_draining() {
        let (sink, queue) = digit_queue();
        let media = sink.clone();
        sink.push(digit('4'));
        drop(sink);
        assert!(!queue.is_closed());
        drop(media);
        assert!(queue.is_closed());
        assert_eq!(queue.next().await, Some(digit('4')));
        assert_eq!(queue.next().await, None);
        assert_eq!(queue.wait_unread().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_reader_wakes_on_push_and_barge_in_leaves_the_digit() {
        let (sink, queue) = digit_queue();
        let pusher = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            sink.push(digit('9'));
            sink
        });
        assert_eq!(queue.wait_unread().await, Some(digit('9')));
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.next().await, Some(digit('9')));
        drop(pusher.await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn clear_does_not_wait_behind_a_waiting_reader() {
        let (sink, queue) = digit_queue();
        let queue = Arc::new(queue);
        let reader = tokio::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.next().await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        sink.push(digit('5'));
        sink.push(digit('6'));
        tokio::task::yield_now().await;
        // The reader took one digit; clearing takes the other.
        assert_eq!(reader.await.unwrap(), Some(digit('5')));
        assert_eq!(queue.clear(), 1);
        let waiting = tokio::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.wait_unread().await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        // A clear while a reader waits returns at once (no lock held across the wait).
        assert_eq!(queue.clear(), 0);
        assert!(!waiting.is_finished(), "the watch waits on after a clear");
        sink.push(digit('7'));
        assert_eq!(waiting.await.unwrap(), Some(digit('7')));
        assert_eq!(queue.next().await, Some(digit('7')));
    }
}
