//! [`Echo`]: the caller's audio, back to the caller, a little later.

use tokio::time::{Instant, sleep_until};
use voicebot_bot::{Bot, BotConfigError, BotContext, BotError, Call, StreamExt, async_trait};

use crate::NAME;
use crate::config::Config;
use crate::delay::DelayLine;

/// The `echo` bot.
#[derive(Debug, Clone)]
pub struct Echo {
    config: Config,
}

impl Echo {
    /// Checks `config`.
    ///
    /// # Errors
    /// [`BotConfigError`] naming `max_duration` when it is zero or not longer than
    /// the delay (the caller would never hear anything).
    pub fn new(config: Config) -> Result<Self, BotConfigError> {
        if config.max_duration <= config.delay {
            return Err(BotConfigError::new(
                NAME,
                Some("max_duration"),
                "must be longer than `delay`, or the caller never hears the echo",
            ));
        }
        Ok(Self { config })
    }

    /// [`Echo::new`] in the shape of a registry factory (the echo needs no context).
    ///
    /// # Errors
    /// As [`Echo::new`].
    pub fn from_context(config: Config, _context: &BotContext) -> Result<Self, BotConfigError> {
        Self::new(config)
    }
}

#[async_trait]
impl Bot for Echo {
    fn prompts(&self) -> Vec<voicebot_bot::PromptRef> {
        let intro = self.config.intro.clone();
        intro
            .map(|source| voicebot_bot::PromptRef::new("intro", source))
            .into_iter()
            .collect()
    }

    async fn handle(&self, call: Call) -> Result<(), BotError> {
        let deadline = Instant::now() + self.config.max_duration;
        if let Some(intro) = &self.config.intro {
            call.play(intro.clone()).await?;
        }
        // Subscribe after the intro, so the echo starts with what the caller says
        // next rather than with whatever was said over the intro.
        let mut audio = call.audio();
        let sink = call.audio_sink();
        let mut line = DelayLine::new(self.config.delay);
        loop {
            let frame = tokio::select! {
                frame = audio.next() => frame,
                () = sleep_until(deadline) => {
                    tracing::debug!("echo reached its maximum duration");
                    call.hangup().await?;
                    return Ok(());
                }
            };
            // The stream ends when the call's media does: the caller has gone.
            let Some(frame) = frame else {
                return Ok(());
            };
            if let Some(delayed) = line.push(frame) {
                sink.send(delayed).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests;
