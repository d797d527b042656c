//! `[transcription]`: the batch engine that transcribes finished recordings (the transcriber
//! bot with `engine = "batch"`, and `voicebot transcribe --engine`).
//!
//! ```toml
//! [transcription]
//! # A server of the OpenAI-compatible /v1/audio/transcriptions API (whisper.cpp's server, ...):
//! engine = { url = "http://127.0.0.1:8080", model = "whisper-1", language = "en", api_key_env = "ASR_KEY", timeout = "5m" }
//! # or a program that reads the file named by {wav}:
//! engine = { command = ["whisper-cli", "-m", "ggml-base.en.bin", "-f", "{wav}", "-ojf", "-of", "-"], timeout = "5m" }
//! tries = 5          # attempts per channel, with backoff from 1 s doubling to 30 s
//! ```

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use voicebot_speech::{CommandTranscriber, HttpTranscriber, RetryPolicy, Transcriber};

use super::{Config, ConfigError};

/// `[transcription]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Transcription {
    /// The engine; none means the transcriber bot streams to `[speech]` only.
    #[serde(default)]
    pub(crate) engine: Option<EngineSpec>,
    /// Attempts per channel (default 5).
    #[serde(default)]
    pub(crate) tries: Option<u32>,
}

/// `transcription.engine`: a server or a program.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
pub(crate) enum EngineSpec {
    /// `{ url = "http://...", model, language, api_key_env, timeout }`.
    Http {
        url: String,
        #[serde(default)]
        model: Option<String>,
        #[serde(default)]
        language: Option<String>,
        #[serde(default)]
        api_key_env: Option<String>,
        #[serde(default, with = "humantime_serde")]
        timeout: Option<Duration>,
    },
    /// `{ command = [...], timeout }`.
    Command {
        command: Vec<String>,
        #[serde(default, with = "humantime_serde")]
        timeout: Option<Duration>,
    },
}

impl EngineSpec {
    /// From the command line: an `http(s)://` URL, or a program's command line (split on
    /// spaces) holding `{wav}`.
    pub(crate) fn parse(text: &str) -> Self {
        match text.starts_with("http://") || text.starts_with("https://") {
            true => Self::Http {
                url: text.to_owned(),
                model: None,
                language: None,
                api_key_env: None,
                timeout: None,
            },
            false => Self::Command {
                command: text.split_whitespace().map(str::to_owned).collect(),
                timeout: None,
            },
        }
    }

    /// Builds the transcriber.
    ///
    /// # Errors
    /// What is wrong, for the caller to put in context.
    pub(crate) fn build(&self) -> Result<Arc<dyn Transcriber>, String> {
        match self {
            Self::Http {
                url,
                model,
                language,
                api_key_env,
                timeout,
            } => {
                let mut builder = HttpTranscriber::builder(url);
                if let Some(model) = model {
                    builder = builder.model(model);
                }
                if let Some(language) = language {
                    builder = builder.language(language);
                }
                if let Some(variable) = api_key_env {
                    builder = builder.api_key_env(variable);
                }
                if let Some(timeout) = timeout {
                    builder = builder.timeout(*timeout);
                }
                let transcriber = builder.build().map_err(|error| error.to_string())?;
                Ok(Arc::new(transcriber))
            }
            Self::Command { command, timeout } => {
                let (program, args) = command
                    .split_first()
                    .ok_or_else(|| "the command is empty".to_owned())?;
                let mut builder = CommandTranscriber::builder(program).args(args);
                if let Some(timeout) = timeout {
                    builder = builder.timeout(*timeout);
                }
                let transcriber = builder.build().map_err(|error| error.to_string())?;
                Ok(Arc::new(transcriber))
            }
        }
    }
}

impl Transcription {
    /// The retry policy of `tries`.
    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            tries: self.tries.unwrap_or(RetryPolicy::default().tries).max(1),
            ..RetryPolicy::default()
        }
    }
}

impl Config {
    /// The configured transcription engine, built; `None` when `[transcription]` names none.
    ///
    /// # Errors
    /// [`ConfigError`] at `transcription.engine` when it cannot be built.
    pub(crate) fn transcriber(&self) -> Result<Option<Arc<dyn Transcriber>>, ConfigError> {
        match &self.transcription.engine {
            None => Ok(None),
            Some(spec) => spec
                .build()
                .map(Some)
                .map_err(|message| self.error_at(None, "transcription.engine", message)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_or_a_program() {
        let parse = |text: &str| toml::from_str::<Transcription>(text).unwrap();
        let http = parse(
            r#"engine = { url = "http://127.0.0.1:8080", model = "base.en", timeout = "30s" }
               tries = 2"#,
        );
        assert!(http.engine.as_ref().unwrap().build().is_ok());
        assert_eq!(http.retry_policy().tries, 2);
        let command = parse(r#"engine = { command = ["whisper-cli", "-f", "{wav}"] }"#);
        assert!(command.engine.unwrap().build().is_ok());
        let no_placeholder = EngineSpec::parse("whisper-cli -f");
        assert!(
            no_placeholder
                .build()
                .err()
                .is_some_and(|e| e.contains("{wav}"))
        );
        assert!(EngineSpec::parse("ftp://x").build().is_err());
        assert!(
            toml::from_str::<Transcription>(r#"engine = { url = "http://h", colour = 1 }"#)
                .is_err()
        );
    }
}
