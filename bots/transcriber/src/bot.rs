//! [`Transcriber`]: the bot that records a call while streaming it to a recogniser.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use voicebot_bot::{
    Bot, BotConfigError, BotContext, BotError, Call, CallEvent, Grammar, Recognizer,
    SessionOptions, StreamExt, async_trait,
};

use crate::NAME;
use crate::config::{Config, RecordSetting};
use crate::pipeline::transcribe;
use crate::sinks::{Sinks, StdoutFormat};
use crate::webhook::Webhook;

/// How often the bot checks whether the call has ended (its audio stream outlives
/// the call until the engine lets go of it).
const END_POLL: Duration = Duration::from_millis(100);

/// Why the bot cannot be built without a recogniser, and how to give it one.
const NO_RECOGNIZER: &str = "the transcriber needs a speech recogniser, and `speech.recognizer` \
    is not set: add `[speech]` to voicebot.toml with `recognizer = \"pocketsphinx\"`, \
    `recognizer = { command = [\"my-asr\"] }` or `recognizer = { vosk = \"ws://127.0.0.1:2700\" }` \
    (embedding: `BotContext::with_recognizer`)";

/// The `transcriber` bot: checked settings and the recogniser, shared by all calls.
pub struct Transcriber {
    config: Config,
    grammar: Option<Grammar>,
    recognizer: Arc<dyn Recognizer>,
    recordings_dir: PathBuf,
}

impl std::fmt::Debug for Transcriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transcriber")
            .field("config", &self.config)
            .field("recordings_dir", &self.recordings_dir)
            .finish_non_exhaustive()
    }
}

impl Transcriber {
    /// Checks `config` and takes the recogniser and recordings folder from `context`.
    ///
    /// # Errors
    /// [`BotConfigError`] when the context has no recogniser, or the grammar, record
    /// template or webhook URL is unusable.
    pub fn new(config: Config, context: &BotContext) -> Result<Self, BotConfigError> {
        let Some(recognizer) = context.recognizer().cloned() else {
            // No key of the bot's own table is at fault (the binary would place it
            // under the route point's `config`): what is missing is the engine's
            // recogniser, named in the message.
            return Err(BotConfigError::new(NAME, None, NO_RECOGNIZER));
        };
        let grammar =
            match &config.grammar {
                Some(phrases) => Some(Grammar::choices(phrases).map_err(|error| {
                    BotConfigError::new(NAME, Some("grammar"), error.to_string())
                })?),
                None => None,
            };
        if let RecordSetting::Template(template) = &config.record
            && !template.ends_with(".wav")
        {
            return Err(BotConfigError::new(
                NAME,
                Some("record"),
                "the template must end in .wav",
            ));
        }
        if let Some(webhook) = &config.sinks.webhook {
            Webhook::new(webhook).map_err(|error| {
                BotConfigError::new(NAME, Some("sinks.webhook.url"), error.to_string())
            })?;
        }
        Ok(Self {
            config,
            grammar,
            recognizer,
            recordings_dir: context.recordings_dir().to_owned(),
        })
    }

    async fn sinks(
        &self,
        base: &std::path::Path,
    ) -> Result<(Sinks, Option<crate::webhook::WebhookWorker>), BotError> {
        let sinks_config = &self.config.sinks;
        let mut sinks = Sinks::new().partials(self.config.partials);
        if sinks_config.jsonl {
            sinks = sinks.jsonl(base.with_extension("jsonl")).await?;
        }
        if sinks_config.stdout {
            sinks = sinks.stdout(StdoutFormat::Json);
        }
        let mut worker = None;
        if let Some(config) = &sinks_config.webhook {
            let (webhook, run) = Webhook::new(config)?;
            sinks = sinks.webhook(webhook);
            worker = Some(run);
        }
        Ok((sinks, worker))
    }
}

#[async_trait]
impl Bot for Transcriber {
    fn prompts(&self) -> Vec<voicebot_bot::PromptRef> {
        let notice = self.config.notice.as_deref();
        notice
            .map(|path| voicebot_bot::PromptRef::new("notice", path))
            .into_iter()
            .collect()
    }

