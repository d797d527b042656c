//! The Q.24 detector.

use std::f32::consts::{PI, TAU};

use super::{DBM0_PEAK_DBFS, HIGH_GROUP_HZ, LOW_GROUP_HZ, digit_at};
use crate::{
    error::ConfigError,
    frame::{Frame, SAMPLE_RATE},
};

/// Analysis window (10 ms) and hop (5 ms): each window overlaps the previous by half.
const WINDOW: usize = 80;
const HOP: usize = WINDOW / 2;
const TONES: usize = 8;
/// Windows of history kept: the current one and four before it (for the onset check).
const HISTORY: usize = 5;
const NORMAL_TWIST_DB: f32 = 10.0;
const REVERSE_TWIST_DB: f32 = 6.0;
const MIN_PURITY: f32 = 0.7;
const TOLERANCE: f32 = 0.022;
/// Consecutive votes (one per 5 ms window) a digit needs: a 40 ms tone always fills at least
/// four windows that pass, a 23 ms tone at most three.
const VOTES_TO_REPORT: u32 = 4;
/// Votes after which a digit still held is reported without waiting for its release (about
/// 120 ms of tone): long enough for vibrato to show.
const VOTES_WHILE_HELD: u32 = 20;
/// Windows after a run's last vote within which both tones must fall away for a release.
const RELEASE_WINDOWS: u32 = 3;
/// Windows without the digit before it is released: a 10 ms dropout fails at most five, a
/// 40 ms pause at least eight.
const MISSES_TO_RELEASE: u32 = 6;
/// How much each tone must rise over the windows just before the first vote, dB: a key press
/// starts both tones from quiet; a musical note or a formant drifts into the band.
const MIN_RISE_DB: f32 = 10.0;
/// How far each tone's frequency may wander over the votes, Hz: a key's tones are steady,
/// vibrato and speech glide.
const MAX_WANDER_HZ: f32 = 6.0;

/// Settings for a [`DtmfDetector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DtmfConfig {
    /// The weakest tone detected, per tone, in dBm0 (0 dBm0 is a sine 3.14 dB below full
    /// scale). Default −38 dBm0: tones at Q.24's −36 dBm0 floor are found with room to spare.
    pub min_level_dbm0: f32,
}

impl Default for DtmfConfig {
    fn default() -> Self {
        Self {
            min_level_dbm0: -38.0,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Bin {
    re: f32,
    im: f32,
}

impl Bin {
    fn power(self) -> f32 {
        self.re * self.re + self.im * self.im
    }

    /// The phase of `self` relative to `earlier`.
    fn phase_since(self, earlier: Self) -> f32 {
        let re = self.re * earlier.re + self.im * earlier.im;
        let im = self.im * earlier.re - self.re * earlier.im;
        im.atan2(re)
    }
}

/// One analysis window: the eight tones' DFT bins and powers (as shares of the window's energy).
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    bins: [Bin; TONES],
    power: [f32; TONES],
}

/// A window's vote: the digit, its low and high tone, and each tone's frequency offset from
/// nominal (Hz).
#[derive(Debug, Clone, Copy)]
struct Vote {
    digit: char,
    tones: [usize; 2],
    offsets: [f32; 2],
}

/// The digit being voted for: its votes so far and what the checks need.
#[derive(Debug, Clone, Copy)]
struct Run {
    digit: char,
    tones: [usize; 2],
    votes: u32,
    /// Each tone's power in the quietest of the windows before the first vote.
    before: [f32; 2],
    /// Each tone's least power over the votes.
    least: [f32; 2],
    /// Each tone's frequency offset (Hz) in the first [`VOTES_WHILE_HELD`] votes.
    offsets: [[f32; 2]; VOTES_WHILE_HELD as usize],
}

impl Run {
    fn new(vote: Vote, before: [f32; 2]) -> Self {
        Self {
            digit: vote.digit,
            tones: vote.tones,
            votes: 0,
            before,
            least: [f32::INFINITY; 2],
            offsets: [[0.0; 2]; VOTES_WHILE_HELD as usize],
        }
    }

    fn add(&mut self, vote: Vote, power: [f32; TONES]) {
        if let Some(slot) = self.offsets.get_mut(self.votes as usize) {
            *slot = vote.offsets;
        }
        self.votes += 1;
        for i in 0..2 {
            self.least[i] = self.least[i].min(power[self.tones[i]]);
        }
    }

    /// Both tones rose from quiet and held their pitch: a key, not music or a voice. `ended`
    /// says whether the last vote was the tone's last window.
    fn is_key_press(&self, ended: bool) -> bool {
        // The first two votes' estimates lean on windows the tone only partly fills, and so
        // does the last one's at the tone's end; the leaning shifts them by a few hertz.
        let held = (self.votes as usize).min(self.offsets.len());
        let steady = &self.offsets[2.min(held)..held - usize::from(ended && held > 2)];
        let rise = 10f32.powf(MIN_RISE_DB / 10.0);
        (0..2).all(|i| {
            let (low, high) = steady
                .iter()
                .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), o| {
                    (lo.min(o[i]), hi.max(o[i]))
                });
            // No steady estimate (−∞ − ∞) counts as no wander.
            self.least[i] >= rise * self.before[i] && (high - low).max(0.0) <= MAX_WANDER_HZ
        })
    }
}

