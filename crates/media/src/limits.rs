//! The limits every audio file input is held to — prompts, `voicebot convert`, `voicebot
//! transcribe`, the simulator's scenario WAVs — checked from the file's metadata and header before
//! a single sample is decoded, so a hostile or broken file costs a few bytes of reading, not
//! memory or CPU.
//!
//! The rules: only regular files (never a FIFO or a device such as `/dev/zero`); at most
//! [`AudioLimits::max_file_bytes`] on disk; a sample rate within 4–192 kHz; at most
//! [`AudioLimits::max_duration`] of audio. [`AudioLimits::inspect`] applies them and describes the
//! file; [`crate::Prompt::load_checked`] applies them and decodes.

use std::{fmt, path::Path, time::Duration};

use crate::{error::Result, prompt::source::AudioSource};

/// What an audio input may be. `Copy`; build with [`AudioLimits::default`] and the `with_*`
/// setters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioLimits {
    max_duration: Duration,
    max_file_bytes: u64,
}

impl AudioLimits {
    /// The lowest sample rate accepted (a rate below it is a broken or hostile header: 1 Hz made
    /// 16 KB of data last over two hours).
    pub const MIN_RATE_HZ: u32 = 4_000;
    /// The highest sample rate accepted.
    pub const MAX_RATE_HZ: u32 = 192_000;
    /// The default longest audio: 10 minutes.
    pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(10 * 60);
    /// The default largest file: 256 MiB (10 minutes of 48 kHz stereo 32-bit float fits).
    pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

    /// The longest audio accepted, measured from the header and the file's size.
    #[must_use]
    pub fn with_max_duration(mut self, max_duration: Duration) -> Self {
        self.max_duration = max_duration;
        self
    }

    /// The largest file accepted, in bytes.
    #[must_use]
    pub fn with_max_file_bytes(mut self, max_file_bytes: u64) -> Self {
        self.max_file_bytes = max_file_bytes;
        self
    }

    /// The longest audio accepted.
    #[must_use]
    pub fn max_duration(&self) -> Duration {
        self.max_duration
    }

    /// The largest file accepted, in bytes.
    #[must_use]
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_bytes
    }

    /// Checks `path` against the limits without decoding: it is opened, its metadata and header
    /// read, and what decoding would yield described.
    ///
    /// # Errors
    /// [`crate::PromptError`] naming `path` and the rule it breaks (not a regular file, too
    /// large, sample rate out of range, too long, malformed or empty).
    pub fn inspect(&self, path: impl AsRef<Path>) -> Result<AudioInfo> {
        AudioSource::open(path.as_ref(), self).map(|source| source.info().clone())
    }
}

impl Default for AudioLimits {
    fn default() -> Self {
        Self {
            max_duration: Self::DEFAULT_MAX_DURATION,
            max_file_bytes: Self::DEFAULT_MAX_FILE_BYTES,
        }
    }
}

/// What an audio file holds, as read from its header and size (see [`AudioLimits::inspect`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AudioInfo {
    /// The file's own sample rate.
    pub sample_rate_hz: u32,
    /// Interleaved channels (1 for raw PCM).
    pub channels: u16,
    /// Whole sample frames (one sample per channel) the file holds.
    pub frames: u64,
    /// Bytes of one sample frame.
    pub frame_bytes: u16,
    /// Where the samples start in the file.
    pub data_offset: u64,
    /// How long the audio plays.
    pub duration: Duration,
    /// Usable data that is not quite what the header says.
    pub warnings: Vec<AudioWarning>,
}

/// Something odd about a file whose audio is still usable; the loader returns it for the caller
/// to report, so nothing is dropped silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AudioWarning {
    /// The file ends before the data its header declares.
    Truncated {
        /// What the header declares.
        declared: Duration,
        /// What was read.
        read: Duration,
    },
    /// Bytes after the last whole sample frame were ignored (e.g. odd-length raw PCM).
    TrailingBytes {
        /// Bytes ignored.
        bytes: u64,
        /// What was read.
        read: Duration,
    },
}

impl fmt::Display for AudioWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated { declared, read } => write!(
                f,
                "truncated: the header declares {} but the file holds {}; read {}",
                Seconds(*declared),
                Seconds(*read),
                Seconds(*read)
            ),
            Self::TrailingBytes { bytes, read } => write!(
                f,
                "ignored {bytes} trailing byte{} after the last whole sample; read {}",
                if *bytes == 1 { "" } else { "s" },
                Seconds(*read)
            ),
        }
    }
}

/// Formats a duration as seconds with two decimals, e.g. `8000.00 s`.
pub(crate) struct Seconds(pub(crate) Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} s", self.0.as_secs_f64())
    }
}

#[cfg(test)]
mod tests;
