//! `play`: [`PlayBuilder`] and [`PlayOutcome`].

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use voicebot_media::Repeat;
use voicebot_model::Digit;

use crate::Call;
use crate::error::CallResult;
use crate::message::{CallMessage, PlayRequest};
use crate::prompt::PromptSource;

/// What may interrupt a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BargeIn {
    /// A key press stops the prompt.
    pub digits: bool,
    /// Caller speech stops the prompt.
    pub speech: bool,
}

impl BargeIn {
    /// Nothing interrupts: the prompt always plays to the end.
    pub const NONE: Self = Self {
        digits: false,
        speech: false,
    };
    /// Key presses interrupt (the default for `play` and `gather`).
    pub const DIGITS: Self = Self {
        digits: true,
        speech: false,
    };
    /// Speech interrupts.
    pub const SPEECH: Self = Self {
        digits: false,
        speech: true,
    };
    /// Key presses and speech interrupt.
    pub const ANY: Self = Self {
        digits: true,
        speech: true,
    };
}

/// What interrupted a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Interruption {
    /// A key; it stays queued for the next `gather` (type-ahead).
    Digit(Digit),
    /// The caller started speaking.
    Speech,
}

/// How a `play` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlayOutcome {
    /// It played to the end (every loop).
    Finished,
    /// The caller barged in.
    Interrupted {
        /// What interrupted it.
        by: Interruption,
        /// How much of the prompt the caller heard (all loops together).
        heard: Duration,
    },
}

/// A `play` to `.await`. Defaults: played once, interrupted by key presses.
///
/// ```no_run
/// # use voicebot_bot::{Call, BargeIn, PlayOutcome};
/// # async fn example(call: Call) -> Result<(), voicebot_bot::CallError> {
/// match call.play("prompts/welcome.wav").barge_in(BargeIn::ANY).await? {
///     PlayOutcome::Finished => {}
///     PlayOutcome::Interrupted { by, heard } => println!("{by:?} after {heard:?}"),
///     _ => {}
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a verb does nothing until awaited"]
pub struct PlayBuilder {
    call: Call,
    request: PlayRequest,
}

impl PlayBuilder {
    pub(crate) fn new(call: Call, prompt: PromptSource) -> Self {
        Self {
            call,
            request: PlayRequest {
                prompt,
                repeat: Repeat::Times(1),
                barge_in: BargeIn::DIGITS,
            },
        }
    }

    /// Plays the prompt `count` times (at least once).
    pub fn loops(mut self, count: u32) -> Self {
        self.request.repeat = Repeat::Times(count.max(1));
        self
    }

    /// Plays the prompt until interrupted or until the future is dropped (hold
    /// music, ringback).
    pub fn forever(mut self) -> Self {
        self.request.repeat = Repeat::Forever;
        self
    }

    /// What may interrupt the prompt.
    pub fn barge_in(mut self, barge_in: BargeIn) -> Self {
        self.request.barge_in = barge_in;
        self
    }

    /// Nothing interrupts the prompt.
    pub fn not_interruptible(self) -> Self {
        self.barge_in(BargeIn::NONE)
    }
}

impl IntoFuture for PlayBuilder {
    type Output = CallResult<PlayOutcome>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    /// Plays the prompt.
    ///
    /// # Errors
    /// [`CallError::Hangup`](crate::CallError::Hangup) when the caller hangs up
    /// (also mid-prompt); [`CallError::Media`](crate::CallError::Media) when the
    /// prompt cannot be loaded or played.
    ///
    /// # Cancellation
    /// Dropping the future stops the prompt.
    fn into_future(self) -> Self::IntoFuture {
        let Self { call, request } = self;
        Box::pin(async move {
            call.request(|reply| CallMessage::Play {
                request: Box::new(request),
                reply,
            })
            .await
        })
    }
}
