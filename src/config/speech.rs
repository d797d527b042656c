//! `[speech]`: the recogniser speech gathers and the transcriber use.
//!
//! ```toml
//! [speech]
//! recognizer = "pocketsphinx"                                   # built-in (feature `pocketsphinx`)
//! recognizer = { command = ["my-asr", "--json"], rate = 16000 } # a program (see voicebot-speech)
//! recognizer = { vosk = "ws://127.0.0.1:2700" }                 # a Vosk-protocol server
//! ```

use std::ffi::OsString;
use std::sync::Arc;

use serde::Deserialize;
use voicebot_speech::{AudioRate, CommandRecognizer, Recognizer, VoskRecognizer};

use super::{Config, ConfigError};

/// `[speech]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Speech {
    /// The recogniser; none means bots that need speech refuse to build.
    #[serde(default)]
    pub(crate) recognizer: Option<RecognizerSpec>,
}

/// `speech.recognizer`: which recogniser, written one of three ways.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum RecognizerSpec {
    /// `"pocketsphinx"`.
    Named(String),
    /// `{ command = [...], rate = 8000 | 16000 }`.
    Command {
        command: Vec<String>,
        #[serde(default)]
        rate: Option<u32>,
    },
    /// `{ vosk = "ws://..." }`.
    Vosk { vosk: String },
}

impl RecognizerSpec {
    /// From the command line: `pocketsphinx`, a `ws://`/`wss://` URL, or a command
    /// line (split on spaces) of a recogniser program.
    pub(crate) fn parse(text: &str, rate: Option<u32>) -> Self {
        match text {
            "pocketsphinx" => Self::Named(text.to_owned()),
            url if url.starts_with("ws://") || url.starts_with("wss://") => Self::Vosk {
                vosk: url.to_owned(),
            },
            command => Self::Command {
                command: command.split_whitespace().map(str::to_owned).collect(),
                rate,
            },
        }
    }

    /// Builds the recogniser.
    ///
    /// # Errors
    /// What is wrong, for the caller to put in context: an unknown name,
    /// PocketSphinx without the feature or its model, an empty command, a rate other
    /// than 8000 or 16000, a bad URL.
    pub(crate) fn build(&self) -> Result<Arc<dyn Recognizer>, String> {
        match self {
            Self::Named(name) if name == "pocketsphinx" => pocketsphinx(),
            Self::Named(name) => Err(format!(
                "unknown recogniser {name:?}: write \"pocketsphinx\", {{ command = [...] }} or {{ vosk = \"ws://...\" }}"
            )),
            Self::Command { command, rate } => {
                let rate = match rate {
                    None | Some(8000) => AudioRate::Hz8000,
                    Some(16000) => AudioRate::Hz16000,
                    Some(other) => return Err(format!("rate {other} must be 8000 or 16000")),
                };
                let (program, args) = command
                    .split_first()
                    .ok_or_else(|| "the command is empty".to_owned())?;
                let recognizer = CommandRecognizer::builder(OsString::from(program))
                    .args(args)
                    .audio_rate(rate)
                    .build()
                    .map_err(|error| error.to_string())?;
                Ok(Arc::new(recognizer))
            }
            Self::Vosk { vosk } => VoskRecognizer::new(vosk)
                .map(|recognizer| Arc::new(recognizer) as Arc<dyn Recognizer>)
                .map_err(|error| error.to_string()),
        }
    }
}

#[cfg(feature = "pocketsphinx")]
fn pocketsphinx() -> Result<Arc<dyn Recognizer>, String> {
    voicebot_speech::PocketSphinx::new()
        .map(|recognizer| Arc::new(recognizer) as Arc<dyn Recognizer>)
        .map_err(|error| error.to_string())
}

#[cfg(not(feature = "pocketsphinx"))]
fn pocketsphinx() -> Result<Arc<dyn Recognizer>, String> {
    Err("this voicebot was built without PocketSphinx (cargo feature `pocketsphinx`)".to_owned())
}

impl Config {
    /// The configured recogniser, built; `None` when `[speech]` names none.
    ///
    /// # Errors
    /// [`ConfigError`] at `speech.recognizer` when it cannot be built.
    pub(crate) fn recognizer(&self) -> Result<Option<Arc<dyn Recognizer>>, ConfigError> {
        match &self.speech.recognizer {
            None => Ok(None),
            Some(spec) => spec
                .build()
                .map(Some)
                .map_err(|message| self.error_at(None, "speech.recognizer", message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_ways_to_name_a_recogniser() {
        let parse = |text: &str| toml::from_str::<Speech>(text).unwrap().recognizer;
        assert_eq!(
            parse(r#"recognizer = "pocketsphinx""#),
            Some(RecognizerSpec::Named("pocketsphinx".to_owned()))
        );
        let command = parse(r#"recognizer = { command = ["asr", "-v"], rate = 16000 }"#).unwrap();
        assert!(command.build().is_ok());
        let vosk = parse(r#"recognizer = { vosk = "ws://127.0.0.1:2700" }"#).unwrap();
        assert!(vosk.build().is_ok());
        assert!(RecognizerSpec::Named("whisper".to_owned()).build().is_err());
        let bad_rate = RecognizerSpec::Command {
            command: vec!["asr".to_owned()],
            rate: Some(44100),
        };
        assert!(bad_rate.build().err().is_some_and(|e| e.contains("44100")));
        assert!(RecognizerSpec::parse("", None).build().is_err());
    }
}
