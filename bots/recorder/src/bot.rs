//! [`Recorder`]: greeting, beep, record, metadata, "saved".

use jiff::Timestamp;
use voicebot_bot::{
    Bot, BotConfigError, BotContext, BotError, Call, Digit, RecordEnd, async_trait,
};

use crate::NAME;
use crate::config::Config;
use crate::metadata::Metadata;

/// The `recorder` bot.
#[derive(Debug, Clone)]
pub struct Recorder {
    config: Config,
    /// `config.path`, made absolute against the recordings folder.
    template: String,
}

impl Recorder {
    /// Checks `config`; relative paths are resolved against
    /// [`BotContext::recordings_dir`].
    ///
    /// # Errors
    /// [`BotConfigError`] naming the key for a zero `max_length`, a `finish_on`
    /// key that is not DTMF, or a `path` that is not a `.wav` file.
    pub fn new(config: Config, context: &BotContext) -> Result<Self, BotConfigError> {
        if config.max_length.is_zero() {
            return Err(invalid("max_length", "must be longer than zero"));
        }
        if let Some(key) = config
            .finish_on
            .chars()
            .find(|key| Digit::new(*key).is_err())
        {
            return Err(invalid("finish_on", format!("`{key}` is not a DTMF key")));
        }
        // The metadata goes to the same name with `.json`; anything but `.wav`
        // could make the two collide (a `.json` template) or confuse players.
        let stem = config.path.strip_suffix(".wav");
        if !stem.is_some_and(|stem| !stem.is_empty() && !stem.ends_with(['/', '\\'])) {
            return Err(invalid("path", "must name a `.wav` file"));
        }
        let template = context
            .recordings_dir()
            .join(&config.path)
            .to_string_lossy()
            .into_owned();
        Ok(Self { config, template })
    }

    /// The path template recordings are written to (absolute when the recordings
    /// folder is).
    pub fn path_template(&self) -> &str {
        &self.template
    }
}

#[async_trait]
impl Bot for Recorder {
    fn prompts(&self) -> Vec<voicebot_bot::PromptRef> {
        let named = [
            ("greeting", self.config.greeting.as_ref()),
            ("saved_prompt", self.config.saved_prompt.as_ref()),
        ];
        named
            .into_iter()
            .filter_map(|(key, source)| Some(voicebot_bot::PromptRef::new(key, source?.clone())))
            .collect()
    }

    async fn handle(&self, call: Call) -> Result<(), BotError> {
        let config = &self.config;
        if let Some(greeting) = &config.greeting {
            call.play(greeting.clone()).await?;
        }
        let mut record = call
            .record()
            .path_template(self.template.as_str())
            .beep(config.beep)
            .max_length(config.max_length)
            .finish_on(config.finish_on.as_str());
        record = match config.silence_timeout.is_zero() {
            true => record.no_silence_timeout(),
            false => record.silence_timeout(config.silence_timeout),
        };
        let start = Timestamp::now();
        // A hang-up mid-message is not an error here: the verb returns the
        // finished file with `RecordEnd::Hangup`, and the metadata is still due.
        let recording = record.await?;
        let metadata = Metadata::new(call.info(), start, &recording);
        match metadata.write().await {
            Ok(path) => tracing::info!(
                wav = %recording.path.display(),
                json = %path.display(),
                ended_by = %metadata.ended_by,
                "voicemail saved"
            ),
            Err(error) => {
                tracing::warn!(%error, wav = %recording.path.display(), "voicemail metadata not written");
                return Err(error.into());
            }
        }
        if recording.ended_by == RecordEnd::Hangup {
            return Ok(());
        }
        if let Some(saved) = &config.saved_prompt {
            call.play(saved.clone()).not_interruptible().await?;
        }
        call.hangup().await?;
        Ok(())
    }
}

fn invalid(key: &str, message: impl Into<String>) -> BotConfigError {
    BotConfigError::new(NAME, Some(key), message)
}

#[cfg(test)]
mod tests;
