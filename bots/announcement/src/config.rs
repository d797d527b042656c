//! [`Config`]: what to play, how often, what then, and the optional outbound list.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use voicebot_bot::{BotConfigError, PromptSource};

use crate::NAME;

/// The `announcement` bot's configuration. See the crate docs for an example.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Prompts played in order, as one announcement: file paths, or text tables
    /// (`{ text = "Hello {name}." }`) whose `{field}`s are filled from each number's
    /// fields in outbound mode.
    pub prompts: Vec<PromptSource>,
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
    /// Numbers or extensions to call, each once (plus retries), with the fields their
    /// text prompts use.
    pub numbers: Vec<Recipient>,
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

/// One number of a campaign and its fields: written `"+15550101"`, or
/// `{ number = "+15550101", name = "Ada" }` (a CSV numbers file: the other columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The number or extension to call.
    pub number: String,
    /// Fields for the text prompts' `{placeholders}` (`{number}` is always there).
    pub fields: BTreeMap<String, String>,
}

impl Recipient {
    /// A number with no fields beyond `number`.
    pub fn new(number: impl Into<String>) -> Self {
        Self::with_fields(number, BTreeMap::new())
    }

    /// A number with `fields` (a `number` field is set to the number).
    pub fn with_fields(number: impl Into<String>, mut fields: BTreeMap<String, String>) -> Self {
        let number = number.into();
        fields.insert("number".to_owned(), number.clone());
        Self { number, fields }
    }
}

impl<'de> Deserialize<'de> for Recipient {
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        #[derive(Deserialize)]
        #[serde(
            untagged,
            expecting = "a number, or a table { number = \"...\", field = \"...\" }"
        )]
        enum Written {
            Number(String),
            Fields(BTreeMap<String, String>),
        }
        match Written::deserialize(deserializer)? {
            Written::Number(number) => Ok(Self::new(number)),
            Written::Fields(mut fields) => match fields.remove("number") {
                Some(number) => Ok(Self::with_fields(number, fields)),
                None => Err(serde::de::Error::custom(
                    "a number's table needs a `number` key",
                )),
            },
        }
    }
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
        for text in self.prompts.iter().filter_map(PromptSource::as_text) {
            crate::template::fill(&text.text, &BTreeMap::new())
                .map_err(|message| invalid("prompts", message))?;
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
            Some(outbound) => {
                outbound.check()?;
                self.check_fields(outbound)
            }
        }
    }

    /// Every number has every field the text prompts use.
    fn check_fields(&self, outbound: &Outbound) -> Result<(), BotConfigError> {
        let used: BTreeSet<String> = self
            .prompts
            .iter()
            .filter_map(PromptSource::as_text)
            .flat_map(|text| crate::template::placeholders(&text.text))
            .collect();
        for recipient in &outbound.numbers {
            if let Some(missing) = used
                .iter()
                .find(|name| !recipient.fields.contains_key(*name))
            {
                return Err(invalid(
                    "outbound.numbers",
                    format!(
                        "{} has no `{missing}`, which a text prompt uses",
                        recipient.number
                    ),
                ));
            }
        }
        Ok(())
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
        for number in self.numbers.iter().map(|recipient| &recipient.number) {
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

#[cfg(test)]
mod field_tests {
    use super::*;

    fn parse(text: &str) -> Config {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn numbers_carry_fields_and_text_prompts_may_use_them() {
        let config = parse(
            r#"
            prompts = [{ text = "Hello {name}, this is a reminder for {number}." }, "beep.wav"]
            [outbound]
            from = "800"
            numbers = [{ number = "201", name = "Ada" }, { number = "202", name = "Bob" }]
            "#,
        );
        assert!(config.check().is_ok());
        let numbers = &config.outbound.as_ref().unwrap().numbers;
        assert_eq!(numbers[1].fields["name"], "Bob");
        assert_eq!(numbers[1].fields["number"], "202");
    }

    #[test]
    fn a_number_without_a_field_a_prompt_uses_is_refused_by_name() {
        let config = parse(
            r#"
            prompts = [{ text = "Hello {name}." }]
            [outbound]
            from = "800"
            numbers = [{ number = "201", name = "Ada" }, "202"]
            "#,
        );
        let error = config.check().unwrap_err();
        assert_eq!(error.key.as_deref(), Some("outbound.numbers"));
        assert!(
            error.message.contains("202 has no `name`"),
            "{}",
            error.message
        );
        let unclosed = parse(r#"prompts = [{ text = "Hello {name." }]"#);
        assert!(unclosed.check().unwrap_err().message.contains("without"));
        assert!(
            toml::from_str::<Config>(
                "prompts = ['a.wav']\n[outbound]\nfrom = '8'\nnumbers = [{ name = 'x' }]"
            )
            .is_err()
        );
    }
}
