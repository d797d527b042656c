//! A deterministic stand-in for a recogniser: finds utterances by energy in 20 ms chunks.
//! Shared by the test recogniser program (compiled with rustc by the tests) and the test Vosk
//! server, so both behave alike.
#![allow(dead_code, unreachable_pub)]

/// Mean absolute sample value above which a chunk is speech.
const VOICED: u64 = 300;
/// Silence that ends an utterance.
const HANGOVER_MS: u64 = 300;
/// How often a partial result is due while speaking.
const PARTIAL_MS: u64 = 100;

/// What the segmenter found in a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Speech goes on: time for a partial result.
    Partial,
    /// An utterance ended: its first voiced and last voiced millisecond.
    Final { start_ms: u64, end_ms: u64 },
}

/// Energy segmentation over a stream of 20 ms chunks.
#[derive(Debug, Default)]
pub struct Segmenter {
    now_ms: u64,
    start_ms: Option<u64>,
    last_voiced_ms: u64,
    since_partial_ms: u64,
}

impl Segmenter {
    /// Milliseconds of audio seen.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Takes 20 ms of samples.
    pub fn push(&mut self, samples: &[i16]) -> Option<Event> {
        let begin = self.now_ms;
        self.now_ms += 20;
        let energy = samples
            .iter()
            .map(|s| u64::from(s.unsigned_abs()))
            .sum::<u64>()
            / samples.len().max(1) as u64;
        if energy > VOICED {
            self.start_ms.get_or_insert(begin);
            self.last_voiced_ms = self.now_ms;
        }
        let start_ms = self.start_ms?;
        if self.now_ms - self.last_voiced_ms >= HANGOVER_MS {
            self.start_ms = None;
            return Some(Event::Final {
                start_ms,
                end_ms: self.last_voiced_ms,
            });
        }
        self.since_partial_ms += 20;
        if self.since_partial_ms >= PARTIAL_MS {
            self.since_partial_ms = 0;
            return Some(Event::Partial);
        }
        None
    }

    /// End of audio: the open utterance, if any.
    pub fn end(&mut self) -> Option<Event> {
        let start_ms = self.start_ms.take()?;
        Some(Event::Final {
            start_ms,
            end_ms: self.last_voiced_ms,
        })
    }
}
