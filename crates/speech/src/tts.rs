//! Text-to-speech: the [`Synthesizer`] trait, its three engines, and the [`Speaker`] that turns
//! text into 8 kHz prompts for calls.
//!
//! - [`Espeak`]: the built-in engine, the `espeak-ng` program (Debian package `espeak-ng`). No
//!   network, no model files to fetch, fast and robotic.
//! - [`HttpSynthesizer`]: a client of servers that speak the OpenAI-compatible
//!   `POST /v1/audio/speech` API (model, voice, speed; WAV or PCM back), so neural TTS servers
//!   plug in.
//! - [`CommandSynthesizer`]: any program that reads text on stdin and writes a WAV file on stdout.
//!
//! **Design.** A synthesiser only turns one piece of text into audio at its own rate. The
//! [`Speaker`] in front of it does what every engine needs the same way: it splits text into
//! sentences and synthesises them one after the other on its own task, so a call hears the first
//! sentence while the rest is still being made ([`Speaker::speak`]); it resamples each sentence
//! to 8 kHz with the media crate's resampler; and it keeps the result in a bounded disk cache
//! ([`TtsCache`]) keyed by engine, voice and sentence, so a menu is synthesised once, not per
//! call. Engines run out of process (a program, a server), so a slow or crashed engine costs the
//! one prompt a [`TtsError`], never the call's media loop.

mod cache;
mod command;
mod error;
mod espeak;
mod http;
mod process;
mod sentences;
mod speaker;

use async_trait::async_trait;

pub use self::{
    cache::TtsCache,
    command::{CommandSynthesizer, CommandSynthesizerBuilder},
    error::TtsError,
    espeak::{Espeak, EspeakBuilder},
    http::{HttpSynthesizer, HttpSynthesizerBuilder, ResponseFormat},
    sentences::split_sentences,
    speaker::{Speaker, SpeechStream},
};

/// Audio a [`Synthesizer`] made, at its own rate; the [`Speaker`] resamples it to 8 kHz.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SynthesizedAudio {
    /// A whole WAV file (any format the media crate's prompt loader reads, including the
    /// streaming header `espeak-ng --stdout` writes).
    Wav(Vec<u8>),
    /// Mono signed 16-bit samples at `rate` Hz.
    Pcm {
        /// The samples.
        samples: Vec<i16>,
        /// Their sample rate in Hz.
        rate: u32,
    },
}

/// Turns text into speech. One call per sentence (the [`Speaker`] splits text); implementations
/// may be called concurrently from many calls.
///
/// ```no_run
/// use voicebot_speech::tts::{Espeak, Speaker};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let speaker = Speaker::new(Espeak::builder().voice("en-us").build()?);
/// let prompt = speaker.synthesize("Welcome to Example Corp.", None).await?;
/// println!("{:?} of speech", prompt.duration());
/// # Ok(()) }
/// ```
#[async_trait]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a speech synthesiser",
    note = "implement `voicebot_speech::tts::Synthesizer` (with `#[async_trait]`) or use one of \
            `Espeak`, `HttpSynthesizer`, `CommandSynthesizer`"
)]
pub trait Synthesizer: Send + Sync + std::fmt::Debug {
    /// What makes this engine's audio what it is (engine name and the settings that change the
    /// sound: model, rate, server), for the cache key. Two synthesisers with the same identity
    /// must sound the same for the same voice and text.
    fn identity(&self) -> String;

    /// The voice used when a request names none.
    fn default_voice(&self) -> Option<&str>;

    /// Synthesises `text` (one sentence or a short paragraph) with `voice`, or the engine's
    /// default voice when `None`.
    ///
    /// # Errors
    /// [`TtsError`] when the engine cannot be run or reached, refuses the request, or returns
    /// something that is not audio.
    async fn synthesize(
        &self,
        text: &str,
        voice: Option<&str>,
    ) -> Result<SynthesizedAudio, TtsError>;
}
