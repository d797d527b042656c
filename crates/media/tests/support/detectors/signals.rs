//! Test signals at 8 kHz, as `f64` samples in i16 units (full scale 32,768), from a seeded RNG.

use std::f64::consts::TAU;

/// Samples per second.
pub(crate) const RATE: f64 = 8_000.0;

/// A small deterministic generator (xorshift64*), so every run measures the same audio.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Uniform in `0..1`.
    pub(crate) fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        ((self.uniform() * n as f64) as usize).min(n.saturating_sub(1))
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.uniform() < p
    }

    /// Standard normal (Box-Muller).
    pub(crate) fn gaussian(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        (-2.0 * u1.ln()).sqrt() * (TAU * self.uniform()).cos()
    }

    pub(crate) fn phase(&mut self) -> f64 {
        self.range(0.0, TAU)
    }
}

/// Peak amplitude (i16 units) of a sine at `dbm0` (G.711: 0 dBm0 is 3.14 dB below full scale).
pub(crate) fn dbm0_amp(dbm0: f64) -> f64 {
    32_768.0 * 10f64.powf((dbm0 + voicebot_media::DBM0_PEAK_DBFS) / 20.0)
}

/// RMS (i16 units) of a level in dBFS RMS.
pub(crate) fn dbfs_rms(dbfs: f64) -> f64 {
    32_768.0 * 10f64.powf(dbfs / 20.0)
}

/// RMS level of `samples` in dBFS.
pub(crate) fn level_dbfs(samples: &[f64]) -> f64 {
    let power = samples.iter().map(|s| s * s).sum::<f64>() / samples.len().max(1) as f64;
    10.0 * (power / 32_768.0f64.powi(2)).max(1e-20).log10()
}

pub(crate) fn to_i16(samples: &[f64]) -> Vec<i16> {
    samples
        .iter()
        .map(|s| s.round().clamp(-32_768.0, 32_767.0) as i16)
        .collect()
}

/// Adds `src` into `dst` scaled by `gain`, from `at` (clipped to `dst`'s length).
pub(crate) fn add(dst: &mut [f64], at: usize, src: &[f64], gain: f64) {
    for (d, s) in dst.iter_mut().skip(at).zip(src) {
        *d += s * gain;
    }
}

pub(crate) fn white(rng: &mut Rng, n: usize, rms: f64) -> Vec<f64> {
    (0..n).map(|_| rng.gaussian() * rms).collect()
}

/// Noise with a falling spectrum (white noise through a one-pole low-pass at about 300 Hz), the
/// rumble of a car or a fan rather than hiss; scaled to `rms`.
pub(crate) fn rumble(rng: &mut Rng, n: usize, rms: f64) -> Vec<f64> {
    let mut state = 0.0;
    let mut out: Vec<f64> = (0..n)
        .map(|_| {
            state = 0.79 * state + rng.gaussian();
            state
        })
        .collect();
    let level = level_dbfs(&out);
    let gain = rms / dbfs_rms(level);
    out.iter_mut().for_each(|s| *s *= gain);
    out
}

/// A pair of sines with random phases: `n` samples, peak amplitudes `a1` and `a2`.
pub(crate) fn tone_pair(rng: &mut Rng, f1: f64, f2: f64, a1: f64, a2: f64, n: usize) -> Vec<f64> {
    let (p1, p2) = (rng.phase(), rng.phase());
    (0..n)
        .map(|i| {
            let t = i as f64 / RATE;
            a1 * (TAU * f1 * t + p1).sin() + a2 * (TAU * f2 * t + p2).sin()
        })
        .collect()
}

