//! [`BotRegistry`]: bot names to factories, so bots plug in without engine changes.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::bot::Bot;
use crate::context::BotContext;
use crate::error::BotConfigError;

type Factory =
    Box<dyn Fn(toml::Value, &BotContext) -> Result<Arc<dyn Bot>, BotConfigError> + Send + Sync>;

/// What a bot factory returns: the bot itself, or `Result<bot, BotConfigError>` when
/// the factory checks its configuration (a key out of range, two settings that
/// contradict each other) and may refuse it, naming the key.
#[diagnostic::on_unimplemented(
    message = "a bot factory must return a `Bot` or `Result<impl Bot, BotConfigError>`, not `{Self}`",
    label = "returned by this factory"
)]
pub trait IntoBot {
    /// The bot built.
    type Bot: Bot;

    /// The bot, or why the configuration was refused.
    ///
    /// # Errors
    /// The factory's [`BotConfigError`].
    fn into_bot(self) -> Result<Self::Bot, BotConfigError>;
}

impl<B> IntoBot for B
where
    B: Bot,
{
    type Bot = B;

    fn into_bot(self) -> Result<B, BotConfigError> {
        Ok(self)
    }
}

impl<B> IntoBot for Result<B, BotConfigError>
where
    B: Bot,
{
    type Bot = B;

    fn into_bot(self) -> Result<B, BotConfigError> {
        self
    }
}

/// Maps bot names (as used in the engine's TOML) to factories that build a bot
/// from its own typed configuration.
///
/// ```
/// use serde::Deserialize;
/// use voicebot_bot::{async_trait, Bot, BotError, BotRegistry, Call};
///
/// #[derive(Deserialize)]
/// struct Config { greeting: String }
///
/// struct Greeter { config: Config }
///
/// #[async_trait]
/// impl Bot for Greeter {
///     async fn handle(&self, call: Call) -> Result<(), BotError> {
///         call.play(self.config.greeting.as_str()).await?;
///         Ok(())
///     }
/// }
///
/// let mut registry = BotRegistry::new();
/// registry.register("greeter", |config: Config| Greeter { config });
/// let config: toml::Value = toml::from_str(r#"greeting = "hello.wav""#).unwrap();
/// assert!(registry.build("greeter", config).is_ok());
/// ```
#[derive(Default)]
pub struct BotRegistry {
    factories: BTreeMap<String, Factory>,
}

