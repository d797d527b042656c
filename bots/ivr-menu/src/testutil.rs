//! Test helpers: a context whose registry has stand-ins for the bots menus hand
//! calls to, and menus built from TOML text.

use std::sync::Arc;

use voicebot_bot::{BotContext, BotRegistry, bot_fn};

use crate::menu::Menu;

/// A context whose registry knows `echo` and `recorder` (bots that do nothing).
pub(crate) fn context() -> BotContext {
    let mut registry = BotRegistry::new();
    for name in ["echo", "recorder"] {
        registry.register_fn(name, |_config| {
            Ok(Arc::new(bot_fn(|_call| async { Ok(()) })) as Arc<dyn voicebot_bot::Bot>)
        });
    }
    BotContext::new().with_registry(Arc::new(registry))
}

/// The checked menu of `text`; panics on any error (tests of errors use `Menu::new`).
pub(crate) fn menu(text: &str) -> Menu {
    Menu::new(toml::from_str(text).unwrap(), &context()).unwrap()
}
