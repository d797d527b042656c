//! Client of the 3CX V20 Call Control API.
//!
//! This crate owns everything that talks to the PBX over the network for call
//! control: the client-credentials token ([`auth`]), the REST endpoints, the event
//! socket with its reconnect and resync logic, the state cache, and the two audio
//! streams of a participant. It depends on `voicebot-model` for the wire types and on
//! no other workspace crate; the simulator (`voicebot-sim`) is used only by its tests.
//!
//! Design:
//!
//! - **One token, one refresh at a time.** 3CX may revoke a token when it issues the
//!   next, so tokens are fetched under a lock and shared ([`Client::token_provider`]).
//!   A 401 on any request invalidates the token and re-sends that request once.
//! - **Retries only where safe.** GETs retry 5xx, timeouts and transport errors with
//!   jittered backoff; `makecall` and participant actions are never retried, since the
//!   PBX may already have acted on them.
//! - **No event lost to a reconnect.** The event task re-reads the snapshot after
//!   every (re)connect and emits the difference against its cache as `resync: true`
//!   events before [`voicebot_model::PbxEvent::Connected`]. Live upserts are resolved
//!   with a GET (a 404 is a removal) and emitted only when something changed.
//! - **An id is not a call.** A PBX restart starts participant ids again, so the same
//!   DN and id can name a new caller. A participant whose `callid`/`legid` changed is
//!   reported as the old leg's removal and then a new leg, by the resync diff and by
//!   live upserts alike; [`Client::ensure_leg`] lets a call check, before each
//!   request, that its id still names its own leg (waiting for the resync while the
//!   socket is down).
//! - **Audio is bytes.** [`AudioIn`] streams the caller's PCM as it arrives;
//!   [`AudioOut`] turns each `send` into one HTTP chunk of a single long-lived POST.
//!
//! ```no_run
//! use futures::StreamExt;
//! use voicebot_callcontrol::{Client, Secret};
//! use voicebot_model::PbxEvent;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder("https://pbx.example.com:5001")
//!     .credentials("assistant", Secret::new("api-key"))
//!     .build()?;
//! let mut events = client.events();
//! while let Some(event) = events.next().await {
//!     if let PbxEvent::ParticipantUpdated { participant, .. } = event {
//!         if participant.is_connected() {
//!             let mut caller = client.audio_from(&participant.dn, participant.id).await?;
//!             let _first_chunk = caller.next().await;
//!             client.drop_participant(&participant.dn, participant.id).await?;
//!         }
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod audio;
pub mod auth;
mod builder;
mod client;
mod error;
mod events;
mod legs;
mod rest;
mod retry;
mod tls;

pub use audio::{AudioIn, AudioOut};
pub use auth::{AccessToken, ExpiresInUnit, Secret, TokenProvider};
pub use builder::{ClientBuilder, DEFAULT_PBX_LABEL};
pub use client::Client;
pub use error::{
    BoxError, BuildError, CallControlError, Rejection, Result, describe_chain, redact_text,
    redact_url,
};
pub use events::{DnState, EventStream, StateCache};
pub use retry::{Backoff, RetryPolicy};
pub use tls::{TlsConfig, TlsError};