impl BotRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `name`, built by `factory` from a configuration of type `C`
    /// deserialised from the bot's TOML table. The factory returns the bot, or a
    /// `Result` refusing a configuration that deserialised but makes no sense (see
    /// [`IntoBot`]). A later registration of the same name replaces the earlier one.
    pub fn register<C, R>(&mut self, name: &str, factory: fn(C) -> R) -> &mut Self
    where
        C: DeserializeOwned + 'static,
        R: IntoBot + 'static,
    {
        let bot = name.to_owned();
        self.insert(name, move |value, _context| {
            let config = typed::<C>(&bot, value)?;
            Ok(Arc::new(factory(config).into_bot()?) as Arc<dyn Bot>)
        })
    }

    /// Registers `name`, built by `factory` from its typed configuration and the
    /// engine's [`BotContext`] (dialer, recordings folder, other bots). The factory
    /// may reject a configuration that deserialised but makes no sense.
    pub fn register_with<C, B>(
        &mut self,
        name: &str,
        factory: fn(C, &BotContext) -> Result<B, BotConfigError>,
    ) -> &mut Self
    where
        C: DeserializeOwned + 'static,
        B: Bot,
    {
        let bot = name.to_owned();
        self.insert(name, move |value, context| {
            let config = typed::<C>(&bot, value)?;
            Ok(Arc::new(factory(config, context)?) as Arc<dyn Bot>)
        })
    }

    /// Registers `name` with a factory that reads the raw TOML itself.
    pub fn register_fn<F>(&mut self, name: &str, factory: F) -> &mut Self
    where
        F: Fn(toml::Value) -> Result<Arc<dyn Bot>, BotConfigError> + Send + Sync + 'static,
    {
        self.insert(name, move |value, _context| factory(value))
    }

    fn insert<F>(&mut self, name: &str, factory: F) -> &mut Self
    where
        F: Fn(toml::Value, &BotContext) -> Result<Arc<dyn Bot>, BotConfigError>
            + Send
            + Sync
            + 'static,
    {
        if self
            .factories
            .insert(name.to_owned(), Box::new(factory))
            .is_some()
        {
            tracing::warn!(
                bot = name,
                "bot registered twice; the last registration wins"
            );
        }
        self
    }

    /// Builds the bot `name` from `config` (its TOML table; an empty table when the
    /// configuration has none).
    ///
    /// # Errors
    /// [`BotConfigError`] naming the bot, and the key when known, if no such bot
    /// is registered or its configuration does not fit.
    pub fn build(&self, name: &str, config: toml::Value) -> Result<Arc<dyn Bot>, BotConfigError> {
        self.build_with(name, config, &BotContext::default())
    }

    /// Builds the bot `name` from `config` with the engine's `context`.
    ///
    /// # Errors
    /// As [`BotRegistry::build`].
    pub fn build_with(
        &self,
        name: &str,
        config: toml::Value,
        context: &BotContext,
    ) -> Result<Arc<dyn Bot>, BotConfigError> {
        match self.factories.get(name) {
            Some(factory) => factory(config, context),
            None => Err(BotConfigError::new(
                name,
                None,
                format!(
                    "no bot of this name (known: {})",
                    self.names().collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }

    /// The registered names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.factories.keys().map(String::as_str)
    }
}

impl fmt::Debug for BotRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// Deserialises a bot's configuration; an error names the full key path
/// (`retry.delay`, `options[2].key`).
fn typed<C>(bot: &str, value: toml::Value) -> Result<C, BotConfigError>
where
    C: DeserializeOwned,
{
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().message().trim().to_owned();
        let key = key_path(&path, &message);
        BotConfigError::new(bot, key.as_deref(), message)
    })
}

