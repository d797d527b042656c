//! Call recordings as 8 kHz 16-bit WAV, kept playable while they are written.
//!
//! hound only rewrites the header on `flush`/`finalize`, and SIGKILL skips `Drop`, so a killed
//! process would leave a header claiming zero samples. The recorder flushes every
//! `flush_interval` of audio (one seek and two 4-byte writes), so a crash loses at most that much
//! from the header's point of view; [`repair_wav`] recovers the rest that reached the disk.
//!
//! In stereo the caller is on the left and the bot on the right. The caller stream is lossless
//! and continuous, so it is the clock: bot audio is placed at the caller position current when
//! it was sent (or straight after the previous bot audio, if that is later), and waits in a
//! buffer until the caller audio for that position arrives.

mod repair;

use std::{
    collections::VecDeque,
    fs::File,
    io::BufWriter,
    path::{Path, PathBuf},
    time::Duration,
};

pub use self::repair::{Repair, repair_wav};
use crate::{
    error::{RecorderError, RecorderErrorKind},
    frame::{SAMPLE_RATE, duration_to_samples, samples_to_duration},
    level::mix_into,
};

/// Which channels a recording has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channels {
    /// Mono: the caller only; bot audio is ignored.
    Caller,
    /// Mono: caller and bot summed (with clipping).
    Mixed,
    /// Stereo: caller left, bot right.
    Stereo,
}

/// Settings for a [`Recorder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct RecorderBuilder {
    path: PathBuf,
    channels: Channels,
    flush_interval: Duration,
    max_bot_ahead: Duration,
}

impl RecorderBuilder {
    /// A caller-only recording to `path`, flushed every second.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            channels: Channels::Caller,
            flush_interval: Duration::from_secs(1),
            max_bot_ahead: Duration::from_secs(10),
        }
    }

    /// Sets the channel layout.
    pub fn channels(mut self, channels: Channels) -> Self {
        self.channels = channels;
        self
    }

    /// How much audio may be written between header updates (default 1 s; zero flushes on every
    /// write).
    pub fn flush_interval(mut self, interval: Duration) -> Self {
        self.flush_interval = interval;
        self
    }

    /// How far bot audio may run ahead of the caller stream before the caller side is assumed to
    /// have stalled and is filled with silence (default 10 s).
    pub fn max_bot_ahead(mut self, ahead: Duration) -> Self {
        self.max_bot_ahead = ahead;
        self
    }

    /// Creates the file (truncating an existing one) and starts the recording.
    ///
    /// # Errors
    /// [`RecorderError`] naming the file if it cannot be created.
    pub fn create(self) -> Result<Recorder, RecorderError> {
        let spec = hound::WavSpec {
            channels: match self.channels {
                Channels::Stereo => 2,
                Channels::Caller | Channels::Mixed => 1,
            },
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(&self.path, spec)
            .map_err(|e| RecorderError::new(&self.path, e.into()))?;
        let max_bot_ahead = duration_to_samples(self.max_bot_ahead).max(1) as usize;
        Ok(Recorder {
            writer: Some(writer),
            channels: self.channels,
            flush_every: duration_to_samples(self.flush_interval),
            since_flush: 0,
            caller_pos: 0,
            bot: VecDeque::with_capacity(max_bot_ahead.min(16_000)),
            bot_start: 0,
            bot_samples: 0,
            max_bot_ahead,
            caller_gap_samples: 0,
            path: self.path,
        })
    }
}

/// What a finished recording holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingSummary {
    /// The file.
    pub path: PathBuf,
    /// Its length.
    pub duration: Duration,
    /// The channel layout.
    pub channels: Channels,
    /// Caller samples written.
    pub caller_samples: u64,
    /// Bot samples written.
    pub bot_samples: u64,
    /// Caller-side silence inserted because the caller stream stalled behind the bot.
    pub caller_gap_samples: u64,
}

/// A WAV recording in progress. Blocking I/O: run it on a dedicated writer thread or task.
pub struct Recorder {
    writer: Option<hound::WavWriter<BufWriter<File>>>,
    channels: Channels,
    flush_every: u64,
    since_flush: u64,
    caller_pos: u64,
    bot: VecDeque<i16>,
    bot_start: u64,
    bot_samples: u64,
    max_bot_ahead: usize,
    caller_gap_samples: u64,
    path: PathBuf,
}

