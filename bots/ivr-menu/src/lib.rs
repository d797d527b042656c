//! The `ivr-menu` bot: a phone menu ("press 1 for sales...") defined in config.
//!
//! A menu is a set of **nodes** with ids. Each node has a prompt and **options**:
//! keys that lead to a sub-menu, a transfer, a route (with ringback while the
//! destination rings), the voicemail `recorder`, any other registered bot, or a
//! hang-up. A caller who presses a key that is no option hears the invalid prompt;
//! one who presses nothing hears the timeout prompt; after `tries` failures the
//! menu's `on_failure` action runs. The **repeat key** plays the node again and
//! the **back key** returns to the node the caller came from; neither counts as a
//! try. **Office hours** (a weekly schedule in a time zone, plus holidays) choose
//! the node a call starts at, so one menu serves day and night. **Press or say:**
//! with a speech recogniser configured, a caller may also say an option, by words
//! the option lists (`say = ["billing", "accounts"]`) or the node maps to keys
//! (`say = { "billing" = "1" }`); the two forms mix.
//!
//! Everything is checked when the bot is built: an option pointing at a node that
//! does not exist, a key used both as an option and as the repeat key, a time zone
//! that does not exist or a bot that cannot be built is a [`BotConfigError`] naming
//! the key, never a surprise in the middle of a call.
//!
//! Depends on `voicebot-bot` only. Per-call state is a small state machine (the
//! path of nodes from the start and the failed tries at the current node) held in
//! the call's locals, so one menu serves any number of calls.
//!
//! # Configuration
//!
//! Registered as `"ivr-menu"`. Durations are written like `"5s"` or `"1m 30s"`.
//!
//! ```toml
#![doc = include_str!("example.toml")]
//! ```
//!
//! # Use
//!
//! ```no_run
//! use std::sync::Arc;
//! use voicebot_bot::{BotContext, BotRegistry};
//!
//! let mut registry = BotRegistry::new();
//! voicebot_ivr_menu::register(&mut registry);
//! // ... register "recorder" and "echo" too, then build through a context that
//! // holds the registry, so the menu can hand calls to them.
//! let registry = Arc::new(registry);
//! let context = BotContext::new().with_registry(Arc::clone(&registry));
//! let config = toml::from_str(include_str!("example.toml")).unwrap();
//! let menu = context.build_bot("ivr-menu", config);
//! ```
//!
//! [`BotConfigError`]: voicebot_bot::BotConfigError

mod bot;
mod config;
mod hours;
mod menu;
mod navigator;
mod prompts;
#[cfg(test)]
mod testutil;

use voicebot_bot::BotRegistry;

pub use crate::bot::IvrMenu;
pub use crate::config::{Action, Config, HoursConfig, NodeConfig, OptionConfig, WeekConfig};
pub use crate::hours::{Clock, FixedClock, SystemClock};

/// The name this bot is registered under.
pub const NAME: &str = "ivr-menu";

/// Registers the bot as [`NAME`] (`"ivr-menu"`).
pub fn register(registry: &mut BotRegistry) {
    registry.register_with(NAME, IvrMenu::new);
}

#[cfg(test)]
mod tests;
