//! Signal generators and measurements shared by the unit tests.

use std::f64::consts::TAU;

/// `n` samples of a sine at `hz`, amplitude `amp` (1.0 = full scale), at `rate`.
pub(crate) fn sine(hz: f64, amp: f64, rate: u32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (amp * (TAU * hz * i as f64 / f64::from(rate)).sin()) as f32)
        .collect()
}

/// Like [`sine`], as `i16`.
pub(crate) fn sine_i16(hz: f64, amp: f64, rate: u32, n: usize) -> Vec<i16> {
    sine(hz, amp, rate, n)
        .into_iter()
        .map(crate::resample::f32_to_i16)
        .collect()
}

/// A deterministic xorshift generator of uniform and Gaussian noise.
pub(crate) struct Noise(u64);

impl Noise {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal sample (Box-Muller).
    pub(crate) fn gaussian(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()
    }

    /// Adds white noise of RMS `rms` (full scale 32768) to `samples`.
    pub(crate) fn add_to(&mut self, samples: &mut [i16], rms: f64) {
        for s in samples {
            let v = f64::from(*s) + self.gaussian() * rms;
            *s = v.round().clamp(-32_768.0, 32_767.0) as i16;
        }
    }
}

/// RMS of `samples` in dB relative to full scale (a full-scale sine is −3 dB).
pub(crate) fn rms_db(samples: &[i16]) -> f64 {
    let power =
        samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len().max(1) as f64;
    10.0 * (power / 32_768.0f64.powi(2)).max(1e-20).log10()
}

/// The amplitude (1.0 = full scale) of the component at `hz`, by correlation.
pub(crate) fn tone_amplitude(samples: &[i16], hz: f64, rate: u32) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (i, &s) in samples.iter().enumerate() {
        let phase = TAU * hz * i as f64 / f64::from(rate);
        re += f64::from(s) * phase.cos();
        im += f64::from(s) * phase.sin();
    }
    2.0 * (re * re + im * im).sqrt() / samples.len() as f64 / 32_768.0
}