/// Music-like audio: two voices of near-pure notes (weak harmonics) with vibrato (±1–2.5%, as
/// strings and singers use), one in the
/// DTMF low group's range and one in the high group's, whose pitches are often near a DTMF
/// frequency and drift through its tolerance window. Notes start independently, sometimes
/// together (a chord). About −20 dBFS.
pub(crate) fn music(rng: &mut Rng, seconds: f64) -> Vec<f64> {
    let n = (seconds * RATE) as usize;
    let mut out = vec![0.0; n];
    let low = [697.0, 770.0, 852.0, 941.0];
    let high = [1209.0, 1336.0, 1477.0, 1633.0];
    let mut starts = [0usize; 2];
    while starts.iter().any(|&s| s < n) {
        let voice = usize::from(starts[1] < starts[0]);
        let length = (rng.range(0.12, 0.9) * RATE) as usize;
        let groups = [&low, &high];
        let (lo, hi) = [(620.0, 1_000.0), (1_120.0, 1_720.0)][voice];
        // Half the notes sit within ±4% of a DTMF frequency, the rest anywhere in the range.
        let base = match rng.chance(0.5) {
            true => groups[voice][rng.below(4)] * (1.0 + rng.range(-0.04, 0.04)),
            false => rng.range(lo, hi),
        };
        let note = Note {
            base,
            glide: rng.range(-0.03, 0.03),
            vibrato_depth: rng.range(0.01, 0.025),
            vibrato_hz: rng.range(4.0, 7.0),
            second: 10f64.powf(rng.range(-38.0, -18.0) / 20.0),
            third: 10f64.powf(rng.range(-45.0, -25.0) / 20.0),
            amp: dbm0_amp(rng.range(-24.0, -12.0)),
        };
        let at = starts[voice];
        add(&mut out, at, &note.render(rng, length), 1.0);
        let gap = match rng.chance(0.3) {
            true => 0,
            false => (rng.range(0.0, 0.25) * RATE) as usize,
        };
        starts[voice] = at + length + gap;
        // Now and then the other voice starts with this one's next note (a chord).
        if rng.chance(0.2) {
            starts[1 - voice] = starts[voice];
        }
    }
    out
}

struct Note {
    base: f64,
    /// Relative pitch change over the note.
    glide: f64,
    vibrato_depth: f64,
    vibrato_hz: f64,
    second: f64,
    third: f64,
    amp: f64,
}

impl Note {
    fn render(&self, rng: &mut Rng, n: usize) -> Vec<f64> {
        let (attack, release) = ((0.02 * RATE) as usize, (0.04 * RATE) as usize);
        let vibrato_phase = rng.phase();
        let mut phase = rng.phase();
        (0..n)
            .map(|i| {
                let t = i as f64 / RATE;
                let progress = i as f64 / n as f64;
                let vibrato =
                    self.vibrato_depth * (TAU * self.vibrato_hz * t + vibrato_phase).sin();
                let hz = self.base * (1.0 + self.glide * progress + vibrato);
                phase += TAU * hz / RATE;
                let envelope = (i as f64 / attack as f64)
                    .min((n - i) as f64 / release as f64)
                    .min(1.0)
                    * (1.0 - 0.3 * progress);
                self.amp
                    * envelope
                    * (phase.sin()
                        + self.second * (2.0 * phase).sin()
                        + self.third * (3.0 * phase).sin())
            })
            .collect()
    }
}

/// Clicks and knocks: short decaying noise bursts (2–30 ms) at random levels and intervals.
pub(crate) fn impulses(rng: &mut Rng, seconds: f64) -> Vec<f64> {
    let n = (seconds * RATE) as usize;
    let mut out = vec![0.0; n];
    let mut at = 0;
    loop {
        at += (rng.range(0.3, 2.0) * RATE) as usize;
        if at >= n {
            return out;
        }
        let length = (rng.range(0.002, 0.03) * RATE) as usize;
        let peak = dbfs_rms(rng.range(-25.0, -6.0));
        let burst: Vec<f64> = (0..length)
            .map(|i| rng.gaussian() * peak * (-(i as f64) / (length as f64 / 4.0)).exp())
            .collect();
        add(&mut out, at, &burst, 1.0);
    }
}

/// Steady noise switched on for a second and off for a second, over a faint hiss.
pub(crate) fn noise_bursts(rng: &mut Rng, seconds: f64, burst_dbfs: f64) -> Vec<f64> {
    let n = (seconds * RATE) as usize;
    let mut out = white(rng, n, dbfs_rms(-70.0));
    let second = RATE as usize;
    let mut at = second;
    while at < n {
        let burst = match (at / (2 * second)) % 2 {
            0 => white(rng, second, dbfs_rms(burst_dbfs)),
            _ => rumble(rng, second, dbfs_rms(burst_dbfs + 6.0)),
        };
        add(&mut out, at, &burst, 1.0);
        at += 2 * second;
    }
    out
}
