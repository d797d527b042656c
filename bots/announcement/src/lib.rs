//! The `announcement` bot: plays a recorded message, then hangs up or transfers;
//! and, in outbound mode, dials a list of numbers to play it to.
//!
//! **Inbound**, callers hear the `prompts` in order, `repeat` times (or until they
//! hang up, with `repeat = "forever"`), with an optional `pause` between rounds;
//! then the bot hangs up or transfers them (`then`). Key presses do not cut the
//! announcement short.
//!
//! **Outbound**, a [`Campaign`] calls every number of `outbound.numbers` from the
//! route point `outbound.from`, at most `concurrency` at a time, and runs the same
//! announcement on each answered call. Busy and unanswered numbers (the outcomes
//! listed in `retry_on`) are tried again after `retry_delay`, up to `retries` more
//! times. Each number ends with one [`NumberResult`] (answered, busy, no answer,
//! or failed with the PBX's reason; attempts; talk time), written to
//! `results.csv` and `results.json` ([`CampaignReport`]). The bot itself only
//! plays; whoever runs the campaign (the CLI) builds it with [`Campaign::new`]
//! and calls [`Campaign::run`].
//!
//! Depends on `voicebot-bot` only; outbound calls go through its
//! [`Dialer`](voicebot_bot::Dialer), which the engine implements.
//!
//! # Configuration
//!
//! Registered as `"announcement"`. Only `prompts` is required.
//!
//! ```toml
#![doc = include_str!("example.toml")]
//! ```

mod announce;
mod campaign;
mod config;
mod report;
mod template;

use voicebot_bot::BotRegistry;

pub use crate::announce::Announcement;
pub use crate::campaign::Campaign;
pub use crate::config::{Config, Outbound, Recipient, Repeat, RetryOn, Then};
pub use crate::report::{CampaignReport, NumberResult, Outcome};

/// The name this bot is registered under.
pub const NAME: &str = "announcement";

/// Registers the bot as [`NAME`] (`"announcement"`). A configuration with an
/// `outbound` table needs a context with a dialer.
pub fn register(registry: &mut BotRegistry) {
    registry.register_with(NAME, Announcement::from_context);
}

#[cfg(test)]
mod tests;
