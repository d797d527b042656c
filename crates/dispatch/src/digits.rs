//! The per-call digit queue: where out-of-band and in-band DTMF meet, are
//! deduplicated, and wait (type-ahead) until a gather or a barge-in reads them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use voicebot_model::Digit;

use crate::dedup::{DEFAULT_DEDUP_WINDOW, Dedup, DigitSource};

/// Default number of unread digits a call keeps before dropping the oldest.
pub const DEFAULT_TYPE_AHEAD: usize = 64;

/// Creates a call's digit queue with the default type-ahead capacity and dedup window.
pub fn digit_queue() -> (DigitSink, DigitQueue) {
    digit_queue_with(DEFAULT_TYPE_AHEAD, DEFAULT_DEDUP_WINDOW)
}

/// Creates a call's digit queue keeping at most `capacity` unread digits (at least 1)
/// and pairing echoes within `dedup_window` (see [`DigitSource`] for the rule).
///
/// Overflow policy: a full queue drops its *oldest* unread digit and counts it
/// ([`DigitQueue::dropped`]). A caller who types 64 keys nobody reads is not
/// waiting for the first one any more, and memory stays bounded.
pub fn digit_queue_with(capacity: usize, dedup_window: Duration) -> (DigitSink, DigitQueue) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            unread: VecDeque::with_capacity(capacity.clamp(1, 16)),
            dedup: Dedup::new(dedup_window),
        }),
        capacity: capacity.max(1),
        sinks: AtomicUsize::new(1),
        dropped: AtomicU64::new(0),
        notify: Notify::new(),
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
    state: Mutex<State>,
    capacity: usize,
    // Live sinks; the queue reads as closed once none is left and it is drained.
    sinks: AtomicUsize,
    dropped: AtomicU64,
    notify: Notify,
}

#[derive(Debug)]
struct State {
    unread: VecDeque<Digit>,
    dedup: Dedup,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the queue inconsistent (every
        // critical section is a single push or pop), so a poisoned lock is usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn is_closed(&self) -> bool {
        self.sinks.load(Ordering::Acquire) == 0
    }
}

/// The writing end of a call's digit queue. Cloneable: the call task pushes the
/// PBX's digits, the media task pushes the ones its detector hears.
#[derive(Debug)]
pub struct DigitSink {
    shared: Arc<Shared>,
}

impl DigitSink {
    /// Offers a digit from `source`; returns whether it was new (queued) rather than
    /// the echo of the same press from the other path. Callers emit a "digit" call
    /// event only for new digits. Never blocks.
    pub fn push(&self, source: DigitSource, digit: Digit) -> bool {
        let now = Instant::now();
        let mut state = self.shared.lock();
        if !state.dedup.accept(source, digit, now) {
            return false;
        }
        if state.unread.len() >= self.shared.capacity {
            state.unread.pop_front();
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
        state.unread.push_back(digit);
        drop(state);
        self.shared.notify.notify_one();
        true
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
            // Wake a reader so it sees the end instead of waiting forever.
            self.shared.notify.notify_one();
        }
    }
}

/// The reading end of a call's digit queue: unread digits in the order pressed.
/// Digits pressed while nobody reads stay here (type-ahead) for the next read.
#[derive(Debug)]
pub struct DigitQueue {
    shared: Arc<Shared>,
}

impl DigitQueue {
    /// The next digit, waiting for one; `None` once every sink is gone and the queue
    /// is drained.
    ///
    /// # Cancellation
    /// Cancel-safe: a digit is removed only when this returns it.
    pub async fn next(&mut self) -> Option<Digit> {
        loop {
            match self.try_next() {
                Some(digit) => return Some(digit),
                None if self.shared.is_closed() => return None,
                None => self.shared.notify.notified().await,
            }
        }
    }

    /// Waits until a digit is unread, without taking it; returns `false` if the queue
    /// closed empty. Used for barge-in: the digit that stops a prompt stays queued.
    ///
    /// # Cancellation
    /// Cancel-safe; nothing is consumed.
    pub async fn wait_unread(&mut self) -> bool {
        loop {
            if !self.is_empty() {
                // `notified` consumed the single permit; leave one for `next`.
                self.shared.notify.notify_one();
                return true;
            }
            if self.shared.is_closed() {
                return false;
            }
            self.shared.notify.notified().await;
        }
    }

    /// Takes the next unread digit if there is one.
    pub fn try_next(&mut self) -> Option<Digit> {
        self.shared.lock().unread.pop_front()
    }

    /// The next unread digit, left in the queue.
    pub fn peek(&self) -> Option<Digit> {
        self.shared.lock().unread.front().copied()
    }

    /// Discards every unread digit (e.g. to stop type-ahead before a new menu);
    /// returns how many there were.
    pub fn clear(&mut self) -> usize {
        let mut state = self.shared.lock();
        let count = state.unread.len();
        state.unread.clear();
        count
    }

    /// How many digits are unread.
    pub fn len(&self) -> usize {
        self.shared.lock().unread.len()
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
    use super::*;

    fn digit(key: char) -> Digit {
        Digit::new(key).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn type_ahead_is_kept_in_order() {
        let (sink, mut queue) = digit_queue();
        for key in "12#".chars() {
            assert!(sink.push(DigitSource::OutOfBand, digit(key)));
        }
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.peek(), Some(digit('1')));
        assert_eq!(queue.next().await, Some(digit('1')));
        assert_eq!(queue.next().await, Some(digit('2')));
        assert_eq!(queue.next().await, Some(digit('#')));
        assert!(queue.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn in_band_echo_is_not_queued_twice() {
        let (sink, mut queue) = digit_queue();
        let media = sink.clone();
        assert!(sink.push(DigitSource::OutOfBand, digit('7')));
        tokio::time::advance(Duration::from_millis(60)).await;
        assert!(!media.push(DigitSource::InBand, digit('7')));
        assert_eq!(queue.clear(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn overflow_drops_the_oldest_and_counts() {
        let (sink, mut queue) = digit_queue_with(2, DEFAULT_DEDUP_WINDOW);
        for key in "123".chars() {
            sink.push(DigitSource::OutOfBand, digit(key));
        }
        assert_eq!(queue.dropped(), 1);
        assert_eq!(queue.try_next(), Some(digit('2')));
        assert_eq!(queue.try_next(), Some(digit('3')));
    }

    #[tokio::test(start_paused = true)]
    async fn closes_when_the_last_sink_goes_after_draining() {
        let (sink, mut queue) = digit_queue();
        let media = sink.clone();
        sink.push(DigitSource::OutOfBand, digit('4'));
        drop(sink);
        assert!(!queue.is_closed());
        drop(media);
        assert!(queue.is_closed());
        assert_eq!(queue.next().await, Some(digit('4')));
        assert_eq!(queue.next().await, None);
        assert!(!queue.wait_unread().await);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_reader_wakes_on_push_and_barge_in_leaves_the_digit() {
        let (sink, mut queue) = digit_queue();
        let pusher = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            sink.push(DigitSource::InBand, digit('9'));
            sink
        });
        assert!(queue.wait_unread().await);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.next().await, Some(digit('9')));
        drop(pusher.await.unwrap());
    }
}
