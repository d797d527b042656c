//! Per-frame features that tell a voice from other sounds: voicing (periodicity at a speaking
//! pitch) and tonality (how well a few pure tones predict the frame). Allocation-free.

use crate::frame::Frame;

/// Samples at 4 kHz kept for the pitch search: one frame (80) plus the longest lag.
const HALF_RATE_FRAME: usize = Frame::SAMPLES / 2;
/// Pitch lags searched at 4 kHz: 10..=67 samples, 60–400 Hz.
const MIN_LAG: usize = 10;
const MAX_LAG: usize = 67;
const HISTORY: usize = HALF_RATE_FRAME + MAX_LAG;
/// Order of the linear predictor for tonality: four poles model two pure tones exactly.
const ORDER: usize = 4;

/// What [`Features::measure`] found in one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FrameFeatures {
    /// The best normalised correlation of the frame with itself one pitch period earlier
    /// (60–400 Hz): near 1 for voiced speech and for tones, near 0 for noise.
    pub(crate) voicing: f32,
    /// How much of the frame's power an order-4 linear predictor removes, dB: above 25 dB for one
    /// or two near-pure tones, about 5–20 dB for speech, near 0 for white noise.
    pub(crate) prediction_gain_db: f32,
}

/// Keeps the recent audio the features need.
#[derive(Debug, Clone)]
pub(crate) struct Features {
    /// 4 kHz history (pairs of 8 kHz samples averaged: a mild low-pass), oldest first.
    half_rate: [f32; HISTORY],
}

impl Features {
    pub(crate) fn new() -> Self {
        Self {
            half_rate: [0.0; HISTORY],
        }
    }

    pub(crate) fn measure(&mut self, frame: &Frame) -> FrameFeatures {
        let samples = frame.as_samples();
        self.half_rate.copy_within(HALF_RATE_FRAME.., 0);
        for (out, pair) in self.half_rate[HISTORY - HALF_RATE_FRAME..]
            .iter_mut()
            .zip(samples.chunks_exact(2))
        {
            *out = (f32::from(pair[0]) + f32::from(pair[1])) * 0.5;
        }
        FrameFeatures {
            voicing: self.voicing(),
            prediction_gain_db: prediction_gain_db(samples),
        }
    }

    fn voicing(&self) -> f32 {
        let now = &self.half_rate[HISTORY - HALF_RATE_FRAME..];
        let energy: f32 = now.iter().map(|x| x * x).sum();
        if energy <= 0.0 {
            return 0.0;
        }
        let mut best = 0.0f32;
        for lag in MIN_LAG..=MAX_LAG {
            let start = HISTORY - HALF_RATE_FRAME - lag;
            let then = &self.half_rate[start..start + HALF_RATE_FRAME];
            let (mut cross, mut then_energy) = (0.0f32, 0.0f32);
            for (a, b) in now.iter().zip(then) {
                cross += a * b;
                then_energy += b * b;
            }
            if then_energy > 0.0 {
                best = best.max(cross / (energy * then_energy).sqrt());
            }
        }
        best
    }
}

/// The prediction gain of an order-[`ORDER`] linear predictor over `samples`, dB (Levinson-Durbin
/// on the autocorrelation; a little white noise is added to it so digital silence and full
/// predictability stay finite).
fn prediction_gain_db(samples: &[i16]) -> f32 {
    let x: [f32; Frame::SAMPLES] = std::array::from_fn(|i| f32::from(samples[i]));
    let mut r = [0.0f32; ORDER + 1];
    for (lag, r) in r.iter_mut().enumerate() {
        *r = x.iter().zip(&x[lag..]).map(|(a, b)| a * b).sum();
    }
    if r[0] <= 0.0 {
        return 0.0;
    }
    // −60 dB of white noise: caps the gain at 60 dB.
    r[0] *= 1.0 + 1e-6;
    let mut a = [0.0f32; ORDER + 1];
    a[0] = 1.0;
    let mut error = r[0];
    for i in 1..=ORDER {
        let acc: f32 = (1..i).map(|j| a[j] * r[i - j]).sum::<f32>() + r[i];
        let k = -acc / error;
        let previous = a;
        for j in 1..i {
            a[j] = previous[j] + k * previous[i - j];
        }
        a[i] = k;
        error *= 1.0 - k * k;
        if error <= 0.0 {
            break;
        }
    }
    10.0 * (r[0] / error.max(r[0] * 1e-6)).log10()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Noise, sine_i16};

    fn features_of(samples: &[i16]) -> FrameFeatures {
        let mut features = Features::new();
        let mut last = None;
        for chunk in samples.chunks_exact(Frame::SAMPLES) {
            last = Some(features.measure(&Frame::from_slice_padded(chunk)));
        }
        last.expect("at least one frame")
    }

    #[test]
    fn tones_are_predictable_and_noise_is_not() {
        let tones: Vec<i16> = sine_i16(697.0, 0.2, 8_000, 800)
            .iter()
            .zip(sine_i16(1_209.0, 0.2, 8_000, 800))
            .map(|(a, b)| a + b)
            .collect();
        let pair = features_of(&tones);
        assert!(pair.prediction_gain_db > 30.0, "{pair:?}");
        let mut noise = vec![0i16; 800];
        Noise::new(3).add_to(&mut noise, 3_000.0);
        let noise = features_of(&noise);
        assert!(noise.prediction_gain_db < 3.0, "{noise:?}");
        assert!(noise.voicing < 0.4, "{noise:?}");
    }

    #[test]
    fn a_buzz_at_speaking_pitch_is_voiced() {
        // A 120 Hz pulse train through a two-pole resonance at 700 Hz: a crude vowel.
        let mut out = vec![0.0f32; 800];
        let (r, theta) = (0.95f32, std::f32::consts::TAU * 700.0 / 8_000.0);
        for n in 0..800 {
            let pulse = if n % 67 == 0 { 8_000.0 } else { 0.0 };
            let y1 = if n >= 1 { out[n - 1] } else { 0.0 };
            let y2 = if n >= 2 { out[n - 2] } else { 0.0 };
            out[n] = pulse + 2.0 * r * theta.cos() * y1 - r * r * y2;
        }
        let vowel: Vec<i16> = out.iter().map(|&v| v.clamp(-32_768.0, 32_767.0) as i16).collect();
        let vowel = features_of(&vowel);
        assert!(vowel.voicing > 0.7, "{vowel:?}");
        assert!(vowel.prediction_gain_db < 25.0, "{vowel:?}");
    }

    #[test]
    fn silence_is_neither() {
        let silence = features_of(&[0i16; 480]);
        assert_eq!(
            silence,
            FrameFeatures {
                voicing: 0.0,
                prediction_gain_db: 0.0
            }
        );
    }
}
