//! Digit collection, in one place: what a bot asks for ([`GatherBuilder`] →
//! [`GatherRequest`]), what it gets back ([`Digits`], [`GatherEnd`]), and, for the
//! engine and the test kit's fake call, the machinery that serves it (re-exported in
//! `__engine`): the call's [`DigitQueue`], the [`Dedup`] that pairs a key heard on
//! both paths, the [`gather()`] state machine and its speech race
//! ([`gather_with_speech`]).
//!
//! # Design
//!
//! The state machine is pure logic over a digit queue and a clock: it uses
//! `tokio::time` only, plays prompts through the small [`Prompter`] trait, and is
//! tested table-driven under a paused clock. The engine serves a bot's gather by
//! calling it with its media task as the `Prompter`; the test kit calls it with
//! timers, so a bot tested against the fake call meets the same rules.
//!
//! A digit's way, socket to bot: `callcontrol` parses `dtmf_input` into
//! [`Digit`](voicebot_model::Digit)s, `dispatch` routes them to their call, the
//! engine's call task passes them (and the in-band detector's) through [`Dedup`]
//! into the call's [`DigitSink`], and [`gather()`] (or a prompt's barge-in watch)
//! reads the [`DigitQueue`] and returns [`Digits`] to the bot.

mod builder;
mod dedup;
mod digits;
mod machine;
mod queue;
mod request;
mod speech;

pub use builder::GatherBuilder;
pub use dedup::{DEFAULT_DEDUP_WINDOW, Dedup, DigitSource};
pub use digits::{Digits, GatherEnd};
pub use machine::{GatherError, PromptEnd, Prompter, gather};
pub use queue::{DEFAULT_TYPE_AHEAD, DigitQueue, DigitSink, digit_queue, digit_queue_with};
pub use request::{GatherRequest, SpeechGather, Validator};
pub use speech::{Listener, gather_with_speech};
