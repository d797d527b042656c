//! voicebot as a library: the `voicebot` program ([`App`]), to build a binary of your
//! own that runs your bots beside the bundled ones.
//!
//! [`App`] gives a binary every command of `voicebot` (`run`, `run --check`, `sim`,
//! `demo`, `call`, `campaign`, `doctor`, ...), configuration loading with errors that
//! name the file, line and key, logging (`RUST_LOG`), and the bundled bots; it adds the
//! bots you register by name with a typed configuration. [`bot`] is the bot author's
//! API (`voicebot-bot`), so a bot crate can depend on `voicebot` alone; its tests use
//! `voicebot-testkit`.
//!
//! ```no_run
//! use voicebot::bot::{BotError, Call, bot_fn};
//!
//! #[derive(serde::Deserialize)]
//! struct Hello {
//!     prompt: String,
//! }
//!
//! fn hello(config: Hello) -> impl voicebot::bot::Bot {
//!     bot_fn(move |call: Call| {
//!         let prompt = config.prompt.clone();
//!         async move {
//!             call.play(prompt.as_str()).await?;
//!             Ok::<_, BotError>(())
//!         }
//!     })
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     voicebot::App::new().bot("hello", hello).run()
//! }
//! ```
//!
//! This package is also the composition root (STYLE.md §1): the only place that links
//! the engine, the PBX client, the simulator and every bundled bot. Its modules stay
//! private; `App` is the one way in.

mod app;
mod check;
mod commands;
mod config;
mod exit;
mod launch;
mod logging;
mod records;
mod registry;
mod uploads;

pub use voicebot_bot as bot;

pub use crate::app::App;
