//! The protocol between a [`Call`] handle and the engine's call task.
//!
//! Bot authors never use this module (it is `voicebot_bot::__engine`); the engine
//! serves it, and the test kit's fake call. [`call_channel`] makes
//! a `Call` and the [`CallEndpoint`] the engine keeps. Each verb sends one
//! [`CallMessage`] with a `oneshot` reply, as songbird's `TrackHandle` sends
//! `TrackCommand`s.
//!
//! Rules for the engine:
//! - **Serve messages concurrently.** A message's work (a prompt, a `routeto`
//!   request) must not hold up later messages: `route_to` plays a prompt *while* its
//!   `routeto` request is pending.
//! - **A closed reply means "stop".** When the bot drops a verb's future, its reply
//!   sender closes (`oneshot::Sender::closed`). Stop the work then: stop the prompt,
//!   stop and finalise the recording. HTTP actions already sent may complete.
//! - **Record why the call ended** with [`CallEndpoint::end`] before dropping the
//!   endpoint, so verbs fail with `Hangup`, `Ended` or `Shutdown` rather than a guess.
//! - **Start the clock** ([`CallEndpoint::clock`]) when the call's audio starts: it
//!   is the zero of call time ([`Call::elapsed`]).
//! - **Feed the streams:** send every [`CallEvent`] on `events` (digits once,
//!   whichever path reported them), every caller frame on `audio_in`, and play
//!   `audio_out` items between prompts. Sending to a broadcast channel without
//!   subscribers is not an error; ignore it.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;
use voicebot_media::{Channels, Frame, Repeat};
use voicebot_model::{Action, ActionRequest, Digit};

use crate::audio_out::AudioOut;
use crate::call::{BargeIn, PlayOutcome, Recording};
use crate::error::CallError;
use crate::gather::{Digits, GatherRequest};
use crate::{Call, CallEvent, CallInfo, PromptSource};

/// Where the engine sends a message's outcome.
pub type Reply<T> = oneshot::Sender<Result<T, CallError>>;

/// What a bot adds to its call's record beside what the engine notes itself
/// (digits, spoken choices, actions, recordings, errors).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallNote {
    /// A transcript of what the caller said (a line of the transcriber bot).
    Transcript(String),
    /// An error the bot handled but wants on record.
    Error(String),
}

/// One request from a [`Call`] to its call task.
///
/// The requests are boxed: each call's message queue holds 32 of these, and a boxed
/// request keeps a slot small.
#[derive(Debug)]
#[non_exhaustive]
pub enum CallMessage {
    /// Answer a ringing call (`answer`). Reply `Ok` at once when the call is
    /// already connected.
    Answer {
        /// `Ok` once connected.
        reply: Reply<()>,
    },
    /// Play a prompt. Reply with how it ended; the digit that interrupted a prompt
    /// stays in the call's digit queue (type-ahead).
    Play {
        /// What and how.
        request: Box<PlayRequest>,
        /// The outcome.
        reply: Reply<PlayOutcome>,
    },
    /// Collect digits: run [`gather`](crate::gather::gather) over the call's digit
    /// queue with the media task as its prompter. Reply with the digits (empty when every
    /// try failed).
    Gather {
        /// The settings, already checked (`min_digits <= max_digits`, tries >= 1).
        request: Box<GatherRequest>,
        /// The digits.
        reply: Reply<Digits>,
    },
    /// Record the caller into a WAV file. Reply when it ends (maximum length,
    /// silence, terminator, or hang-up: then the file is finalised and the reply
    /// is still `Ok` with `RecordEnd::Hangup`).
    Record {
        /// The settings, path already expanded.
        request: Box<RecordRequest>,
        /// The finished recording.
        reply: Reply<Recording>,
    },
    /// A participant action on our leg (`drop`, `transferto`, `routeto`, `divert`,
    /// `attach_participant_data`). Reply `Ok` on `finalstatus: Success`, otherwise
    /// `Rejected` with the status and `reasontext`. After a successful `drop` the
    /// call has `Ended`.
    Action {
        /// Which action.
        action: Action,
        /// Its body.
        request: Box<ActionRequest>,
        /// `Ok` when the PBX carried it out.
        reply: Reply<()>,
    },
    /// Add a line to the call's record (the engine's call detail record). Reply
    /// once it is noted.
    Note {
        /// What to note.
        note: CallNote,
        /// Always `Ok` while the call lives.
        reply: Reply<()>,
    },
    /// Forget unread digits (type-ahead). Reply with how many were dropped.
    ClearDigits {
        /// The count.
        reply: Reply<usize>,
    },
    /// Discard outgoing audio queued from the `AudioSink` (drain `audio_out` and the
    /// pacer). Reply with the number of frames discarded.
    ClearAudio {
        /// The count.
        reply: Reply<usize>,
    },
}