impl Recorder {
    /// Appends the caller's audio (the lossless stream, not the jitter buffer's output).
    ///
    /// # Errors
    /// [`RecorderError`] if writing fails.
    pub fn write_caller(&mut self, samples: &[i16]) -> Result<(), RecorderError> {
        for &caller in samples {
            self.write_one(caller)?;
        }
        self.maybe_flush()
    }

    /// Adds bot audio as it is sent; placed at the current caller position or right after the
    /// previous bot audio. Ignored for [`Channels::Caller`].
    ///
    /// # Errors
    /// [`RecorderError`] if writing fails (when the bot runs too far ahead and the caller side
    /// is filled with silence).
    pub fn write_bot(&mut self, samples: &[i16]) -> Result<(), RecorderError> {
        if self.channels == Channels::Caller || samples.is_empty() {
            return Ok(());
        }
        if self.bot.is_empty() {
            self.bot_start = self.bot_start.max(self.caller_pos);
        }
        self.bot.extend(samples);
        self.bot_samples += samples.len() as u64;
        // The caller stream stalled: write its silence so the bot buffer stays bounded.
        while self.bot_start + self.bot.len() as u64 > self.caller_pos + self.max_bot_ahead as u64 {
            self.caller_gap_samples += 1;
            self.write_one(0)?;
        }
        self.maybe_flush()
    }

    /// Audio written so far (the caller clock).
    #[must_use]
    pub fn duration(&self) -> Duration {
        samples_to_duration(self.caller_pos)
    }

    /// Writes out pending bot audio (against caller silence), fixes the header and closes the file.
    ///
    /// # Errors
    /// [`RecorderError`] if the final writes fail.
    pub fn finish(mut self) -> Result<RecordingSummary, RecorderError> {
        while !self.bot.is_empty() {
            self.caller_gap_samples += 1;
            self.write_one(0)?;
        }
        let caller_samples = self.caller_pos - self.caller_gap_samples;
        if let Some(writer) = self.writer.take() {
            writer
                .finalize()
                .map_err(|e| RecorderError::new(&self.path, e.into()))?;
        }
        Ok(RecordingSummary {
            path: self.path.clone(),
            duration: samples_to_duration(self.caller_pos),
            channels: self.channels,
            caller_samples,
            bot_samples: self.bot_samples,
            caller_gap_samples: self.caller_gap_samples,
        })
    }

    fn write_one(&mut self, caller: i16) -> Result<(), RecorderError> {
        let bot = match self.bot_start == self.caller_pos {
            true => self
                .bot
                .pop_front()
                .inspect(|_| self.bot_start += 1)
                .unwrap_or(0),
            false => 0,
        };
        let writer = self
            .writer
            .as_mut()
            .expect("writer is present until finish consumes self");
        let result = match self.channels {
            Channels::Caller => writer.write_sample(caller),
            Channels::Mixed => {
                let mut mixed = [caller];
                mix_into(&mut mixed, &[bot]);
                writer.write_sample(mixed[0])
            }
            Channels::Stereo => writer
                .write_sample(caller)
                .and_then(|()| writer.write_sample(bot)),
        };
        result.map_err(|e| RecorderError::new(&self.path, e.into()))?;
        self.caller_pos += 1;
        if self.bot.is_empty() {
            self.bot_start = self.bot_start.max(self.caller_pos);
        }
        self.since_flush += 1;
        Ok(())
    }

    fn maybe_flush(&mut self) -> Result<(), RecorderError> {
        if self.since_flush < self.flush_every.max(1) {
            return Ok(());
        }
        self.since_flush = 0;
        let writer = self
            .writer
            .as_mut()
            .expect("writer is present until finish consumes self");
        writer
            .flush()
            .map_err(|e| RecorderError::new(&self.path, e.into()))
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .field("channels", &self.channels)
            .field("duration", &self.duration())
            .finish()
    }
}

/// An I/O error on a recording file, naming it.
pub(crate) fn io_error(path: &Path, e: std::io::Error) -> RecorderError {
    RecorderError::new(path, RecorderErrorKind::from(e))
}

#[cfg(test)]
mod tests;
