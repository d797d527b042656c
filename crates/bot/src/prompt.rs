//! [`PromptSource`]: what `play`, `say`, `gather` and `route_to` play.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use voicebot_media::Prompt;

/// Audio to play to the caller. The engine resolves it: files go through its prompt
/// cache (loaded and resampled to 8 kHz once), text goes through its speech
/// synthesiser (sentence by sentence, cached on disk), tones and silence are generated.
///
/// In bot configurations a prompt is written one of two ways, the same for every bot:
/// a file path (`prompt = "menu.wav"`), or a table of text to speak
/// (`prompt = { text = "Press 1 for sales.", voice = "en-gb" }`, `voice` optional).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PromptSource {
    /// A WAV or raw PCM file, loaded by the engine (cached by path).
    File(PathBuf),
    /// Text spoken by the engine's speech synthesiser. A long text starts playing once
    /// its first sentence is ready.
    Text(SpeechText),
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

impl PromptSource {
    /// Text to speak with the default voice.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(SpeechText::new(text))
    }

    /// The text of a [`PromptSource::Text`], if it is one.
    pub fn as_text(&self) -> Option<&SpeechText> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// A file prompt shows as its path, a text prompt as its text in quotes; the others as
/// what they are (`silence 1s`, `tone 440 Hz for 200ms`, `ringback`).
impl std::fmt::Display for PromptSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Text(text) => write!(f, "{:?}", text.text),
            Self::Prompt(prompt) => write!(f, "audio of {:?}", prompt.duration()),
            Self::Silence(length) => write!(f, "silence {length:?}"),
            Self::Tone { hz, duration, .. } => write!(f, "tone {hz} Hz for {duration:?}"),
            Self::Ringback => f.write_str("ringback"),
        }
    }
}

/// Text for the speech synthesiser, and the voice to say it in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeechText {
    /// What to say.
    pub text: String,
    /// The synthesiser's voice (its own names, e.g. `en-gb` for espeak-ng); `None` for
    /// the configured default.
    #[serde(default)]
    pub voice: Option<String>,
}

impl SpeechText {
    /// `text` in the default voice.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            voice: None,
        }
    }

    /// Says it in `voice`.
    #[must_use]
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = Some(voice.into());
        self
    }
}

impl From<&str> for SpeechText {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<String> for SpeechText {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl From<SpeechText> for PromptSource {
    fn from(text: SpeechText) -> Self {
        Self::Text(text)
    }
}

/// A file path (`"menu.wav"`) or a text table (`{ text = "...", voice = "..." }`).
impl<'de> Deserialize<'de> for PromptSource {
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        #[derive(Deserialize)]
        #[serde(
            untagged,
            expecting = "a prompt: a file path, or a table { text = \"...\", voice = \"...\" }"
        )]
        enum Written {
            File(PathBuf),
            Text(SpeechText),
        }
        match Written::deserialize(deserializer)? {
            Written::File(path) if path.as_os_str().is_empty() => {
                Err(serde::de::Error::custom("the prompt's file path is empty"))
            }
            Written::File(path) => Ok(Self::File(path)),
            Written::Text(text) if text.text.trim().is_empty() => {
                Err(serde::de::Error::custom("the prompt's text is empty"))
            }
            Written::Text(text) => Ok(Self::Text(text)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Holder {
        prompt: PromptSource,
    }

    fn parse(text: &str) -> Result<PromptSource, String> {
        toml::from_str::<Holder>(text)
            .map(|holder| holder.prompt)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn a_prompt_is_a_path_or_a_text_table() {
        assert_eq!(
            parse(r#"prompt = "menu.wav""#).unwrap(),
            PromptSource::file("menu.wav")
        );
        assert_eq!(
            parse(r#"prompt = { text = "Press 1.", voice = "en-gb" }"#).unwrap(),
            PromptSource::Text(SpeechText::new("Press 1.").voice("en-gb"))
        );
        assert_eq!(
            parse(r#"prompt = { text = "Press 1." }"#).unwrap(),
            PromptSource::text("Press 1.")
        );
    }

    #[test]
    fn bad_prompts_say_what_a_prompt_is() {
        let typo = parse(r#"prompt = { txt = "Press 1." }"#).unwrap_err();
        assert!(typo.contains("a file path, or a table"), "{typo}");
        assert!(parse("prompt = 5").unwrap_err().contains("a prompt"));
        assert!(
            parse(r#"prompt = { text = "  " }"#)
                .unwrap_err()
                .contains("text is empty")
        );
        assert!(
            parse(r#"prompt = """#)
                .unwrap_err()
                .contains("path is empty")
        );
    }
}
