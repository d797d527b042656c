//! The `voicebot run` configuration file (TOML): where the PBX is, which bot answers
//! each route point, and the engine's limits.
//!
//! Unknown keys are errors everywhere (a typo must not silently fall back to a
//! default), and every error names the file, the line, the key path and what is
//! wrong ([`ConfigError`]). The client secret never appears in the file: the file
//! names the environment variable that holds it.
//!
//! Relative paths (the recordings folder, prompts in bot tables) resolve against
//! the folder holding the file, so a configuration works from any directory.

mod bots;
mod error;
mod pbx;
mod recordings;
mod speech;
mod transcription;
mod tts;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use voicebot_callcontrol::{Secret, TlsConfig};
use voicebot_media::{AudioLimits, PromptCache};

pub(crate) use bots::build_bots;
pub(crate) use error::ConfigError;
pub(crate) use pbx::Pbxs;
pub(crate) use speech::RecognizerSpec;
pub(crate) use transcription::EngineSpec;
pub(crate) use tts::Tts;

/// The default environment variable holding the API client's secret.
pub(crate) const DEFAULT_SECRET_ENV: &str = "VOICEBOT_CLIENT_SECRET";

/// A parsed, validated configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// The PBX (`[pbx]`) or PBXs (`[[pbx]]`) and their API clients; see
    /// [`Config::sites`] for one PBX's view.
    pub(super) pbx: Pbxs,
    /// Folder for recordings (created when missing), and optionally the object
    /// storage they are uploaded to (`[recordings]`).
    #[serde(default)]
    pub(crate) recordings: recordings::Recordings,
    /// Folder relative prompt paths resolve in (default: the file's own folder).
    #[serde(default)]
    pub(crate) prompts: Option<PathBuf>,
    /// Address of the Prometheus metrics endpoint; none when absent.
    #[serde(default)]
    pub(crate) metrics: Option<SocketAddr>,
    /// Engine limits.
    #[serde(default)]
    pub(crate) limits: Limits,
    /// Audio settings.
    #[serde(default)]
    pub(crate) media: Media,
    /// Where calls go when their bot fails.
    #[serde(default)]
    pub(crate) fallback: Option<Fallback>,
    /// The speech recogniser (`[speech]`).
    #[serde(default)]
    pub(crate) speech: speech::Speech,
    /// The speech synthesiser (`[tts]`).
    #[serde(default)]
    pub(crate) tts: tts::Tts,
    /// The batch transcription engine (`[transcription]`).
    #[serde(default)]
    pub(crate) transcription: transcription::Transcription,
    /// Where call records go (`[call_records]`).
    #[serde(default)]
    pub(crate) call_records: crate::records::CallRecordsConfig,
    /// Route point DN → the bot that answers its calls (of the one PBX, or of this
    /// view's PBX in a [`Config::sites`] view).
    #[serde(default)]
    pub(crate) route_points: BTreeMap<String, RoutePoint>,
    /// In a PBX's view of a file with several, the key of its table (`pbx[1]`).
    #[serde(skip)]
    pub(crate) site_key: String,
    /// The file it was read from, for error messages.
    #[serde(skip)]
    pub(crate) file: PathBuf,
    /// The file's text, for the positions of bot configuration errors.
    #[serde(skip)]
    pub(crate) text: String,
}

/// Why a PBX URL with `user:password@` is refused.
pub(crate) const USER_INFO_REFUSED: &str = "carries a user name or password (user:password@): \
     3CX takes the API client's id and secret instead, and a password in a URL would show \
     in logs; remove it";

/// `[limits]`: how much the engine takes on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Limits {
    /// Calls handled at once; more get the `when_busy` treatment.
    pub(crate) max_calls: Spanned<usize>,
    /// What happens to a call beyond `max_calls` or during shutdown.
    pub(crate) when_busy: Spanned<WhenBusy>,
    /// Time a bot gets to finish (e.g. save a recording) after the caller hangs up.
    #[serde(with = "humantime_serde")]
    pub(crate) bot_grace: Duration,
    /// How long shutdown waits for calls in progress before the fallback takes them.
    #[serde(with = "humantime_serde")]
    pub(crate) shutdown_timeout: Duration,
    /// How long outbound calls, transfers and routes ring when a bot names no timeout.
    #[serde(with = "humantime_serde")]
    pub(crate) ring_timeout: Duration,
    /// What happens to calls found connected at startup (a killed engine's).
    pub(crate) adopted_calls: Spanned<AdoptedCallsSetting>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_calls: Spanned::new(0..0, 100),
            when_busy: Spanned::new(0..0, WhenBusy::Drop),
            bot_grace: Duration::from_secs(2),
            shutdown_timeout: Duration::from_secs(10),
            ring_timeout: Duration::from_secs(30),
            adopted_calls: Spanned::new(0..0, AdoptedCallsSetting::Restart),
        }
    }
}