    async fn handle(&self, call: Call) -> Result<(), BotError> {
        call.answer().await?;
        if let Some(notice) = &self.config.notice {
            call.play(notice.as_path()).not_interruptible().await?;
        }
        let template = self
            .config
            .record
            .template()
            .unwrap_or(RecordSetting::DEFAULT_TEMPLATE);
        // One name for the recording and the transcript beside it.
        let base = self.recordings_dir.join(call.expand_path(template));
        // Subscribe before the recording starts, so both begin with the same frame.
        let audio = call.audio();
        // The session counts from the first frame after this subscription: this is
        // its call time, so results are timed from the call's start (a notice played
        // first counts), not from the start of the transcription.
        let call_time = call.elapsed();
        let events = call.events();
        let (mut sinks, worker) = self.sinks(&base).await?;
        let mut options = SessionOptions::new()
            .call_offset(call_time)
            .partial_results(self.config.partials);
        if let Some(grammar) = &self.grammar {
            options = options.grammar(grammar.clone());
        }
        let session = match self.recognizer.start(options).await {
            Ok(session) => Some(session),
            Err(error) => {
                // The recording matters more than its transcript: go on without one.
                tracing::warn!(%error, "the recogniser did not start; recording only");
                None
            }
        };
        let recording = async {
            if self.config.record.template().is_none() {
                return Ok(None);
            }
            call.record()
                .path_template(base.to_string_lossy())
                .max_length(self.config.max_length)
                .no_silence_timeout()
                .finish_on("")
                .beep(false)
                .await
                .map(Some)
        };
        let call_id = call.info().call_id();
        let (done, call_over) = tokio::sync::oneshot::channel::<()>();
        let transcription = async {
            let summary = match session {
                Some(session) => {
                    let stop = ended(&call, events);
                    Some(transcribe(session, audio, call_id, &mut sinks, stop).await)
                }
                None => {
                    ended(&call, events).await;
                    None
                }
            };
            // Closing the sinks closes the webhook queue: the worker drains and ends.
            drop(sinks);
            let _ = done.send(());
            summary
        };
        let drain = self.config.sinks.webhook.as_ref().map(|w| w.drain);
        let webhook = async {
            let (Some(worker), Some(drain)) = (worker, drain) else {
                return;
            };
            // What is still queued when the call ends gets `drain`, so a hanging server
            // cannot keep the bot (or its call's task) forever.
            let deadline = async {
                let _ = call_over.await;
                tokio::time::sleep(drain).await;
            };
            tokio::select! {
                () = worker.run() => {}
                () = deadline => tracing::warn!("the webhook did not take every result in time"),
            }
        };
        let (recorded, summary, ()) = tokio::join!(recording, transcription, webhook);
        if let Some(summary) = summary {
            tracing::info!(
                finals = summary.finals,
                frames_lost = summary.stats.frames_lost,
                restarts = summary.stats.restarts,
                "transcribed"
            );
        }
        match recorded {
            Ok(Some(recording)) => {
                tracing::info!(path = %recording.path.display(), duration = ?recording.duration, "recorded")
            }
            Ok(None) => {}
            Err(error) if error.is_hangup() => {}
            Err(error) => return Err(error.into()),
        }
        Ok(())
    }
}

/// Resolves once the call is over: a hang-up event, or the call marked ended.
async fn ended(call: &Call, mut events: voicebot_bot::CallEvents) {
    let mut poll = tokio::time::interval(END_POLL);
    loop {
        tokio::select! {
            event = events.next() => match event {
                Some(CallEvent::Hangup) => return,
                Some(_) => {}
                None => return,
            },
            _ = poll.tick() => if call.is_ended() {
                return;
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use voicebot_bot::BotContext;

    use super::*;

    #[test]
    fn without_a_recogniser_the_error_names_the_engine_key_and_how_to_set_it() {
        let config: Config = toml::from_str("").expect("the defaults parse");
        let error = Transcriber::new(config, &BotContext::new()).unwrap_err();
        assert_eq!(error.key, None, "no key of the bot's own table is at fault");
        for needed in [
            "speech.recognizer",
            "[speech]",
            "voicebot.toml",
            "recognizer = ",
        ] {
            assert!(error.message.contains(needed), "{needed}: {error}");
        }
    }
}