/// In-band DTMF detector for 8 kHz audio meeting ITU-T Q.24. Allocation-free; about 10 KB of
/// tables.
///
/// Audio is analysed in 10 ms windows every 5 ms. For each window and each of the eight Q.23
/// frequencies we take a Hann-windowed DFT bin (sharp enough that the other group's tone leaks
/// in at about −36 dB). A window votes for a digit when:
///
/// * the strongest low and high tones each reach the level floor (default −38 dBm0);
/// * their ratio is within the twist limits (high weaker by up to 10 dB, low by up to 6 dB);
/// * together they hold at least 70% of the window's energy (speech and noise do not);
/// * both tones are within ±2.2% of nominal: the frequency comes from the phase advance of the
///   bin over 10 ms (fine, ±50 Hz range), unwrapped with its advance over 5 ms (coarse, ±100 Hz
///   range). Energy alone cannot separate 1.5% from 3.5% in 10 ms, phase can.
///
/// A digit is reported on its fourth consecutive vote (a 40 ms tone always has four windows
/// wholly inside it and one of 23 ms at most three that pass), if the tones are a key press and
/// not music or a voice (talk-off): both rose by at least 10 dB over the windows before the
/// first vote, and neither wandered more than 6 Hz over the votes. It is released after six
/// windows without it: a 10 ms dropout inside a tone fails at most five and does not repeat the
/// digit, a 40 ms pause fails more.
#[derive(Clone)]
pub struct DtmfDetector {
    // Per tone: Hann-windowed cos/sin for the 80 samples of a window.
    basis: [[(f32, f32); WINDOW]; TONES],
    window: [f32; WINDOW],
    power_scale: f32,
    min_tone_power: f32,
    samples: [i16; WINDOW],
    filled: usize,
    /// The last windows analysed, newest at `newest`.
    history: [Window; HISTORY],
    newest: usize,
    analysed: usize,
    run: Option<Run>,
    /// A run that ended, waiting (so many windows so far) for its tones to fall away.
    ended: Option<(Run, u32)>,
    reported: Option<char>,
    misses: u32,
}

impl DtmfDetector {
    /// A detector with the Q.24 settings and the default level floor.
    #[must_use]
    pub fn new() -> Self {
        Self::build(DtmfConfig::default())
    }

    /// A detector with `config`.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] if `min_level_dbm0` is not within −60..=0 dBm0.
    pub fn with_config(config: DtmfConfig) -> Result<Self, ConfigError> {
        if !(-60.0..=0.0).contains(&config.min_level_dbm0) {
            return Err(ConfigError::OutOfRange {
                setting: "min_level_dbm0",
                reason: "must lie within -60..=0 dBm0",
            });
        }
        Ok(Self::build(config))
    }

