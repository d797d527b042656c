//! Prompts: immutable 8 kHz audio loaded once from WAV or raw PCM and shared between calls.

mod cache;
mod riff;
pub(crate) mod source;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

pub use self::cache::{CacheStats, PromptCache};
use self::source::AudioSource;
use crate::{
    error::{PromptError, PromptErrorKind, Result},
    frame::{Frame, decode_samples, samples_to_duration},
    limits::{AudioLimits, AudioWarning},
    resample::resample_to_8k,
};

/// Extensions loaded as headerless s16le 8 kHz mono PCM.
const RAW_EXTENSIONS: [&str; 4] = ["raw", "pcm", "sln", "s16"];

/// A prompt and what was odd about its file (see [`Prompt::load_checked`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoadedPrompt {
    /// The audio.
    pub prompt: Prompt,
    /// Usable data that was not quite what the header said; empty for a clean file.
    pub warnings: Vec<AudioWarning>,
}

/// Immutable 8 kHz mono audio. Cloning shares the samples (`Arc<[i16]>`).
#[derive(Clone, PartialEq, Eq)]
pub struct Prompt {
    samples: Arc<[i16]>,
}

impl Prompt {
    /// Loads a WAV file (8/16/24/32-bit integer or 32-bit float PCM, any channel count, any rate
    /// within 4–192 kHz), or a raw s16le 8 kHz file named `*.raw`, `*.pcm`, `*.sln` or `*.s16`,
    /// within the default [`AudioLimits`]. Channels are averaged and the audio resampled to 8 kHz.
    /// Warnings (a truncated file, trailing bytes) are dropped: callers that report them use
    /// [`Prompt::load_checked`].
    ///
    /// # Errors
    /// [`PromptError`] naming `path`: unreadable, not a regular file, over a limit, not a WAV,
    /// unsupported encoding, malformed, truncated or empty.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        Self::load_checked(path, &AudioLimits::default()).map(|loaded| loaded.prompt)
    }

    /// Loads `path` as [`Prompt::load`] does, within `limits`, and says what was odd about it.
    /// Every limit is checked from the file's metadata and header before decoding.
    ///
    /// # Errors
    /// As [`Prompt::load`].
    pub fn load_checked(path: impl AsRef<Path>, limits: &AudioLimits) -> Result<LoadedPrompt> {
        let path = path.as_ref();
        let source = AudioSource::open(path, limits)?;
        decode(source).map_err(|kind| PromptError::new(path, kind))
    }

    /// Decodes a WAV file held in memory within the default [`AudioLimits`]; errors name the file
    /// `<memory>`.
    ///
    /// # Errors
    /// As [`Prompt::load`].
    pub fn from_wav_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_wav_bytes_checked(bytes, &AudioLimits::default()).map(|loaded| loaded.prompt)
    }

    /// Decodes a WAV file held in memory within `limits`, with its warnings.
    ///
    /// # Errors
    /// As [`Prompt::load`].
    pub fn from_wav_bytes_checked(bytes: &[u8], limits: &AudioLimits) -> Result<LoadedPrompt> {
        AudioSource::wav_bytes(bytes, limits)
            .and_then(decode)
            .map_err(|kind| PromptError::new(&memory(), kind))
    }

    /// Wraps raw s16le 8 kHz mono bytes (a trailing odd byte is ignored).
    ///
    /// # Errors
    /// [`PromptErrorKind::Empty`] if there is not one whole sample.
    pub fn from_pcm(bytes: &[u8]) -> Result<Self> {
        let mut samples = vec![0i16; bytes.len() / 2];
        decode_samples(bytes, &mut samples);
        Self::from_samples(samples)
    }

    /// Wraps 8 kHz mono samples.
    ///
    /// # Errors
    /// [`PromptErrorKind::Empty`] if `samples` is empty.
    pub fn from_samples(samples: impl Into<Arc<[i16]>>) -> Result<Self> {
        let samples = samples.into();
        match samples.is_empty() {
            true => Err(PromptError::new(&memory(), PromptErrorKind::Empty)),
            false => Ok(Self { samples }),
        }
    }

    /// The samples.
    #[must_use]
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// The number of samples.
    #[must_use]
    pub fn len_samples(&self) -> usize {
        self.samples.len()
    }

    /// How long the prompt plays.
    #[must_use]
    pub fn duration(&self) -> Duration {
        samples_to_duration(self.samples.len() as u64)
    }

    /// The prompt as frames; the last one is padded with silence.
    pub fn frames(&self) -> impl ExactSizeIterator<Item = Frame> + '_ {
        self.samples
            .chunks(Frame::SAMPLES)
            .map(Frame::from_slice_padded)
    }
}

impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompt")
            .field("duration", &self.duration())
            .finish()
    }
}

fn memory() -> PathBuf {
    PathBuf::from("<memory>")
}

fn decode<R: std::io::Read>(
    source: AudioSource<R>,
) -> std::result::Result<LoadedPrompt, PromptErrorKind> {
    let info = source.info().clone();
    let mono = source.decode_mono()?;
    let samples =
        resample_to_8k(&mono, info.sample_rate_hz).map_err(|_| PromptErrorKind::Resample {
            from_hz: info.sample_rate_hz,
        })?;
    // Resampling a few samples up from 4 kHz can round to none.
    let prompt = Prompt::from_samples(samples).map_err(|e| e.kind)?;
    Ok(LoadedPrompt {
        prompt,
        warnings: info.warnings,
    })
}

#[cfg(test)]
mod tests;
