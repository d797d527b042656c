//! Raw audio for streaming bots: [`AudioStream`] (from the caller) and
//! [`AudioSink`] (to the caller).

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::{broadcast, mpsc};
use tokio_stream::Stream;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use voicebot_media::Frame;

use crate::Call;
use crate::error::CallResult;
use crate::message::CallMessage;

/// The caller's audio, one 20 ms [`Frame`] at a time, from the moment of
/// subscription. Ends when the call's media ends.
///
/// Overflow policy: lossy and bounded. A consumer that falls behind loses the
/// oldest frames; [`dropped_frames`](Self::dropped_frames) counts them.
#[derive(Debug)]
pub struct AudioStream {
    inner: Option<BroadcastStream<Frame>>,
    dropped: u64,
}

impl AudioStream {
    pub(crate) fn new(receiver: Option<broadcast::Receiver<Frame>>) -> Self {
        Self {
            inner: receiver.map(BroadcastStream::new),
            dropped: 0,
        }
    }

    /// How many frames this stream lost because it was read too slowly.
    pub fn dropped_frames(&self) -> u64 {
        self.dropped
    }
}

impl Stream for AudioStream {
    type Item = Frame;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Frame>> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        loop {
            match Pin::new(&mut *inner).poll_next(cx) {
                Poll::Ready(Some(Err(BroadcastStreamRecvError::Lagged(missed)))) => {
                    this.dropped += missed;
                }
                Poll::Ready(Some(Ok(frame))) => return Poll::Ready(Some(frame)),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// An item of outgoing audio, as the engine receives it from an [`AudioSink`].
// Frames are the common item, every 20 ms: boxing them would allocate per frame.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SinkItem {
    /// 20 ms to play.
    Frame(Frame),
    /// Emit [`CallEvent::Mark`](crate::CallEvent::Mark) with this name when the
    /// audio before it has been played.
    Mark(String),
}

/// Sends audio to the caller, for bots that generate speech themselves (TTS, AI
/// agents). Frames are played in order, paced at real time by the engine.
#[derive(Debug, Clone)]
pub struct AudioSink {
    frames: mpsc::Sender<SinkItem>,
    call: Call,
}

impl AudioSink {
    pub(crate) fn new(frames: mpsc::Sender<SinkItem>, call: Call) -> Self {
        Self { frames, call }
    }

    /// Queues a frame, waiting while the engine's buffer is full (it drains at one
    /// frame per 20 ms, so this paces the producer).
    ///
    /// # Errors
    /// The call's end cause ([`CallError::Hangup`](crate::CallError::Hangup), ...)
    /// once the call's media has ended.
    ///
    /// # Cancellation
    /// Cancel-safe: a cancelled send queued nothing.
    pub async fn send(&self, frame: Frame) -> CallResult<()> {
        self.push(SinkItem::Frame(frame)).await
    }

    /// Queues a mark after the audio sent so far; [`CallEvent::Mark`](crate::CallEvent::Mark)
    /// follows when it is reached (e.g. "the answer has been spoken").
    ///
    /// # Errors
    /// As [`send`](Self::send).
    ///
    /// # Cancellation
    /// Cancel-safe.
    pub async fn mark(&self, name: impl Into<String>) -> CallResult<()> {
        self.push(SinkItem::Mark(name.into())).await
    }

    /// Discards audio queued but not yet played (barge-in: the caller interrupted);
    /// returns how many frames were discarded. Marks discarded are not emitted.
    ///
    /// # Errors
    /// The call's end cause once the call has ended.
    ///
    /// # Cancellation
    /// If cancelled after the request was sent, the audio is still cleared.
    pub async fn clear(&self) -> CallResult<usize> {
        self.call
            .request(|reply| CallMessage::ClearAudio { reply })
            .await
    }

    async fn push(&self, item: SinkItem) -> CallResult<()> {
        self.frames
            .send(item)
            .await
            .map_err(|_| self.call.end_cause())
    }
}
