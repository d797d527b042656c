//! Turns a bot's [`PromptSource`] into 8 kHz [`Prompt`] audio.
//!
//! Files resolve against the engine's prompt folder, are checked against the
//! engine's [`AudioLimits`] before decoding, and go through one [`PromptCache`]
//! shared by all calls: each file is decoded (and resampled) once, calls asking for
//! it meanwhile wait for that decode, and the cache stays within its byte bound.
//! Loading is blocking I/O, so it runs on the blocking pool, never on a call's task.
//! Tones and silences are generated and cached too: bots play the same beep on every
//! call.

use std::collections::HashMap;
use std::f64::consts::TAU;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use voicebot_bot::{CallError, PromptSource};
use voicebot_media::{AudioLimits, Prompt, PromptCache, duration_to_samples};

/// Tones above this length are not cached (they are rare and large).
const CACHED_TONE_LIMIT: Duration = Duration::from_secs(10);

type ToneKey = (u16, Option<u16>, Duration);

/// The generated ringback: 440 + 480 Hz, two seconds on, four off (the North
/// American cadence of ITU-T E.180; a deployment elsewhere sets its own prompt).
const RINGBACK_ON: Duration = Duration::from_secs(2);
const RINGBACK_OFF: Duration = Duration::from_secs(4);

/// The engine's prompt loader.
#[derive(Debug, Clone)]
pub(crate) struct Prompts {
    dir: PathBuf,
    files: PromptCache,
    limits: AudioLimits,
    tones: Arc<Mutex<HashMap<ToneKey, Prompt>>>,
    /// What [`PromptSource::Ringback`] plays; `None` is the generated tone.
    ringback: Option<PromptSource>,
    /// The generated ringback, made once.
    ringback_tone: Arc<OnceLock<Prompt>>,
}

impl Prompts {
    pub(crate) fn new(dir: PathBuf, ringback: Option<PromptSource>) -> Self {
        Self {
            dir,
            files: PromptCache::new(),
            limits: AudioLimits::default(),
            tones: Arc::default(),
            // A ringback that is itself `Ringback` would never resolve.
            ringback: ringback.filter(|source| *source != PromptSource::Ringback),
            ringback_tone: Arc::default(),
        }
    }

    /// The same loader with these file limits and a cache of at most `cache_bytes`.
    pub(crate) fn with_files(mut self, limits: AudioLimits, cache_bytes: u64) -> Self {
        self.limits = limits;
        self.files = PromptCache::with_capacity_bytes(cache_bytes);
        self
    }

    /// The audio of `source`.
    ///
    /// # Errors
    /// [`CallError::Media`] when a file cannot be loaded or a prompt is empty.
    pub(crate) async fn resolve(&self, source: &PromptSource) -> Result<Prompt, CallError> {
        match source {
            PromptSource::File(path) => self.file(path).await,
            PromptSource::Prompt(prompt) => Ok(prompt.clone()),
            PromptSource::Silence(length) => self.tone((0, None, *length)),
            PromptSource::Tone {
                hz,
                second_hz,
                duration,
            } => self.tone((*hz, *second_hz, *duration)),
            PromptSource::Ringback => match &self.ringback {
                Some(configured) => Box::pin(self.resolve(configured)).await,
                None => self.generated_ringback(),
            },
            other => Err(CallError::InvalidRequest(format!(
                "unsupported prompt source {other:?}"
            ))),
        }
    }

    async fn file(&self, path: &Path) -> Result<Prompt, CallError> {
        let path = match path.is_absolute() {
            true => path.to_owned(),
            false => self.dir.join(path),
        };
        let files = self.files.clone();
        let limits = self.limits;
        tokio::task::spawn_blocking(move || files.get_or_load(&path, || load(&path, &limits)))
            .await
            .map_err(CallError::media)?
            .map_err(CallError::media)
    }

    /// The file cache's counters.
    #[cfg(test)]
    pub(crate) fn file_stats(&self) -> voicebot_media::CacheStats {
        self.files.stats()
    }

