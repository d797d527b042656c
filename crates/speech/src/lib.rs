//! voicebot-speech: streaming speech recognition of call audio.
//!
//! This crate owns the recogniser interface and its implementations. A [`Recognizer`] starts
//! one [`RecognitionSession`] per call (or per question); the call's media loop feeds it 20 ms
//! [`Frame`](voicebot_media::Frame)s, and partial and final [`Recognition`]s come out on its
//! [`Results`], timed relative to the call. Three recognisers come with it:
//!
//! - [`PocketSphinx`] (cargo feature `pocketsphinx`): the offline CMU PocketSphinx from Debian
//!   (`libpocketsphinx-dev`, `pocketsphinx-en-us`), free-form or restricted to a [`Grammar`];
//! - [`CommandRecognizer`]: any program that reads PCM on stdin and prints JSON results;
//! - [`VoskRecognizer`]: a client of the Vosk WebSocket server protocol.
//!
//! Finished recordings go to a [`Transcriber`] instead: [`HttpTranscriber`] for servers of the
//! OpenAI-compatible `/v1/audio/transcriptions` API (whisper.cpp's server and others), or
//! [`CommandTranscriber`] for a program that reads a file ([`transcription`]).
//!
//! It depends on `voicebot-media` (frames, resampling, voice activity) and on no other
//! workspace crate; bots reach it through `voicebot-bot`.
//!
//! **Design.** Recognisers are slow, may crash and may live across a network, while the media
//! loop must never wait. So [`RecognitionSession::feed`] only queues (a bounded queue that drops
//! the oldest frames when the recogniser falls behind, and counts them), and each session's
//! recogniser runs on its own task or, for the CPU-bound PocketSphinx decoder, its own thread.
//! Results leave through a bounded channel. A recogniser that dies or stalls is restarted with
//! backoff while the call goes on; [`RecognitionSession::finish`] waits a bounded time.
//! [`Grammar`] turns menu choices and digit strings into JSGF or phrase lists and maps a result
//! back to the [`Choice`] it names.
//!
//! **Text-to-speech** lives in [`tts`]: the [`Synthesizer`] trait, the built-in espeak-ng
//! engine, an OpenAI-compatible HTTP client and a command adapter, behind a [`Speaker`] that
//! streams, resamples and caches.
//!
//! Errors: [`ConfigError`] for settings and grammars rejected up front, [`SpeechError`] for
//! failures while running.
//!
//! ```no_run
//! use voicebot_media::Frame;
//! use voicebot_speech::{CommandRecognizer, Grammar, Recognizer, SessionOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let recognizer = CommandRecognizer::builder("my-asr").arg("--json").build()?;
//! let menu = Grammar::choices(["sales", "support", "speak to an agent"])?;
//! let mut session = recognizer.start(SessionOptions::new().grammar(menu.clone())).await?;
//! // Every 20 ms tick of the media loop:
//! session.feed(&Frame::silence())?;
//! // Elsewhere, or at the end:
//! if let Some(result) = session.results().next_final().await {
//!     if let Some(choice) = menu.choice(&result) {
//!         println!("caller chose {} ({:?})", choice.phrase, choice.confidence);
//!     }
//! }
//! let _last = session.finish().await?;
//! # Ok(())
//! # }
//! ```

pub mod command;
pub mod error;
pub mod grammar;
#[cfg(feature = "pocketsphinx")]
pub mod pocketsphinx;
pub mod recognition;
pub mod restart;
pub mod session;
mod staging;
pub mod transcription;
pub mod tts;
pub mod vosk;
mod wire;
mod worker;

#[cfg(feature = "pocketsphinx")]
pub use crate::pocketsphinx::{PocketSphinx, PocketSphinxBuilder};
pub use crate::{
    command::{AudioRate, CommandRecognizer, CommandRecognizerBuilder},
    error::{ConfigError, Result, SpeechError},
    grammar::{Choice, Grammar},
    recognition::{DIGIT_WORDS, Recognition, Word, words_to_digits},
    restart::RestartPolicy,
    session::{RecognitionSession, Recognizer, Results, SessionOptions, SessionStats},
    transcription::{
        ChannelTranscript, CommandTranscriber, CommandTranscriberBuilder, HttpTranscriber,
        HttpTranscriberBuilder, RetryPolicy, Transcriber, transcribe_recording,
    },
    tts::{Speaker, SpeechStream, Synthesizer, TtsError},
    vosk::VoskRecognizer,
};
