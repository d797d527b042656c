//! The bots this binary ships: every crate under `bots/` registers itself here.

use voicebot_bot::BotRegistry;

/// A registry with every bundled bot: `ivr-menu`, `recorder`, `announcement`, `echo`,
/// `transcriber`, `webhook`, `stream`. [`crate::App`] adds its own.
pub(crate) fn bundled() -> BotRegistry {
    let mut registry = BotRegistry::new();
    voicebot_ivr_menu::register(&mut registry);
    voicebot_recorder::register(&mut registry);
    voicebot_announcement::register(&mut registry);
    voicebot_echo::register(&mut registry);
    voicebot_transcriber::register(&mut registry);
    voicebot_webhook::register(&mut registry);
    registry
}

#[cfg(test)]
mod tests {
    // Present, not "exactly these": bots are added (here, or by `App::bot`).
    #[test]
    fn every_bundled_bot_is_registered() {
        let registry = super::bundled();
        let names: Vec<&str> = registry.names().collect();
        for name in [
            "announcement",
            "echo",
            "ivr-menu",
            "recorder",
            "stream",
            "transcriber",
            "webhook",
        ] {
            assert!(names.contains(&name), "{name} is missing: {names:?}");
        }
    }
}