/// `limits.adopted_calls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AdoptedCallsSetting {
    /// Start their bots again.
    Restart,
    /// Send them to `[fallback] destination`.
    Fallback,
}

/// `limits.when_busy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WhenBusy {
    /// Drop the call.
    Drop,
    /// Send it to `[fallback] destination`.
    Fallback,
}

/// `[media]`: audio settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Media {
    /// Also detect DTMF tones in the caller's audio (for trunks that send no DTMF events).
    pub(crate) inband_dtmf: bool,
    /// Audio queued at the PBX ahead of the caller's ear (20 ms – 1 s); bounds what a
    /// caller still hears after barging in.
    #[serde(with = "humantime_serde")]
    pub(crate) pacer_lead: Duration,
    /// How often each call's media runs (20, 40 or 60 ms): each run sends what is due
    /// in one write; longer is cheaper, shorter leaves more of the lead to cover a late
    /// write.
    #[serde(with = "humantime_serde")]
    pub(crate) tick: Duration,
    /// How often each call's media takes in what the caller sent (20, 40 or 60 ms, whole
    /// ticks); longer is cheaper, shorter detects in-band DTMF and speech sooner.
    #[serde(with = "humantime_serde")]
    pub(crate) read_tick: Duration,
    /// Threads of the engine's own that run calls (each call's tasks and media on one
    /// of them); none given: one per core. 0 runs calls on the main runtime.
    pub(crate) call_threads: Option<usize>,
    /// The call threads' niceness (-20 to 19); none: the process's. Below the
    /// process's needs `CAP_SYS_NICE` or `LimitNICE=` (a warning says when not granted).
    pub(crate) call_thread_nice: Option<i32>,
    /// How long a call's audio stream may stay silent (or refuse a chunk) before it is
    /// taken as lost and reopened (100 ms – 60 s).
    #[serde(with = "humantime_serde")]
    pub(crate) stall_timeout: Duration,
    /// What callers hear while a transfer or route rings (a prompt file, resolved
    /// like other prompts); none: a generated ringback tone.
    pub(crate) ringback: Option<Spanned<PathBuf>>,
    /// The longest prompt file accepted (1 s – 24 h), checked from its header before
    /// decoding; also the rate and size limits of [`AudioLimits`] apply.
    #[serde(with = "humantime_serde")]
    pub(crate) max_prompt: Duration,
    /// The most bytes of decoded prompt audio kept in memory (2 per 8 kHz sample);
    /// past it the least recently played prompts are dropped. 0 keeps none.
    pub(crate) prompt_cache_bytes: u64,
}

impl Default for Media {
    fn default() -> Self {
        Self {
            inband_dtmf: false,
            pacer_lead: Duration::from_millis(100),
            tick: Duration::from_millis(20),
            read_tick: Duration::from_millis(40),
            call_threads: None,
            call_thread_nice: None,
            stall_timeout: Duration::from_secs(1),
            ringback: None,
            max_prompt: AudioLimits::DEFAULT_MAX_DURATION,
            prompt_cache_bytes: PromptCache::DEFAULT_CAPACITY_BYTES,
        }
    }
}

/// `[fallback]`: where a call goes when its bot fails (or the engine is busy, with
/// `limits.when_busy = "fallback"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Fallback {
    /// DN or number to transfer to.
    pub(crate) destination: Spanned<String>,
}

/// `[route_points."DN"]`: the bot answering one route point.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoutePoint {
    /// Registered bot name, e.g. `ivr-menu`.
    pub(crate) bot: Spanned<String>,
    /// The bot's own configuration table, checked by the bot when it is built.
    #[serde(default)]
    pub(crate) config: Option<Spanned<toml::Table>>,
    /// Who answers calls that arrive ringing.
    #[serde(default)]
    pub(crate) answer: Answer,
}

/// `route_points."DN".answer`: who answers a call that arrives ringing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Answer {
    /// The engine, before the bot starts.
    #[default]
    Auto,
    /// The bot (`call.answer()`), which may divert the ringing call instead.
    Bot,
}

