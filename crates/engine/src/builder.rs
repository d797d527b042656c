//! [`EngineBuilder`]: every engine knob, as consuming `#[must_use]` setters.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use voicebot_bot::{Bot, Dn, PromptSource};
use voicebot_callcontrol::Client;
use voicebot_media::{AudioLimits, Pacer, PromptCache};
use voicebot_speech::{Recognizer, Speaker};

use crate::answer::AnswerMode;
use crate::cdr::CallRecordSender;
use crate::engine::Engine;
use crate::error::BuildError;
use crate::limits::{AdoptedCalls, BusyTreatment};
use crate::recordings::RecordingSink;

/// The default media tick: a write of one frame every frame, so the lead at the PBX never
/// falls more than a frame below the pacer's lead (a late tick has the rest to cover it).
pub(crate) const DEFAULT_MEDIA_TICK: Duration = Duration::from_millis(20);

/// The default read tick: the caller's audio is taken in two frames at a time, half the
/// reads of a frame-by-frame tick for 20 ms more latency of in-band DTMF and speech.
pub(crate) const DEFAULT_MEDIA_READ_TICK: Duration = Duration::from_millis(40);

/// The settings of an [`Engine`], fixed at build time.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) route_points: Vec<(Dn, Arc<dyn Bot>)>,
    pub(crate) max_calls: usize,
    pub(crate) busy: BusyTreatment,
    /// Calls found connected at the first connect (a killed engine's).
    pub(crate) adopted: AdoptedCalls,
    pub(crate) fallback: Option<String>,
    pub(crate) recordings_dir: PathBuf,
    pub(crate) prompt_dir: PathBuf,
    pub(crate) pacer_lead: Duration,
    /// The media tick, and the least audio sent to the PBX in one write.
    pub(crate) media_tick: Duration,
    /// How often the caller's audio is read (whole media ticks, at least one).
    pub(crate) media_read_tick: Duration,
    pub(crate) call_threads: usize,
    /// The call threads' niceness (-20 ..= 19), when not left as the process's.
    pub(crate) call_thread_nice: Option<i32>,
    /// How long an audio stream may stay silent (GET) or refuse a chunk (POST) before
    /// it is taken as lost and reopened.
    pub(crate) stall_timeout: Duration,
    pub(crate) inband_dtmf: bool,
    pub(crate) bot_grace: Duration,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) metrics_addr: Option<SocketAddr>,
    pub(crate) ring_timeout: Duration,
    pub(crate) busy_within: Duration,
    /// The default recogniser of speech gathers.
    pub(crate) recognizer: Option<Arc<dyn Recognizer>>,
    /// Speaks text prompts (`say`, `PromptSource::Text`).
    pub(crate) speaker: Option<Speaker>,
    /// What callers hear while a transfer or route rings; `None`: a generated tone.
    pub(crate) ringback: Option<PromptSource>,
    /// Route points whose ringing calls the bot answers (the others: the engine).
    pub(crate) answered_by_bot: Vec<Dn>,
    /// What a prompt file may be (size, rate, duration).
    pub(crate) audio_limits: AudioLimits,
    /// The most bytes of decoded prompt audio kept in memory.
    pub(crate) prompt_cache_bytes: u64,
    /// Where finished calls' records go; `None`: nowhere.
    pub(crate) call_records: Option<CallRecordSender>,
    /// The PBX's name in call records.
    pub(crate) pbx_name: String,
    /// Told about each call's recordings (opened, then final).
    pub(crate) recording_sink: Option<Arc<dyn RecordingSink>>,
}

