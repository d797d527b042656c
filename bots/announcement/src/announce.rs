//! [`Announcement`]: the bot that plays the announcement on a call.

use std::collections::BTreeMap;

use voicebot_bot::{
    Bot, BotConfigError, BotContext, BotError, Call, CallError, PromptSource, SpeechText,
    async_trait,
};

use crate::config::{Config, Recipient, Repeat, Then, invalid};
use crate::template;

/// The `announcement` bot: plays the prompts, then hangs up or transfers. Runs
/// the same on inbound calls and on calls a [`Campaign`](crate::Campaign) placed.
#[derive(Debug, Clone)]
pub struct Announcement {
    config: Config,
}

impl Announcement {
    /// Checks `config`.
    ///
    /// # Errors
    /// [`BotConfigError`] naming the key for empty prompt or number lists, a zero
    /// count, an empty destination or a number listed twice.
    pub fn new(config: Config) -> Result<Self, BotConfigError> {
        config.check()?;
        Ok(Self { config })
    }

    /// As [`Announcement::new`]; in outbound mode the context must offer a dialer,
    /// so that a missing one shows when the configuration is loaded.
    ///
    /// # Errors
    /// As [`Announcement::new`], and `outbound` when there is no dialer.
    pub fn from_context(config: Config, context: &BotContext) -> Result<Self, BotConfigError> {
        config.check()?;
        if config.outbound.is_some() && context.dialer().is_none() {
            return Err(invalid(
                "outbound",
                "outbound mode needs the engine's dialer, and this context has none",
            ));
        }
        Self::new(config)
    }

    /// The checked configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

impl Announcement {
    /// Plays the announcement on `call`, its text prompts filled from `fields`.
    ///
    /// # Errors
    /// The call's errors.
    pub async fn announce(
        &self,
        call: &Call,
        fields: &BTreeMap<String, String>,
    ) -> Result<(), BotError> {
        let config = &self.config;
        let mut played = 0;
        loop {
            for prompt in &config.prompts {
                let prompt = match prompt {
                    PromptSource::Text(text) => PromptSource::Text(SpeechText {
                        // Checked when the configuration was loaded.
                        text: template::fill(&text.text, fields).unwrap_or_default(),
                        voice: text.voice.clone(),
                    }),
                    file => file.clone(),
                };
                // An announcement is heard whole: key presses do not cut it short.
                call.play(prompt).not_interruptible().await?;
            }
            played += 1;
            if let Repeat::Times(times) = config.repeat
                && played >= times
            {
                break;
            }
            if !config.pause.is_zero() {
                call.play(PromptSource::Silence(config.pause))
                    .not_interruptible()
                    .await?;
            }
        }
        if let Then::Transfer { to } = &config.then {
            match call.transfer(to.as_str()).await {
                Ok(()) => return Ok(()),
                // Refused: nobody to hand over to, so the call ends as with `hangup`.
                Err(CallError::Rejected { reason, .. }) => {
                    tracing::info!(%to, %reason, "transfer after the announcement refused");
                }
                Err(other) => return Err(other.into()),
            }
        }
        call.hangup().await?;
        Ok(())
    }
}

#[async_trait]
impl Bot for Announcement {
    fn prompts(&self) -> Vec<voicebot_bot::PromptRef> {
        let prompts = self.config.prompts.iter().enumerate();
        prompts
            .map(|(index, source)| {
                voicebot_bot::PromptRef::new(format!("prompts[{index}]"), source.clone())
            })
            .collect()
    }

    /// An inbound caller: text prompts get `{number}` (the caller's number) and no other
    /// field.
    async fn handle(&self, call: Call) -> Result<(), BotError> {
        let fields = Recipient::new(call.info().caller_number()).fields;
        self.announce(&call, &fields).await
    }
}

/// The announcement for one number of a campaign, with its fields.
#[derive(Debug)]
pub(crate) struct Addressed {
    pub(crate) bot: std::sync::Arc<Announcement>,
    pub(crate) recipient: Recipient,
}

#[async_trait]
impl Bot for Addressed {
    async fn handle(&self, call: Call) -> Result<(), BotError> {
        self.bot.announce(&call, &self.recipient.fields).await
    }
}
