//! The prompts a checked menu names, each with its key, for `voicebot run --check`.

use voicebot_bot::{PromptRef, PromptSource};

use crate::menu::{Choice, Menu};

impl Menu {
    /// Every prompt of every node (with the menu's defaults filled in), of the
    /// options' actions, and of the bots the options hand calls to.
    pub(crate) fn prompts(&self) -> Vec<PromptRef> {
        let mut prompts = Vec::new();
        let add = |prompts: &mut Vec<PromptRef>, key: String, source: Option<&PromptSource>| {
            if let Some(source) = source {
                prompts.push(PromptRef::new(key, source.clone()));
            }
        };
        add(
            &mut prompts,
            "unavailable_prompt".to_owned(),
            self.unavailable_prompt.as_ref(),
        );
        for (id, node) in &self.nodes {
            add(
                &mut prompts,
                format!("nodes.{id}.prompt"),
                Some(&node.prompt),
            );
            let invalid = node.invalid_prompt.as_ref();
            add(&mut prompts, format!("nodes.{id}.invalid_prompt"), invalid);
            let timeout = node.timeout_prompt.as_ref();
            add(&mut prompts, format!("nodes.{id}.timeout_prompt"), timeout);
        }
        for (key, choice) in self.choices() {
            match choice {
                Choice::RouteTo { prompt, .. } | Choice::Hangup { prompt } => {
                    add(&mut prompts, format!("{key}.prompt"), prompt.as_ref());
                }
                Choice::Bot { bot, .. } => {
                    for inner in bot.prompts() {
                        prompts.push(PromptRef {
                            key: format!("{key}.config.{}", inner.key),
                            source: inner.source,
                        });
                    }
                }
                Choice::Menu(_) | Choice::Transfer(_) => {}
            }
        }
        // A default prompt shared by several nodes is listed once per node, so a
        // broken one is reported at every place that uses it.
        prompts
    }

    /// Every action with the key path that names it.
    fn choices(&self) -> Vec<(String, &Choice)> {
        let mut choices = vec![("on_failure".to_owned(), &self.on_failure)];
        for (id, node) in &self.nodes {
            for (key, choice) in &node.options {
                choices.push((format!("nodes.{id}.options.{key}"), choice));
            }
        }
        choices
    }
}
