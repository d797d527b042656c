//! Where a call's DTMF goes: deduplicated across the two paths (out-of-band from the
//! PBX, in-band from the media task's detector), then to a recording waiting for its
//! terminator, or else to the digit queue as type-ahead.
//!
//! Why a router rather than the recording reading the queue: a recording must take
//! only the key that ends it. Reading the queue would consume every key pressed while
//! recording (and could not reach a terminator queued behind other keys); catching the
//! terminator before it is queued leaves all the others for the next gather.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;
use tokio::time::Instant;
use voicebot_bot::__engine::{Dedup, DigitQueue, DigitSink, DigitSource, digit_queue};
use voicebot_model::Digit;

use crate::cdr::Draft;

/// Creates a call's key router and the digit queue it fills.
pub(crate) fn key_queue(
    terminators: Arc<Terminators>,
    record: Arc<Draft>,
) -> (KeySink, DigitQueue) {
    let (queue_sink, queue) = digit_queue();
    let sink = KeySink {
        dedup: Arc::new(Mutex::new(Dedup::default())),
        queue: queue_sink,
        terminators,
        record,
    };
    (sink, queue)
}

/// The writing end of a call's digits; cloneable like `DigitSink`. The queue reads as
/// closed once every `KeySink` is gone.
#[derive(Debug, Clone)]
pub(crate) struct KeySink {
    /// Shared by the clones: both paths of one call meet here.
    dedup: Arc<Mutex<Dedup>>,
    queue: DigitSink,
    terminators: Arc<Terminators>,
    /// Every new digit goes on the call's record.
    record: Arc<Draft>,
}

impl KeySink {
    /// Offers a digit from `source`; returns whether it was new (not the echo of the
    /// same press from the other path). Never blocks.
    pub(crate) fn push(&self, source: DigitSource, digit: Digit) -> bool {
        if !lock(&self.dedup).accept(source, digit, Instant::now()) {
            return false;
        }
        self.record.digit(digit.as_char());
        if !self.terminators.take(digit) {
            self.queue.push(digit);
        }
        true
    }
}

// Every critical section is a single call on the value: a poisoned lock is usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Recordings waiting for a terminator key.
#[derive(Debug, Default)]
pub(crate) struct Terminators {
    waiting: Mutex<Vec<Waiter>>,
}

#[derive(Debug)]
struct Waiter {
    id: u64,
    keys: Vec<Digit>,
    fire: oneshot::Sender<Digit>,
}

impl Terminators {
    /// Waits for one of `keys` for recording `id`; the key is not queued. The watch
    /// ends when the returned guard is dropped.
    pub(crate) fn watch(self: &Arc<Self>, id: u64, keys: Vec<Digit>) -> TerminatorWatch {
        let (fire, pressed) = oneshot::channel();
        self.lock().push(Waiter { id, keys, fire });
        TerminatorWatch {
            terminators: Arc::clone(self),
            id,
            pressed,
        }
    }

    /// Hands `digit` to the oldest recording waiting for it; false when none is.
    fn take(&self, digit: Digit) -> bool {
        let mut waiting = self.lock();
        let Some(index) = waiting.iter().position(|w| w.keys.contains(&digit)) else {
            return false;
        };
        let waiter = waiting.remove(index);
        // A watch dropped meanwhile: the key was meant for nobody; queue it after all.
        waiter.fire.send(digit).is_ok()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Waiter>> {
        lock(&self.waiting)
    }
}

/// A recording's watch for its terminator.
#[derive(Debug)]
pub(crate) struct TerminatorWatch {
    terminators: Arc<Terminators>,
    id: u64,
    pressed: oneshot::Receiver<Digit>,
}

impl TerminatorWatch {
    /// The terminator pressed; waits forever if none is (the caller's end of the call
    /// is watched separately).
    pub(crate) async fn pressed(&mut self) -> Digit {
        match (&mut self.pressed).await {
            Ok(digit) => digit,
            Err(_) => std::future::pending().await,
        }
    }
}

impl Drop for TerminatorWatch {
    fn drop(&mut self) {
        self.terminators
            .lock()
            .retain(|waiter| waiter.id != self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digit(key: char) -> Digit {
        Digit::new(key).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn only_the_terminator_is_taken_and_echoes_are_dropped() {
        let terminators = Arc::new(Terminators::default());
        let (sink, queue) = key_queue(Arc::clone(&terminators), Draft::detached());
        let mut watch = terminators.watch(1, vec![digit('#')]);
        assert!(sink.push(DigitSource::OutOfBand, digit('1')));
        assert!(!sink.push(DigitSource::InBand, digit('1')), "an echo");
        assert!(sink.push(DigitSource::OutOfBand, digit('#')));
        assert!(!sink.push(DigitSource::InBand, digit('#')), "an echo");
        assert!(sink.push(DigitSource::OutOfBand, digit('2')));
        assert_eq!(watch.pressed().await, digit('#'));
        drop(watch);
        assert!(
            sink.push(DigitSource::OutOfBand, digit('1')),
            "a second press"
        );
        let queued: Vec<_> = std::iter::from_fn(|| queue.try_next()).collect();
        assert_eq!(queued, vec![digit('1'), digit('2'), digit('1')]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_watch_takes_nothing_and_the_queue_closes_with_the_sinks() {
        let terminators = Arc::new(Terminators::default());
        let (sink, queue) = key_queue(Arc::clone(&terminators), Draft::detached());
        drop(terminators.watch(1, vec![digit('#')]));
        assert!(sink.push(DigitSource::OutOfBand, digit('#')));
        drop(sink);
        assert_eq!(queue.next().await, Some(digit('#')));
        assert_eq!(queue.next().await, None);
    }
}
