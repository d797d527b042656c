//! [`PromptSource`]: what `play`, `gather` and `route_to` play.

use std::path::{Path, PathBuf};
use std::time::Duration;

use voicebot_media::Prompt;

/// Audio to play to the caller. The engine resolves it: files go through its prompt
/// cache (loaded and resampled to 8 kHz once), tones and silence are generated.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PromptSource {
    /// A WAV or raw PCM file, loaded by the engine (cached by path).
    File(PathBuf),
    /// Audio already loaded (8 kHz samples, shared).
    Prompt(Prompt),
    /// Silence of this length.
    Silence(Duration),
    /// A sine tone (or a dual tone when `second_hz` is set), e.g. a beep or ringback.
    Tone {
        /// Frequency in Hz.
        hz: u16,
        /// Optional second frequency in Hz, mixed in (DTMF-style dual tones).
        second_hz: Option<u16>,
        /// Length of the tone.
        duration: Duration,
    },
    /// The engine's ringback: what a caller hears while a `transfer` or `route_to`
    /// rings the destination (a configured prompt, else a generated ringback tone).
    /// 3CX plays nothing to a route point's caller during such an attempt, so without
    /// it the caller would hear silence.
    Ringback,
}

/// A prompt named in a bot's configuration, with the key that named it (e.g.
/// `nodes.main.prompt`): what [`crate::Bot::prompts`] returns for checks.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptRef {
    /// The key path inside the bot's `[config]` table.
    pub key: String,
    /// The prompt.
    pub source: PromptSource,
}

impl PromptRef {
    /// A prompt named at `key`.
    pub fn new(key: impl Into<String>, source: impl Into<PromptSource>) -> Self {
        Self {
            key: key.into(),
            source: source.into(),
        }
    }
}

impl PromptSource {
    /// A file prompt.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self::File(path.into())
    }

    /// A single tone of `hz` for `duration`.
    pub fn tone(hz: u16, duration: Duration) -> Self {
        Self::Tone {
            hz,
            second_hz: None,
            duration,
        }
    }
}

impl From<PathBuf> for PromptSource {
    fn from(path: PathBuf) -> Self {
        Self::File(path)
    }
}

impl From<&Path> for PromptSource {
    fn from(path: &Path) -> Self {
        Self::File(path.to_owned())
    }
}

impl From<&str> for PromptSource {
    /// A file path.
    fn from(path: &str) -> Self {
        Self::File(PathBuf::from(path))
    }
}

impl From<Prompt> for PromptSource {
    fn from(prompt: Prompt) -> Self {
        Self::Prompt(prompt)
    }
}

impl From<&Prompt> for PromptSource {
    fn from(prompt: &Prompt) -> Self {
        Self::Prompt(prompt.clone())
    }
}