impl Settings {
    /// Who answers ringing calls on `dn`.
    pub(crate) fn answer_mode(&self, dn: &Dn) -> AnswerMode {
        match self.answered_by_bot.contains(dn) {
            true => AnswerMode::Bot,
            false => AnswerMode::Auto,
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dns: Vec<&Dn> = self.route_points.iter().map(|(dn, _)| dn).collect();
        f.debug_struct("Settings")
            .field("route_points", &dns)
            .field("max_calls", &self.max_calls)
            .field("busy", &self.busy)
            .field("fallback", &self.fallback)
            .field("pacer_lead", &self.pacer_lead)
            .field("media_tick", &self.media_tick)
            .field("media_read_tick", &self.media_read_tick)
            .field("call_threads", &self.call_threads)
            .field("call_thread_nice", &self.call_thread_nice)
            .field("stall_timeout", &self.stall_timeout)
            .field("inband_dtmf", &self.inband_dtmf)
            .field("recognizer", &self.recognizer.is_some())
            .field("speaker", &self.speaker)
            .field("ring_timeout", &self.ring_timeout)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("answered_by_bot", &self.answered_by_bot)
            .field("audio_limits", &self.audio_limits)
            .field("prompt_cache_bytes", &self.prompt_cache_bytes)
            .field("recording_sink", &self.recording_sink)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Engine`]. Defaults: 1024 calls, busy calls dropped, no fallback,
/// recordings and prompts relative to the current folder, 100 ms pacer lead, in-band
/// DTMF off, 2 s bot grace, 10 s shutdown timeout, no metrics listener, 30 s ring
/// timeout for outbound calls, transfers and routes, 2 s `busy_within`, a generated
/// ringback tone, ringing route-point calls answered by the engine, the default
/// [`AudioLimits`] for prompt files (10 minutes at most) and a 64 MiB prompt cache.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use voicebot_bot::bot_fn;
/// # use voicebot_callcontrol::{Client, Secret};
/// # use voicebot_engine::{BusyTreatment, Engine};
/// # fn build() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder("https://pbx.example.com").credentials("800", Secret::new("key")).build()?;
/// let engine = Engine::builder()
///     .client(client)
///     .route_point("800", Arc::new(bot_fn(|call| async move { call.hangup().await?; Ok(()) })))
///     .max_calls(64)
///     .busy_treatment(BusyTreatment::Divert("100".into()))
///     .fallback(Some("100".into()))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct EngineBuilder {
    client: Option<Client>,
    settings: Settings,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl EngineBuilder {
    /// A builder with the defaults.
    pub fn new() -> Self {
        Self {
            client: None,
            settings: Settings {
                route_points: Vec::new(),
                max_calls: 1024,
                busy: BusyTreatment::Drop,
                adopted: AdoptedCalls::Restart,
                fallback: None,
                recordings_dir: PathBuf::from("."),
                prompt_dir: PathBuf::from("."),
                pacer_lead: Pacer::DEFAULT_LEAD,
                media_tick: DEFAULT_MEDIA_TICK,
                media_read_tick: DEFAULT_MEDIA_READ_TICK,
                call_threads: 0,
                call_thread_nice: None,
                stall_timeout: Duration::from_secs(1),
                inband_dtmf: false,
                bot_grace: Duration::from_secs(2),
                shutdown_timeout: Duration::from_secs(10),
                metrics_addr: None,
                ring_timeout: Duration::from_secs(30),
                busy_within: crate::dial::BUSY_WITHIN,
                recognizer: None,
                speaker: None,
                ringback: None,
                answered_by_bot: Vec::new(),
                audio_limits: AudioLimits::default(),
                prompt_cache_bytes: PromptCache::DEFAULT_CAPACITY_BYTES,
                call_records: None,
                pbx_name: "default".to_owned(),
                recording_sink: None,
            },
        }
    }

    /// The Call Control client (required).
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Runs `bot` on every call reaching `dn`. Call once per route point.
    pub fn route_point(mut self, dn: impl Into<Dn>, bot: Arc<dyn Bot>) -> Self {
        self.settings.route_points.push((dn.into(), bot));
        self
    }

    /// The most calls running at once (at least 1); later calls get the busy treatment.
    pub fn max_calls(mut self, max_calls: usize) -> Self {
        self.settings.max_calls = max_calls;
        self
    }

    /// What happens to calls beyond `max_calls` or during shutdown.
    pub fn busy_treatment(mut self, treatment: BusyTreatment) -> Self {
        self.settings.busy = treatment;
        self
    }

    /// Where calls go when their bot fails or the engine shuts down (`None`: they are
    /// dropped politely).
    pub fn fallback(mut self, destination: Option<String>) -> Self {
        self.settings.fallback = destination;
        self
    }

    /// What to do with calls already connected to a route point when the engine first
    /// connects, as after the previous engine was killed: restart their bots (the
    /// default) or send them to the fallback (which must then be set).
    pub fn adopted_calls(mut self, adopted: AdoptedCalls) -> Self {
        self.settings.adopted = adopted;
        self
    }

    /// Sends a [`CallRecord`](crate::CallRecord) of every call to `records` when the
    /// call ends (busy treatments and unanswered outbound calls included). The send
    /// never waits; the receiver writes them where it wants (`voicebot run`: the
    /// `cdr.jsonl` file and an optional webhook).
    pub fn call_records(mut self, records: CallRecordSender) -> Self {
        self.settings.call_records = Some(records);
        self
    }

    /// The PBX's name in call records, `/health` of a process serving several PBXs
    /// and the `pbx` label of the engine's metrics (default `default`).
    pub fn pbx_name(mut self, name: impl Into<String>) -> Self {
        self.settings.pbx_name = name.into();
        self
    }

    /// Tells `sink` about every call's recordings: when each is opened, and all of a
    /// call's once they are final (the call over, its bot finished, the files closed),
    /// e.g. to upload them. None by default.
    pub fn recording_sink(mut self, sink: Arc<dyn RecordingSink>) -> Self {
        self.settings.recording_sink = Some(sink);
        self
    }

    /// The folder relative recording paths resolve in (made absolute against the
    /// working directory now, so a path a bot already joined to it is never joined
    /// twice).
    pub fn recordings_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        self.settings.recordings_dir = std::path::absolute(&dir).unwrap_or(dir);
        self
    }

    /// The folder relative prompt paths resolve in.
    pub fn prompt_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.settings.prompt_dir = dir.into();
        self
    }

    /// How much audio may be queued at the PBX ahead of the caller's ear (default
    /// 100 ms, at most 1 s). It bounds what a caller still hears after a barge-in.
    pub fn pacer_lead(mut self, lead: Duration) -> Self {
        self.settings.pacer_lead = lead;
        self
    }

    /// How often each call's media runs and sends the audio due to the PBX, as one write
    /// (default 20 ms; 20, 40 or 60 ms; a lead shorter than the tick shortens it to the
    /// lead's whole frames). A longer tick means fewer writes per call (less CPU), but
    /// the lead at the PBX then falls a tick below the pacer's lead before each write,
    /// leaving less of it to cover a late write on a busy machine. A play the bot
    /// starts is written at once, not at the next tick. 40 ms costs about a quarter
    /// less CPU than 20 (the load bench at 256 and 1024 calls).
    pub fn media_tick(mut self, tick: Duration) -> Self {
        self.settings.media_tick = tick;
        self
    }

    /// How often each call's media takes in the caller's audio that arrived (default
    /// 40 ms; 20, 40 or 60 ms; whole media ticks, at least one: rounded down). A
    /// longer read tick means fewer reads per call (less CPU), but delays in-band DTMF
    /// and speech detection (barge-in by voice) by up to a read tick. DTMF events
    /// from the PBX do not wait for it.
    pub fn media_read_tick(mut self, tick: Duration) -> Self {
        self.settings.media_read_tick = tick;
        self
    }

    /// Runs calls on `threads` threads of the engine's own, each with a single-threaded
    /// runtime (default 0: calls run on the runtime that runs the engine; at most 256).
    /// A call's task, its bot and its media stay on one thread, so the wake-ups of a
    /// media tick cost no hand-over between threads: with one thread per core, the
    /// engine spends about a fifth less CPU per call than on a work-stealing runtime.
    /// Tests on tokio's paused clock need 0: the threads' clocks run for real.
    pub fn call_threads(mut self, threads: usize) -> Self {
        self.settings.call_threads = threads;
        self
    }

    /// Runs the call threads at niceness `nice` (-20, the most favoured, to 19; Linux
    /// and other Unix systems), so that audio keeps its 20 ms pace when other work
    /// competes for the CPU: on a loaded machine a call thread held up for 60–80 ms makes
    /// callers hear a gap. Below 0 needs the right to raise priority (`CAP_SYS_NICE`,
    /// or `LimitNICE=` in a systemd unit); without it the threads keep the process's
    /// niceness and a warning says why. Only the call threads change: the event socket
    /// and REST calls keep the process's priority. Needs [`Self::call_threads`] above 0.
    pub fn call_thread_nice(mut self, nice: i32) -> Self {
        self.settings.call_thread_nice = Some(nice);
        self
    }

    /// How long the caller's audio stream may deliver nothing, or the stream to the
    /// caller take no chunk, before it is taken as lost and reopened (default 1 s,
    /// 100 ms to 60 s). 3CX sends the caller's audio continuously, silence included,
    /// so a longer quiet is a dead stream, not a quiet caller.
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.settings.stall_timeout = timeout;
        self
    }

    /// Whether to detect DTMF tones in the caller's audio too (digits from both paths
    /// are deduplicated).
    pub fn inband_dtmf(mut self, enabled: bool) -> Self {
        self.settings.inband_dtmf = enabled;
        self
    }

    /// How long a bot may go on after its caller hung up before it is aborted.
    pub fn bot_grace(mut self, grace: Duration) -> Self {
        self.settings.bot_grace = grace;
        self
    }

    /// How long a shutdown waits for running calls before handing them to the fallback.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.settings.shutdown_timeout = timeout;
        self
    }

    /// Where to serve `/metrics` (Prometheus) and `/health`; `None` serves nothing.
    /// With port 0 the system picks one; `EngineHandle::metrics_addr` tells which.
    pub fn metrics_addr(mut self, addr: Option<SocketAddr>) -> Self {
        self.settings.metrics_addr = addr;
        self
    }

    /// How long outbound calls, transfers and routes ring when the request names no
    /// timeout (sent to the PBX as the `timeout` of `makecall`, `transferto` and
    /// `routeto`; the HTTP request then waits this long plus the client's request
    /// timeout).
    pub fn ring_timeout(mut self, timeout: Duration) -> Self {
        self.settings.ring_timeout = timeout;
        self
    }

    /// The speech synthesiser text prompts go through (`call.say(..)`, text in gather
    /// and route prompts). Without one, playing text fails with
    /// `CallError::InvalidRequest`.
    pub fn speaker(mut self, speaker: Speaker) -> Self {
        self.settings.speaker = Some(speaker);
        self
    }

    /// The recogniser for gathers that also listen for speech (`gather().speech(..)`)
    /// and name no recogniser of their own. Without one such gathers fail with
    /// `CallError::InvalidRequest`.
    pub fn recognizer(mut self, recognizer: Arc<dyn Recognizer>) -> Self {
        self.settings.recognizer = Some(recognizer);
        self
    }

    /// What callers hear while a transfer or route rings the destination
    /// ([`PromptSource::Ringback`]), looped. Default: a generated ringback tone
    /// (440 + 480 Hz, 2 s on, 4 s off). 3CX itself plays nothing to a route point's
    /// caller during such an attempt.
    pub fn ringback(mut self, prompt: PromptSource) -> Self {
        self.settings.ringback = Some(prompt);
        self
    }

    /// What a prompt file may be: at most this long and this large, with a sample rate
    /// in range, checked before decoding (default [`AudioLimits::default`]: 10 minutes,
    /// 256 MiB). A file over a limit fails the `play` with a media error naming it.
    pub fn audio_limits(mut self, limits: AudioLimits) -> Self {
        self.settings.audio_limits = limits;
        self
    }

    /// The most bytes of decoded prompt audio (2 per 8 kHz sample) kept in memory
    /// (default 64 MiB); past it, the least recently played prompts are dropped and
    /// decoded again when next played. 0 keeps nothing.
    pub fn prompt_cache_bytes(mut self, bytes: u64) -> Self {
        self.settings.prompt_cache_bytes = bytes;
        self
    }

    /// Who answers calls on route point `dn` that arrive `Ringing` (default
    /// [`AnswerMode::Auto`]: the engine, before the bot starts).
    pub fn answer_mode(mut self, dn: impl Into<Dn>, mode: AnswerMode) -> Self {
        let dn = dn.into();
        self.settings.answered_by_bot.retain(|known| *known != dn);
        if mode == AnswerMode::Bot {
            self.settings.answered_by_bot.push(dn);
        }
        self
    }

    /// How an outbound leg the PBX removes unanswered *without any reason* is
    /// reported (default 2 s): removed within this after `makecall`, `Busy`; later,
    /// `NoAnswer`. A reason from the PBX (a refused `makecall`'s `reason` or
    /// `reasontext`) always wins over this guess; `Duration::ZERO` turns the guess off
    /// (such legs read as `NoAnswer`). See the crate docs, "Outbound outcomes".
    pub fn busy_within(mut self, within: Duration) -> Self {
        self.settings.busy_within = within;
        self
    }

    /// Builds the engine.
    ///
    /// # Errors
    /// [`BuildError`] when the client or route points are missing, a route point is
    /// given twice, or a setting is out of range.
    pub fn build(self) -> Result<Engine, BuildError> {
        let client = self.client.ok_or(BuildError::MissingClient)?;
        let settings = self.settings;
        if settings.route_points.is_empty() {
            return Err(BuildError::NoRoutePoint);
        }
        for (index, (dn, _)) in settings.route_points.iter().enumerate() {
            if settings.route_points[..index]
                .iter()
                .any(|(seen, _)| seen == dn)
            {
                return Err(BuildError::DuplicateRoutePoint(dn.to_string()));
            }
        }
        let out = |setting, reason: &str| {
            Err(BuildError::OutOfRange {
                setting,
                reason: reason.to_owned(),
            })
        };
        if settings.max_calls == 0 {
            return out("max_calls", "must be at least 1");
        }
        if settings.adopted == AdoptedCalls::Fallback && settings.fallback.is_none() {
            return out(
                "adopted_calls",
                "sending adopted calls to the fallback needs one",
            );
        }
        if settings.pacer_lead < Duration::from_millis(20)
            || settings.pacer_lead > Duration::from_secs(1)
        {
            return out("pacer_lead", "must be between 20 ms and 1 s");
        }
        for (setting, tick) in [
            ("media_tick", settings.media_tick),
            ("media_read_tick", settings.media_read_tick),
        ] {
            if tick < Duration::from_millis(20)
                || tick > Duration::from_millis(60)
                || !tick.as_micros().is_multiple_of(20_000)
            {
                return out(setting, "must be 20, 40 or 60 ms");
            }
        }
        if settings.call_threads > 256 {
            return out("call_threads", "must be at most 256");
        }
        if settings
            .call_thread_nice
            .is_some_and(|nice| !(-20..=19).contains(&nice))
        {
            return out("call_thread_nice", "must be from -20 to 19");
        }
        if settings.stall_timeout < Duration::from_millis(100)
            || settings.stall_timeout > Duration::from_secs(60)
        {
            return out("stall_timeout", "must be between 100 ms and 60 s");
        }
        Ok(Engine::new(client, settings))
    }
}

#[cfg(test)]
mod tests {
    use voicebot_bot::bot_fn;
    use voicebot_callcontrol::{Client, Secret};
    use voicebot_model::Dn;

    use super::*;

    fn builder() -> EngineBuilder {
        let client = Client::builder("http://127.0.0.1:9")
            .credentials("id", Secret::new("secret".to_owned()))
            .build()
            .expect("a client builds without connecting");
        Engine::builder()
            .client(client)
            .route_point(Dn::new("800"), Arc::new(bot_fn(|_call| async { Ok(()) })))
    }

    fn refused(builder: EngineBuilder) -> &'static str {
        match builder.build() {
            Err(BuildError::OutOfRange { setting, .. }) => setting,
            other => panic!("not refused for a setting: {:?}", other.err()),
        }
    }

    #[tokio::test]
    async fn the_media_ticks_and_call_threads_are_checked() {
        assert_eq!(
            refused(builder().media_tick(Duration::from_millis(30))),
            "media_tick"
        );
        assert_eq!(
            refused(builder().media_tick(Duration::from_millis(80))),
            "media_tick"
        );
        assert_eq!(
            refused(builder().media_read_tick(Duration::from_millis(50))),
            "media_read_tick"
        );
        assert_eq!(
            refused(builder().media_read_tick(Duration::ZERO)),
            "media_read_tick"
        );
        assert_eq!(refused(builder().call_threads(257)), "call_threads");
        assert_eq!(
            refused(builder().call_threads(1).call_thread_nice(-21)),
            "call_thread_nice"
        );
        assert_eq!(
            refused(builder().call_threads(1).call_thread_nice(20)),
            "call_thread_nice"
        );
        assert!(
            builder()
                .call_threads(256)
                .media_tick(Duration::from_millis(60))
                .media_read_tick(Duration::from_millis(20))
                .build()
                .is_ok()
        );
    }
}
