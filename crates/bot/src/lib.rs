//! The bot author's API for voicebot.
//!
//! A bot implements [`Bot`] (or is a closure wrapped by [`bot_fn`]) and drives its
//! call through a [`Call`]: verbs (`answer`, `play`, `say`, `gather`, `record`,
//! `transfer`, `route_to`, `divert`, `hangup`, `attach_data`) that return builders
//! you `.await`, plus [`Call::events`], [`Call::audio`] and [`Call::audio_sink`] for
//! streaming bots. Outcomes ([`PlayOutcome`], [`Digits`], [`Recording`]) are values;
//! failures are [`CallError`]s; a hang-up is a normal end. [`BotRegistry`] lets
//! bots plug in by name with their own typed configuration.
//!
//! This crate depends on `voicebot-model`, `voicebot-media` and `voicebot-speech`
//! only, never on the PBX client or the engine, and re-exports what bots need
//! (including [`Recognizer`], [`Grammar`] and [`Recognition`] for speech), so bot
//! crates depend on it alone.
//!
//! # Design
//!
//! `Call` is a remote control. Each verb sends one message with a `oneshot` reply
//! down a bounded channel to the call task the engine runs, as
//! songbird's `TrackHandle` does; dropping a verb's future closes its reply, which
//! tells the engine to stop that work. Messages are coarse (a whole `play`,
//! `gather` or `record`) because the logic behind them is engine-side state: the
//! digit queue with its type-ahead and the media pacer. Digit collection has one
//! home, the `gather` module: the request, the result, the digit queue and the
//! state machine (tested here under a paused clock), which the engine runs with its
//! media task as the prompter and the test kit's fake call with timers. Verbs built from several
//! messages (`route_to`: a looping prompt raced against `routeto`, then `drop`) are
//! composed here.
//!
//! ```no_run
//! use std::time::Duration;
//! use voicebot_bot::{bot_fn, Bot, BotError, Call};
//!
//! async fn menu(call: Call) -> Result<(), BotError> {
//!     let choice = call
//!         .gather()
//!         .prompt("prompts/menu.wav")
//!         .max_digits(1)
//!         .timeout(Duration::from_secs(5))
//!         .tries(3)
//!         .await?;
//!     match choice.as_str() {
//!         "1" => call.transfer("100").await?,
//!         "2" => call.route_to("200").prompt("prompts/hold.wav").await?,
//!         _ => call.hangup().await?,
//!     }
//!     Ok(())
//! }
//!
//! let bot = bot_fn(menu);
//! # fn takes(_: impl Bot) {}
//! # takes(bot);
//! ```

#![deny(missing_docs)]

mod audio;
mod audio_out;
mod bot;
mod call;
mod context;
mod dial;
mod error;
mod event;
mod gather;
mod info;
mod message;
mod prompt;
mod registry;

/// The protocol between a [`Call`] and the engine's call task, for the engine and the
/// test kit (`voicebot-testkit`) only: not part of the bot author's API, and free to
/// change in any release. Bots never need it; test them with `voicebot-testkit`.
//
// Why a hidden module rather than a crate of its own: the messages carry the author's
// types (`PlayOutcome`, `Digits`, `Recording`, `CallError`, ...), so a separate crate
// would either own those types (and this crate re-export them) or mirror them. Hidden
// and named `__engine`, as serde's `__private`, it stays out of the docs and out of
// the promises, and the types keep one home.
#[doc(hidden)]
pub mod __engine {
    pub use crate::audio_out::AudioOut;
    pub use crate::gather::{
        DEFAULT_DEDUP_WINDOW, DEFAULT_TYPE_AHEAD, Dedup, DigitQueue, DigitSink, DigitSource,
        GatherError, GatherRequest, Listener, PromptEnd, Prompter, SpeechGather, Validator,
        digit_queue, digit_queue_with, gather, gather_with_speech,
    };
    pub use crate::message::*;
}

pub use async_trait::async_trait;
pub use tokio_stream::{Stream, StreamExt};
pub use voicebot_media::{Channels, Frame, G711, Prompt};
pub use voicebot_model::{
    AttachedData, Digit, DiversionReason, Dn, ParticipantId, ParticipantStatus,
};
/// The speech recognition crate, for bots that build their own recognisers or sessions.
pub use voicebot_speech as speech;
pub use voicebot_speech::{
    Choice, Grammar, Recognition, RecognitionSession, Recognizer, SessionOptions, SpeechError,
};

pub use crate::audio::{AudioSink, AudioStream, SinkItem};
pub use crate::bot::{Bot, BotFn, bot_fn};
pub use crate::call::{
    BargeIn, Call, Interruption, PlayBuilder, PlayOutcome, RecordBuilder, RecordEnd, Recording,
    RecordingGap, RouteToBuilder,
};
pub use crate::context::BotContext;
pub use crate::dial::{DialOutcome, DialRequest, Dialer};
pub use crate::error::{BotConfigError, BotError, CallError, CallResult, ErrorSource};
pub use crate::event::{CallEvent, CallEvents};
pub use crate::gather::{Digits, GatherBuilder, GatherEnd};
pub use crate::info::{CallInfo, Direction};
pub use crate::message::CallNote;
pub use crate::prompt::{PromptRef, PromptSource, SpeechText};
pub use crate::registry::{BotRegistry, IntoBot};
