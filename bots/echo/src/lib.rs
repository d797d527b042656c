//! The `echo` bot: plays the caller's own audio back after a short delay.
//!
//! The line check every telephony team wants: call it, speak, and hear yourself
//! half a second later. Choppy, missing or one-way echo points at the network or
//! the media path, not at a bot. The delay is a small ring of 20 ms frames
//! ([`DelayLine`]); the echo ends when the caller hangs up or after
//! `max_duration`, when the bot hangs up.
//!
//! Depends on `voicebot-bot` only: it reads [`Call::audio`] and writes to
//! [`Call::audio_sink`], which paces frames at real time.
//!
//! # Configuration
//!
//! Registered as `"echo"`. Every key is optional.
//!
//! ```toml
#![doc = include_str!("example.toml")]
//! ```
//!
//! [`Call::audio`]: voicebot_bot::Call::audio
//! [`Call::audio_sink`]: voicebot_bot::Call::audio_sink

mod bot;
mod config;
mod delay;

use voicebot_bot::BotRegistry;

pub use crate::bot::Echo;
pub use crate::config::Config;
pub use crate::delay::DelayLine;

/// The name this bot is registered under.
pub const NAME: &str = "echo";

/// Registers the bot as [`NAME`] (`"echo"`).
pub fn register(registry: &mut BotRegistry) {
    registry.register_with(NAME, Echo::from_context);
}
