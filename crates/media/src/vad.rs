//! Voice activity: speech onset and offset with hangover, for barge-in and for "stop recording
//! after N seconds of silence".
//!
//! Frames are classified by [`VadModel`]. The default, [`VadModel::Voiced`], takes a frame for
//! speech when it clears the noise floor and is voiced: periodic at a speaking pitch (60–400 Hz,
//! by autocorrelation), without most of its power sitting in one or two pure tones (by FFT).
//! Noise, clicks and noise bursts are not periodic; music-like tone pairs are periodic but pure.
//! Once speech has started, unvoiced sound well over the floor (fricatives, word endings)
//! carries it on. [`VadModel::Earshot`] runs the `earshot` neural detector (16 kHz in 16 ms
//! blocks, so frames are upsampled with [`Upsampler8To16`] and re-blocked); [`VadModel::Energy`]
//! compares the level with the noise floor; [`VadModel::Both`] requires both. Measured by the
//! suite in `tests/detectors.rs` (`crates/media/docs/detectors.md`), earshot takes noise bursts,
//! noisy pauses and music-like tones for speech, and energy any loud sound; the voiced model
//! rejects all three and keeps 99% of clean speech. `webrtc-vad` was not used: its detector is
//! `!Send`, so it could not live in a per-call task.
//!
//! The noise floor is the quietest frame of the last 0.8 s, so noise that appears on a quiet
//! line becomes the floor within a second. A frame quieter than `min_level_dbfs` is never
//! speech, speech frames must add up to `onset` (200 ms by default, gaps up to 40 ms bridged)
//! before [`VoiceEvent::SpeechStarted`] (so a cough or a click does not barge in), and silence
//! must last `hangover` before [`VoiceEvent::SpeechStopped`] (so pauses between words do not end
//! it). Sounds that never made an onset do not count as speech for [`VoiceDetector::silence_for`].

use std::time::Duration;

mod features;

use self::features::Features;
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
    /// `margin_db`.
    Both {
        /// Earshot score threshold (0..1). Default 0.5.
        threshold: f32,
        /// Margin over the noise floor. Default 6 dB.
        margin_db: f32,
    },
    /// Level above the noise floor by at least `margin_db`, and voiced: periodic at a speaking
    /// pitch (60–400 Hz) without being a few pure tones. Noise is not periodic; music-like tones
    /// are periodic but pure. The default, chosen by measurement (`crates/media/docs/detectors.md`).
    Voiced {
        /// Margin of voiced frames over the noise floor (unvoiced ones need 6 dB more). Default
        /// 3 dB.
        margin_db: f32,
    },
}

impl VadModel {
    /// The default model: [`VadModel::Voiced`] with a margin of 3 dB.
    pub const DEFAULT: Self = Self::Voiced { margin_db: 3.0 };

    fn threshold(self) -> Option<f32> {
        match self {
            Self::Earshot { threshold } | Self::Both { threshold, .. } => Some(threshold),
            Self::Energy { .. } | Self::Voiced { .. } => None,
        }
    }

    fn margin_db(self) -> Option<f32> {
        match self {
            Self::Energy { margin_db }
            | Self::Both { margin_db, .. }
            | Self::Voiced { margin_db } => Some(margin_db),
            Self::Earshot { .. } => None,
        }
    }
}

/// Settings for a [`VoiceDetector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VadConfig {
    /// The frame classifier. Default [`VadModel::DEFAULT`].
    pub model: VadModel,
    /// How much speech must be heard before it is reported (and so before it barges in): speech
    /// frames adding up to this, with no gap longer than 40 ms between them. Default 200 ms: a
    /// cough, a click or a short burst of music or noise is not enough.
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
            onset: Duration::from_millis(200),
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

/// Frames of level history the noise floor is the minimum of (0.8 s): steady noise becomes the
/// floor that soon after it starts, while speech, which dips between words, keeps it low.
const FLOOR_FRAMES: usize = 40;
/// The longest gap inside a run of speech frames that still counts towards the onset.
const ONSET_GAP_FRAMES: u32 = 2;
/// Voicing (periodicity) a voiced frame reaches; noise stays well below.
const MIN_VOICING: f32 = 0.5;
/// Share of the power in two pure tones above which a frame is music-like, not a voice.
const MAX_PEAK_SHARE: f32 = 0.97;
/// How much further over the noise floor than voiced frames unvoiced ones must be to carry
/// speech on, dB.
const UNVOICED_EXTRA_DB: f32 = 6.0;
/// Tonal frames among the last eight that make the sound music, not a voice.
const MUSIC_FRAMES: u32 = 3;

/// What one frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heard {
    /// Nothing over the noise floor, or music-like tones.
    Quiet,
    /// Sound over the noise floor that is not voiced (noise, or a voice's unvoiced sounds).
    Sound,
    /// Voiced sound: speech.
    Voice,
}