    fn generated_ringback(&self) -> Result<Prompt, CallError> {
        if let Some(prompt) = self.ringback_tone.get() {
            return Ok(prompt.clone());
        }
        let mut samples = generate((440, Some(480), RINGBACK_ON));
        samples.resize(
            samples.len() + duration_to_samples(RINGBACK_OFF) as usize,
            0,
        );
        let prompt = Prompt::from_samples(samples).map_err(CallError::media)?;
        Ok(self.ringback_tone.get_or_init(|| prompt).clone())
    }

    fn tone(&self, key: ToneKey) -> Result<Prompt, CallError> {
        let mut tones = self.tones.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(prompt) = tones.get(&key) {
            return Ok(prompt.clone());
        }
        let prompt = Prompt::from_samples(generate(key)).map_err(CallError::media)?;
        if key.2 <= CACHED_TONE_LIMIT && tones.len() < 64 {
            tones.insert(key, prompt.clone());
        }
        Ok(prompt)
    }
}

/// Decodes one prompt file within `limits`, reporting what was odd about it (once per
/// decode, not per play: the cache keeps the result).
fn load(path: &Path, limits: &AudioLimits) -> Result<Prompt, voicebot_media::PromptError> {
    let loaded = Prompt::load_checked(path, limits)?;
    for warning in &loaded.warnings {
        tracing::warn!(file = %path.display(), %warning, "prompt file");
    }
    Ok(loaded.prompt)
}

