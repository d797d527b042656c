//! The menu's configuration as written in TOML: [`Config`], [`NodeConfig`],
//! [`Action`], [`HoursConfig`]. It is checked and turned into a menu when the bot is
//! built, so nothing here is looked at twice during a call.

mod option;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use voicebot_bot::PromptSource;

pub use self::option::OptionConfig;

/// The `ivr-menu` bot's configuration. See the crate docs for an example.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Node where calls start when there is no `hours` table (default `"main"`).
    #[serde(default = "default_start")]
    pub start: String,
    /// How long to wait for a key after a node's prompt (default `"5s"`).
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Failed tries per node, bad key or silence, before `on_failure` (default 3).
    #[serde(default = "default_tries")]
    pub tries: u32,
    /// Played after a key that is not an option of the node.
    #[serde(default)]
    pub invalid_prompt: Option<PromptSource>,
    /// Played after the caller pressed nothing within the timeout.
    #[serde(default)]
    pub timeout_prompt: Option<PromptSource>,
    /// Played when a transfer or route was refused, before the node is asked again.
    #[serde(default)]
    pub unavailable_prompt: Option<PromptSource>,
    /// Key that plays the current node's prompt again (not counted as a try).
    #[serde(default)]
    pub repeat_key: Option<char>,
    /// Key that returns to the node we came from (at the start node it repeats).
    #[serde(default)]
    pub back_key: Option<char>,
    /// What happens once a node's tries are used up (default: hang up). Never a
    /// sub-menu, so that a silent line cannot loop forever.
    #[serde(default = "default_failure")]
    pub on_failure: Action,
    /// Office hours choosing the start node; absent means always `start`.
    #[serde(default)]
    pub hours: Option<HoursConfig>,
    /// The menu nodes by id.
    pub nodes: BTreeMap<String, NodeConfig>,
}

/// One menu node: a prompt and what each key does.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// The menu prompt, played at the start of each try.
    pub prompt: PromptSource,
    /// Keys (one or more DTMF digits, e.g. `"1"` or `"42"`) to actions, each with
    /// the words that may say it (`say = [...]`).
    #[serde(default)]
    pub options: BTreeMap<String, OptionConfig>,
    /// Overrides the menu's `timeout` for this node.
    #[serde(default, with = "humantime_serde")]
    pub timeout: Option<Duration>,
    /// Overrides the menu's `tries` for this node.
    #[serde(default)]
    pub tries: Option<u32>,
    /// Overrides the menu's `invalid_prompt` for this node.
    #[serde(default)]
    pub invalid_prompt: Option<PromptSource>,
    /// Overrides the menu's `timeout_prompt` for this node.
    #[serde(default)]
    pub timeout_prompt: Option<PromptSource>,
    /// Press or say: words a caller may say instead of pressing, each mapped to an
    /// option key (`say = { "sales" = "1", "support" = "2" }`); options may list
    /// their words themselves instead (`say = ["sales"]`). Needs a speech recogniser
    /// (`[speech]` in voicebot.toml).
    #[serde(default)]
    pub say: BTreeMap<String, String>,
}

/// What a menu option does, written `{ action = "...", ... }`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Go to another node (a sub-menu); the back key returns.
    Menu {
        /// The node's id.
        node: String,
    },
    /// Blind-transfer the caller (`transferto`).
    Transfer {
        /// Extension, queue or number.
        to: String,
    },
    /// Route the caller (`routeto`), looping a prompt while the destination rings.
    RouteTo {
        /// Extension, queue or number.
        to: String,
        /// Played in a loop while it rings (e.g. ringback).
        #[serde(default)]
        prompt: Option<PromptSource>,
        /// How long it may ring (the PBX's default when absent).
        #[serde(default, with = "humantime_serde")]
        timeout: Option<Duration>,
    },
    /// Hand the caller to the `recorder` bot (voicemail).
    Recorder {
        /// The recorder's own configuration (its defaults when absent).
        #[serde(default = "empty_table")]
        config: toml::Value,
    },
    /// Hand the caller to any registered bot.
    Bot {
        /// The bot's registered name (e.g. `"echo"`).
        name: String,
        /// The bot's own configuration.
        #[serde(default = "empty_table")]
        config: toml::Value,
    },
    /// Say goodbye and hang up.
    Hangup {
        /// Played before hanging up.
        #[serde(default)]
        prompt: Option<PromptSource>,
    },
}

/// Office hours: a weekly schedule in a time zone, plus holidays (always closed).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursConfig {
    /// IANA time zone name, e.g. `"Europe/Berlin"`.
    pub time_zone: String,
    /// Start node while open.
    pub open: String,
    /// Start node while closed.
    pub closed: String,
    /// Opening times per weekday as `"HH:MM-HH:MM"` ranges (`"24:00"` ends a day).
    #[serde(default)]
    pub week: WeekConfig,
    /// Closed dates as `"YYYY-MM-DD"`, in the time zone above.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// Opening times for each weekday; a day left out is closed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // the field names are the weekdays
pub struct WeekConfig {
    #[serde(default)]
    pub mon: Vec<String>,
    #[serde(default)]
    pub tue: Vec<String>,
    #[serde(default)]
    pub wed: Vec<String>,
    #[serde(default)]
    pub thu: Vec<String>,
    #[serde(default)]
    pub fri: Vec<String>,
    #[serde(default)]
    pub sat: Vec<String>,
    #[serde(default)]
    pub sun: Vec<String>,
}

impl WeekConfig {
    /// The days Monday first, with their config key.
    pub(crate) fn days(&self) -> [(&'static str, &[String]); 7] {
        [
            ("mon", &self.mon),
            ("tue", &self.tue),
            ("wed", &self.wed),
            ("thu", &self.thu),
            ("fri", &self.fri),
            ("sat", &self.sat),
            ("sun", &self.sun),
        ]
    }
}

fn default_start() -> String {
    "main".to_owned()
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

fn default_tries() -> u32 {
    3
}

fn default_failure() -> Action {
    Action::Hangup { prompt: None }
}

fn empty_table() -> toml::Value {
    toml::Value::Table(toml::Table::new())
}
