//! Voice activity: speech onset and offset with hangover, for barge-in and for "stop recording
//! after N seconds of silence".
//!
//! Frames are classified by [`VadModel`]: [`VadModel::Earshot`] runs the `earshot` neural
//! detector (it wants 16 kHz audio in 16 ms blocks, so frames are upsampled with
//! [`Upsampler8To16`] and re-blocked); [`VadModel::Energy`] compares each frame's level with a
//! tracked noise floor; [`VadModel::Both`] (the default) requires both. Measured on espeak speech
//! with white noise added (`vad/tests.rs`), earshot alone flags most noise-only frames as speech
//! once noise reaches −50 dBFS, and energy alone flags any loud non-speech sound; together they
//! keep earshot's selectivity and energy's noise immunity. `webrtc-vad` was not used: its
//! detector is `!Send`, so it could not live in a per-call task.
//!
//! Either way, a frame quieter than `min_level_dbfs` is never speech, speech must last `onset`
//! before [`VoiceEvent::SpeechStarted`] (so a click does not barge in), and silence must last
//! `hangover` before [`VoiceEvent::SpeechStopped`] (so pauses between words do not end it).

use std::time::Duration;

use crate::{error::ConfigError, frame::Frame, level::measure, resample::Upsampler8To16};

/// Which frame classifier a [`VoiceDetector`] uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VadModel {
    /// The `earshot` neural detector; a frame is speech when its score reaches `threshold` (0..1).
    Earshot {
        /// Score at or above which a frame is speech. Default 0.5.
        threshold: f32,
    },
    /// Level above a tracked noise floor by at least `margin_db`.
    Energy {
        /// Margin over the noise floor. Default 9 dB.
        margin_db: f32,
    },
    /// Both: the earshot score reaches `threshold` and the level clears the noise floor by
    /// `margin_db`. The default: earshot alone calls steady noise speech, energy alone calls any
    /// loud sound speech.
    Both {
        /// Earshot score threshold (0..1). Default 0.5.
        threshold: f32,
        /// Margin over the noise floor. Default 6 dB.
        margin_db: f32,
    },
}

impl VadModel {
    /// The default model: [`VadModel::Both`] with threshold 0.5 and margin 6 dB.
    pub const DEFAULT: Self = Self::Both {
        threshold: 0.5,
        margin_db: 6.0,
    };

    fn threshold(self) -> Option<f32> {
        match self {
            Self::Earshot { threshold } | Self::Both { threshold, .. } => Some(threshold),
            Self::Energy { .. } => None,
        }
    }

    fn margin_db(self) -> Option<f32> {
        match self {
            Self::Energy { margin_db } | Self::Both { margin_db, .. } => Some(margin_db),
            Self::Earshot { .. } => None,
        }
    }
}

/// Settings for a [`VoiceDetector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// The frame classifier. Default [`VadModel::DEFAULT`].
    pub model: VadModel,
    /// How long speech must last before it is reported. Default 60 ms.
    pub onset: Duration,
    /// How long silence must last before the end of speech is reported. Default 400 ms.
    pub hangover: Duration,
    /// Frames quieter than this (RMS, dBFS) are never speech. Default −55 dBFS.
    pub min_level_dbfs: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            model: VadModel::DEFAULT,
            onset: Duration::from_millis(60),
            hangover: Duration::from_millis(400),
            min_level_dbfs: -55.0,
        }
    }
}

/// A change in voice activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoiceEvent {
    /// Speech began; `at` is the start of its first frame.
    SpeechStarted {
        /// When the first speech frame started.
        at: Duration,
    },
    /// Speech ended; `at` is the end of its last frame (the hangover has passed since).
    SpeechStopped {
        /// When the last speech frame ended.
        at: Duration,
    },
}

/// Detects speech onset and offset in 8 kHz frames. Allocation-free per frame; `Send`.
pub struct VoiceDetector {
    config: VadConfig,
    earshot: Option<(Box<earshot::Detector>, Upsampler8To16)>,
    wide: [i16; 512],
    wide_len: usize,
    noise_floor_db: f32,
    last_score: f32,
    speaking: bool,
    run_start: Option<Duration>,
    last_speech_end: Option<Duration>,
}

