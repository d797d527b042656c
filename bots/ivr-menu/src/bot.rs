//! [`IvrMenu`]: the bot that walks a caller through the menu.

use std::sync::Arc;

use voicebot_bot::async_trait;
use voicebot_bot::{
    Bot, BotConfigError, BotContext, BotError, Call, CallError, GatherEnd, PromptRef,
};

use crate::config::Config;
use crate::hours::{Clock, SystemClock};
use crate::menu::{Choice, Menu, Node};
use crate::navigator::{Input, Navigator, Step};

/// The `ivr-menu` bot: one checked menu tree, shared by all calls.
#[derive(Debug)]
pub struct IvrMenu {
    menu: Menu,
    clock: Arc<dyn Clock>,
}

impl IvrMenu {
    /// Checks `config` and builds the bots its options name through `context`.
    ///
    /// # Errors
    /// [`BotConfigError`] naming the key when a node, bot, key, time zone or
    /// schedule in `config` does not make sense.
    pub fn new(config: Config, context: &BotContext) -> Result<Self, BotConfigError> {
        Ok(Self {
            menu: Menu::new(config, context)?,
            clock: Arc::new(SystemClock),
        })
    }

    /// Uses `clock` for office hours instead of the system clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The node a call arriving now starts at (depends on office hours).
    pub fn start_node(&self) -> &str {
        self.menu.start_node(self.clock.now())
    }
}

#[async_trait]
impl Bot for IvrMenu {
    fn prompts(&self) -> Vec<PromptRef> {
        self.menu.prompts()
    }

    async fn handle(&self, call: Call) -> Result<(), BotError> {
        let start = self.start_node();
        let (mut navigator, mut step) = Navigator::start(&self.menu, start);
        loop {
            step = match step {
                Step::Ask { node, notice } => {
                    if let Some(notice) = notice {
                        call.play(notice.clone()).await?;
                    }
                    let keys = ask(&call, node).await?;
                    let input = match keys.as_deref() {
                        None => Input::Timeout,
                        Some(keys) => Input::Keys(keys),
                    };
                    tracing::debug!(node = %node.id, ?input, "menu input");
                    navigator.input(input)
                }
                Step::Run(choice) => match run(&call, choice).await {
                    Ok(()) => return Ok(()),
                    Err(Refused(reason)) => {
                        tracing::info!(node = %navigator.current().id, %reason, "destination refused the caller");
                        navigator.input(Input::Unavailable)
                    }
                    Err(Failed(error)) => return Err(error),
                },
            };
        }
    }
}

/// One try at `node`: its prompt, then its keys; `None` after silence, `Some("")` for
/// speech off the menu (no option has an empty key, so it is invalid input).
async fn ask(call: &Call, node: &Node) -> Result<Option<String>, CallError> {
    // `#` ends multi-digit input, unless the menu uses `#` as a key of its own.
    let hash_is_a_key = node.options.keys().any(|key| key.contains('#'));
    let finish_on = match node.max_digits > 1 && !hash_is_a_key {
        true => "#",
        false => "",
    };
    let mut gather = call
        .gather()
        .prompt(node.prompt.clone())
        .max_digits(node.max_digits)
        .timeout(node.timeout)
        .finish_on(finish_on)
        .tries(1);
    if let Some((grammar, _)) = &node.say {
        gather = gather.speech(grammar.clone());
    }
    let digits = gather.await?;
    // A word said stands for the option key it is mapped to.
    if let (Some(heard), Some((_, keys))) = (digits.heard(), &node.say) {
        tracing::debug!(node = %node.id, word = %heard.phrase, confidence = ?heard.confidence, "said");
        return Ok(keys.get(heard.index).cloned());
    }
    if let Some(heard) = digits.unmatched() {
        // Speech off the menu counts as an invalid key: the invalid prompt, then again.
        tracing::debug!(node = %node.id, heard = %heard.text, confidence = ?heard.confidence, "said something off the menu");
        return Ok(Some(String::new()));
    }
    Ok(match (digits.is_empty(), digits.ended_by()) {
        (true, GatherEnd::NoInput) => None,
        _ => Some(digits.as_str().to_owned()),
    })
}

enum RunError {
    /// The PBX refused a transfer or route: the caller is still with us.
    Refused(String),
    Failed(BotError),
}

use RunError::{Failed, Refused};

impl From<CallError> for RunError {
    fn from(error: CallError) -> Self {
        match error {
            CallError::Rejected { reason, .. } => Refused(reason),
            other => Failed(other.into()),
        }
    }
}

/// Carries out a choice that leaves the menu.
async fn run(call: &Call, choice: &Choice) -> Result<(), RunError> {
    match choice {
        Choice::Transfer(to) => call.transfer(to.as_str()).await?,
        Choice::RouteTo {
            to,
            prompt,
            timeout,
        } => {
            let mut route = call.route_to(to.as_str());
            if let Some(prompt) = prompt {
                route = route.prompt(prompt.clone());
            }
            if let Some(timeout) = timeout {
                route = route.timeout(*timeout);
            }
            route.await?;
        }
        Choice::Bot { bot, .. } => bot.handle(call.clone()).await.map_err(Failed)?,
        Choice::Hangup { prompt } => {
            if let Some(prompt) = prompt {
                call.play(prompt.clone()).not_interruptible().await?;
            }
            // A failed hang-up is not a destination refusing the caller: replaying the
            // menu to a caller who chose to hang up would loop. The engine ends the call.
            call.hangup()
                .await
                .map_err(|error| Failed(BotError::from(error)))?;
        }
        Choice::Menu(_) => unreachable!("the navigator enters sub-menus itself"),
    }
    Ok(())
}
