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
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use voicebot_bot::{CallError, PromptSource};
use voicebot_media::{Prompt, PromptCache, duration_to_samples};

/// Tones above this length are not cached (they are rare and large).
const CACHED_TONE_LIMIT: Duration = Duration::from_secs(10);

type ToneKey = (u16, Option<u16>, Duration);

/// The engine's prompt loader.
#[derive(Debug, Clone)]
pub(crate) struct Prompts {
    dir: PathBuf,
    files: PromptCache,
    tones: Arc<Mutex<HashMap<ToneKey, Prompt>>>,
}

impl Prompts {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            files: PromptCache::new(),
            tones: Arc::default(),
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
        let prompts = Prompts::new(PathBuf::from("."));
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
    async fn a_missing_file_is_a_media_error() {
        let prompts = Prompts::new(PathBuf::from("/nonexistent"));
        let error = prompts
            .resolve(&PromptSource::file("x.wav"))
            .await
            .unwrap_err();
        assert!(matches!(error, CallError::Media(_)));
    }
}
