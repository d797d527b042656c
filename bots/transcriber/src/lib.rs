//! The `transcriber` bot: answers (or is handed) a call, optionally plays a notice,
//! records the call and streams the caller's audio to the configured speech
//! recogniser, writing results to sinks: a JSONL file beside the recording, stdout,
//! and an HTTP webhook (one POST per final result, retried with backoff).
//!
//! **Nothing a recogniser or a webhook does can hurt the call or the recording.** The
//! recording is the engine's lossless `record`, running beside the transcription;
//! the recogniser session only queues frames (`feed` never waits) and restarts on its
//! own after a crash or stall; the webhook has a bounded queue and a worker of its
//! own that drops (and counts) results when full. The same pipeline ([`transcribe`])
//! runs `voicebot transcribe FILE.wav`.
//!
//! JSONL lines, in time order: `{"call_id": 7, "start": 1.24, "end": 2.1, "text":
//! "support", "confidence": 0.9, "final": true}` with times in seconds from the start
//! of the call ([`Call::elapsed`](voicebot_bot::Call::elapsed): from when the call's
//! audio started), not of the recording or the transcription: a notice played first
//! counts. The recording starts with the transcription, after the notice. The same
//! times go to stdout and the webhook; `voicebot transcribe FILE.wav` times from the
//! start of the file.
//!
//! With `engine = "batch"` the bot records the call and, once it is over, sends the
//! recording to the `[transcription]` engine (a server of the OpenAI-compatible
//! `/v1/audio/transcriptions` API, such as whisper.cpp's, or a program): each channel on its
//! own, retried with backoff, the lines written to the same sinks with the call's id (and
//! `"channel"` for stereo recordings). A marker `<recording>.pending` shows a transcription
//! outstanding or failed; the recording itself is never touched.
//!
//! Depends on `voicebot-bot` only; the recogniser comes from the engine's
//! [`BotContext`](voicebot_bot::BotContext) (`[speech] recognizer` in voicebot.toml).
//!
//! # Configuration
//!
//! Registered as `"transcriber"`.
//!
//! ```toml
#![doc = include_str!("example.toml")]
//! ```
//!
//! # Use
//!
//! ```no_run
//! use std::sync::Arc;
//! use voicebot_bot::{BotContext, BotRegistry, speech::CommandRecognizer};
//!
//! let mut registry = BotRegistry::new();
//! voicebot_transcriber::register(&mut registry);
//! let recognizer = CommandRecognizer::builder("my-asr").build().unwrap();
//! let context = BotContext::new().with_recognizer(Arc::new(recognizer));
//! let config = toml::from_str("[sinks]\njsonl = true").unwrap();
//! let bot = registry.build_with("transcriber", config, &context);
//! ```

mod batch;
mod bot;
mod config;
mod line;
mod pipeline;
mod sinks;
mod webhook;

use voicebot_bot::BotRegistry;

pub use crate::batch::{BatchSummary, pending_marker, transcribe_file};
pub use crate::bot::Transcriber;
pub use crate::config::{Config, EngineChoice, RecordSetting, SinksConfig, WebhookConfig};
pub use crate::line::TranscriptLine;
pub use crate::pipeline::{Summary, transcribe};
pub use crate::sinks::{Sinks, StdoutFormat};
pub use crate::webhook::{Webhook, WebhookError, WebhookStats, WebhookWorker};

/// The name this bot is registered under.
pub const NAME: &str = "transcriber";

/// Registers the bot as [`NAME`] (`"transcriber"`).
pub fn register(registry: &mut BotRegistry) {
    registry.register_with(NAME, Transcriber::new);
}
