//! The `recorder` bot: voicemail.
//!
//! The caller hears a greeting and a beep, then speaks; recording stops at the
//! maximum length, after a stretch of silence, when the caller presses a
//! terminator key (`#`), or when the caller hangs up. The WAV is written by the
//! engine; this bot writes a JSON [`Metadata`] file beside it (`msg.wav` →
//! `msg.json`) with the caller, the DN called, when recording started, how long
//! it is and why it ended. The metadata is written even when the caller hangs up
//! mid-message, because that is how most voicemails end. Afterwards, a caller
//! still on the line hears the "saved" prompt and the bot hangs up.
//!
//! Depends on `voicebot-bot` only. Relative paths are resolved against the
//! engine's recordings folder ([`BotContext::recordings_dir`]).
//!
//! # Configuration
//!
//! Registered as `"recorder"`. Every key is optional; durations are written like
//! `"5s"` or `"2m"`.
//!
//! ```toml
#![doc = include_str!("example.toml")]
//! ```
//!
//! [`BotContext::recordings_dir`]: voicebot_bot::BotContext::recordings_dir

mod bot;
mod config;
mod metadata;

use voicebot_bot::BotRegistry;

pub use crate::bot::Recorder;
pub use crate::config::Config;
pub use crate::metadata::{GapMetadata, Metadata};

/// The name this bot is registered under.
pub const NAME: &str = "recorder";

/// Registers the bot as [`NAME`] (`"recorder"`).
pub fn register(registry: &mut BotRegistry) {
    registry.register_with(NAME, Recorder::new);
}
