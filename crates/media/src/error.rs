//! Error types, one per area: construction errors (bad settings, unreadable files) are kept
//! apart from the small `Copy` errors of the per-frame hot path.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use crate::limits::Seconds;

/// A `Result` whose error defaults to [`PromptError`].
pub type Result<T, E = PromptError> = std::result::Result<T, E>;

/// Settings rejected when building a DSP component ([`crate::JitterBuffer`], [`crate::Pacer`],
/// [`crate::StreamResampler`], [`crate::VoiceDetector`], [`crate::DtmfDetector`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A setting is outside the range the component supports.
    #[error("{setting} is out of range: {reason}")]
    OutOfRange {
        /// The name of the setting.
        setting: &'static str,
        /// What the allowed range is.
        reason: &'static str,
    },
    /// The resampler could not be built for these rates.
    #[error("cannot resample from {from_hz} Hz to {to_hz} Hz")]
    UnsupportedRate {
        /// Input rate.
        from_hz: u32,
        /// Output rate.
        to_hz: u32,
    },
}

/// A per-chunk failure of a streaming resampler. Small and `Copy`: it is on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResampleError {
    /// The input slice does not hold exactly [`crate::StreamResampler::samples_needed`] samples.
    #[error("wrong input length: expected {expected} samples, got {actual}")]
    InputLength {
        /// Samples expected.
        expected: usize,
        /// Samples given.
        actual: usize,
    },
    /// The output slice is shorter than [`crate::StreamResampler::output_samples_max`].
    #[error("output buffer too small: need {needed} samples, got {actual}")]
    OutputTooSmall {
        /// Samples needed.
        needed: usize,
        /// Samples available.
        actual: usize,
    },
    /// rubato refused the chunk (an internal invariant broke).
    #[error("resampler failed")]
    Internal,
}

/// Why a prompt could not be loaded. Always names the file (or `<memory>`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("prompt {}: {kind}", path.display())]
pub struct PromptError {
    /// The file that failed, or `<memory>` for in-memory input.
    pub path: PathBuf,
    /// What was wrong with it.
    pub kind: PromptErrorKind,
}

impl PromptError {
    pub(crate) fn new(path: &Path, kind: PromptErrorKind) -> Self {
        Self {
            path: path.to_owned(),
            kind,
        }
    }
}

/// What was wrong with a prompt file.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum PromptErrorKind {
    /// The file could not be read.
    #[error("cannot read file: {0}")]
    Io(#[source] Arc<std::io::Error>),
    /// The file is neither a RIFF/WAVE file nor has a raw-PCM extension (`.raw`, `.pcm`, `.sln`, `.s16`).
    #[error("not a WAV file (and not a .raw/.pcm/.sln/.s16 raw PCM file)")]
    NotWav,
    /// A WAV file whose encoding is not supported (e.g. A-law, ADPCM, 12-bit).
    #[error("unsupported WAV format: {0}")]
    Unsupported(String),
    /// The WAV header is malformed.
    #[error("malformed WAV: {0}")]
    Malformed(String),
    /// The file holds no audio.
    #[error("no audio in file")]
    Empty,
    /// The path is not a regular file (a FIFO, a device such as `/dev/zero`, a directory).
    #[error("not a regular file: it is {0}")]
    NotAFile(&'static str),
    /// The file is larger than [`crate::AudioLimits::max_file_bytes`].
    #[error("the file is {bytes} bytes, more than the limit of {max_bytes} bytes")]
    FileTooLarge {
        /// The file's size.
        bytes: u64,
        /// The limit.
        max_bytes: u64,
    },
    /// The header's sample rate is outside what any real audio uses.
    #[error("sample rate {hz} Hz is outside {min_hz}–{max_hz} Hz")]
    SampleRate {
        /// The rate the header declares.
        hz: u32,
        /// The lowest rate accepted.
        min_hz: u32,
        /// The highest rate accepted.
        max_hz: u32,
    },
    /// The audio plays longer than [`crate::AudioLimits::max_duration`] (measured from the header
    /// and the file's size, before decoding).
    #[error("the audio lasts {}, more than the limit of {}", Seconds(*duration), Seconds(*max))]
    TooLong {
        /// How long the file plays.
        duration: Duration,
        /// The limit.
        max: Duration,
    },
    /// The file ends before the first whole sample its header declares.
    #[error("truncated: the header declares {} of audio but the file ends before the first whole sample", Seconds(*declared))]
    Truncated {
        /// What the header declares.
        declared: Duration,
    },
    /// Resampling to 8 kHz failed.
    #[error("cannot resample {from_hz} Hz to 8000 Hz")]
    Resample {
        /// The file's sample rate.
        from_hz: u32,
    },
}

/// Why a recording could not be written or repaired. Names the file.
#[derive(Debug, Clone, thiserror::Error)]
#[error("recording {}: {kind}", path.display())]
pub struct RecorderError {
    /// The recording file.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: RecorderErrorKind,
}

impl RecorderError {
    pub(crate) fn new(path: &Path, kind: RecorderErrorKind) -> Self {
        Self {
            path: path.to_owned(),
            kind,
        }
    }
}

/// What went wrong with a recording file.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RecorderErrorKind {
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[source] Arc<std::io::Error>),
    /// The WAV writer failed.
    #[error("WAV error: {0}")]
    Wav(String),
    /// `repair_wav` was given something that is not a RIFF/WAVE file with a `data` chunk.
    #[error("not a repairable WAV file: {0}")]
    NotWav(&'static str),
}

impl From<hound::Error> for RecorderErrorKind {
    fn from(e: hound::Error) -> Self {
        match e {
            hound::Error::IoError(io) => Self::Io(Arc::new(io)),
            other => Self::Wav(other.to_string()),
        }
    }
}

impl From<std::io::Error> for RecorderErrorKind {
    fn from(e: std::io::Error) -> Self {
        Self::Io(Arc::new(e))
    }
}

/// An invalid DTMF symbol given to the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DtmfError {
    /// The character is not one of `0-9 * # A-D`.
    #[error("not a DTMF digit: {0:?}")]
    InvalidDigit(char),
}