    fn build(config: DtmfConfig) -> Self {
        let window: [f32; WINDOW] =
            std::array::from_fn(|n| 0.5 - 0.5 * (TAU * (n as f32 + 0.5) / WINDOW as f32).cos());
        let sum: f32 = window.iter().sum();
        let sum_squares: f32 = window.iter().map(|w| w * w).sum();
        let basis = std::array::from_fn(|k| {
            std::array::from_fn(|n| {
                let omega = TAU * nominal_hz(k) * n as f32 / SAMPLE_RATE as f32;
                (window[n] * omega.cos(), window[n] * omega.sin())
            })
        });
        // A tone of amplitude A gives |bin| = A·Σw/2 and windowed energy A²·Σw²/2, so this scale
        // turns |bin|² into the tone's share of the windowed energy.
        let power_scale = 2.0 * sum_squares / (sum * sum);
        let min_dbfs = config.min_level_dbm0 + DBM0_PEAK_DBFS as f32;
        let min_amp = 32_768.0 * 10f32.powf(min_dbfs / 20.0);
        Self {
            basis,
            window,
            power_scale,
            min_tone_power: min_amp * min_amp / 2.0 * sum_squares,
            samples: [0; WINDOW],
            filled: 0,
            history: [Window::default(); HISTORY],
            newest: 0,
            analysed: 0,
            run: None,
            ended: None,
            reported: None,
            misses: MISSES_TO_RELEASE,
        }
    }

    /// Feeds one frame; returns a digit when one is first detected.
    pub fn process(&mut self, frame: &Frame) -> Option<char> {
        let mut found = None;
        self.process_with(frame.as_samples(), |digit| found = found.or(Some(digit)));
        found
    }

    /// Feeds any number of samples, calling `on_digit` for each digit detected, in order.
    pub fn process_with<F>(&mut self, mut samples: &[i16], mut on_digit: F)
    where
        F: FnMut(char),
    {
        while !samples.is_empty() {
            let take = (WINDOW - self.filled).min(samples.len());
            self.samples[self.filled..self.filled + take].copy_from_slice(&samples[..take]);
            self.filled += take;
            samples = &samples[take..];
            if self.filled == WINDOW {
                let vote = self.analyse_window();
                self.samples.copy_within(HOP.., 0);
                self.filled = WINDOW - HOP;
                if let Some(digit) = self.debounce(vote) {
                    on_digit(digit);
                }
            }
        }
    }

    /// Forgets all state (between calls), keeping the settings.
    pub fn reset(&mut self) {
        self.filled = 0;
        self.history = [Window::default(); HISTORY];
        self.analysed = 0;
        self.run = None;
        self.ended = None;
        self.reported = None;
        self.misses = MISSES_TO_RELEASE;
    }

    /// The window `back` windows before the newest.
    fn past(&self, back: usize) -> &Window {
        &self.history[(self.newest + HISTORY - back) % HISTORY]
    }

    /// Analyses the full window; returns the digit it votes for.
    fn analyse_window(&mut self) -> Option<Vote> {
        let mut bins = [Bin::default(); TONES];
        let mut energy = 0.0f32;
        for (n, (&s, &w)) in self.samples.iter().zip(&self.window).enumerate() {
            let x = f32::from(s);
            energy += (w * x) * (w * x);
            for (bin, basis) in bins.iter_mut().zip(&self.basis) {
                let (wc, ws) = basis[n];
                bin.re += x * wc;
                bin.im -= x * ws;
            }
        }
        let power = bins.map(|bin| bin.power() * self.power_scale);
        self.newest = (self.newest + 1) % HISTORY;
        self.history[self.newest] = Window { bins, power };
        self.analysed = self.analysed.saturating_add(1);
        if self.analysed < 3 {
            return None;
        }
        let best = |range: std::ops::Range<usize>| {
            range
                .max_by(|&a, &b| power[a].total_cmp(&power[b]))
                .expect("non-empty group")
        };
        let (low, high) = (best(0..4), best(4..8));
        let (p_low, p_high) = (power[low], power[high]);
        if p_low < self.min_tone_power || p_high < self.min_tone_power {
            return None;
        }
        let twist_db = 10.0 * (p_high / p_low).log10();
        if !(-NORMAL_TWIST_DB..=REVERSE_TWIST_DB).contains(&twist_db) {
            return None;
        }
        if p_low + p_high < MIN_PURITY * energy {
            return None;
        }
        let mut offsets = [0.0; 2];
        for (offset, k) in offsets.iter_mut().zip([low, high]) {
            *offset = self.frequency_offset(k)?;
            if offset.abs() > TOLERANCE * nominal_hz(k) {
                return None;
            }
        }
        Some(Vote {
            digit: digit_at(low, high - 4),
            tones: [low, high],
            offsets,
        })
    }

