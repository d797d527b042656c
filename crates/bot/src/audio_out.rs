//! The queue of audio a bot streams to the caller, made only when the bot first asks
//! for an [`AudioSink`](crate::AudioSink).
//!
//! Most bots never stream (they play prompts), and a tokio channel allocates its first
//! block of 32 slots up front: 10.5 KiB per call for 20 ms frames. So the bot's end
//! ([`AudioOutOpener`], inside the [`Call`](crate::Call)) makes the channel on first
//! use and parks its receiver here, where the engine's end ([`AudioOut`]) picks it up:
//! every media tick without waiting ([`AudioOut::try_take`]), or by waiting for it
//! ([`AudioOut::opened`]). Once the engine's end is dropped (the call's media is
//! over), a sink opened later is closed at once, so its sends fail with the call's
//! end cause instead of filling a queue nobody reads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{Notify, mpsc};

use crate::audio::SinkItem;

/// Where the queue's receiver waits between the bot opening it and the engine taking it.
#[derive(Debug)]
enum Slot {
    /// The bot has not asked for a sink yet.
    Unopened,
    /// Opened; not taken yet.
    Open(mpsc::Receiver<SinkItem>),
    /// Taken by the engine.
    Taken,
    /// The engine's end is gone: a receiver parked now is dropped.
    Closed,
}

#[derive(Debug)]
struct Shared {
    capacity: usize,
    slot: Mutex<Slot>,
    /// Set once the slot holds a receiver: the engine's per-tick check reads only this.
    open: AtomicBool,
    opened: Notify,
}

impl Shared {
    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The two ends of a call's streamed-audio queue, not yet made: `capacity` items once
/// it is.
pub(crate) fn audio_out(capacity: usize) -> (AudioOutOpener, AudioOut) {
    let shared = Arc::new(Shared {
        capacity: capacity.max(1),
        slot: Mutex::new(Slot::Unopened),
        open: AtomicBool::new(false),
        opened: Notify::new(),
    });
    (
        AudioOutOpener {
            shared: Arc::clone(&shared),
            sender: OnceLock::new(),
        },
        AudioOut { shared },
    )
}

/// The bot's end: makes the queue on first use.
#[derive(Debug)]
pub(crate) struct AudioOutOpener {
    shared: Arc<Shared>,
    sender: OnceLock<mpsc::Sender<SinkItem>>,
}

impl AudioOutOpener {
    /// The queue's sender, made (and its receiver handed to the engine) the first time.
    pub(crate) fn sender(&self) -> mpsc::Sender<SinkItem> {
        self.sender
            .get_or_init(|| {
                let (sender, receiver) = mpsc::channel(self.shared.capacity);
                let mut slot = self.shared.slot();
                match *slot {
                    Slot::Closed => drop(receiver),
                    _ => {
                        *slot = Slot::Open(receiver);
                        self.shared.open.store(true, Ordering::Release);
                        self.shared.opened.notify_waiters();
                    }
                }
                sender
            })
            .clone()
    }
}

/// The engine's end of the audio a bot streams to the caller: the receiver, once the bot
/// has opened a sink. Dropping it closes any sink opened later.
#[derive(Debug)]
pub struct AudioOut {
    shared: Arc<Shared>,
}

impl AudioOut {
    /// The receiver if the bot has opened a sink and it was not taken yet; cheap enough
    /// to call every media tick (one atomic load until the bot opens one).
    pub fn try_take(&self) -> Option<mpsc::Receiver<SinkItem>> {
        if !self.shared.open.load(Ordering::Acquire) {
            return None;
        }
        let mut slot = self.shared.slot();
        match std::mem::replace(&mut *slot, Slot::Taken) {
            Slot::Open(receiver) => Some(receiver),
            other => {
                *slot = other;
                None
            }
        }
    }

    /// Waits until the bot opens a sink, then takes the receiver. Pending for ever once
    /// taken.
    ///
    /// # Cancellation
    /// Cancel-safe: a cancelled wait took nothing.
    pub async fn opened(&self) -> mpsc::Receiver<SinkItem> {
        loop {
            let notified = self.shared.opened.notified();
            if let Some(receiver) = self.try_take() {
                return receiver;
            }
            notified.await;
        }
    }
}

impl Drop for AudioOut {
    fn drop(&mut self) {
        // A receiver still parked is dropped with the slot: its sink's sends fail.
        *self.shared.slot() = Slot::Closed;
    }
}

#[cfg(test)]
mod tests {
    use voicebot_media::Frame;

    use super::*;

    #[test]
    fn nothing_is_made_until_the_bot_asks() {
        let (opener, engine) = audio_out(4);
        assert!(engine.try_take().is_none());
        assert!(opener.sender.get().is_none(), "no channel yet");
        let sender = opener.sender();
        let mut receiver = engine.try_take().expect("opened");
        assert!(engine.try_take().is_none(), "taken once");
        sender
            .try_send(SinkItem::Frame(Frame::silence()))
            .expect("room");
        // The same queue every time.
        opener
            .sender()
            .try_send(SinkItem::Mark("m".into()))
            .expect("room");
        assert!(matches!(receiver.try_recv(), Ok(SinkItem::Frame(_))));
        assert!(matches!(receiver.try_recv(), Ok(SinkItem::Mark(name)) if name == "m"));
    }

    #[tokio::test]
    async fn the_engine_can_wait_for_the_bot_to_open_it() {
        let (opener, engine) = audio_out(4);
        let waiting = tokio::spawn(async move { engine.opened().await.recv().await });
        tokio::task::yield_now().await;
        let sender = opener.sender();
        sender.send(SinkItem::Mark("late".into())).await.unwrap();
        let got = waiting.await.unwrap();
        assert!(matches!(got, Some(SinkItem::Mark(name)) if name == "late"));
    }

    #[test]
    fn a_sink_opened_after_the_engine_left_is_closed() {
        let (opener, engine) = audio_out(4);
        drop(engine);
        let sender = opener.sender();
        assert!(sender.is_closed());
        assert!(sender.try_send(SinkItem::Frame(Frame::silence())).is_err());
    }

    #[test]
    fn a_sink_opened_but_never_taken_closes_with_the_engines_end() {
        let (opener, engine) = audio_out(4);
        let sender = opener.sender();
        drop(engine);
        assert!(
            sender.is_closed(),
            "the parked receiver went with the engine's end"
        );
    }
}
