//! Turns a [`Config`] into a ready engine: builds every route point's bot through the
//! registry (so bad bot settings fail at startup, naming the key), then the engine.
//! Shared by `voicebot run` and `voicebot demo`.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use voicebot_bot::{Bot, BotContext, BotRegistry, Dialer, PromptSource};
use voicebot_callcontrol::Client;
use voicebot_engine::{AdoptedCalls, AnswerMode, BusyTreatment, Engine, LateDialer};
use voicebot_speech::{Recognizer, Speaker};

use crate::config::{AdoptedCallsSetting, Answer, Config, RoutePoint, WhenBusy, build_bots};
use crate::exit::Exit;
use crate::records::CallRecords;

/// Builds the PBX client of `config` and checks that it can work: a token, then
/// `GET /callcontrol`. Failing here, with the right exit code, on a wrong address or
/// refused credentials beats letting the event task retry forever.
///
/// # Errors
/// Exit 2 for a bad URL or missing secret; the client's error (mapped to exit 3 or 4)
/// when the PBX is unreachable or refuses the credentials or API access.
pub(crate) async fn connect(config: &Config, path: &std::path::Path) -> anyhow::Result<Client> {
    let client = client(config, path)?;
    check(config, &client).await?;
    Ok(client)
}

/// Builds the PBX client of `config` without contacting the PBX.
///
/// # Errors
/// Exit 2 for a bad URL or a missing secret.
pub(crate) fn client(config: &Config, path: &std::path::Path) -> anyhow::Result<Client> {
    let secret = config.secret()?;
    Client::builder(config.url())
        .credentials(&config.pbx().client_id, secret)
        .tls(config.tls()?)
        .pbx_name(config.pbx_name())
        .build()
        .map_err(|error| {
            let key = config.pbx_key();
            Exit::Usage.error(format!("{}: {key}.url: {error}", path.display()))
        })
}

/// One try at a token and `GET /callcontrol`.
///
/// # Errors
/// The client's error, with what was being done as context (exit 3 when the PBX is
/// unreachable, 4 when it refuses the credentials or API access).
pub(crate) async fn check(config: &Config, client: &Client) -> anyhow::Result<()> {
    client.token_provider().token().await.with_context(|| {
        format!(
            "connecting to {} (PBX {}) as API client {}",
            config.url(),
            config.pbx_name(),
            config.pbx().client_id
        )
    })?;
    client
        .snapshot()
        .await
        .context("reading /callcontrol (does the API client have Call Control API access?)")?;
    Ok(())
}

/// The bots of a configuration, built and waiting for their engine.
pub(crate) struct Bots {
    bots: BTreeMap<String, Arc<dyn Bot>>,
    dialer: Arc<LateDialer>,
    recognizer: Option<Arc<dyn Recognizer>>,
    /// Checked here; opened with its cache in [`Bots::engine`].
    speaker: Speaker,
}

