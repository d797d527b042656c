//! The voicebot runtime: runs [`Bot`](voicebot_bot::Bot)s on the calls of a 3CX PBX.
//!
//! This crate owns what happens at run time: one task per call serving the bot's
//! [`Call`](voicebot_bot::Call) (the protocol of `voicebot_bot::__engine`), the media
//! loop (pacer → chunked POST; GET → jitter buffer → DTMF, voice activity and the
//! bot's audio taps; a lossless tap for recordings), call limits with a busy
//! treatment, the fallback for failing bots, graceful shutdown, outbound dialling
//! ([`EngineHandle::dialer`]), and observability (`tracing` spans per call,
//! Prometheus metrics and `/health`). It builds on `voicebot-callcontrol` (the PBX
//! client), `voicebot-dispatch` (per-call event queues), `voicebot-media` (DSP) and
//! `voicebot-bot` (the bot API, with the gather state machine and digit queue the
//! call task runs); it must not depend on the simulator or on any bot crate.
//!
//! # Design
//!
//! ```text
//! callcontrol events ─▶ dispatcher ──bounded queue per call──▶ call task
//!                                                               ├─ media task (commands, stream opens)
//!                                                               └─ bot task
//! media clock: one shard per runtime worker ticks (40 ms) every call's media on it
//! ```
//!
//! - **No thread per call, no timer per call, no per-frame allocation.** A call is
//!   three tasks; its media is ticked by the engine's media clock with the other
//!   calls of its thread (one read and one write per tick), and its DSP works in place
//!   (frames are `Copy`; outgoing audio is encoded into one reused buffer). With
//!   [`EngineBuilder::call_threads`], calls run on threads of the engine's own, a
//!   call's tasks all on one, so a tick's wake-ups stay on that thread.
//! - **Cancellation tree.** The engine's root token has a child per call (`over`)
//!   that stops its media task and verbs; call tasks are spawned on one
//!   `TaskTracker` (a shutdown waits on it for the calls to end) and everything else
//!   on another, so a shutdown waits for it all.
//! - **Never dead air.** A bot that returns leaves the call dropped; one that fails or
//!   panics leaves it with the fallback destination (`transferto`), else dropped; a
//!   shutdown hands live calls over the same way. While a transfer or route rings, the
//!   caller hears the ringback ([`EngineBuilder::ringback`]); a call that arrives
//!   ringing is answered before its bot starts ([`AnswerMode`]).
//! - **Every action ends.** Transfers and routes ring for a known time that also
//!   bounds their HTTP request; `drop` is retried a bounded number of times, and a call
//!   the PBX will not let go of is logged at ERROR and released, never looped on.
//! - **Files off the async threads.** Prompts load on the blocking pool (once, through
//!   a shared cache); recordings are written by one blocking writer task for all calls.
//!
//! # Outbound outcomes
//!
//! [`Dialer::dial`](voicebot_bot::Dialer::dial) reports `Busy` or `NoAnswer` from
//! what the PBX says: a refused `makecall` carries a `reason` code (`PhoneBusy`,
//! `NoAnswer`) and a `reasontext`, and these decide. A call the PBX accepts and later
//! just removes carries no reason at all (3CX's Call Control API has no hang-up cause),
//! so the engine can only guess from timing: removed within
//! [`EngineBuilder::busy_within`] (default 2 s) reads as busy, later as not answered.
//! Expect misreadings there: a far end that rejects after ringing reads as no answer,
//! one that fails fast for another reason (unreachable, congestion) reads as busy.
//!
//! ```no_run
//! use std::sync::Arc;
//! use voicebot_bot::bot_fn;
//! use voicebot_callcontrol::{Client, Secret};
//! use voicebot_engine::Engine;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder("https://pbx.example.com:5001")
//!     .credentials("800", Secret::new("api-key"))
//!     .build()?;
//! let hello = bot_fn(|call| async move {
//!     call.play("prompts/welcome.wav").await?;
//!     call.hangup().await?;
//!     Ok(())
//! });
//! let engine = Engine::builder()
//!     .client(client)
//!     .route_point("800", Arc::new(hello))
//!     .fallback(Some("100".to_owned()))
//!     .build()?;
//! engine.run(async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(())
//! # }
//! ```

mod answer;
mod builder;
mod call;
mod call_threads;
mod cdr;
mod dial;
mod engine;
mod error;
mod events;
mod health;
mod limits;
mod metrics;
mod prompts;
mod recordings;
mod stats;
mod trim;
mod writer;

pub use crate::answer::AnswerMode;
pub use crate::builder::EngineBuilder;
pub use crate::cdr::{ActionRecord, CallRecord, CallRecordSender, Choice, RecordingRecord};
pub use crate::dial::LateDialer;
pub use crate::engine::{Engine, EngineHandle};
pub use crate::error::{BuildError, EngineError, Result};
pub use crate::events::{CallOutcome, EngineEvent};
pub use crate::health::{ProcessHealth, install_metrics_recorder, serve_engines};
pub use crate::limits::{AdoptedCalls, BusyTreatment};
pub use crate::recordings::RecordingSink;
pub use crate::stats::{EngineStats, Health};