impl VoiceDetector {
    /// Builds a detector.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] for a threshold outside 0..=1, a negative margin, or a zero
    /// hangover.
    pub fn new(config: VadConfig) -> Result<Self, ConfigError> {
        let out = |setting, reason| Err(ConfigError::OutOfRange { setting, reason });
        if config
            .model
            .threshold()
            .is_some_and(|t| !(0.0..=1.0).contains(&t))
        {
            return out("threshold", "must lie within 0..=1");
        }
        if config
            .model
            .margin_db()
            .is_some_and(|m| m.is_nan() || m < 0.0)
        {
            return out("margin_db", "must not be negative");
        }
        let earshot = match config.model.threshold() {
            Some(_) => Some((earshot::Detector::default_boxed(), Upsampler8To16::new()?)),
            None => None,
        };
        if config.hangover.is_zero() {
            return out("hangover", "must be positive");
        }
        Ok(Self {
            config,
            earshot,
            wide: [0; 512],
            wide_len: 0,
            noise_floor_db: f32::NAN,
            last_score: 0.0,
            speaking: false,
            run_start: None,
            last_speech_end: None,
        })
    }

    /// Classifies the frame that starts at `now` and reports a change in voice activity.
    pub fn process(&mut self, frame: &Frame, now: Duration) -> Option<VoiceEvent> {
        let is_speech = self.classify(frame);
        let frame_end = now + Frame::DURATION;
        match (is_speech, self.speaking) {
            (true, true) => {
                self.last_speech_end = Some(frame_end);
                None
            }
            (true, false) => {
                let start = *self.run_start.get_or_insert(now);
                self.last_speech_end = Some(frame_end);
                if frame_end.saturating_sub(start) < self.config.onset {
                    return None;
                }
                self.speaking = true;
                Some(VoiceEvent::SpeechStarted { at: start })
            }
            (false, false) => {
                self.run_start = None;
                None
            }
            (false, true) => {
                let end = self.last_speech_end.unwrap_or(now);
                if frame_end.saturating_sub(end) < self.config.hangover {
                    return None;
                }
                self.speaking = false;
                self.run_start = None;
                Some(VoiceEvent::SpeechStopped { at: end })
            }
        }
    }

    /// Whether speech is in progress (between `SpeechStarted` and `SpeechStopped`).
    #[must_use]
    pub fn is_speaking(&self) -> bool {
        self.speaking
    }

    /// How long since the last speech frame ended, at `now` (`None` if there was none yet).
    #[must_use]
    pub fn silence_for(&self, now: Duration) -> Option<Duration> {
        self.last_speech_end.map(|end| now.saturating_sub(end))
    }

    /// The last frame's score: the earshot probability, or (energy model) the level over the
    /// noise floor in dB.
    #[must_use]
    pub fn last_score(&self) -> f32 {
        self.last_score
    }

    /// Classifies one frame as speech or not, without the onset/hangover logic.
    fn classify(&mut self, frame: &Frame) -> bool {
        let level_db = measure(frame.as_samples()).rms_dbfs;
        let loud_enough = level_db >= self.config.min_level_dbfs;
        let over_floor = self.track_floor(level_db);
        let score = self.earshot_score(frame);
        let model = self.config.model;
        self.last_score = score.unwrap_or(over_floor);
        let earshot_says = model
            .threshold()
            .is_none_or(|t| score.is_some_and(|s| s >= t));
        let energy_says = model.margin_db().is_none_or(|m| over_floor >= m);
        loud_enough && earshot_says && energy_says
    }

    /// Updates the noise floor with this frame's level; returns the level over the floor, dB.
    fn track_floor(&mut self, level_db: f32) -> f32 {
        // The floor starts at the first frame, follows quieter frames down at once and creeps up
        // 0.1 dB per frame (5 dB/s): steady noise becomes the floor within seconds, speech
        // (which has gaps) does not.
        self.noise_floor_db = match level_db < self.noise_floor_db || self.noise_floor_db.is_nan() {
            true => level_db,
            false => self.noise_floor_db + 0.1,
        };
        level_db - self.noise_floor_db
    }

    /// The earshot score of the 16 kHz blocks this frame completed (the best one), if earshot
    /// is in use.
    fn earshot_score(&mut self, frame: &Frame) -> Option<f32> {
        let (detector, upsampler) = self.earshot.as_mut()?;
        let mut wide = [0i16; Upsampler8To16::OUTPUT_SAMPLES];
        upsampler.process(frame, &mut wide).ok()?;
        self.wide[self.wide_len..self.wide_len + wide.len()].copy_from_slice(&wide);
        self.wide_len += wide.len();
        // 320 new samples complete one or two 256-sample blocks.
        let mut score = None::<f32>;
        let mut used = 0;
        while self.wide_len - used >= 256 {
            let s = detector.predict_i16(&self.wide[used..used + 256]);
            score = Some(score.map_or(s, |best| best.max(s)));
            used += 256;
        }
        self.wide.copy_within(used..self.wide_len, 0);
        self.wide_len -= used;
        score
    }
}

impl std::fmt::Debug for VoiceDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoiceDetector")
            .field("config", &self.config)
            .field("speaking", &self.speaking)
            .field("last_score", &self.last_score)
            .finish()
    }
}

#[cfg(test)]
mod tests;
