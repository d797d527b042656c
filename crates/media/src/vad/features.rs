//! Per-frame features that tell a voice from other sounds: voicing (periodicity at a speaking
//! pitch) and tonality (how much of the power sits in one or two pure tones). Allocation-free
//! after construction.

use crate::frame::Frame;

/// Samples at 4 kHz kept for the pitch search: one frame (80) plus the longest lag.
const HALF_RATE_FRAME: usize = Frame::SAMPLES / 2;
/// Pitch lags searched at 4 kHz: 10..=67 samples, 60–400 Hz.
const MIN_LAG: usize = 10;
const MAX_LAG: usize = 67;
const HISTORY: usize = HALF_RATE_FRAME + MAX_LAG;

/// What [`Features::measure`] found in one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FrameFeatures {
    /// The best normalised correlation of the frame with itself one pitch period earlier
    /// (60–400 Hz): near 1 for voiced speech and for tones, near 0 for noise.
    pub(crate) voicing: f32,
    /// The share of the in-band power within a bin of the two strongest spectral peaks: above
    /// 0.97 for one or two near-pure tones (music-like), mostly below for speech.
    pub(crate) peak_share: f32,
}

/// FFT length for tonality: 32 ms, bins of 31.25 Hz.
const FFT: usize = 256;
/// Bins searched for tonal peaks: 150–3800 Hz.
const LOW_BIN: usize = 5;
const HIGH_BIN: usize = 121;
/// Peaks whose neighbourhoods (±1 bin: nearly all of a steady tone's power through a Hann
/// window) make up the tonal share.
const PEAKS: usize = 2;

/// Keeps the recent audio the features need.
pub(crate) struct Features {
    /// 4 kHz history (pairs of 8 kHz samples averaged: a mild low-pass), oldest first.
    half_rate: [f32; HISTORY],
    /// The last [`FFT`] samples at 8 kHz, oldest first.
    recent: [f32; FFT],
    hann: [f32; FFT],
    fft: std::sync::Arc<dyn realfft::RealToComplex<f32>>,
    input: Vec<f32>,
    spectrum: Vec<realfft::num_complex::Complex<f32>>,
    scratch: Vec<realfft::num_complex::Complex<f32>>,
    power: [f32; FFT / 2 + 1],
}

impl std::fmt::Debug for Features {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Features").finish_non_exhaustive()
    }
}

impl Features {
    pub(crate) fn new() -> Self {
        let fft = realfft::RealFftPlanner::<f32>::new().plan_fft_forward(FFT);
        Self {
            half_rate: [0.0; HISTORY],
            recent: [0.0; FFT],
            hann: std::array::from_fn(|n| {
                0.5 - 0.5 * (std::f32::consts::TAU * (n as f32 + 0.5) / FFT as f32).cos()
            }),
            input: fft.make_input_vec(),
            spectrum: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            power: [0.0; FFT / 2 + 1],
        }
    }

    /// The share of the frame's in-band power (150–3800 Hz) within a bin of its two strongest
    /// spectral peaks: near 1 for one or two pure tones, less for a voice's many harmonics and
    /// far less for noise.
    fn peak_share(&mut self) -> f32 {
        for ((input, &x), &w) in self.input.iter_mut().zip(&self.recent).zip(&self.hann) {
            *input = x * w;
        }
        if self
            .fft
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .is_err()
        {
            return 0.0;
        }
        for (power, bin) in self.power.iter_mut().zip(&self.spectrum) {
            *power = bin.norm_sqr();
        }
        let band = &mut self.power[LOW_BIN..=HIGH_BIN];
        let total: f32 = band.iter().sum();
        if total <= 0.0 {
            return 0.0;
        }
        let mut near_peaks = 0.0;
        for _ in 0..PEAKS {
            let Some((peak, _)) = band.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) else {
                break;
            };
            let around = peak.saturating_sub(1)..(peak + 2).min(band.len());
            near_peaks += band[around.clone()].iter().sum::<f32>();
            band[around].fill(0.0);
        }
        near_peaks / total
    }

    pub(crate) fn measure(&mut self, frame: &Frame) -> FrameFeatures {
        let samples: [f32; Frame::SAMPLES] =
            std::array::from_fn(|i| f32::from(frame.as_samples()[i]));
        self.half_rate.copy_within(HALF_RATE_FRAME.., 0);
        for (out, pair) in self.half_rate[HISTORY - HALF_RATE_FRAME..]
            .iter_mut()
            .zip(samples.chunks_exact(2))
        {
            *out = (pair[0] + pair[1]) * 0.5;
        }
        self.recent.copy_within(Frame::SAMPLES.., 0);
        self.recent[FFT - Frame::SAMPLES..].copy_from_slice(&samples);
        FrameFeatures {
            voicing: self.voicing(),
            peak_share: self.peak_share(),
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
    fn tones_are_tonal_and_noise_is_neither_tonal_nor_voiced() {
        let tones: Vec<i16> = sine_i16(697.0, 0.2, 8_000, 800)
            .iter()
            .zip(sine_i16(1_209.0, 0.2, 8_000, 800))
            .map(|(a, b)| a + b)
            .collect();
        let pair = features_of(&tones);
        assert!(pair.peak_share > 0.97, "{pair:?}");
        let mut noise = vec![0i16; 800];
        Noise::new(3).add_to(&mut noise, 3_000.0);
        let noise = features_of(&noise);
        assert!(noise.peak_share < 0.5, "{noise:?}");
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
        let vowel: Vec<i16> = out
            .iter()
            .map(|&v| v.clamp(-32_768.0, 32_767.0) as i16)
            .collect();
        let vowel = features_of(&vowel);
        assert!(vowel.voicing > 0.7, "{vowel:?}");
        assert!(vowel.peak_share < 0.9, "{vowel:?}");
    }

    #[test]
    fn silence_is_neither() {
        let silence = features_of(&[0i16; 480]);
        assert_eq!(
            silence,
            FrameFeatures {
                voicing: 0.0,
                peak_share: 0.0
            }
        );
    }
}