/// A [`CallMessage::Play`] request.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayRequest {
    /// What to play.
    pub prompt: PromptSource,
    /// How many times: `Times(n)` with `n >= 1`, or `Forever` (until the reply is
    /// closed or the prompt is interrupted).
    pub repeat: Repeat,
    /// What may interrupt it.
    pub barge_in: BargeIn,
}

/// A [`CallMessage::Record`] request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordRequest {
    /// Where to write the WAV file (8 kHz, 16-bit).
    pub path: PathBuf,
    /// Stop after this long.
    pub max_length: Duration,
    /// Stop after this much continuous silence, if set.
    pub silence_timeout: Option<Duration>,
    /// Keys that stop the recording (not recorded).
    pub terminators: Vec<Digit>,
    /// Play a short beep before recording.
    pub beep: bool,
    /// The caller only, caller and bot mixed, or stereo (caller left, bot right).
    pub channels: Channels,
    /// Cut leading and trailing silence from the file.
    pub trim_silence: bool,
}

/// The engine's end of a call: what it reads and feeds.
#[derive(Debug)]
pub struct CallEndpoint {
    /// Requests from the bot, in order.
    pub messages: mpsc::Receiver<CallMessage>,
    /// Send every call event here.
    pub events: broadcast::Sender<CallEvent>,
    /// Send every frame heard from the caller here.
    pub audio_in: broadcast::Sender<Frame>,
    /// Audio the bot streams to the caller, once the bot opens a sink (the queue is
    /// made then); an `Option`, so whoever plays it can take it.
    pub audio_out: Option<AudioOut>,
    /// The call's clock, shared with the [`Call`]: start it when the audio starts.
    pub clock: CallClock,
    end: Arc<OnceLock<CallError>>,
}

impl CallEndpoint {
    /// Records why the call ended; verbs started from now on, and those whose reply
    /// is dropped, fail with this error. The first cause recorded wins.
    pub fn end(&self, cause: CallError) {
        let _ = self.end.set(cause);
    }
}

/// The call's clock: call time, the zero of every time a bot is given (speech
/// results, [`Call::elapsed`]). Shared by a [`Call`] and its [`CallEndpoint`]; the
/// engine starts it when the call's audio starts. A wall clock (tokio's, so paused
/// test clocks drive it) rather than a count of caller frames, so that it runs on
/// while the caller's stream sends nothing.
#[derive(Debug, Clone, Default)]
pub struct CallClock {
    started: Arc<OnceLock<Instant>>,
}

impl CallClock {
    /// Starts the clock at `at`; later calls change nothing.
    pub fn start(&self, at: Instant) {
        let _ = self.started.set(at);
    }

    /// The call time now; zero before the clock started.
    pub fn now(&self) -> Duration {
        self.started.get().map_or(Duration::ZERO, Instant::elapsed)
    }
}

/// Channel capacities of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelCapacity {
    /// Pending requests (verbs in flight).
    pub messages: usize,
    /// Events buffered per subscriber.
    pub events: usize,
    /// Caller frames buffered per audio subscriber (32 = 640 ms; the broadcast channel
    /// allocates every slot up front, rounded up to a power of two).
    pub audio_in: usize,
    /// Outgoing frames buffered before `AudioSink::send` waits (25 = 500 ms).
    pub audio_out: usize,
}

impl Default for ChannelCapacity {
    fn default() -> Self {
        Self {
            messages: 16,
            events: 64,
            audio_in: 32,
            audio_out: 25,
        }
    }
}

/// Makes the [`Call`] handed to the bot and the [`CallEndpoint`] the engine serves.
pub fn call_channel(info: CallInfo, capacity: ChannelCapacity) -> (Call, CallEndpoint) {
    let (messages, message_receiver) = mpsc::channel(capacity.messages.max(1));
    let (events, _) = broadcast::channel(capacity.events.max(1));
    let (audio_in, _) = broadcast::channel(capacity.audio_in.max(1));
    let (audio_out, audio_out_receiver) = crate::audio_out::audio_out(capacity.audio_out);
    let end = Arc::new(OnceLock::new());
    let clock = CallClock::default();
    let call = Call::new(
        info,
        messages,
        events.downgrade(),
        audio_in.downgrade(),
        audio_out,
        Arc::clone(&end),
        clock.clone(),
    );
    let endpoint = CallEndpoint {
        messages: message_receiver,
        events,
        audio_in,
        audio_out: Some(audio_out_receiver),
        clock,
        end,
    };
    (call, endpoint)
}
