//! Routes resolved PBX events to calls, and collects their DTMF.
//!
//! This crate owns three things, and depends on `voicebot-model` only (never on the
//! HTTP client, the engine or the bot API):
//!
//! - [`Dispatcher`]: one task consumes the [`PbxEvent`](voicebot_model::PbxEvent)
//!   stream and keeps one ordered session per call, keyed by DN, participant id and
//!   call leg (`callid`/`legid`, so an id a PBX restart gave to a new caller is a new
//!   call).
//!   A participant appearing on a watched DN (or an outbound leg the engine
//!   announced) yields a [`NewCall`] carrying a bounded queue of [`CallUpdate`]s;
//!   removal ends it; repeated identical upserts are swallowed. A call whose queue
//!   fills up is cancelled, never fed a gap.
//! - [`DigitQueue`] / [`DigitSink`]: per call, the place where out-of-band digits
//!   (`dtmf_input`) and in-band digits (the media task's tone detector) meet, are
//!   deduplicated (rule in [`DigitSource`]) and wait as type-ahead.
//! - [`gather()`]: the `play_and_get_digits` state machine (min/max digits,
//!   first-digit and inter-digit timeouts, terminators, tries, invalid prompt,
//!   validator, barge-in) over a `DigitQueue`.
//!
//! # Design
//!
//! Gathering lives here rather than in `voicebot-bot` or the engine because it is
//! pure logic over a digit queue and a clock: it uses `tokio::time` only, plays
//! prompts through the small [`Prompter`] trait, and is tested table-driven under a
//! paused clock. The engine serves the bot's gather request by calling [`gather()`]
//! with its media task as the `Prompter`; it stays a thin adapter.
//!
//! The engine feeds each call: `CallUpdate::Digits` from the dispatcher into the
//! call's `DigitSink` (source [`DigitSource::OutOfBand`]), the detector's digits into
//! a clone of it ([`DigitSource::InBand`]), and emits a "digit" event for the bot
//! whenever [`DigitSink::push`] says the digit was new.
//!
//! ```no_run
//! use tokio_util::sync::CancellationToken;
//! use voicebot_dispatch::{DispatchConfig, Dispatcher};
//! use voicebot_model::{Dn, PbxEvent};
//!
//! # async fn example(events: tokio::sync::mpsc::Receiver<PbxEvent>) {
//! let (mut dispatcher, mut new_calls) =
//!     Dispatcher::new(DispatchConfig::default(), CancellationToken::new());
//! dispatcher.watch(Dn::new("800")).await;
//! tokio::spawn(dispatcher.run(events));
//! while let Some(call) = new_calls.recv().await {
//!     // spawn the call task with `call.updates` and `call.cancel`
//!     println!("call from {}", call.participant.party_caller_id);
//! }
//! # }
//! ```

mod call;
mod dedup;
mod digits;
mod dispatcher;
mod error;
pub mod gather;
mod handle;

pub use call::{CallUpdate, NewCall, Origin};
pub use dedup::{DEFAULT_DEDUP_WINDOW, DigitSource};
pub use digits::{DEFAULT_TYPE_AHEAD, DigitQueue, DigitSink, digit_queue, digit_queue_with};
pub use dispatcher::{DEFAULT_CALL_QUEUE, DispatchConfig, Dispatcher};
pub use error::{DispatcherGone, GatherError};
pub use gather::{GatherEnd, GatherSpec, Gathered, PromptEnd, Prompter, Validator, gather};
pub use handle::DispatchHandle;
