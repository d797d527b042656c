//! [`CallEvent`]s and the [`CallEvents`] stream.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::broadcast;
use tokio_stream::Stream;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use voicebot_model::{Digit, ParticipantStatus};

/// Something that happened on a call, for bots that react to more than verbs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallEvent {
    /// The caller pressed a key (each press once, whichever path reported it).
    Digit(Digit),
    /// The caller started speaking.
    SpeechStarted,
    /// The caller stopped speaking.
    SpeechStopped,
    /// Outgoing audio reached a mark set with
    /// [`AudioSink::mark`](crate::AudioSink::mark).
    Mark(String),
    /// The PBX reported a new status for our leg.
    Status(ParticipantStatus),
    /// The caller hung up; the last event.
    Hangup,
    /// This subscriber fell behind and missed this many events.
    Lagged(u64),
}

/// The events of a call from the moment of subscription, as a `Stream`. Ends when
/// the call task ends.
///
/// Overflow policy: each subscriber has a bounded buffer; one that falls behind
/// loses the oldest events and is told so with [`CallEvent::Lagged`].
#[derive(Debug)]
pub struct CallEvents {
    inner: Option<BroadcastStream<CallEvent>>,
}

impl CallEvents {
    pub(crate) fn new(receiver: Option<broadcast::Receiver<CallEvent>>) -> Self {
        Self {
            inner: receiver.map(BroadcastStream::new),
        }
    }
}

impl Stream for CallEvents {
    type Item = CallEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<CallEvent>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        Pin::new(inner).poll_next(cx).map(|item| {
            item.map(|event| match event {
                Ok(event) => event,
                Err(BroadcastStreamRecvError::Lagged(missed)) => CallEvent::Lagged(missed),
            })
        })
    }
}
