//! [`HttpTranscriber`]: a client of the OpenAI-compatible `POST /v1/audio/transcriptions` API.

use std::{fmt, path::Path, time::Duration};

use async_trait::async_trait;
use reqwest::{Url, multipart, redirect};

use super::{DEFAULT_TIMEOUT, Transcriber, capped, verbose_json};
use crate::{
    error::{ConfigError, Result, SpeechError},
    recognition::Recognition,
};

/// The API's path under the server's base URL.
const API_PATH: &str = "v1/audio/transcriptions";

/// A transcriber speaking the OpenAI-compatible transcription API: each file is uploaded as
/// multipart form data with `response_format=verbose_json` and
/// `timestamp_granularities[]=segment` (and `word`), and the answer's segments become results.
///
/// Redirects are not followed (an upload is never sent somewhere else), every request has a
/// timeout, the API key (from an environment variable) goes only into the `Authorization`
/// header and never into logs or `Debug`, and error bodies are cut to
/// [`MAX_ERROR_BODY`](super::MAX_ERROR_BODY) bytes.
#[derive(Clone)]
pub struct HttpTranscriber {
    client: reqwest::Client,
    url: Url,
    model: String,
    language: Option<String>,
    word_times: bool,
    api_key: Option<String>,
}

impl fmt::Debug for HttpTranscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTranscriber")
            .field("url", &self.url.as_str())
            .field("model", &self.model)
            .field("language", &self.language)
            .field("word_times", &self.word_times)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// Settings of an [`HttpTranscriber`].
#[derive(Debug, Clone)]
#[must_use]
pub struct HttpTranscriberBuilder {
    url: String,
    model: String,
    language: Option<String>,
    word_times: bool,
    api_key_env: Option<String>,
    timeout: Duration,
}

impl HttpTranscriber {
    /// A transcriber of the server at `url`: its base (`http://127.0.0.1:8080`, to which
    /// `/v1/audio/transcriptions` is added) or the full endpoint URL.
    pub fn builder(url: impl Into<String>) -> HttpTranscriberBuilder {
        HttpTranscriberBuilder {
            url: url.into(),
            model: "whisper-1".to_owned(),
            language: None,
            word_times: true,
            api_key_env: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The endpoint requests go to.
    #[must_use]
    pub fn url(&self) -> &Url {
        &self.url
    }
}

impl HttpTranscriberBuilder {
    /// The `model` form field (default `whisper-1`; local servers mostly ignore it).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// The spoken language as an ISO-639-1 code (`en`); default: the server detects it.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// Whether to ask for word times as well as segment times (default `true`).
    pub fn word_times(mut self, on: bool) -> Self {
        self.word_times = on;
        self
    }

    /// The environment variable holding the API key, sent as `Authorization: Bearer`.
    pub fn api_key_env(mut self, variable: impl Into<String>) -> Self {
        self.api_key_env = Some(variable.into());
        self
    }

    /// How long one request (upload, transcription and answer) may take (default 5 min).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the settings and reads the API key.
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] unless the URL is `http://` or `https://`;
    /// [`ConfigError::MissingEnv`] if the API key's variable is named but not set;
    /// [`ConfigError::OutOfRange`] for a zero timeout.
    pub fn build(self) -> Result<HttpTranscriber, ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidUrl {
            url: self.url.clone(),
            reason: reason.to_owned(),
        };
        let mut url = Url::parse(&self.url).map_err(|error| invalid(&error.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if !url.path().trim_end_matches('/').ends_with(API_PATH) {
            let base = format!("{}/", url.path().trim_end_matches('/'));
            url.set_path(&format!("{base}{API_PATH}"));
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::OutOfRange {
                setting: "timeout",
                reason: "must be positive",
            });
        }
        let api_key = match &self.api_key_env {
            Some(variable) => {
                Some(
                    std::env::var(variable).map_err(|_| ConfigError::MissingEnv {
                        variable: variable.clone(),
                    })?,
                )
            }
            None => None,
        };
        // reqwest is built without a TLS provider of its own: use ring, as the rest of
        // voicebot does (installing twice is harmless).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(redirect::Policy::none())
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .timeout(self.timeout)
            .build()
            .map_err(|error| invalid(&format!("the HTTP client cannot be built: {error}")))?;
        Ok(HttpTranscriber {
            client,
            url,
            model: self.model,
            language: self.language,
            word_times: self.word_times,
            api_key,
        })
    }
}

#[async_trait]
impl Transcriber for HttpTranscriber {
    async fn transcribe(&self, wav: &Path) -> Result<Vec<Recognition>> {
        let bytes = tokio::fs::read(wav).await?;
        let name = wav.file_name().map_or_else(
            || "audio.wav".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let file = multipart::Part::bytes(bytes)
            .file_name(name)
            .mime_str("audio/wav")
            .map_err(|error| SpeechError::Protocol {
                reason: error.to_string(),
            })?;
        let mut form = multipart::Form::new()
            .part("file", file)
            .text("model", self.model.clone())
            .text("response_format", "verbose_json")
            .text("timestamp_granularities[]", "segment");
        if self.word_times {
            form = form.text("timestamp_granularities[]", "word");
        }
        if let Some(language) = &self.language {
            form = form.text("language", language.clone());
        }
        let mut request = self.client.post(self.url.clone()).multipart(form);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let unreachable = |error: reqwest::Error| SpeechError::Unreachable {
            // Without the URL: it is in the transcriber's settings, and errors go to logs.
            reason: error.without_url().to_string(),
        };
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        let body = response.text().await.map_err(unreachable)?;
        if !status.is_success() {
            return Err(SpeechError::Rejected {
                status: status.as_u16(),
                body: capped(&body),
            });
        }
        verbose_json::parse(&body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_path_is_added_once_and_bad_urls_are_refused() {
        let url = |u: &str| {
            HttpTranscriber::builder(u)
                .build()
                .map(|t| t.url().to_string())
        };
        assert_eq!(
            url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080/v1/audio/transcriptions"
        );
        assert_eq!(
            url("http://h/proxy/").unwrap(),
            "http://h/proxy/v1/audio/transcriptions"
        );
        assert_eq!(
            url("https://h/v1/audio/transcriptions").unwrap(),
            "https://h/v1/audio/transcriptions"
        );
        assert!(matches!(
            url("ftp://h"),
            Err(ConfigError::InvalidUrl { .. })
        ));
        assert!(matches!(
            url("not a url"),
            Err(ConfigError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn a_missing_key_variable_is_named_and_the_key_never_shows_in_debug() {
        let missing = HttpTranscriber::builder("http://h")
            .api_key_env("VOICEBOT_TEST_SURELY_UNSET_KEY")
            .build()
            .unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("VOICEBOT_TEST_SURELY_UNSET_KEY")
        );
        // PATH is set in every test environment; its value stands in for a key.
        let key = std::env::var("PATH").unwrap();
        let transcriber = HttpTranscriber::builder("http://h")
            .api_key_env("PATH")
            .build()
            .unwrap();
        let shown = format!("{transcriber:?}");
        assert!(!shown.contains(&key), "{shown}");
        assert!(shown.contains("<set>"));
    }
}
