//! The checked menu tree: [`Menu`] with its [`Node`]s and [`Choice`]s, built from
//! a [`Config`] once, when the bot is built.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use voicebot_bot::{Bot, BotConfigError, BotContext, Digit, Grammar, PromptSource};

use crate::NAME;
use crate::config::{Action, Config, NodeConfig};
use crate::hours::Hours;

/// A menu whose every reference has been checked.
#[derive(Debug)]
pub(crate) struct Menu {
    pub(crate) nodes: BTreeMap<String, Node>,
    pub(crate) start: Start,
    pub(crate) repeat_key: Option<String>,
    pub(crate) back_key: Option<String>,
    pub(crate) on_failure: Choice,
    pub(crate) unavailable_prompt: Option<PromptSource>,
}

/// How a call picks its first node.
#[derive(Debug)]
pub(crate) enum Start {
    Always(String),
    Hours {
        // Boxed: a schedule is far larger than a node id, and built once.
        hours: Box<Hours>,
        open: String,
        closed: String,
    },
}

/// A node with the menu-wide defaults filled in.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) id: String,
    pub(crate) prompt: PromptSource,
    pub(crate) options: BTreeMap<String, Choice>,
    pub(crate) timeout: Duration,
    pub(crate) tries: u32,
    pub(crate) invalid_prompt: Option<PromptSource>,
    pub(crate) timeout_prompt: Option<PromptSource>,
    /// The longest key among options, repeat and back keys.
    pub(crate) max_digits: usize,
    /// Press or say: the words' grammar and, by choice index, the option key each says.
    pub(crate) say: Option<(Grammar, Vec<String>)>,
}

/// A checked [`Action`]; other bots are already built.
pub(crate) enum Choice {
    Menu(String),
    Transfer(String),
    RouteTo {
        to: String,
        prompt: Option<PromptSource>,
        timeout: Option<Duration>,
    },
    Bot {
        name: String,
        bot: Arc<dyn Bot>,
    },
    Hangup {
        prompt: Option<PromptSource>,
    },
}

impl fmt::Debug for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Menu(node) => write!(f, "Menu({node})"),
            Self::Transfer(to) => write!(f, "Transfer({to})"),
            Self::RouteTo { to, .. } => write!(f, "RouteTo({to})"),
            Self::Bot { name, .. } => write!(f, "Bot({name})"),
            Self::Hangup { .. } => f.write_str("Hangup"),
        }
    }
}

impl Menu {
    /// Checks `config` and builds the bots its options hand calls to.
    pub(crate) fn new(config: Config, context: &BotContext) -> Result<Self, BotConfigError> {
        if config.nodes.is_empty() {
            return Err(invalid("nodes", "the menu has no nodes"));
        }
        let repeat_key = special_key(config.repeat_key, "repeat_key")?;
        let back_key = special_key(config.back_key, "back_key")?;
        if repeat_key.is_some() && repeat_key == back_key {
            return Err(invalid("back_key", "the repeat and back keys are the same"));
        }
        let start = match &config.hours {
            None => {
                check_node(&config, &config.start, "start")?;
                Start::Always(config.start.clone())
            }
            Some(hours) => {
                check_node(&config, &hours.open, "hours.open")?;
                check_node(&config, &hours.closed, "hours.closed")?;
                Start::Hours {
                    hours: Box::new(Hours::new(hours)?),
                    open: hours.open.clone(),
                    closed: hours.closed.clone(),
                }
            }
        };
        if let Action::Menu { .. } = config.on_failure {
            return Err(invalid(
                "on_failure",
                "cannot be a menu: a silent caller would loop forever",
            ));
        }
        let on_failure = choice(&config, &config.on_failure, "on_failure", context)?;
        let mut nodes = BTreeMap::new();
        for (id, node) in &config.nodes {
            let keys = [&repeat_key, &back_key];
            nodes.insert(id.clone(), build_node(&config, id, node, keys, context)?);
        }
        Ok(Self {
            nodes,
            start,
            repeat_key,
            back_key,
            on_failure,
            unavailable_prompt: config.unavailable_prompt,
        })
    }

    /// The node a call starting at `now` begins with.
    pub(crate) fn start_node(&self, now: Timestamp) -> &str {
        match &self.start {
            Start::Always(node) => node,
            Start::Hours {
                hours,
                open,
                closed,
            } => match hours.is_open(now) {
                true => open,
                false => closed,
            },
        }
    }

    /// The node `id`; every id the menu hands out was checked when it was built.
    pub(crate) fn node(&self, id: &str) -> &Node {
        self.nodes
            .get(id)
            .expect("menu ids are checked when the menu is built")
    }
}

