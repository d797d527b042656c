//! Prompts: immutable 8 kHz audio loaded once from WAV or raw PCM and shared between calls.

mod cache;

use std::{
    io::Cursor,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use dasp::Sample;

pub use self::cache::PromptCache;
use crate::{
    error::{PromptError, PromptErrorKind, Result},
    frame::{Frame, decode_samples, samples_to_duration},
    resample::resample_to_8k,
};

/// Extensions loaded as headerless s16le 8 kHz mono PCM.
const RAW_EXTENSIONS: [&str; 4] = ["raw", "pcm", "sln", "s16"];

/// Immutable 8 kHz mono audio. Cloning shares the samples (`Arc<[i16]>`).
#[derive(Clone, PartialEq, Eq)]
pub struct Prompt {
    samples: Arc<[i16]>,
}

impl Prompt {
    /// Loads a WAV file (any format hound reads: 8/16/24/32-bit int or 32-bit float, any channel
    /// count and rate), or a raw s16le 8 kHz file named `*.raw`, `*.pcm`, `*.sln` or `*.s16`.
    /// Channels are averaged and the audio resampled to 8 kHz.
    ///
    /// # Errors
    /// [`PromptError`] naming `path`: unreadable, not a WAV, unsupported encoding, malformed or empty.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| PromptError::new(path, PromptErrorKind::Io(Arc::new(e))))?;
        let is_raw = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| RAW_EXTENSIONS.iter().any(|raw| raw.eq_ignore_ascii_case(e)));
        match (bytes.starts_with(b"RIFF"), is_raw) {
            (true, _) => decode_wav(&bytes).map_err(|kind| PromptError::new(path, kind)),
            (false, true) => Self::from_pcm(&bytes).map_err(|e| PromptError::new(path, e.kind)),
            (false, false) => Err(PromptError::new(path, PromptErrorKind::NotWav)),
        }
    }

    /// Decodes a WAV file held in memory; errors name the file `<memory>`.
    ///
    /// # Errors
    /// As [`Prompt::load`].
    pub fn from_wav_bytes(bytes: &[u8]) -> Result<Self> {
        decode_wav(bytes).map_err(|kind| PromptError::new(&memory(), kind))
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

fn decode_wav(bytes: &[u8]) -> std::result::Result<Prompt, PromptErrorKind> {
    let reader = hound::WavReader::new(Cursor::new(bytes)).map_err(wav_error)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 || spec.sample_rate == 0 {
        return Err(PromptErrorKind::Malformed(
            "zero channels or sample rate".to_owned(),
        ));
    }
    let interleaved = read_f32(reader)?;
    let mono: Vec<f32> = interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    if mono.is_empty() {
        return Err(PromptErrorKind::Empty);
    }
    let samples =
        resample_to_8k(&mono, spec.sample_rate).map_err(|_| PromptErrorKind::Resample {
            from_hz: spec.sample_rate,
        })?;
    Prompt::from_samples(samples).map_err(|e| e.kind)
}

fn read_f32<R: std::io::Read>(
    mut reader: hound::WavReader<R>,
) -> std::result::Result<Vec<f32>, PromptErrorKind> {
    let spec = reader.spec();
    // A streaming header (espeak's --stdout) claims more data than there is, and a truncated file
    // ends early: keep what decodes and stop at the first error.
    let samples = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader.samples::<f32>().map_while(|s| s.ok()).collect(),
        (hound::SampleFormat::Int, 8) => reader
            .samples::<i8>()
            .map_while(|s| s.ok())
            .map(|s| s.to_sample::<f32>())
            .collect(),
        (hound::SampleFormat::Int, 16) => reader
            .samples::<i16>()
            .map_while(|s| s.ok())
            .map(|s| s.to_sample::<f32>())
            .collect(),
        (hound::SampleFormat::Int, bits @ (24 | 32)) => {
            let scale = 1.0 / (1i64 << (bits - 1)) as f32;
            reader
                .samples::<i32>()
                .map_while(|s| s.ok())
                .map(|s| s as f32 * scale)
                .collect()
        }
        (format, bits) => {
            return Err(PromptErrorKind::Unsupported(format!(
                "{bits}-bit {format:?}"
            )));
        }
    };
    Ok(samples)
}

fn wav_error(e: hound::Error) -> PromptErrorKind {
    match e {
        hound::Error::IoError(io) => PromptErrorKind::Malformed(io.to_string()),
        hound::Error::Unsupported => {
            PromptErrorKind::Unsupported("encoding not PCM or IEEE float".to_owned())
        }
        hound::Error::FormatError(msg) if msg.contains("RIFF") || msg.contains("WAVE") => {
            PromptErrorKind::NotWav
        }
        other => PromptErrorKind::Malformed(other.to_string()),
    }
}

#[cfg(test)]
mod tests;
