//! [`HttpSynthesizer`]: a client of the OpenAI-compatible `POST /v1/audio/speech` API.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use super::process::MAX_AUDIO_BYTES;
use super::{SynthesizedAudio, Synthesizer};
use crate::error::ConfigError;
use crate::tts::error::{TtsError, truncate};

/// How much of an error response's body goes into the error.
const ERROR_BODY_BYTES: usize = 512;

/// The path appended to a base URL.
const SPEECH_PATH: &str = "v1/audio/speech";

/// What the server is asked to send back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseFormat {
    /// A WAV file (`response_format = "wav"`).
    #[default]
    Wav,
    /// Raw signed 16-bit little-endian mono samples at `rate` Hz (`response_format = "pcm"`;
    /// OpenAI's servers send 24 kHz).
    Pcm {
        /// The sample rate the server uses for PCM.
        rate: u32,
    },
}

/// Asks a speech server for audio, one request per sentence:
/// `POST {url}/v1/audio/speech` with `{"model", "input", "voice", "speed", "response_format"}`,
/// as OpenAI's API and the local servers that copy it (Kokoro-FastAPI, openedai-speech,
/// LocalAI, ...) take it. The API key, when set, goes in `Authorization: Bearer`; it is never
/// logged or shown in `Debug`. Redirects are not followed (a redirect would carry the key to
/// another host), each request has a timeout, and error bodies are cut to 512 bytes.
#[derive(Clone)]
pub struct HttpSynthesizer {
    client: reqwest::Client,
    endpoint: reqwest::Url,
    model: String,
    voice: Option<String>,
    speed: f32,
    format: ResponseFormat,
    api_key: Option<String>,
}

/// Settings of an [`HttpSynthesizer`].
#[must_use]
pub struct HttpSynthesizerBuilder {
    url: String,
    model: String,
    voice: Option<String>,
    speed: f32,
    format: ResponseFormat,
    api_key: Option<String>,
    connect_timeout: Duration,
    timeout: Duration,
}

#[derive(Serialize)]
struct SpeechRequest<'a> {
    model: &'a str,
    input: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    voice: Option<&'a str>,
    speed: f32,
    response_format: &'static str,
}

impl HttpSynthesizer {
    /// Settings for the server at `url` (its base, e.g. `http://127.0.0.1:8880`; a URL whose
    /// path already ends in `/audio/speech` is used as it is) and `model`. Defaults: no voice
    /// (the server's), speed 1.0, WAV, no API key, 5 s to connect and 60 s per request.
    pub fn builder(url: impl Into<String>, model: impl Into<String>) -> HttpSynthesizerBuilder {
        HttpSynthesizerBuilder {
            url: url.into(),
            model: model.into(),
            voice: None,
            speed: 1.0,
            format: ResponseFormat::Wav,
            api_key: None,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(60),
        }
    }

    /// The URL requests go to.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }
}

impl HttpSynthesizerBuilder {
    /// The voice used when a request names none.
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = Some(voice.into());
        self
    }

    /// Speaking speed, 0.25 to 4.0 (1.0 is normal).
    pub fn speed(mut self, speed: f32) -> Self {
        self.speed = speed;
        self
    }

    /// What the server is asked to send back.
    pub fn format(mut self, format: ResponseFormat) -> Self {
        self.format = format;
        self
    }

    /// The API key (a secret: read it from the environment, never from a file).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// How long connecting may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one request may take, answer included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the settings and builds the HTTP client.
    ///
    /// # Errors
    /// [`TtsError::InvalidUrl`] for a URL that is not `http(s)://`;
    /// [`TtsError::Config`] with [`ConfigError::OutOfRange`] for an empty model, a speed outside 0.25–4.0 or a PCM rate
    /// outside 8–48 kHz.
    pub fn build(self) -> Result<HttpSynthesizer, TtsError> {
        let endpoint = endpoint(&self.url)?;
        if self.model.trim().is_empty() {
            return Err(ConfigError::OutOfRange {
                setting: "model",
                reason: "must not be empty",
            }
            .into());
        }
        if !(0.25..=4.0).contains(&self.speed) {
            return Err(ConfigError::OutOfRange {
                setting: "speed",
                reason: "must be 0.25 to 4.0",
            }
            .into());
        }
        if let ResponseFormat::Pcm { rate } = self.format
            && !(8_000..=48_000).contains(&rate)
        {
            return Err(ConfigError::OutOfRange {
                setting: "pcm_rate",
                reason: "must be 8000 to 48000 Hz",
            }
            .into());
        }
        // reqwest is built without a TLS provider of its own: use ring, as the rest of voicebot
        // does (installing twice is harmless).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(concat!("voicebot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| TtsError::InvalidUrl {
                url: self.url.clone(),
                reason: format!("the HTTP client cannot be built: {error}"),
            })?;
        Ok(HttpSynthesizer {
            client,
            endpoint,
            model: self.model,
            voice: self.voice,
            speed: self.speed,
            format: self.format,
            api_key: self.api_key,
        })
    }
}

