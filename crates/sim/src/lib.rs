//! A faithful 3CX V20 PBX simulator for tests and demos.
//!
//! This crate owns a real HTTP + WebSocket server (axum) that behaves as the 3CX
//! Call Control API reference describes — token endpoint, `/callcontrol` snapshot,
//! participants, `makecall`, participant actions with their state rules, the event
//! WebSocket and the PCM audio streams — plus scripted callers ([`Caller`],
//! [`Script`]), a journal of everything the PBX saw ([`Sim::journal`]) and fault
//! injection ([`Faults`]). It depends on `voicebot-model` for every JSON shape and
//! never on the client crates it helps test (`voicebot-callcontrol`, engine, bots),
//! so it shares no client code with them.
//!
//! Design: one PBX model behind a std mutex (never held across `.await`), one
//! media clock task ticking every 20 ms for all calls (no task or thread per call),
//! and every timer on `tokio::time`, so tests may pause the clock. Where the
//! reference is uncertain (its §11), [`SimConfig`] has a setting; [`fidelity`]
//! lists what of the reference's simulator checklist is covered.
//!
//! ```no_run
//! # async fn demo() -> Result<(), voicebot_sim::SimError> {
//! use voicebot_sim::Sim;
//!
//! let sim = Sim::start().await?;
//! println!("PBX at {} (client {} / {})", sim.base_url(), sim.client_id(), sim.client_secret());
//! let caller = sim.call_in("+15551234567").await?;
//! caller.wait_connected().await?;
//! caller.press("1").await?;
//! caller.hang_up().await?;
//! println!("{:?}", sim.journal());
//! # Ok(())
//! # }
//! ```

// Request handlers return `Result<_, Response>` so a failed check *is* the HTTP
// answer; responses are built once per request, so boxing them buys nothing.
#![allow(clippy::result_large_err)]

mod audio;
mod auth;
mod caller;
mod calls;
mod config;
mod control;
mod crowd;
mod devices;
mod error;
mod far_end;
mod faults;
mod handoff;
mod internal;
mod journal;
mod repeats;
mod routes;
mod schedule;
mod script;
mod scripted;
mod serve;
mod sim;
mod state;
mod tls;
mod uplink;
mod wav;
mod wire;
mod within;
mod xapi;

#[doc = include_str!("../docs/fidelity.md")]
pub mod fidelity {}

pub use audio::{ClockStats, Gap, Heard, HeardSegment, LATE_READ};
pub use caller::{CallEnd, CallSpec, Caller, CallerState};
pub use config::{
    AfterRoute, AudioConfig, Bursts, ExpiresInUnit, ExtensionSpec, FarEnds, GetStreamContent,
    InboundMode, RestartIds, SimConfig, TokenFormat,
};
pub use crowd::{CallerGroup, CallersPlan, CallersRun, CallersSummary, MAX_CALLERS};
pub use error::{Result, SimError};
pub use far_end::{Answered, DEFAULT_NO_ANSWER, FarEnd};
pub use faults::{Faults, RequestMatcher};
pub use journal::{JournalEntry, JournalKind, StreamDirection};
pub use schedule::{RecurringFault, Repeating};
pub use script::{MAX_STEP_DURATION, RandomKeys, Script, Step};
pub use scripted::{ScriptStatus, ScriptedCall};
pub use sim::Sim;
pub use tls::SimTls;
pub use wav::write_wav;
pub use within::within;
