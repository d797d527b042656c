//! [`Config`]: the recorder's settings.

use std::time::Duration;

use serde::Deserialize;
use voicebot_bot::PromptSource;

/// The `recorder` bot's configuration; every key has a default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Played before the beep ("please leave a message").
    #[serde(default)]
    pub greeting: Option<PromptSource>,
    /// Whether to beep before recording (default true).
    #[serde(default = "yes")]
    pub beep: bool,
    /// Longest message (default `"2m"`).
    #[serde(default = "default_max_length", with = "humantime_serde")]
    pub max_length: Duration,
    /// Silence that ends the message (default `"5s"`; `"0s"` never ends on silence).
    #[serde(default = "default_silence", with = "humantime_serde")]
    pub silence_timeout: Duration,
    /// Keys that end the message (default `"#"`; `""` for none).
    #[serde(default = "default_finish_on")]
    pub finish_on: String,
    /// Where the WAV goes, with placeholders `{callid}`, `{legid}`, `{dn}`,
    /// `{participant}`, `{caller}`, `{unix}`; relative to the recordings folder
    /// (default `"voicemail/{dn}/{callid}-{legid}-{unix}.wav"`).
    #[serde(default = "default_path")]
    pub path: String,
    /// Played after the message when the caller is still there ("saved").
    #[serde(default)]
    pub saved_prompt: Option<PromptSource>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            greeting: None,
            beep: true,
            max_length: default_max_length(),
            silence_timeout: default_silence(),
            finish_on: default_finish_on(),
            path: default_path(),
            saved_prompt: None,
        }
    }
}

fn yes() -> bool {
    true
}

fn default_max_length() -> Duration {
    Duration::from_secs(120)
}

fn default_silence() -> Duration {
    Duration::from_secs(5)
}

fn default_finish_on() -> String {
    "#".to_owned()
}

fn default_path() -> String {
    "voicemail/{dn}/{callid}-{legid}-{unix}.wav".to_owned()
}
