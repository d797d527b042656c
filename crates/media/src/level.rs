//! Level metering and mixing.

/// The level reported for digital silence, in dBFS.
pub const SILENCE_DBFS: f32 = -120.0;

/// RMS and peak level of some audio, in dBFS (0 dBFS = full-scale amplitude 32,768; a full-scale
/// sine reads −3.0 dBFS RMS and 0 dBFS peak).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// RMS level.
    pub rms_dbfs: f32,
    /// Peak level.
    pub peak_dbfs: f32,
}

/// Measures `samples` at once.
#[must_use]
pub fn measure(samples: &[i16]) -> Level {
    let mut meter = LevelMeter::new();
    meter.process(samples);
    meter.level()
}

/// Accumulates RMS and peak over everything processed since the last reset.
#[derive(Debug, Clone, Copy, Default)]
pub struct LevelMeter {
    sum_squares: f64,
    count: u64,
    peak: u16,
}

impl LevelMeter {
    /// An empty meter.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds samples.
    pub fn process(&mut self, samples: &[i16]) {
        for &s in samples {
            self.sum_squares += f64::from(s) * f64::from(s);
            self.peak = self.peak.max(s.unsigned_abs());
        }
        self.count += samples.len() as u64;
    }

    /// The level so far ([`SILENCE_DBFS`] if nothing or only zeros were processed).
    #[must_use]
    pub fn level(&self) -> Level {
        let mean = self.sum_squares / self.count.max(1) as f64;
        Level {
            rms_dbfs: to_dbfs(mean.sqrt()),
            peak_dbfs: to_dbfs(f64::from(self.peak)),
        }
    }

    /// Returns the level and starts over (for per-interval monitoring).
    pub fn take(&mut self) -> Level {
        let level = self.level();
        *self = Self::new();
        level
    }
}

fn to_dbfs(amplitude: f64) -> f32 {
    match amplitude > 0.0 {
        true => ((20.0 * (amplitude / 32_768.0).log10()) as f32).max(SILENCE_DBFS),
        false => SILENCE_DBFS,
    }
}

/// Adds `src` into `dst` sample by sample, saturating at the i16 limits; returns how many samples
/// clipped. Only the overlapping length is mixed.
pub fn mix_into(dst: &mut [i16], src: &[i16]) -> usize {
    let mut clipped = 0;
    for (d, &s) in dst.iter_mut().zip(src) {
        let sum = i32::from(*d) + i32::from(s);
        let clamped = sum.clamp(i32::from(i16::MIN), i32::from(i16::MAX));
        clipped += usize::from(clamped != sum);
        *d = clamped as i16;
    }
    clipped
}

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::*;
    use crate::testutil::sine_i16;

    #[test_case(1.0, -3.01, 0.0; "full-scale sine")]
    #[test_case(0.1, -23.01, -20.0; "minus 20 dB sine")]
    #[test_case(0.0, SILENCE_DBFS, SILENCE_DBFS; "silence")]
    fn measures_sines(amp: f64, rms: f32, peak: f32) {
        let level = measure(&sine_i16(1_000.0, amp, 8_000, 8_000));
        assert!((level.rms_dbfs - rms).abs() < 0.05, "{level:?}");
        assert!((level.peak_dbfs - peak).abs() < 0.05, "{level:?}");
    }

    #[test]
    fn empty_and_take_reset() {
        let mut meter = LevelMeter::new();
        assert_eq!(meter.level().rms_dbfs, SILENCE_DBFS);
        meter.process(&[i16::MIN]);
        assert_eq!(meter.take().peak_dbfs, 0.0);
        assert_eq!(meter.level().peak_dbfs, SILENCE_DBFS);
    }

    #[test_case(&[1, 2, 3], &[10, 20, 30], &[11, 22, 33], 0; "plain sum")]
    #[test_case(&[30_000, -30_000], &[10_000, -10_000], &[32_767, -32_768], 2; "clips both ways")]
    #[test_case(&[1, 2, 3], &[1], &[2, 2, 3], 0; "shorter source")]
    fn mixes_with_clipping(dst: &[i16], src: &[i16], want: &[i16], clips: usize) {
        let mut out = dst.to_vec();
        assert_eq!(mix_into(&mut out, src), clips);
        assert_eq!(out, want);
    }
}