impl std::fmt::Debug for Bots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bots")
            .field("route_points", &self.bots.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Builds the bot of every route point from `registry` (the bundled bots and those of
/// [`crate::App`]). Needs no PBX, so configuration errors come before any network
/// error.
///
/// # Errors
/// A [`crate::config::ConfigError`] (exit 2) naming the route point and key.
pub(crate) fn build(config: &Config, registry: &Arc<BotRegistry>) -> anyhow::Result<Bots> {
    let registry = Arc::clone(registry);
    let dialer = Arc::new(LateDialer::default());
    let mut context = BotContext::new()
        .with_dialer(Arc::clone(&dialer) as Arc<dyn Dialer>)
        .with_recordings_dir(config.recordings_dir())
        .with_registry(Arc::clone(&registry));
    let recognizer = config.recognizer()?;
    if let Some(recognizer) = &recognizer {
        context = context.with_recognizer(Arc::clone(recognizer));
    }
    let speaker = config.speaker()?;
    if let Some(transcriber) = config.transcriber()? {
        context = context.with_transcriber(transcriber, config.transcription.retry_policy());
    }
    let bots = build_bots(config, &registry, &context)?;
    Ok(Bots {
        bots,
        dialer,
        recognizer,
        speaker,
    })
}

/// Starts the call record writer of `config` (`[call_records]`), each record named
/// with its route point's bot (route points of every PBX of the file).
///
/// # Errors
/// When the records file cannot be opened or the webhook's secret is missing.
pub(crate) fn call_records(config: &Config) -> anyhow::Result<CallRecords> {
    let bots = config
        .sites()
        .iter()
        .flat_map(|site| {
            site.route_points.iter().map(|(dn, route_point)| {
                let key = (site.pbx_name().to_owned(), dn.clone());
                (key, route_point.bot.get_ref().clone())
            })
        })
        .collect();
    let store = config
        .recordings_store()
        .map(|store| (store, config.recordings_dir()));
    CallRecords::start(
        &config.call_records,
        config.call_records_file(),
        bots,
        store,
    )
}

impl Bots {
    /// Each route point's DN with its bot.
    pub(crate) fn by_route_point(&self) -> impl Iterator<Item = (&String, &Arc<dyn Bot>)> {
        self.bots.iter()
    }

    /// The engine that runs these bots on `client`, with the configuration's limits.
    ///
    /// # Errors
    /// Exit 2 for settings the engine refuses or a speech cache folder that cannot be
    /// created; exit 1 when the recordings folder cannot be created.
    pub(crate) fn engine(
        self,
        config: &Config,
        client: Client,
        records: &CallRecords,
        uploads: Option<&voicebot_store::UploaderHandle>,
    ) -> anyhow::Result<Engine> {
        let recordings = config.recordings_dir();
        std::fs::create_dir_all(&recordings)
            .with_context(|| format!("creating the recordings folder {}", recordings.display()))?;
        let fallback = config
            .fallback
            .as_ref()
            .map(|fallback| fallback.destination.get_ref().clone());
        let busy = match (config.limits.when_busy.get_ref(), &fallback) {
            (WhenBusy::Fallback, Some(destination)) => BusyTreatment::Divert(destination.clone()),
            _ => BusyTreatment::Drop,
        };
        let mut builder = Engine::builder()
            .client(client)
            .max_calls(*config.limits.max_calls.get_ref())
            .busy_treatment(busy)
            .fallback(fallback)
            .recordings_dir(recordings)
            .prompt_dir(config.prompts_dir())
            .pacer_lead(config.media.pacer_lead)
            .media_tick(config.media.tick)
            .media_read_tick(config.media.read_tick)
            .call_threads(config.media.call_threads.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            }))
            .stall_timeout(config.media.stall_timeout)
            .inband_dtmf(config.media.inband_dtmf)
            .audio_limits(config.audio_limits())
            .prompt_cache_bytes(config.media.prompt_cache_bytes)
            .bot_grace(config.limits.bot_grace)
            .shutdown_timeout(config.limits.shutdown_timeout)
            .ring_timeout(config.limits.ring_timeout)
            .adopted_calls(match config.limits.adopted_calls.get_ref() {
                AdoptedCallsSetting::Restart => AdoptedCalls::Restart,
                AdoptedCallsSetting::Fallback => AdoptedCalls::Fallback,
            })
            .metrics_addr(config.metrics)
            .pbx_name(config.pbx_name())
            .call_records(records.sender.clone());
        if let Some(nice) = config.media.call_thread_nice {
            builder = builder.call_thread_nice(nice);
        }
        if let Some(recognizer) = self.recognizer {
            builder = builder.recognizer(recognizer);
        }
        // The speaker checked at build time, now with its cache folder (created here, as
        // the recordings folder is).
        drop(self.speaker);
        builder = builder.speaker(config.speaker_with_cache()?);
        if let Some(uploads) = uploads {
            let sink = crate::uploads::UploadSink(uploads.clone());
            builder = builder.recording_sink(Arc::new(sink));
        }
        if let Some(ringback) = config.ringback_path() {
            builder = builder.ringback(PromptSource::File(ringback));
        }
        for (dn, bot) in self.bots {
            if let Some(RoutePoint {
                answer: Answer::Bot,
                ..
            }) = config.route_points.get(&dn)
            {
                builder = builder.answer_mode(dn.clone(), AnswerMode::Bot);
            }
            builder = builder.route_point(dn, bot);
        }
        let engine = builder
            .build()
            .map_err(|error| Exit::Usage.error(format!("{}: {error}", config.file.display())))?;
        // Bots were built before the engine existed; from here on they can dial.
        self.dialer.connect(engine.dialer());
        Ok(engine)
    }
}