fn build_node(
    config: &Config,
    id: &str,
    node: &NodeConfig,
    special: [&Option<String>; 2],
    context: &BotContext,
) -> Result<Node, BotConfigError> {
    let mut options = BTreeMap::new();
    for (key, option) in &node.options {
        let path = format!("nodes.{id}.options.{key}");
        if key.is_empty() || key.chars().any(|c| Digit::new(c).is_err()) {
            return Err(invalid(&path, "option keys are DTMF digits (0-9, *, #)"));
        }
        if special
            .iter()
            .any(|special| special.as_deref() == Some(key))
        {
            return Err(invalid(&path, "this key is already the repeat or back key"));
        }
        options.insert(key.clone(), choice(config, &option.action, &path, context)?);
    }
    let tries = node.tries.unwrap_or(config.tries);
    if tries == 0 {
        let key = match node.tries {
            Some(_) => format!("nodes.{id}.tries"),
            None => "tries".to_owned(),
        };
        return Err(invalid(&key, "at least one try is needed"));
    }
    let say = say_grammar(id, node, &options, context)?;
    let max_digits = options
        .keys()
        .chain(special.into_iter().flatten())
        .map(String::len)
        .max()
        .unwrap_or(1);
    Ok(Node {
        id: id.to_owned(),
        prompt: node.prompt.clone(),
        say,
        options,
        timeout: node.timeout.unwrap_or(config.timeout),
        tries,
        invalid_prompt: node
            .invalid_prompt
            .clone()
            .or_else(|| config.invalid_prompt.clone()),
        timeout_prompt: node
            .timeout_prompt
            .clone()
            .or_else(|| config.timeout_prompt.clone()),
        max_digits,
    })
}

fn choice(
    config: &Config,
    action: &Action,
    key: &str,
    context: &BotContext,
) -> Result<Choice, BotConfigError> {
    let built = |name: &str, bot_config: &toml::Value| {
        let bot = context
            .build_bot(name, bot_config.clone())
            .map_err(|error| {
                // Name our key; the inner error names the other bot's key.
                invalid(key, format!("cannot build bot `{name}`: {error}"))
            })?;
        Ok(Choice::Bot {
            name: name.to_owned(),
            bot,
        })
    };
    match action {
        Action::Menu { node } => {
            check_node(config, node, key)?;
            Ok(Choice::Menu(node.clone()))
        }
        Action::Transfer { to } => Ok(Choice::Transfer(destination(to, key)?)),
        Action::RouteTo {
            to,
            prompt,
            timeout,
        } => Ok(Choice::RouteTo {
            to: destination(to, key)?,
            prompt: prompt.clone(),
            timeout: *timeout,
        }),
        Action::Recorder { config } => built("recorder", config),
        Action::Bot { name, config } => built(name, config),
        Action::Hangup { prompt } => Ok(Choice::Hangup {
            prompt: prompt.clone(),
        }),
    }
}

fn destination(to: &str, key: &str) -> Result<String, BotConfigError> {
    match to.trim() {
        "" => Err(invalid(key, "the destination `to` is empty")),
        to => Ok(to.to_owned()),
    }
}

fn check_node(config: &Config, node: &str, key: &str) -> Result<(), BotConfigError> {
    match config.nodes.contains_key(node) {
        true => Ok(()),
        false => Err(invalid(
            key,
            format!(
                "no node `{node}` (nodes: {})",
                config.nodes.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

fn special_key(key: Option<char>, name: &str) -> Result<Option<String>, BotConfigError> {
    match key {
        None => Ok(None),
        Some(key) => match Digit::new(key) {
            Ok(_) => Ok(Some(key.to_string())),
            Err(_) => Err(invalid(name, format!("`{key}` is not a DTMF key"))),
        },
    }
}

/// A node's words, from its `say` map and its options' `say` lists, as a grammar and
/// the option key of each of its choices.
fn say_grammar(
    id: &str,
    node: &NodeConfig,
    options: &BTreeMap<String, Choice>,
    context: &BotContext,
) -> Result<Option<(Grammar, Vec<String>)>, BotConfigError> {
    // (word, option key, the config key that wrote it), in the order written.
    let mut said: Vec<(&str, &str, String)> = node
        .say
        .iter()
        .map(|(word, key)| (word.as_str(), key.as_str(), format!("nodes.{id}.say")))
        .collect();
    for (key, option) in &node.options {
        let path = format!("nodes.{id}.options.{key}.say");
        said.extend(
            option
                .say
                .iter()
                .map(|word| (word.as_str(), key.as_str(), path.clone())),
        );
    }
    let Some((_, _, first)) = said.first() else {
        return Ok(None);
    };
    if context.recognizer().is_none() {
        return Err(invalid(
            first,
            "saying options needs a speech recogniser: set `[speech] recognizer` in voicebot.toml",
        ));
    }
    let mut phrases: Vec<String> = Vec::with_capacity(said.len());
    for (word, key, path) in &said {
        if !options.contains_key(*key) {
            return Err(invalid(
                &format!("{path}.{word}"),
                format!("{key:?} is not an option key of this node"),
            ));
        }
        // Compared as the grammar will hear them: "Sales" and "sales" are one word.
        let phrase = Grammar::choices([word])
            .map_err(|error| invalid(path, format!("{word:?}: {error}")))?
            .phrases()
            .and_then(|mut phrases| phrases.pop())
            .unwrap_or_default();
        if let Some(index) = phrases.iter().position(|p| *p == phrase) {
            return Err(invalid(
                path,
                format!("{word:?} is already said for option {:?}", said[index].1),
            ));
        }
        phrases.push(phrase);
    }
    let grammar = Grammar::choices(&phrases).map_err(|error| invalid(first, error.to_string()))?;
    let keys = said.iter().map(|(_, key, _)| (*key).to_owned()).collect();
    Ok(Some((grammar, keys)))
}

pub(crate) fn invalid(key: &str, message: impl Into<String>) -> BotConfigError {
    BotConfigError::new(NAME, Some(key), message)
}