/// A tone (or silence for 0 Hz) at -12 dBFS per frequency.
fn generate((hz, second_hz, duration): ToneKey) -> Vec<i16> {
    let count = duration_to_samples(duration) as usize;
    let amplitude = 32_767.0 * 0.25;
    let sine = |frequency: u16, n: usize| match frequency {
        0 => 0.0,
        f => (TAU * f64::from(f) * n as f64 / 8_000.0).sin(),
    };
    (0..count)
        .map(|n| {
            let value = sine(hz, n) + second_hz.map_or(0.0, |second| sine(second, n));
            (value * amplitude) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tones_and_silence_have_the_asked_length_and_are_cached() {
        let prompts = Prompts::new(PathBuf::from("."), None);
        let beep = prompts
            .resolve(&PromptSource::tone(1000, Duration::from_millis(200)))
            .await
            .unwrap();
        assert_eq!(beep.len_samples(), 1600);
        assert!(beep.samples().iter().any(|s| s.abs() > 4000));
        let again = prompts
            .resolve(&PromptSource::tone(1000, Duration::from_millis(200)))
            .await
            .unwrap();
        assert!(std::ptr::eq(beep.samples(), again.samples()));
        let silence = prompts
            .resolve(&PromptSource::Silence(Duration::from_millis(40)))
            .await
            .unwrap();
        assert!(silence.samples().iter().all(|s| *s == 0));
    }

    #[tokio::test]
    async fn ringback_is_the_configured_prompt_or_a_two_on_four_off_tone() {
        let generated = Prompts::new(PathBuf::from("."), None)
            .resolve(&PromptSource::Ringback)
            .await
            .unwrap();
        assert_eq!(generated.len_samples(), 6 * 8_000);
        let (on, off) = generated.samples().split_at(2 * 8_000);
        assert!(on.iter().any(|s| s.abs() > 4000));
        assert!(off.iter().all(|s| *s == 0));
        let beep = PromptSource::tone(1000, Duration::from_millis(100));
        let configured = Prompts::new(PathBuf::from("."), Some(beep))
            .resolve(&PromptSource::Ringback)
            .await
            .unwrap();
        assert_eq!(configured.len_samples(), 800);
        // A ringback configured as "the ringback" falls back to the tone.
        let looped = Prompts::new(PathBuf::from("."), Some(PromptSource::Ringback))
            .resolve(&PromptSource::Ringback)
            .await
            .unwrap();
        assert_eq!(looped.len_samples(), 6 * 8_000);
    }

    #[tokio::test]
    async fn a_missing_file_is_a_media_error() {
        let prompts = Prompts::new(PathBuf::from("/nonexistent"), None);
        let error = prompts
            .resolve(&PromptSource::file("x.wav"))
            .await
            .unwrap_err();
        assert!(matches!(error, CallError::Media(_)));
    }

    /// A 16-bit mono WAV at `rate` holding `data_bytes` of a ramp.
    fn write_wav(path: &Path, rate: u32, data_bytes: u32) {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(b"RIFF");
        bytes.extend_from_slice(&(36 + data_bytes).to_le_bytes());
        bytes.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x01\0");
        bytes.extend_from_slice(&rate.to_le_bytes());
        bytes.extend_from_slice(&(rate * 2).to_le_bytes());
        bytes.extend_from_slice(b"\x02\0\x10\0data");
        bytes.extend_from_slice(&data_bytes.to_le_bytes());
        bytes.extend((0..data_bytes).map(|n| (n % 251) as u8));
        std::fs::write(path, bytes).unwrap();
    }

    /// Issue #12: 20 calls arriving together each decoded the same prompt.
    #[tokio::test]
    async fn issue_12_concurrent_plays_of_one_file_decode_it_once() {
        let dir = tempfile::tempdir().unwrap();
        // 20 s at 44.1 kHz: long enough that the 20 loads overlap.
        write_wav(&dir.path().join("long.wav"), 44_100, 44_100 * 2 * 20);
        let prompts = Prompts::new(dir.path().to_owned(), None);
        let source = PromptSource::file("long.wav");
        let plays = (0..20).map(|_| prompts.resolve(&source));
        let loaded = futures::future::join_all(plays).await;
        let first = loaded[0].as_ref().unwrap();
        assert_eq!(first.len_samples(), 8_000 * 20);
        for prompt in &loaded {
            assert!(std::ptr::eq(
                prompt.as_ref().unwrap().samples(),
                first.samples()
            ));
        }
        let stats = prompts.file_stats();
        assert_eq!((stats.loads, stats.hits), (1, 19));
    }

    /// Issue #12: a 16 KB WAV declaring 1 Hz took 672 MB as a prompt.
    #[tokio::test]
    async fn issue_12_a_prompt_over_the_limits_is_a_media_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        write_wav(&dir.path().join("one_hz.wav"), 1, 16_384);
        write_wav(&dir.path().join("long.wav"), 8_000, 16_000 * 3);
        let limits = AudioLimits::default().with_max_duration(Duration::from_secs(2));
        let prompts = Prompts::new(dir.path().to_owned(), None).with_files(limits, 1 << 20);
        for (file, problem) in [
            ("one_hz.wav", "sample rate 1 Hz is outside 4000–192000 Hz"),
            (
                "long.wav",
                "the audio lasts 3.00 s, more than the limit of 2.00 s",
            ),
        ] {
            let error = prompts
                .resolve(&PromptSource::file(file))
                .await
                .unwrap_err();
            let source = std::error::Error::source(&error).expect("the media error");
            let message = source.to_string();
            assert!(matches!(error, CallError::Media(_)), "{error:?}");
            assert!(
                message.contains(file) && message.contains(problem),
                "{message}"
            );
        }
        assert_eq!(prompts.file_stats().entries, 0);
    }

    #[tokio::test]
    async fn the_file_cache_keeps_to_its_byte_bound() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.wav", "b.wav"] {
            write_wav(&dir.path().join(name), 8_000, 16_000);
        }
        // Room for one 1 s prompt (16,000 bytes) only.
        let prompts =
            Prompts::new(dir.path().to_owned(), None).with_files(AudioLimits::default(), 20_000);
        for name in ["a.wav", "b.wav", "a.wav"] {
            prompts.resolve(&PromptSource::file(name)).await.unwrap();
        }
        let stats = prompts.file_stats();
        assert_eq!((stats.loads, stats.evictions, stats.entries), (3, 2, 1));
        assert_eq!(stats.bytes, 16_000);
    }
}
