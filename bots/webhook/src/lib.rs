//! Bots in any language, and AI voice agents: the `webhook` and `stream` bots.
//!
//! - **`webhook`** drives a call with verbs from a server you write in any language,
//!   as TwiML does: voicebot POSTs the call's details as JSON to `url`, runs the JSON
//!   array of verbs the server answers (`play`, `gather`, `record`, `transfer`,
//!   `route_to`, `divert`, `hangup`, `pause`, `attach_data`, `redirect`, `stream`,
//!   `say`), and POSTs a gather's, record's or stream's result to the verb's `action`
//!   URL for the next verbs. Call events go to `status_url`. Every request is signed
//!   ([`sign`]), has a timeout and bounded retries; a failed or invalid answer ends
//!   the bot with an error naming what was wrong, and the engine sends the call to its
//!   fallback. A `ws://` or `wss://` `url` carries the same JSON over one WebSocket
//!   per call.
//! - **`stream`** connects the call's audio both ways to a WebSocket agent, in the
//!   Twilio Media Streams protocol or a raw PCM one ([`stream`]).
//!
//! The JSON of every message is specified in `docs/webhook.schema.json` and described
//! in `docs/webhook.md`; `samples/webhook_menu.py` is a server in 30 lines of Python.
//!
//! Depends on `voicebot-bot` only: everything goes through the public [`Call`] API.
//!
//! # Configuration
//!
//! ```toml
#![doc = include_str!("example.toml")]
//! ```
//!
//! [`Call`]: voicebot_bot::Call

mod config;
mod error;
mod http;
mod request;
pub mod sign;
mod socket;
pub mod stream;
mod stream_bot;
mod verb;
mod webhook;

use voicebot_bot::BotRegistry;

pub use crate::config::{StreamConfig, StreamDefaults, WebhookConfig};
pub use crate::error::WebhookError;
pub use crate::request::{
    CallDetails, Event, GapResult, GatherResult, RecordResult, Request, SpeechResult, Status,
    StreamResult,
};
pub use crate::stream_bot::StreamBot;
pub use crate::verb::{AnswerError, Verb, parse_answer};
pub use crate::webhook::WebhookBot;

/// The name the webhook bot is registered under.
pub const NAME_WEBHOOK: &str = "webhook";
/// The name the stream bot is registered under.
pub const NAME_STREAM: &str = "stream";

/// Registers [`NAME_WEBHOOK`] (`"webhook"`) and [`NAME_STREAM`] (`"stream"`).
pub fn register(registry: &mut BotRegistry) {
    registry.register_with(NAME_WEBHOOK, WebhookBot::from_context);
    registry.register_with(NAME_STREAM, StreamBot::from_context);
}
