//! DTMF: a generator of ITU-T Q.23 tone pairs and an in-band detector meeting ITU-T Q.24.
//!
//! Digits are `char`s (`0-9 * # A-D`) because this crate depends on no workspace crate; the
//! `model` crate's `Digit` converts from them.

mod detector;

use std::{f64::consts::TAU, time::Duration};

pub use self::detector::{DtmfConfig, DtmfDetector};
use crate::{
    error::DtmfError,
    frame::{SAMPLE_RATE, duration_to_samples},
};

/// The peak level of a 0 dBm0 sine, dBFS: G.711's digital milliwatt peaks 3.14 dB below full
/// scale.
#[allow(clippy::approx_constant, reason = "G.711's 3.14 dB, not π")]
pub const DBM0_PEAK_DBFS: f64 = -3.14;

/// The Q.23 low-group (row) frequencies, Hz.
pub const LOW_GROUP_HZ: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
/// The Q.23 high-group (column) frequencies, Hz.
pub const HIGH_GROUP_HZ: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

const KEYPAD: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// The (low, high) frequencies of a digit, or `None` if `digit` is not a DTMF symbol.
/// Lower-case `a-d` are accepted.
#[must_use]
pub fn digit_frequencies(digit: char) -> Option<(f64, f64)> {
    let digit = digit.to_ascii_uppercase();
    KEYPAD.iter().enumerate().find_map(|(row, keys)| {
        let col = keys.iter().position(|&k| k == digit)?;
        Some((LOW_GROUP_HZ[row], HIGH_GROUP_HZ[col]))
    })
}

fn digit_at(row: usize, col: usize) -> char {
    KEYPAD[row][col]
}

/// Generates DTMF digits as 8 kHz samples. Levels are per tone, in dBm0 (0 dBm0 is a sine whose
/// peak is 3.14 dB below full scale, as in G.711).
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct DtmfGenerator {
    low_dbm0: f64,
    high_dbm0: f64,
    on: Duration,
    off: Duration,
}

impl Default for DtmfGenerator {
    /// −7 dBm0 low tone and −6 dBm0 high tone (high group 1 dB hotter, as phones send), 80 ms
    /// on, 80 ms off.
    fn default() -> Self {
        Self {
            low_dbm0: -7.0,
            high_dbm0: -6.0,
            on: Duration::from_millis(80),
            off: Duration::from_millis(80),
        }
    }
}

impl DtmfGenerator {
    /// The default generator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets both tones' level (per tone, dBm0).
    pub fn level(mut self, dbm0: f64) -> Self {
        self.low_dbm0 = dbm0;
        self.high_dbm0 = dbm0;
        self
    }

    /// Sets the twist: the high tone's level minus the low tone's, in dB, keeping the low tone.
    pub fn twist(mut self, high_minus_low_db: f64) -> Self {
        self.high_dbm0 = self.low_dbm0 + high_minus_low_db;
        self
    }

    /// Sets how long each tone sounds.
    pub fn on(mut self, on: Duration) -> Self {
        self.on = on;
        self
    }

    /// Sets the silence after each tone.
    pub fn off(mut self, off: Duration) -> Self {
        self.off = off;
        self
    }

    /// Appends one digit (tone then pause) to `out`.
    ///
    /// # Errors
    /// [`DtmfError::InvalidDigit`] if `digit` is not `0-9 * # A-D`.
    pub fn write_digit(&self, digit: char, out: &mut Vec<i16>) -> Result<(), DtmfError> {
        let (low, high) = digit_frequencies(digit).ok_or(DtmfError::InvalidDigit(digit))?;
        let n = duration_to_samples(self.on) as usize;
        out.extend(tone_pair(
            low,
            high,
            dbm0_to_amp(self.low_dbm0),
            dbm0_to_amp(self.high_dbm0),
            n,
        ));
        out.resize(out.len() + duration_to_samples(self.off) as usize, 0);
        Ok(())
    }

    /// Generates a digit string.
    ///
    /// # Errors
    /// [`DtmfError::InvalidDigit`] for the first character that is not a DTMF symbol.
    pub fn generate(&self, digits: &str) -> Result<Vec<i16>, DtmfError> {
        let mut out = Vec::new();
        for digit in digits.chars() {
            self.write_digit(digit, &mut out)?;
        }
        Ok(out)
    }
}

/// A sine's peak amplitude (1.0 = full scale) at `dbm0`: 0 dBm0 peaks 3.14 dB below full scale.
pub(crate) fn dbm0_to_amp(dbm0: f64) -> f64 {
    10f64.powf((dbm0 + DBM0_PEAK_DBFS) / 20.0)
}

/// Two summed sines (amplitudes relative to full scale), `n` samples at 8 kHz.
pub(crate) fn tone_pair(
    low_hz: f64,
    high_hz: f64,
    low_amp: f64,
    high_amp: f64,
    n: usize,
) -> impl Iterator<Item = i16> {
    let rate = f64::from(SAMPLE_RATE);
    (0..n).map(move |i| {
        let t = i as f64 / rate;
        let v = low_amp * (TAU * low_hz * t).sin() + high_amp * (TAU * high_hz * t).sin();
        (v * 32_767.0).round().clamp(-32_768.0, 32_767.0) as i16
    })
}

#[cfg(test)]
mod tests;
