//! DTMF measurements: detection rate per condition and false digits on non-DTMF audio.

use voicebot_media::{DtmfDetector, HIGH_GROUP_HZ, LOW_GROUP_HZ};

use super::signals::{RATE, Rng, dbm0_amp, to_i16, tone_pair, white};

const KEYS: &str = "123A456B789C*0#D";

/// One DTMF condition: tone levels, length, an optional frequency error and noise.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Condition {
    pub(crate) name: &'static str,
    /// Levels of the low and high tone, dBm0.
    pub(crate) low_dbm0: f64,
    pub(crate) high_dbm0: f64,
    pub(crate) on_ms: f64,
    /// Relative frequency error applied to one tone (chosen at random per trial), e.g. 0.015.
    pub(crate) freq_error: f64,
    /// White noise this many dB below the pair's power, over the whole band.
    pub(crate) snr_db: Option<f64>,
    /// Whether the tone should be detected (Q.24 says it must be, or must not be).
    pub(crate) valid: bool,
}

impl Condition {
    pub(crate) const fn valid(
        name: &'static str,
        low_dbm0: f64,
        high_dbm0: f64,
        on_ms: f64,
    ) -> Self {
        Self {
            name,
            low_dbm0,
            high_dbm0,
            on_ms,
            freq_error: 0.0,
            snr_db: None,
            valid: true,
        }
    }
}

/// Outcome of a condition's trials.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Rate {
    pub(crate) trials: usize,
    /// Trials where the sent digit came out (for a valid tone: exactly once, nothing else).
    pub(crate) detected: usize,
    /// Digits that came out but were not the one sent, or came twice.
    pub(crate) wrong: usize,
}

impl Rate {
    pub(crate) fn percent(&self) -> f64 {
        100.0 * self.detected as f64 / self.trials.max(1) as f64
    }
}

/// The Q.24 conditions measured: 40 ms tones over −36..0 dBm0 per tone with no twist, twist −8
/// (high tone weaker) and twist +4, then the tolerance, duration and noise points.
pub(crate) fn conditions() -> Vec<Condition> {
    let mut out = Vec::new();
    for (name, level) in [
        ("40 ms, 0/0 dBm0", 0.0),
        ("40 ms, -12/-12 dBm0", -12.0),
        ("40 ms, -24/-24 dBm0", -24.0),
        ("40 ms, -30/-30 dBm0", -30.0),
        ("40 ms, -33/-33 dBm0", -33.0),
        ("40 ms, -36/-36 dBm0", -36.0),
    ] {
        out.push(Condition::valid(name, level, level, 40.0));
    }
    for (name, low) in [
        ("40 ms, twist -8, 0/-8 dBm0", 0.0),
        ("40 ms, twist -8, -14/-22 dBm0", -14.0),
        ("40 ms, twist -8, -25/-33 dBm0", -25.0),
        ("40 ms, twist -8, -28/-36 dBm0", -28.0),
    ] {
        out.push(Condition::valid(name, low, low - 8.0, 40.0));
    }
    for (name, low) in [
        ("40 ms, twist +4, -4/0 dBm0", -4.0),
        ("40 ms, twist +4, -20/-16 dBm0", -20.0),
        ("40 ms, twist +4, -36/-32 dBm0", -36.0),
    ] {
        out.push(Condition::valid(name, low, low + 4.0, 40.0));
    }
    let nominal = Condition::valid("", -10.0, -10.0, 50.0);
    out.push(Condition {
        name: "50 ms, one tone +-1.5%",
        freq_error: 0.015,
        ..nominal
    });
    out.push(Condition {
        name: "50 ms, one tone +-3.5%",
        freq_error: 0.035,
        valid: false,
        ..nominal
    });
    out.push(Condition {
        name: "23 ms",
        on_ms: 23.0,
        valid: false,
        ..nominal
    });
    out.push(Condition {
        name: "50 ms, 15 dB SNR white noise",
        snr_db: Some(15.0),
        ..nominal
    });
    out.push(Condition {
        name: "50 ms, 15 dB SNR, -30/-30 dBm0",
        snr_db: Some(15.0),
        ..Condition::valid("", -30.0, -30.0, 50.0)
    });
    out
}

/// Sends `trials` random digits of condition `c`, each after a random lead-in (random alignment
/// to the detector's blocks) and followed by 150 ms of pause, through one detector.
pub(crate) fn measure(c: &Condition, trials: usize, rng: &mut Rng) -> Rate {
    let mut detector = DtmfDetector::new();
    let mut rate = Rate {
        trials,
        ..Rate::default()
    };
    let pair_power = (dbm0_amp(c.low_dbm0).powi(2) + dbm0_amp(c.high_dbm0).powi(2)) / 2.0;
    let noise_rms = c
        .snr_db
        .map(|snr| (pair_power / 10f64.powf(snr / 10.0)).sqrt());
    for _ in 0..trials {
        let key = rng.below(16);
        let digit = KEYS.as_bytes()[key] as char;
        let (mut low, mut high) = (LOW_GROUP_HZ[key / 4], HIGH_GROUP_HZ[key % 4]);
        if c.freq_error > 0.0 {
            let sign = if rng.chance(0.5) { 1.0 } else { -1.0 };
            match rng.chance(0.5) {
                true => low *= 1.0 + sign * c.freq_error,
                false => high *= 1.0 + sign * c.freq_error,
            }
        }
        let lead = 80 + rng.below(80);
        let on = (c.on_ms * RATE / 1_000.0).round() as usize;
        let mut signal = vec![0.0; lead];
        signal.extend(tone_pair(
            rng,
            low,
            high,
            dbm0_amp(c.low_dbm0),
            dbm0_amp(c.high_dbm0),
            on,
        ));
        signal.resize(lead + on + 1_200, 0.0);
        if let Some(rms) = noise_rms {
            for (s, n) in signal.iter_mut().zip(white(rng, lead + on + 1_200, rms)) {
                *s += n;
            }
        }
        let mut got = String::new();
        detector.process_with(&to_i16(&signal), |d| got.push(d));
        // Valid tones count when exactly their digit came out; invalid ones when it came out at all.
        let detected = match c.valid {
            true => got == digit.to_string(),
            false => got.contains(digit),
        };
        rate.detected += usize::from(detected);
        rate.wrong += got.chars().filter(|&d| d != digit).count();
        rate.wrong += got
            .chars()
            .filter(|&d| d == digit)
            .count()
            .saturating_sub(1);
    }
    rate
}

/// Digits the detector reports in `samples` (which hold no DTMF).
pub(crate) fn false_digits(samples: &[f64]) -> usize {
    let mut detector = DtmfDetector::new();
    let mut count = 0;
    for chunk in to_i16(samples).chunks(160) {
        detector.process_with(chunk, |_| count += 1);
    }
    count
}
