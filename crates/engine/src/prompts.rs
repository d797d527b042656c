//! Turns a bot's [`PromptSource`] into 8 kHz [`Prompt`] audio.
//!
//! Files resolve against the engine's prompt folder and go through one
//! [`PromptCache`] shared by all calls, so each file is decoded (and resampled) once.
//! The first load of a file is blocking I/O, so it runs on the blocking pool, never on
//! a call's task. Tones and silences are generated and cached too: bots play the
//! same beep on every call.

use std::collections::HashMap;
use std::f64::consts::TAU;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use voicebot_bot::{CallError, PromptSource};
use voicebot_media::{Prompt, PromptCache, duration_to_samples};

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
            tones: Arc::default(),
            // A ringback that is itself `Ringback` would never resolve.
            ringback: ringback.filter(|source| *source != PromptSource::Ringback),
            ringback_tone: Arc::default(),
        }
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
        tokio::task::spawn_blocking(move || files.get(&path))
            .await
            .map_err(CallError::media)?
            .map_err(CallError::media)
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
}
