//! The configurations of the `webhook` and `stream` bots.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::stream::{EndAction, Protocol};

/// The `webhook` bot's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where the call's first request goes: `http(s)://` (one POST per request) or
    /// `ws(s)://` (one WebSocket per call). Relative `action` and `redirect` URLs
    /// resolve against it.
    pub url: String,
    /// Where call events (started, answered, transferred, ended) are POSTed; none when
    /// unset. Over a WebSocket they are also sent on the socket.
    #[serde(default)]
    pub status_url: Option<String>,
    /// The environment variable holding the signing secret (required, never logged).
    #[serde(default = "default_secret_env")]
    pub secret_env: String,
    /// Time for one attempt of a request (default `"5s"`).
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Attempts after the first for a request that failed in a way that may pass
    /// (default 2).
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Requests one call may make at most, a guard against redirect loops (default 200).
    #[serde(default = "default_max_requests")]
    pub max_requests: u32,
    /// Where `record` writes, relative to the recordings folder, with the `record`
    /// placeholders (default `"{callid}-{legid}-{unix}.wav"`). The server cannot choose
    /// a path.
    #[serde(default = "default_record_path")]
    pub record_path: String,
    /// The folder the answers' prompt paths resolve in (default: the engine's prompts
    /// folder). Answers may name only paths inside it.
    #[serde(default)]
    pub prompts: Option<std::path::PathBuf>,
    /// Defaults for `stream` verbs.
    #[serde(default)]
    pub stream: StreamDefaults,
}

/// Defaults for the `stream` verbs of a webhook.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamDefaults {
    /// Time the agent has to accept the socket (default `"5s"`).
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// The agent silent this long ends the stream (default `"60s"`).
    #[serde(default = "default_silence", with = "humantime_serde")]
    pub silence_timeout: Duration,
}

impl Default for StreamDefaults {
    fn default() -> Self {
        Self {
            connect_timeout: default_timeout(),
            silence_timeout: default_silence(),
        }
    }
}

/// The `stream` bot's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamConfig {
    /// The agent's `ws://` or `wss://` URL.
    pub url: String,
    /// `"twilio"` (default) or `"raw"`.
    #[serde(default)]
    pub protocol: Protocol,
    /// Custom parameters for the agent (`start.customParameters`), with `{caller}`,
    /// `{caller_name}`, `{did}`, `{dn}`, `{callid}` and `{legid}` filled in.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Time the agent has to accept the socket (default `"5s"`).
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// The agent sending nothing this long ends the stream (default `"60s"`;
    /// `"0s"` never).
    #[serde(default = "default_silence", with = "humantime_serde")]
    pub silence_timeout: Duration,
    /// The stream ends after this long (default: never).
    #[serde(default, with = "humantime_serde")]
    pub max_duration: Option<Duration>,
    /// When the agent closes the socket (default `"hangup"`).
    #[serde(default = "hangup")]
    pub on_disconnect: EndAction,
    /// When the agent cannot be reached (default `"fallback"`).
    #[serde(default = "fallback")]
    pub on_connect_failure: EndAction,
    /// When the agent is silent for `silence_timeout` (default `"hangup"`).
    #[serde(default = "hangup")]
    pub on_silence: EndAction,
    /// An environment variable holding a secret to sign the handshake with (optional).
    #[serde(default)]
    pub secret_env: Option<String>,
}

fn default_secret_env() -> String {
    "VOICEBOT_WEBHOOK_SECRET".to_owned()
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_retries() -> u32 {
    2
}

fn default_max_requests() -> u32 {
    200
}

fn default_record_path() -> String {
    "{callid}-{legid}-{unix}.wav".to_owned()
}

fn default_silence() -> Duration {
    Duration::from_secs(60)
}

pub(crate) fn hangup() -> EndAction {
    EndAction::Hangup
}

pub(crate) fn fallback() -> EndAction {
    EndAction::Fallback
}
