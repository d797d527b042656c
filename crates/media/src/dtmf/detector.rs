//! The Q.24 detector.

use std::f32::consts::TAU;

use super::{HIGH_GROUP_HZ, LOW_GROUP_HZ, digit_at};
use crate::frame::{Frame, SAMPLE_RATE};

const BLOCK: usize = 80;
const HALF: usize = BLOCK / 2;
const TONES: usize = 8;
const MIN_TONE_DBFS: f32 = -36.0;
const NORMAL_TWIST_DB: f32 = 10.0;
const REVERSE_TWIST_DB: f32 = 6.0;
const MIN_PURITY: f32 = 0.7;
const TOLERANCE: f32 = 0.025;
const VOTES_TO_REPORT: u32 = 3;
const MISSES_TO_RELEASE: u32 = 3;

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

/// In-band DTMF detector for 8 kHz audio meeting ITU-T Q.24. Allocation-free; about 10 KB of
/// tables.
///
/// Audio is cut into 10 ms blocks. For each block and each of the eight Q.23 frequencies we take
/// a Hann-windowed DFT bin (sharp enough that the other group's tone leaks in at about −36 dB)
/// and two plain half-block bins. A block votes for a digit when:
///
/// * the strongest low and high tones each peak above −36 dBFS;
/// * their ratio is within the twist limits (high weaker by up to 10 dB, low by up to 6 dB);
/// * together they hold at least 70% of the block's energy (speech and noise do not);
/// * both tones are within ±2.5% of nominal: the frequency comes from the phase advance of the
///   windowed bin since the previous block (fine, ±50 Hz range), unwrapped with the phase step
///   between the two halves of this block (coarse, ±100 Hz range). Energy alone cannot separate
///   1.5% from 3.5% in 10 ms, phase can.
///
/// A digit is reported once, on its third consecutive vote (30 ms). Purity makes a block that the
/// tone only partly covers fail, so a tone of 40 ms or more always yields three votes and one of
/// 23 ms or less at most two. It is released after three blocks without it: a 10 ms dropout
/// inside a tone touches at most two blocks and does not repeat the digit, while a 40 ms pause
/// always covers three.
#[derive(Clone)]
pub struct DtmfDetector {
    // Per tone: Hann-windowed cos/sin, then plain cos/sin, for the 80 samples of a block.
    windowed: [[(f32, f32); BLOCK]; TONES],
    plain: [[(f32, f32); BLOCK]; TONES],
    window: [f32; BLOCK],
    power_scale: f32,
    min_tone_power: f32,
    block: [i16; BLOCK],
    filled: usize,
    previous: [Bin; TONES],
    candidate: Option<char>,
    votes: u32,
    reported: Option<char>,
    misses: u32,
}

impl DtmfDetector {
    /// A detector with the Q.24 settings.
    #[must_use]
    pub fn new() -> Self {
        let window: [f32; BLOCK] =
            std::array::from_fn(|n| 0.5 - 0.5 * (TAU * (n as f32 + 0.5) / BLOCK as f32).cos());
        let sum: f32 = window.iter().sum();
        let sum_squares: f32 = window.iter().map(|w| w * w).sum();
        let freqs: [f32; TONES] = std::array::from_fn(|k| match k {
            0..4 => LOW_GROUP_HZ[k] as f32,
            _ => HIGH_GROUP_HZ[k - 4] as f32,
        });
        let omega = |k: usize, n: usize| TAU * freqs[k] * n as f32 / SAMPLE_RATE as f32;
        let windowed = std::array::from_fn(|k| {
            std::array::from_fn(|n| (window[n] * omega(k, n).cos(), window[n] * omega(k, n).sin()))
        });
        let plain = std::array::from_fn(|k| {
            std::array::from_fn(|n| (omega(k, n).cos(), omega(k, n).sin()))
        });
        // A tone of amplitude A gives |bin| = A·Σw/2 and windowed energy A²·Σw²/2, so this scale
        // turns |bin|² into the tone's share of the windowed energy.
        let power_scale = 2.0 * sum_squares / (sum * sum);
        let min_amp = 32_768.0 * 10f32.powf(MIN_TONE_DBFS / 20.0);
        Self {
            windowed,
            plain,
            window,
            power_scale,
            min_tone_power: min_amp * min_amp / 2.0 * sum_squares,
            block: [0; BLOCK],
            filled: 0,
            previous: [Bin::default(); TONES],
            candidate: None,
            votes: 0,
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
            let take = (BLOCK - self.filled).min(samples.len());
            self.block[self.filled..self.filled + take].copy_from_slice(&samples[..take]);
            self.filled += take;
            samples = &samples[take..];
            if self.filled == BLOCK {
                self.filled = 0;
                let vote = self.analyse_block();
                if let Some(digit) = self.debounce(vote) {
                    on_digit(digit);
                }
            }
        }
    }

