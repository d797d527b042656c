//! `my-menu`: a one-level menu whose keys and destinations come from its own
//! configuration, run by `voicebot run` beside the bundled bots.
//!
//! A sample call (what the caller hears and does):
//!
//! ```text
//! bot:    "Welcome. Press 1 for sales, 2 for support."    (greeting)
//! caller: (presses 7)
//! bot:    "Sorry, that is not an option." "Welcome. ..."   (invalid, greeting again)
//! caller: (presses 2)
//! bot:    (ringback while 3CX rings 200, then the caller talks to 200)
//! ```
//!
//! Nothing pressed after every try: the goodbye prompt, then the engine hangs up.
//!
//! A `voicebot.toml` that runs it (the sample beside this crate); its settings are
//! the `[route_points."800".config]` table, read into [`Config`]:
//!
//! ```toml
#![doc = include_str!("../voicebot.toml")]
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use voicebot::bot::{Bot, BotConfigError, BotError, Call, async_trait};

/// The name `voicebot.toml` uses: `bot = "my-menu"`.
pub const NAME: &str = "my-menu";

/// The bot's own settings. Unknown keys are refused, so a misspelt one is an error at
/// startup, naming the file, line and key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Played at the start of each try.
    pub greeting: PathBuf,
    /// Played after a key that is not a choice.
    pub invalid: PathBuf,
    /// Played when every try is over without a choice.
    pub goodbye: PathBuf,
    /// Tries before giving up.
    #[serde(default = "three")]
    pub tries: u32,
    /// Seconds to wait for a key after the greeting.
    #[serde(default = "five")]
    pub timeout_seconds: u64,
    /// Key → where to transfer the caller (an extension, a queue, a number).
    pub choices: BTreeMap<char, String>,
}

fn three() -> u32 {
    3
}

fn five() -> u64 {
    5
}

/// The `my-menu` bot.
#[derive(Debug, Clone)]
pub struct MyMenu {
    config: Config,
}

impl MyMenu {
    /// Checks `config`: what deserialised may still make no sense.
    ///
    /// # Errors
    /// [`BotConfigError`] naming the key: no choices, a choice key that is no DTMF
    /// key, an empty destination, or no tries.
    pub fn from_config(config: Config) -> Result<Self, BotConfigError> {
        let refuse = |key: &str, message: &str| Err(BotConfigError::new(NAME, Some(key), message));
        if config.choices.is_empty() {
            return refuse("choices", "needs at least one key");
        }
        for (key, destination) in &config.choices {
            if !matches!(key, '0'..='9' | '*' | '#') {
                return refuse(&format!("choices.{key}"), "is not a key of a phone");
            }
            if destination.trim().is_empty() {
                return refuse(&format!("choices.{key}"), "needs a destination");
            }
        }
        if config.tries == 0 {
            return refuse("tries", "must be 1 or more");
        }
        Ok(Self { config })
    }
}

#[async_trait]
impl Bot for MyMenu {
    async fn handle(&self, call: Call) -> Result<(), BotError> {
        let config = &self.config;
        let choices = config.choices.clone();
        let choice = call
            .gather()
            .prompt(config.greeting.as_path())
            .invalid_prompt(config.invalid.as_path())
            .max_digits(1)
            .timeout(std::time::Duration::from_secs(config.timeout_seconds))
            .tries(config.tries)
            .validate(move |keys| keys.chars().all(|key| choices.contains_key(&key)))
            .await?;
        let destination = choice
            .as_str()
            .chars()
            .next()
            .and_then(|key| config.choices.get(&key));
        match destination {
            Some(destination) => call.transfer(destination.as_str()).await?,
            None => drop(call.play(config.goodbye.as_path()).await?),
        }
        Ok(())
    }
}
