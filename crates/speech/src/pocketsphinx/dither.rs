//! The dither applied to each utterance before PocketSphinx sees it.
//!
//! Calls and tests carry stretches of digital silence (exact zeros), whose log filterbank
//! energies are -inf and throw the utterance's cepstral mean off. PocketSphinx's own `-dither`
//! fixes that by adding half a bit of noise, but it draws from one generator per process
//! (sphinxbase's `genrand`, seeded by every `ps_init`), so decoders running at the same time
//! draw each other's noise and a phrase's result depended on what else the process was
//! decoding. This is the same noise (+1 on a quarter of the samples, as sphinxbase's
//! `fe_read_frame` adds it) from a generator of the utterance's own, restarted at every
//! utterance: a phrase decodes the same way whatever runs beside it and whatever came before
//! it in the call.

/// A per-utterance dither generator (xorshift64*, fixed seed).
#[derive(Debug, Clone)]
pub(super) struct Dither {
    state: u64,
    /// Random bits not yet used, and how many of them are left.
    bits: u64,
    left: u32,
}

/// The seed every utterance starts from.
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

impl Dither {
    /// The generator at the start of an utterance.
    pub(super) fn new() -> Self {
        Self {
            state: SEED,
            bits: 0,
            left: 0,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Adds 1 to a quarter of `samples`, chosen at random (saturating at the top of the range).
    pub(super) fn apply(&mut self, samples: &mut [i16]) {
        for sample in samples {
            if self.left == 0 {
                self.bits = self.next_u64();
                self.left = 32;
            }
            // Two fresh bits per sample: both zero a quarter of the time.
            if self.bits & 3 == 0 {
                *sample = sample.saturating_add(1);
            }
            self.bits >>= 2;
            self.left -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_of_the_samples_get_one_more() {
        let mut samples = vec![0i16; 64_000];
        Dither::new().apply(&mut samples);
        let raised = samples.iter().filter(|&&s| s == 1).count();
        assert!(samples.iter().all(|&s| s == 0 || s == 1));
        assert!((15_000..17_000).contains(&raised), "{raised}");
    }

    #[test]
    fn every_utterance_gets_the_same_noise_however_it_is_split() {
        let mut whole = vec![7i16; 5_000];
        Dither::new().apply(&mut whole);
        let mut pieces = vec![7i16; 5_000];
        let mut dither = Dither::new();
        for chunk in pieces.chunks_mut(320) {
            dither.apply(chunk);
        }
        assert_eq!(whole, pieces);
        let mut top = [i16::MAX; 100];
        Dither::new().apply(&mut top);
        assert!(top.iter().all(|&s| s == i16::MAX));
    }
}
