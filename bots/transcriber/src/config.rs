//! The transcriber's configuration as written in TOML: [`Config`], [`SinksConfig`],
//! [`WebhookConfig`], [`RecordSetting`].

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// The `transcriber` bot's configuration. See the crate docs for an example.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Played before recording and transcription start.
    #[serde(default)]
    pub notice: Option<PathBuf>,
    /// Whether (and where) to record the call (default: record).
    #[serde(default)]
    pub record: RecordSetting,
    /// The longest recording (default one hour).
    #[serde(default = "default_max_length", with = "humantime_serde")]
    pub max_length: Duration,
    /// Also write partial results (default `false`).
    #[serde(default)]
    pub partials: bool,
    /// Restricts recognition to these phrases (default: free-form).
    #[serde(default)]
    pub grammar: Option<Vec<String>>,
    /// Which engine transcribes: `"stream"` (the `[speech]` recogniser, live, during the
    /// call) or `"batch"` (the `[transcription]` engine, a Whisper-class server or program,
    /// on the finished recording). Default `"stream"`.
    #[serde(default)]
    pub engine: EngineChoice,
    /// Where results go.
    #[serde(default)]
    pub sinks: SinksConfig,
}

/// `engine`: which engine transcribes the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineChoice {
    /// The streaming recogniser, while the call goes on (grammar menus, live captions).
    #[default]
    Stream,
    /// The batch transcriber, on the recording once the call is over (dictation quality).
    Batch,
}

/// `record`: `true`, `false`, or a path template.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum RecordSetting {
    /// Record to the default template (`true`) or not at all (`false`).
    Enabled(bool),
    /// Record to this path template, relative to the recordings folder.
    Template(String),
}

impl Default for RecordSetting {
    fn default() -> Self {
        Self::Enabled(true)
    }
}

impl RecordSetting {
    /// The default template, relative to the recordings folder.
    pub const DEFAULT_TEMPLATE: &'static str = "{callid}-{legid}-{unix}.wav";

    /// The template to record to, or `None` when recording is off.
    pub fn template(&self) -> Option<&str> {
        match self {
            Self::Enabled(true) => Some(Self::DEFAULT_TEMPLATE),
            Self::Enabled(false) => None,
            Self::Template(template) => Some(template),
        }
    }
}

/// `[sinks]`: where results go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinksConfig {
    /// A JSONL file per call beside the recording (default `true`).
    #[serde(default = "yes")]
    pub jsonl: bool,
    /// The same lines on stdout (default `false`).
    #[serde(default)]
    pub stdout: bool,
    /// A POST per final result.
    #[serde(default)]
    pub webhook: Option<WebhookConfig>,
}

impl Default for SinksConfig {
    fn default() -> Self {
        Self {
            jsonl: true,
            stdout: false,
            webhook: None,
        }
    }
}

/// `sinks.webhook`: one JSON POST per final result.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where to POST (`http://` or `https://`).
    pub url: String,
    /// Retries after a failed POST (connection error, timeout, 5xx or 429); default 3.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// How long one POST may take (default 5 s).
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Results waiting to be posted; beyond it new ones are dropped and counted
    /// (default 64).
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// How long after the call results still waiting may take to be posted (default 10 s).
    #[serde(default = "default_drain", with = "humantime_serde")]
    pub drain: Duration,
}

impl WebhookConfig {
    /// A webhook to `url` with the defaults.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            retries: default_retries(),
            timeout: default_timeout(),
            queue: default_queue(),
            drain: default_drain(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_max_length() -> Duration {
    Duration::from_secs(3600)
}

fn default_retries() -> u32 {
    3
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_queue() -> usize {
    64
}

fn default_drain() -> Duration {
    Duration::from_secs(10)
}