    /// Forgets all state (between calls).
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    fn analyse_block(&mut self) -> Option<char> {
        let mut windowed = [Bin::default(); TONES];
        let mut halves = [[Bin::default(); 2]; TONES];
        let mut energy = 0.0f32;
        for (n, (&s, &w)) in self.block.iter().zip(&self.window).enumerate() {
            let x = f32::from(s);
            energy += (w * x) * (w * x);
            for k in 0..TONES {
                let (wc, ws) = self.windowed[k][n];
                windowed[k].re += x * wc;
                windowed[k].im -= x * ws;
                let (c, sn) = self.plain[k][n];
                let half = &mut halves[k][n / HALF];
                half.re += x * c;
                half.im -= x * sn;
            }
        }
        let previous = std::mem::replace(&mut self.previous, windowed);
        let power = windowed.map(|bin| bin.power() * self.power_scale);
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
        for k in [low, high] {
            // The previous block must carry the tone too, or its phase is noise.
            if previous[k].power() * self.power_scale < 0.02 * power[k] {
                return None;
            }
            let nominal = match k {
                0..4 => LOW_GROUP_HZ[k] as f32,
                _ => HIGH_GROUP_HZ[k - 4] as f32,
            };
            let hz_per_radian = |span: usize| SAMPLE_RATE as f32 / (TAU * span as f32);
            let step = TAU * nominal * BLOCK as f32 / SAMPLE_RATE as f32;
            let fine = wrap(windowed[k].phase_since(previous[k]) - step) * hz_per_radian(BLOCK);
            let coarse = halves[k][1].phase_since(halves[k][0]) * hz_per_radian(HALF);
            let range = SAMPLE_RATE as f32 / BLOCK as f32;
            let offset = fine + range * ((coarse - fine) / range).round();
            if offset.abs() > TOLERANCE * nominal {
                return None;
            }
        }
        Some(digit_at(low, high - 4))
    }

    fn debounce(&mut self, vote: Option<char>) -> Option<char> {
        match vote {
            Some(digit) if Some(digit) == self.candidate => self.votes += 1,
            Some(digit) => {
                self.candidate = Some(digit);
                self.votes = 1;
            }
            None => {
                self.candidate = None;
                self.votes = 0;
            }
        }
        if vote.is_some() && vote == self.reported {
            self.misses = 0;
            return None;
        }
        self.misses = self.misses.saturating_add(1);
        if self.misses >= MISSES_TO_RELEASE {
            self.reported = None;
        }
        match (self.candidate, self.votes >= VOTES_TO_REPORT) {
            (Some(digit), true) if self.reported != Some(digit) => {
                self.reported = Some(digit);
                self.misses = 0;
                Some(digit)
            }
            _ => None,
        }
    }
}

fn wrap(phase: f32) -> f32 {
    (phase + std::f32::consts::PI).rem_euclid(TAU) - std::f32::consts::PI
}

impl Default for DtmfDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for DtmfDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DtmfDetector")
            .field("candidate", &self.candidate)
            .field("votes", &self.votes)
            .field("reported", &self.reported)
            .finish()
    }
}