fn endpoint(url: &str) -> Result<reqwest::Url, TtsError> {
    let invalid = |reason: &str| TtsError::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let mut parsed =
        reqwest::Url::parse(url.trim()).map_err(|error| invalid(&error.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("credentials go in the API key, not in the URL"));
    }
    if !parsed
        .path()
        .trim_end_matches('/')
        .ends_with("/audio/speech")
    {
        let path = format!("{}/{SPEECH_PATH}", parsed.path().trim_end_matches('/'));
        parsed.set_path(&path);
    }
    Ok(parsed)
}

#[async_trait]
impl Synthesizer for HttpSynthesizer {
    fn identity(&self) -> String {
        let format = match self.format {
            ResponseFormat::Wav => "wav".to_owned(),
            ResponseFormat::Pcm { rate } => format!("pcm/{rate}"),
        };
        format!(
            "http {} model={} speed={} {format}",
            self.endpoint, self.model, self.speed
        )
    }

    fn default_voice(&self) -> Option<&str> {
        self.voice.as_deref()
    }

    async fn synthesize(
        &self,
        text: &str,
        voice: Option<&str>,
    ) -> Result<SynthesizedAudio, TtsError> {
        let body = SpeechRequest {
            model: &self.model,
            input: text,
            voice: voice.or(self.voice.as_deref()),
            speed: self.speed,
            response_format: match self.format {
                ResponseFormat::Wav => "wav",
                ResponseFormat::Pcm { .. } => "pcm",
            },
        };
        let mut request = self.client.post(self.endpoint.clone()).json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let mut response = request.send().await.map_err(connection)?;
        let status = response.status();
        if !status.is_success() {
            let body = read_capped(&mut response, ERROR_BODY_BYTES)
                .await
                .unwrap_or_else(|head| head);
            return Err(TtsError::Status {
                status: status.as_u16(),
                body: truncate(&String::from_utf8_lossy(&body), ERROR_BODY_BYTES),
            });
        }
        let bytes = read_capped(&mut response, MAX_AUDIO_BYTES)
            .await
            .map_err(|_| TtsError::TooLarge {
                limit_bytes: MAX_AUDIO_BYTES,
            })?;
        match self.format {
            ResponseFormat::Wav if bytes.starts_with(b"RIFF") => Ok(SynthesizedAudio::Wav(bytes)),
            ResponseFormat::Wav => Err(TtsError::NotAudio {
                reason: format!(
                    "asked for WAV, got {} bytes that do not start with RIFF",
                    bytes.len()
                ),
            }),
            ResponseFormat::Pcm { rate } => Ok(SynthesizedAudio::Pcm {
                samples: bytes
                    .chunks_exact(2)
                    .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
                    .collect(),
                rate,
            }),
        }
    }
}

/// The body, up to `limit` bytes; `Err` with the first `limit` bytes when it is longer.
async fn read_capped(response: &mut reqwest::Response, limit: usize) -> Result<Vec<u8>, Vec<u8>> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..room.min(chunk.len())]);
                if chunk.len() > room {
                    return Err(body);
                }
            }
            Ok(None) => return Ok(body),
            // A body cut short: what came is all there is (a WAV then fails to decode).
            Err(_) => return Ok(body),
        }
    }
}

fn connection(error: reqwest::Error) -> TtsError {
    // reqwest's message names the URL, never the headers: the key stays out.
    let reason = match (error.is_timeout(), error.is_connect()) {
        (true, _) => format!("timed out: {error}"),
        (_, true) => format!("cannot connect: {error}"),
        _ => error.to_string(),
    };
    TtsError::Connection { reason }
}

impl fmt::Debug for HttpSynthesizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSynthesizer")
            .field("endpoint", &self.endpoint.as_str())
            .field("model", &self.model)
            .field("voice", &self.voice)
            .field("speed", &self.speed)
            .field("format", &self.format)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for HttpSynthesizerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSynthesizerBuilder")
            .field("url", &self.url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_the_base_url_plus_the_speech_path() {
        let built = |url: &str| {
            HttpSynthesizer::builder(url, "tts-1")
                .build()
                .map(|s| s.endpoint().to_owned())
        };
        assert_eq!(
            built("http://127.0.0.1:8880").unwrap(),
            "http://127.0.0.1:8880/v1/audio/speech"
        );
        assert_eq!(
            built("https://h/api/").unwrap(),
            "https://h/api/v1/audio/speech"
        );
        assert_eq!(
            built("http://h/v1/audio/speech").unwrap(),
            "http://h/v1/audio/speech"
        );
        assert!(built("ftp://h").is_err());
        assert!(built("http://user:pw@h").is_err());
        assert!(built("not a url").is_err());
    }

    #[test]
    fn settings_are_checked_and_the_key_never_shows() {
        let builder = || HttpSynthesizer::builder("http://h", "m");
        assert!(
            builder()
                .speed(9.0)
                .build()
                .unwrap_err()
                .to_string()
                .starts_with("speed")
        );
        assert!(HttpSynthesizer::builder("http://h", " ").build().is_err());
        assert!(
            builder()
                .format(ResponseFormat::Pcm { rate: 100 })
                .build()
                .is_err()
        );
        let engine = builder().api_key("sk-very-secret").build().unwrap();
        assert!(!format!("{engine:?}").contains("sk-very-secret"));
        assert!(!engine.identity().contains("sk-very-secret"));
    }
}