impl Config {
    /// Reads and validates `file`.
    ///
    /// # Errors
    /// [`ConfigError`] when the file cannot be read, is not valid TOML, has unknown
    /// keys or values that do not fit.
    pub(crate) fn load(file: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|error| ConfigError {
            file: file.to_owned(),
            position: None,
            key: String::new(),
            message: format!("cannot read the file: {error}"),
        })?;
        Self::parse(file, &text)
    }

    /// Parses and validates `text`, read from `file`.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub(crate) fn parse(file: &Path, text: &str) -> Result<Self, ConfigError> {
        let deserializer = toml::Deserializer::parse(text)
            .map_err(|error| ConfigError::from_toml(file, text, String::new(), &error))?;
        let mut config: Self = serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let key = error::path_text(error.path());
            ConfigError::from_toml(file, text, key, error.inner())
        })?;
        config.file = file.to_owned();
        config.text = text.to_owned();
        config.validate()?;
        // One PBX with its route points inside `[pbx]`: the same as at the top level.
        if let Pbxs::One(pbx) = &mut config.pbx
            && let Some(route_points) = pbx.route_points.take()
        {
            config.route_points = route_points;
            config.site_key = "pbx".to_owned();
        }
        Ok(config)
    }

    fn error_at(
        &self,
        span: Option<std::ops::Range<usize>>,
        key: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::new(&self.file, &self.text, span, key, message)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_pbxs()?;
        if *self.limits.max_calls.get_ref() == 0 {
            return Err(self.error_at(
                Some(self.limits.max_calls.span()),
                "limits.max_calls",
                "must be at least 1",
            ));
        }
        for (key, duration) in [
            ("limits.shutdown_timeout", self.limits.shutdown_timeout),
            ("limits.ring_timeout", self.limits.ring_timeout),
        ] {
            if duration.is_zero() {
                return Err(self.error_at(None, key, "must be longer than zero"));
            }
        }
        let lead = self.media.pacer_lead;
        if lead < Duration::from_millis(20) || lead > Duration::from_secs(1) {
            return Err(self.error_at(None, "media.pacer_lead", "must be between 20ms and 1s"));
        }
        for (key, tick) in [
            ("media.tick", self.media.tick),
            ("media.read_tick", self.media.read_tick),
        ] {
            if !matches!(tick.as_millis(), 20 | 40 | 60)
                || !tick.subsec_nanos().is_multiple_of(1_000_000)
            {
                return Err(self.error_at(None, key, "must be 20ms, 40ms or 60ms"));
            }
        }
        if self.media.call_threads.is_some_and(|threads| threads > 256) {
            return Err(self.error_at(None, "media.call_threads", "must be at most 256"));
        }
        if self
            .media
            .call_thread_nice
            .is_some_and(|nice| !(-20..=19).contains(&nice))
        {
            return Err(self.error_at(None, "media.call_thread_nice", "must be from -20 to 19"));
        }
        if self.media.call_thread_nice.is_some() && self.media.call_threads == Some(0) {
            return Err(self.error_at(
                None,
                "media.call_thread_nice",
                "needs call threads (media.call_threads is 0)",
            ));
        }
        let stall = self.media.stall_timeout;
        if stall < Duration::from_millis(100) || stall > Duration::from_secs(60) {
            return Err(self.error_at(
                None,
                "media.stall_timeout",
                "must be between 100ms and 60s",
            ));
        }
        self.validate_audio_limits()?;
        if let Some(store) = &self.recordings.store
            && let Err(error) = voicebot_store::StoreUrl::parse(store.get_ref())
        {
            return Err(self.error_at(Some(store.span()), "recordings.store", error.to_string()));
        }
        if let Some(ringback) = &self.media.ringback {
            let path = self.ringback_path().unwrap_or_default();
            if !path.is_file() {
                return Err(self.error_at(
                    Some(ringback.span()),
                    "media.ringback",
                    format!("{} is not a file", path.display()),
                ));
            }
        }
        // Each PBX needs a fallback of its own or the shared one.
        let without_fallback = self
            .pbx
            .all()
            .iter()
            .position(|pbx| pbx.fallback.is_none() && self.fallback.is_none());
        let needs = || match (self.has_several_pbxs(), without_fallback) {
            (true, Some(index)) => format!(
                "\"fallback\" needs a [fallback] table with a destination, or one in the \
                 [[pbx]] table of {:?}",
                self.pbx.all()[index].name()
            ),
            _ => "\"fallback\" needs a [fallback] table with a destination".to_owned(),
        };
        if *self.limits.adopted_calls.get_ref() == AdoptedCallsSetting::Fallback
            && without_fallback.is_some()
        {
            return Err(self.error_at(
                Some(self.limits.adopted_calls.span()),
                "limits.adopted_calls",
                needs(),
            ));
        }
        if *self.limits.when_busy.get_ref() == WhenBusy::Fallback && without_fallback.is_some() {
            return Err(self.error_at(
                Some(self.limits.when_busy.span()),
                "limits.when_busy",
                needs(),
            ));
        }
        if let Some(fallback) = &self.fallback
            && fallback.destination.get_ref().trim().is_empty()
        {
            return Err(self.error_at(
                Some(fallback.destination.span()),
                "fallback.destination",
                "must not be empty",
            ));
        }
        Ok(())
    }

    /// `media.max_prompt`: a limit of zero would refuse every prompt, and one of days
    /// would let a prompt take gigabytes.
    fn validate_audio_limits(&self) -> Result<(), ConfigError> {
        let max = self.media.max_prompt;
        if max < Duration::from_secs(1) || max > Duration::from_secs(24 * 3600) {
            return Err(self.error_at(None, "media.max_prompt", "must be between 1s and 24h"));
        }
        Ok(())
    }

    /// What every prompt file of this configuration may be (`media.max_prompt` and the
    /// fixed rate and size rules); `run` and `run --check` load prompts within them.
    pub(crate) fn audio_limits(&self) -> AudioLimits {
        AudioLimits::default().with_max_duration(self.media.max_prompt)
    }

    /// The client secret, read from the environment variable the file names.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable when it is unset or empty.
    pub(crate) fn secret(&self) -> Result<Secret, ConfigError> {
        let name = &self.pbx().client_secret_env;
        match std::env::var(name) {
            Ok(secret) if !secret.is_empty() => Ok(Secret::new(secret)),
            _ => Err(self.error_at(
                None,
                &format!("{}.client_secret_env", self.pbx_key()),
                format!("the environment variable {name} is not set: put the API key in it"),
            )),
        }
    }

    /// The TLS settings of every PBX connection: the system's roots, plus
    /// `pbx.ca_file` when set.
    ///
    /// # Errors
    /// [`ConfigError`] naming `pbx.ca_file` when it cannot be read or holds no
    /// certificate.
    pub(crate) fn tls(&self) -> Result<TlsConfig, ConfigError> {
        let made = match &self.pbx().ca_file {
            None => TlsConfig::system(),
            Some(path) => TlsConfig::with_ca_file(self.resolve(path.get_ref())),
        };
        made.map_err(|error| {
            let span = self.pbx().ca_file.as_ref().map(Spanned::span);
            self.error_at(
                span,
                &format!("{}.ca_file", self.pbx_key()),
                error.to_string(),
            )
        })
    }

    /// The key path of this view's PBX table: `pbx`, or `pbx[N]` in a PBX's view of a
    /// file with several.
    pub(crate) fn pbx_key(&self) -> String {
        match self.site_key.starts_with("pbx[") {
            true => self.site_key.clone(),
            false => "pbx".to_owned(),
        }
    }

    /// The PBX base URL.
    pub(crate) fn url(&self) -> &str {
        self.pbx().url.get_ref()
    }

    /// The folder holding the file, against which relative paths resolve; absolute
    /// (from the working directory) so that paths made from it never resolve twice,
    /// e.g. a bot's recording path against the engine's recordings folder.
    pub(crate) fn base_dir(&self) -> PathBuf {
        let dir = match self.file.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        std::path::absolute(&dir).unwrap_or(dir)
    }

    /// `path` resolved against the file's folder when relative.
    pub(crate) fn resolve(&self, path: &Path) -> PathBuf {
        match path.is_absolute() {
            true => path.to_owned(),
            false => self.base_dir().join(path),
        }
    }

    /// The call records file, resolved.
    pub(crate) fn call_records_file(&self) -> PathBuf {
        self.resolve(&self.call_records.file)
    }

    /// The recordings folder, resolved.
    pub(crate) fn recordings_dir(&self) -> PathBuf {
        self.resolve(&self.recordings.dir)
    }

    /// `recordings.store`, parsed (checked when the file was loaded).
    pub(crate) fn recordings_store(&self) -> Option<voicebot_store::StoreUrl> {
        let store = self.recordings.store.as_ref()?;
        voicebot_store::StoreUrl::parse(store.get_ref()).ok()
    }

    /// The ringback prompt, resolved against the prompts folder, if one is set.
    pub(crate) fn ringback_path(&self) -> Option<PathBuf> {
        let path = self.media.ringback.as_ref()?.get_ref();
        Some(match path.is_absolute() {
            true => path.clone(),
            false => self.prompts_dir().join(path),
        })
    }

    /// The prompts folder, resolved (the file's folder by default).
    pub(crate) fn prompts_dir(&self) -> PathBuf {
        match &self.prompts {
            Some(dir) => self.resolve(dir),
            None => self.base_dir(),
        }
    }
}

#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_pbx;