    /// Tone `k`'s frequency offset from nominal in the newest window, Hz; `None` if the windows
    /// before it do not carry the tone too (their phase would be noise).
    fn frequency_offset(&self, k: usize) -> Option<f32> {
        let (now, half, full) = (self.past(0), self.past(1), self.past(2));
        if half.power[k].min(full.power[k]) < 0.02 * now.power[k] {
            return None;
        }
        let advance = |span: usize, earlier: &Window| {
            let step = TAU * nominal_hz(k) * span as f32 / SAMPLE_RATE as f32;
            let hz_per_radian = SAMPLE_RATE as f32 / (TAU * span as f32);
            wrap(now.bins[k].phase_since(earlier.bins[k]) - step) * hz_per_radian
        };
        let (fine, coarse) = (advance(WINDOW, full), advance(HOP, half));
        let range = SAMPLE_RATE as f32 / WINDOW as f32;
        Some(fine + range * ((coarse - fine) / range).round())
    }

    /// Turns votes into digits: a run of votes that ends with both tones falling away (a key
    /// released) is reported then, one still running is reported once it is long enough.
    fn debounce(&mut self, vote: Option<Vote>) -> Option<char> {
        let power = self.past(0).power;
        let mut found = self.check_release(&power);
        let Some(vote) = vote else {
            self.end_run();
            self.miss();
            return found;
        };
        if self.reported == Some(vote.digit) {
            self.misses = 0;
            self.run = None;
            return found;
        }
        if self.run.is_some_and(|run| run.digit != vote.digit) {
            self.end_run();
        }
        if self.run.is_none() {
            // The quietest of the windows before this run: wholly before the tone for a key
            // press.
            let before = vote.tones.map(|k| {
                (2..HISTORY)
                    .map(|back| self.past(back).power[k])
                    .fold(f32::INFINITY, f32::min)
            });
            self.run = Some(Run::new(vote, before));
        }
        let run = self.run.as_mut().expect("a run was just ensured");
        run.add(vote, power);
        let long = run.votes >= VOTES_WHILE_HELD && run.is_key_press(false);
        let digit = run.digit;
        self.miss();
        if long && found.is_none() {
            found = self.report(digit);
        }
        found
    }

    /// Moves a run long enough to be a digit to wait for its release.
    fn end_run(&mut self) {
        if let Some(run) = self.run.take()
            && run.votes >= VOTES_TO_REPORT
        {
            self.ended = Some((run, 0));
        }
    }

    /// Reports the run that ended if both its tones have now fallen away.
    fn check_release(&mut self, power: &[f32; TONES]) -> Option<char> {
        let (run, waited) = self.ended.as_mut()?;
        *waited += 1;
        let fall = 10f32.powf(-MIN_RISE_DB / 10.0);
        let released = (0..2).all(|i| power[run.tones[i]] <= fall * run.least[i]);
        if released {
            let run = *run;
            self.ended = None;
            return match run.is_key_press(true) {
                true => self.report(run.digit),
                false => None,
            };
        }
        if *waited >= RELEASE_WINDOWS {
            self.ended = None;
        }
        None
    }

    fn report(&mut self, digit: char) -> Option<char> {
        if self.reported == Some(digit) {
            return None;
        }
        self.reported = Some(digit);
        self.misses = 0;
        Some(digit)
    }

    /// Counts a window without the reported digit; releases it after enough.
    fn miss(&mut self) {
        self.misses = self.misses.saturating_add(1);
        if self.misses >= MISSES_TO_RELEASE {
            self.reported = None;
        }
    }
}

fn nominal_hz(k: usize) -> f32 {
    match k {
        0..4 => LOW_GROUP_HZ[k] as f32,
        _ => HIGH_GROUP_HZ[k - 4] as f32,
    }
}

fn wrap(phase: f32) -> f32 {
    (phase + PI).rem_euclid(TAU) - PI
}

impl Default for DtmfDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for DtmfDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DtmfDetector")
            .field("min_tone_power", &self.min_tone_power)
            .field("run", &self.run)
            .field("reported", &self.reported)
            .finish()
    }
}
