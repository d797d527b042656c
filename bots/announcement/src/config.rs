//! [`Config`]: what to play, how often, what then, and the optional outbound list.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use voicebot_bot::BotConfigError;

use crate::NAME;

/// The `announcement` bot's configuration. See the crate docs for an example.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Prompts played in order, as one announcement.
    pub prompts: Vec<PathBuf>,
    /// How many times to play the announcement (default 1), or `"forever"`.
    #[serde(default)]
    pub repeat: Repeat,
    /// Silence between repetitions (default none).
    #[serde(default, with = "humantime_serde")]
    pub pause: Duration,
    /// What happens after the last repetition (default: hang up).
    #[serde(default)]
    pub then: Then,
    /// Dial a list of numbers and play the announcement to each; see [`Outbound`].
    #[serde(default)]
    pub outbound: Option<Outbound>,
}

/// How many times the announcement plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// This many times (at least 1).
    Times(u32),
    /// Until the caller hangs up.
    Forever,
}

impl Default for Repeat {
    fn default() -> Self {
        Self::Times(1)
    }
}

impl<'de> Deserialize<'de> for Repeat {
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Times(u32),
            Word(String),
        }
        match Written::deserialize(deserializer)? {
            Written::Times(times) => Ok(Self::Times(times)),
            Written::Word(word) if word == "forever" => Ok(Self::Forever),
            Written::Word(word) => Err(serde::de::Error::custom(format!(
                "`repeat` is a count or \"forever\", not \"{word}\""
            ))),
        }
    }
}

/// What happens after the announcement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Then {
    /// Hang up.
    #[default]
    Hangup,
    /// Transfer the caller (if the PBX refuses, hang up).
    Transfer {
        /// Extension, queue or number.
        to: String,
    },
}

/// Outbound mode: the list dialled by [`Campaign`](crate::Campaign).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outbound {
    /// The route point the calls are placed from.
    pub from: String,
    /// Numbers or extensions to call, each once (plus retries).
    pub numbers: Vec<String>,
    /// Calls in progress at the same time (default 1).
    #[serde(default = "one")]
    pub concurrency: usize,
    /// Further attempts per number after a retryable outcome (default 0).
    #[serde(default)]
    pub retries: u32,
    /// Outcomes worth another attempt (default `["busy", "no_answer"]`).
    #[serde(default = "default_retry_on")]
    pub retry_on: BTreeSet<RetryOn>,
    /// Wait between attempts of one number (default `"1m"`).
    #[serde(default = "default_retry_delay", with = "humantime_serde")]
    pub retry_delay: Duration,
    /// How long each attempt may ring (the engine's default when absent).
    #[serde(default, with = "humantime_serde")]
    pub ring_timeout: Option<Duration>,
    /// Folder for `results.csv` and `results.json` (default: the current folder).
    #[serde(default = "default_results_dir")]
    pub results_dir: PathBuf,
}

/// An outcome that may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryOn {
    /// The line was busy.
    Busy,
    /// Nobody answered.
    NoAnswer,
    /// The PBX refused or could not place the call.
    Failed,
}

impl Config {
    /// Checks what serde cannot: non-empty lists, counts above zero, destinations.
    pub(crate) fn check(&self) -> Result<(), BotConfigError> {
        if self.prompts.is_empty() {
            return Err(invalid("prompts", "at least one prompt is needed"));
        }
        if self.repeat == Repeat::Times(0) {
            return Err(invalid("repeat", "at least once (or \"forever\")"));
        }
        if let Then::Transfer { to } = &self.then
            && to.trim().is_empty()
        {
            return Err(invalid("then.to", "the destination is empty"));
        }
        match &self.outbound {
            None => Ok(()),
            Some(outbound) => outbound.check(),
        }
    }
}

impl Outbound {
    fn check(&self) -> Result<(), BotConfigError> {
        if self.from.trim().is_empty() {
            return Err(invalid("outbound.from", "the route point is empty"));
        }
        if self.numbers.is_empty() {
            return Err(invalid("outbound.numbers", "no numbers to dial"));
        }
        let mut seen = BTreeSet::new();
        for number in &self.numbers {
            if number.trim().is_empty() {
                return Err(invalid("outbound.numbers", "a number is empty"));
            }
            if !seen.insert(number.trim()) {
                return Err(invalid(
                    "outbound.numbers",
                    format!("`{number}` is listed twice"),
                ));
            }
        }
        if self.concurrency == 0 {
            return Err(invalid(
                "outbound.concurrency",
                "at least one call at a time",
            ));
        }
        Ok(())
    }
}

pub(crate) fn invalid(key: &str, message: impl Into<String>) -> BotConfigError {
    BotConfigError::new(NAME, Some(key), message)
}

fn one() -> usize {
    1
}

fn default_retry_on() -> BTreeSet<RetryOn> {
    BTreeSet::from([RetryOn::Busy, RetryOn::NoAnswer])
}

fn default_retry_delay() -> Duration {
    Duration::from_secs(60)
}

fn default_results_dir() -> PathBuf {
    PathBuf::from(".")
}