/// The key at fault: the path serde_path_to_error tracked (`"."` is the root), plus
/// the field a missing- or unknown-field error names in backticks, which sits one
/// level below that path.
fn key_path(path: &str, message: &str) -> Option<String> {
    let field = match message.starts_with("missing field") || message.starts_with("unknown field") {
        true => message.split('`').nth(1).filter(|field| !field.is_empty()),
        false => None,
    };
    let path = (path != ".").then_some(path);
    match (path, field) {
        (None, None) => None,
        (None, Some(field)) => Some(field.to_owned()),
        (Some(path), None) => Some(path.to_owned()),
        (Some(path), Some(field)) if path.ends_with(&format!(".{field}")) || path == field => {
            Some(path.to_owned())
        }
        (Some(path), Some(field)) => Some(format!("{path}.{field}")),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use test_case::test_case;

    use super::*;
    use crate::bot_fn;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct MenuConfig {
        greeting: String,
        #[serde(default)]
        tries: u32,
        #[serde(default)]
        retry: Option<Retry>,
        #[serde(default)]
        options: Vec<MenuOption>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Retry {
        count: u32,
        #[serde(default)]
        delay_ms: u64,
    }

    #[derive(Debug, Deserialize)]
    struct MenuOption {
        key: char,
    }

    fn menu(config: MenuConfig) -> impl Bot {
        let greeting = config.greeting;
        let retry = config.retry.map(|retry| (retry.count, retry.delay_ms));
        let keys: String = config.options.iter().map(|option| option.key).collect();
        let _ = (config.tries, retry, keys);
        bot_fn(move |call| {
            let greeting = greeting.clone();
            async move {
                call.play(greeting.as_str()).await?;
                Ok(())
            }
        })
    }

    fn registry() -> BotRegistry {
        let mut registry = BotRegistry::new();
        registry.register("menu", menu);
        registry
    }

    fn table(text: &str) -> toml::Value {
        toml::Value::Table(toml::from_str(text).unwrap())
    }

    #[test]
    fn builds_a_bot_from_its_typed_config() {
        assert!(
            registry()
                .build("menu", table("greeting = 'hi.wav'\ntries = 3"))
                .is_ok()
        );
        assert_eq!(registry().names().collect::<Vec<_>>(), ["menu"]);
    }

    #[test_case("tries = 3", "greeting" ; "a missing key")]
    #[test_case("greeting = 'a'\ngretting = 'b'", "gretting" ; "an unknown key")]
    #[test_case("greeting = 'a'\ntries = 'soon'", "tries" ; "a bad value")]
    #[test_case("greeting = 'a'\ntries = -1", "tries" ; "a value out of range")]
    #[test_case("greeting = 'a'\nretry = { count = 'soon' }", "retry.count" ; "a bad nested value")]
    #[test_case("greeting = 'a'\nretry = { delay_ms = 5 }", "retry.count" ; "a missing nested key")]
    #[test_case("greeting = 'a'\nretry = { count = 1, cuont = 2 }", "retry.cuont" ; "an unknown nested key")]
    #[test_case("greeting = 'a'\noptions = [{ key = '1' }, { key = 'xy' }]", "options[1].key" ; "a bad value in a list")]
    #[test_case("greeting = 'a'\noptions = [{ }]", "options[0].key" ; "a missing key in a list")]
    fn every_config_error_names_its_key_path(config: &str, key: &str) {
        let error = registry().build("menu", table(config)).err().unwrap();
        assert_eq!(error.bot, "menu");
        assert_eq!(error.key.as_deref(), Some(key), "{error}");
    }

    #[test]
    fn typed_factories_may_refuse_what_deserialised() {
        fn checked(config: MenuConfig) -> Result<Quiet, BotConfigError> {
            match config.tries {
                0 => Err(BotConfigError::new(
                    "checked",
                    Some("tries"),
                    "must be 1 or more",
                )),
                _ => Ok(Quiet),
            }
        }
        let mut registry = BotRegistry::new();
        registry.register("checked", checked);
        assert!(
            registry
                .build("checked", table("greeting = 'a'\ntries = 2"))
                .is_ok()
        );
        let error = registry
            .build("checked", table("greeting = 'a'\ntries = 0"))
            .err()
            .unwrap();
        assert_eq!(error.key.as_deref(), Some("tries"));
    }

    #[test]
    fn an_unknown_bot_is_an_error_naming_it() {
        let error = registry().build("nope", table("")).err().unwrap();
        assert_eq!(error.bot, "nope");
        assert!(error.message.contains("menu"), "{}", error.message);
    }

    struct Quiet;

    #[async_trait::async_trait]
    impl Bot for Quiet {
        async fn handle(&self, _call: crate::Call) -> Result<(), crate::BotError> {
            Ok(())
        }
    }

    #[test]
    fn context_factories_see_the_context_and_may_refuse() {
        fn needs_dialer(
            _config: toml::Value,
            context: &BotContext,
        ) -> Result<Quiet, BotConfigError> {
            match context.dialer() {
                Some(_) => Ok(Quiet),
                None => Err(BotConfigError::new(
                    "campaign",
                    Some("mode"),
                    "outbound mode needs a dialer",
                )),
            }
        }
        let mut registry = BotRegistry::new();
        registry.register_with("campaign", needs_dialer);
        let error = registry.build("campaign", table("")).err().unwrap();
        assert_eq!(error.key.as_deref(), Some("mode"));
        let registry = Arc::new(registry);
        let context = BotContext::new().with_registry(Arc::clone(&registry));
        assert!(context.build_bot("nope", table("")).is_err());
    }

    #[test]
    fn raw_factories_can_check_config_themselves() {
        let mut registry = BotRegistry::new();
        registry.register_fn("strict", |value| match value.get("dn") {
            Some(_) => Ok(Arc::new(bot_fn(|_call| async { Ok(()) })) as Arc<dyn Bot>),
            None => Err(BotConfigError::new("strict", Some("dn"), "required")),
        });
        let error = registry.build("strict", table("")).err().unwrap();
        assert_eq!(error.to_string(), "bot `strict`, key `dn`: required");
    }
}
