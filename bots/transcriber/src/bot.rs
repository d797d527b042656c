//! [`Transcriber`]: the bot that records a call while streaming it to a recogniser.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use voicebot_bot::speech::{RetryPolicy, Transcriber as BatchEngine};
use voicebot_bot::{
    Bot, BotConfigError, BotContext, BotError, Call, CallEvent, Grammar, Recognizer,
    SessionOptions, StreamExt, async_trait,
};

use crate::NAME;
use crate::batch::transcribe_file;
use crate::config::{Config, EngineChoice, RecordSetting};
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

/// Why a batch transcriber cannot be built without `[transcription]`.
const NO_TRANSCRIPTION: &str = "engine = \"batch\" needs a transcription engine, and \
    `transcription.engine` is not set: add `[transcription]` to voicebot.toml with \
    `engine = { url = \"http://127.0.0.1:8080\" }` (a /v1/audio/transcriptions server) or \
    `engine = { command = [\"prog\", \"{wav}\"] }` (embedding: `BotContext::with_transcriber`)";

/// The `transcriber` bot: checked settings and the engine, shared by all calls.
pub struct Transcriber {
    config: Config,
    grammar: Option<Grammar>,
    engine: Engine,
    recordings_dir: PathBuf,
    /// Batch transcriptions still running: they outlive their calls (a long recording takes
    /// longer than a bot's grace after the hang-up), and end with the bot.
    jobs: Arc<std::sync::Mutex<JoinSet<()>>>,
}

/// The engine a [`Transcriber`] uses, by its `engine` setting.
enum Engine {
    Stream(Arc<dyn Recognizer>),
    Batch(Arc<dyn BatchEngine>, RetryPolicy),
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
        let engine = match config.engine {
            EngineChoice::Stream => match context.recognizer() {
                Some(recognizer) => Engine::Stream(Arc::clone(recognizer)),
                // No key of the bot's own table is at fault (the binary would place it
                // under the route point's `config`): what is missing is the engine's
                // recogniser, named in the message.
                None => return Err(BotConfigError::new(NAME, None, NO_RECOGNIZER)),
            },
            EngineChoice::Batch => match context.transcriber() {
                Some((transcriber, retry)) => Engine::Batch(Arc::clone(transcriber), retry),
                None => return Err(BotConfigError::new(NAME, Some("engine"), NO_TRANSCRIPTION)),
            },
        };
        if matches!(engine, Engine::Batch(..)) && config.record.template().is_none() {
            return Err(BotConfigError::new(
                NAME,
                Some("record"),
                "engine = \"batch\" transcribes the recording, so record cannot be false",
            ));
        }
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
            engine,
            recordings_dir: context.recordings_dir().to_owned(),
            jobs: Arc::default(),
        })
    }

    async fn sinks(
        &self,
        base: &std::path::Path,
        call: &Call,
    ) -> Result<(Sinks, Option<crate::webhook::WebhookWorker>), BotError> {
        let sinks_config = &self.config.sinks;
        let mut sinks = Sinks::new().partials(self.config.partials).for_call(call);
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
        let recognizer = match &self.engine {
            Engine::Stream(recognizer) => recognizer,
            Engine::Batch(transcriber, retry) => {
                return self.batch(&call, &base, transcriber, retry).await;
            }
        };
        let (mut sinks, worker) = self.sinks(&base, &call).await?;
        let mut options = SessionOptions::new()
            .call_offset(call_time)
            .partial_results(self.config.partials);
        if let Some(grammar) = &self.grammar {
            options = options.grammar(grammar.clone());
        }
        let session = match recognizer.start(options).await {
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

impl Transcriber {
    /// Batch mode: records the call, then hands the recording to a job that transcribes it
    /// and writes the lines (the job outlives the call, so a long transcription is not cut
    /// short by the bot's grace after the hang-up).
    async fn batch(
        &self,
        call: &Call,
        base: &std::path::Path,
        transcriber: &Arc<dyn BatchEngine>,
        retry: &RetryPolicy,
    ) -> Result<(), BotError> {
        let recorded = call
            .record()
            .path_template(base.to_string_lossy())
            .max_length(self.config.max_length)
            .no_silence_timeout()
            .finish_on("")
            .beep(false)
            .await;
        let recording = match recorded {
            Ok(recording) => recording,
            Err(error) => return Err(error.into()),
        };
        tracing::info!(path = %recording.path.display(), duration = ?recording.duration, "recorded; transcribing");
        let (mut sinks, worker) = self.sinks(&recording.path, call).await?;
        let (transcriber, retry) = (Arc::clone(transcriber), *retry);
        let call_id = call.info().call_id();
        let path = recording.path.clone();
        let drain = self.config.sinks.webhook.as_ref().map(|w| w.drain);
        let job = async move {
            match transcribe_file(&transcriber, &retry, &path, call_id, &mut sinks).await {
                Ok(summary) => {
                    tracing::info!(lines = summary.lines, channels = summary.channels, path = %path.display(), "transcribed")
                }
                Err(error) => {
                    tracing::warn!(%error, path = %path.display(), "not transcribed; the recording is kept")
                }
            }
            drop(sinks);
            if let (Some(worker), Some(drain)) = (worker, drain) {
                let _ = tokio::time::timeout(drain, worker.run()).await;
            }
        };
        let mut jobs = self
            .jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Reap finished jobs so the set does not grow with every call.
        while jobs.try_join_next().is_some() {}
        jobs.spawn(job);
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
