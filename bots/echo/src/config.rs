//! [`Config`]: the echo's settings.

use std::time::Duration;

use serde::Deserialize;
use voicebot_bot::PromptSource;

/// The `echo` bot's configuration; every key has a default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Played once before the echo starts ("speak after the tone...").
    #[serde(default)]
    pub intro: Option<PromptSource>,
    /// How far behind the caller the echo runs (default `"500ms"`, rounded down to
    /// 20 ms frames; `"0s"` echoes at once).
    #[serde(default = "default_delay", with = "humantime_serde")]
    pub delay: Duration,
    /// The bot hangs up after this long (default `"1m"`).
    #[serde(default = "default_max_duration", with = "humantime_serde")]
    pub max_duration: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            intro: None,
            delay: default_delay(),
            max_duration: default_max_duration(),
        }
    }
}

fn default_delay() -> Duration {
    Duration::from_millis(500)
}

fn default_max_duration() -> Duration {
    Duration::from_secs(60)
}
