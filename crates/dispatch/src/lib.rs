//! Routes resolved PBX events to calls.
//!
//! This crate owns one thing, and depends on `voicebot-model` only (never on the
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
//!
//! A call's digits arrive here already parsed (`PbxEvent::Dtmf`) and leave as
//! `CallUpdate::Digits` on the call's queue; collecting them (the digit queue, echo
//! pairing, the gather state machine) is the bot crate's `gather` module, which the
//! engine serves.
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
mod dispatcher;
mod error;
mod handle;

pub use call::{CallUpdate, NewCall, Origin};
pub use dispatcher::{DEFAULT_CALL_QUEUE, DispatchConfig, Dispatcher};
pub use error::DispatcherGone;
pub use handle::DispatchHandle;