/// Detects speech onset and offset in 8 kHz frames. Allocation-free per frame; `Send`.
pub struct VoiceDetector {
    config: VadConfig,
    earshot: Option<(Box<earshot::Detector>, Upsampler8To16)>,
    wide: [i16; 512],
    wide_len: usize,
    features: Option<Features>,
    /// Which of the last eight frames were tonal, newest in the lowest bit.
    tonal_frames: u8,
    /// The last frames' levels, dB, as a ring; the noise floor is their minimum.
    levels: [f32; FLOOR_FRAMES],
    levels_seen: usize,
    last_score: f32,
    speaking: bool,
    /// The current run of speech frames before onset: when it started, how much speech it holds,
    /// and how many frames since its last speech frame.
    run_start: Option<Duration>,
    run_speech: Duration,
    run_gap: u32,
    /// Since when unvoiced sound has been heard without a break, before speech.
    sound_since: Option<Duration>,
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
            features: matches!(config.model, VadModel::Voiced { .. }).then(Features::new),
            tonal_frames: 0,
            levels: [0.0; FLOOR_FRAMES],
            levels_seen: 0,
            last_score: 0.0,
            speaking: false,
            run_start: None,
            run_speech: Duration::ZERO,
            run_gap: 0,
            sound_since: None,
            last_speech_end: None,
        })
    }

    /// Classifies the frame that starts at `now` and reports a change in voice activity.
    pub fn process(&mut self, frame: &Frame, now: Duration) -> Option<VoiceEvent> {
        let heard = self.classify(frame);
        let frame_end = now + Frame::DURATION;
        if self.speaking {
            // Unvoiced sounds (fricatives, word endings) carry speech on, but do not start it.
            if heard != Heard::Quiet {
                self.last_speech_end = Some(frame_end);
                return None;
            }
            let end = self.last_speech_end.unwrap_or(now);
            if frame_end.saturating_sub(end) < self.config.hangover {
                return None;
            }
            self.speaking = false;
            self.run_start = None;
            return Some(VoiceEvent::SpeechStopped { at: end });
        }
        if heard != Heard::Voice {
            self.sound_since = match heard {
                Heard::Sound => self.sound_since.or(Some(now)),
                _ => None,
            };
            self.run_gap += 1;
            if self.run_gap > ONSET_GAP_FRAMES {
                self.run_start = None;
            }
            return None;
        }
        if self.run_start.is_none() {
            self.run_speech = Duration::ZERO;
        }
        // Speech that opens unvoiced ("so", "fine") starts with its unvoiced sound.
        let start = *self
            .run_start
            .get_or_insert(self.sound_since.take().unwrap_or(now));
        self.run_speech += Frame::DURATION;
        self.run_gap = 0;
        if self.run_speech < self.config.onset {
            return None;
        }
        // Only speech that was reported counts as the end of speech: a click that never made
        // an onset does not restart a silence timeout.
        self.speaking = true;
        self.last_speech_end = Some(frame_end);
        Some(VoiceEvent::SpeechStarted { at: start })
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
    fn classify(&mut self, frame: &Frame) -> Heard {
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
        let sound = loud_enough && earshot_says && energy_says;
        let Some(features) = self.features.as_mut() else {
            return if sound { Heard::Voice } else { Heard::Quiet };
        };
        let found = features.measure(frame);
        let tonal = found.peak_share > MAX_PEAK_SHARE;
        self.tonal_frames = (self.tonal_frames << 1) | u8::from(tonal);
        // Music holds its tones for many frames; a voice hits a pure-looking frame now and then.
        let music = tonal || self.tonal_frames.count_ones() >= MUSIC_FRAMES;
        // Unvoiced sound needs more level to carry speech on: noise that is not steady (a
        // rumble) swings a few dB from frame to frame.
        let clearly_over = over_floor >= model.margin_db().unwrap_or(0.0) + UNVOICED_EXTRA_DB;
        match (sound && !music, found.voicing >= MIN_VOICING) {
            (false, _) => Heard::Quiet,
            (true, true) => Heard::Voice,
            (true, false) if clearly_over => Heard::Sound,
            (true, false) => Heard::Quiet,
        }
    }

    /// Updates the noise floor with this frame's level; returns the level over the floor, dB.
    fn track_floor(&mut self, level_db: f32) -> f32 {
        // The floor is the quietest frame of the last 0.8 s (this one included): it follows a
        // quieter line at once and steady noise within 0.8 s, while speech keeps it at the
        // quiet between words.
        self.levels[self.levels_seen % FLOOR_FRAMES] = level_db;
        self.levels_seen += 1;
        let floor = self.levels[..self.levels_seen.min(FLOOR_FRAMES)]
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min);
        level_db - floor
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
