//! Deduplication of digits that reach a call by two paths.
//!
//! The PBX reports a key press out of band (`dtmf_input` on the event socket), and
//! the media task may also hear the tones in the audio (in-band detection). When
//! both paths are on, one press arrives twice, a few tens of milliseconds apart and
//! in no fixed order.
//!
//! The rule: a digit from one path is a duplicate when the *other* path delivered
//! the same digit within the window and that earlier digit has not already absorbed
//! a duplicate. Each accepted digit absorbs at most one echo, so a caller pressing
//! `1 1` quickly still yields two `1`s (both paths see both presses and pair them up
//! in order), and repeats from a single path are never merged.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;
use voicebot_model::Digit;

/// Default pairing window: longer than a DTMF tone (40–100 ms) plus the lag of the
/// event socket, shorter than two deliberate presses of the same key.
pub const DEFAULT_DEDUP_WINDOW: Duration = Duration::from_millis(250);

/// The path by which a digit reached the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigitSource {
    /// `dtmf_input` from the PBX event socket.
    OutOfBand,
    /// The in-band tone detector of the media task.
    InBand,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    digit: Digit,
    source: DigitSource,
    at: Instant,
    paired: bool,
}

/// Pairs up digits seen from both paths; pure apart from the times it is given.
/// The engine keeps one per call, in front of the call's [`DigitQueue`](super::DigitQueue).
#[derive(Debug)]
pub struct Dedup {
    window: Duration,
    // Only digits younger than `window` matter; a handful at most.
    recent: VecDeque<Seen>,
}

impl Dedup {
    /// Pairs echoes that come within `window` of each other.
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            recent: VecDeque::with_capacity(8),
        }
    }

    /// Whether `digit` from `source` at `now` is new (true) or the echo of a digit
    /// already delivered by the other path (false).
    pub fn accept(&mut self, source: DigitSource, digit: Digit, now: Instant) -> bool {
        while let Some(front) = self.recent.front() {
            match now.checked_duration_since(front.at) {
                Some(age) if age > self.window => {
                    self.recent.pop_front();
                }
                _ => break,
            }
        }
        let echo = self
            .recent
            .iter_mut()
            .find(|seen| !seen.paired && seen.source != source && seen.digit == digit);
        if let Some(seen) = echo {
            seen.paired = true;
            return false;
        }
        self.recent.push_back(Seen {
            digit,
            source,
            at: now,
            paired: false,
        });
        true
    }
}

impl Default for Dedup {
    /// Pairs echoes within [`DEFAULT_DEDUP_WINDOW`].
    fn default() -> Self {
        Self::new(DEFAULT_DEDUP_WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::*;
    use DigitSource::{InBand as I, OutOfBand as O};

    fn digit(key: char) -> Digit {
        Digit::new(key).unwrap()
    }

    // (source, key, milliseconds since start) → expected accepted keys
    #[test_case(&[(O, '1', 0), (I, '1', 40)], "1" ; "echo from the other path is dropped")]
    #[test_case(&[(I, '1', 0), (O, '1', 90)], "1" ; "echo in either order")]
    #[test_case(&[(O, '1', 0), (O, '1', 40)], "11" ; "repeats from one path are kept")]
    #[test_case(&[(I, '1', 0), (I, '1', 120), (O, '1', 150), (O, '1', 260)], "11" ; "fast double press pairs in order")]
    #[test_case(&[(O, '1', 0), (I, '1', 400)], "11" ; "outside the window both count")]
    #[test_case(&[(O, '1', 0), (I, '2', 30)], "12" ; "different digits never merge")]
    #[test_case(&[(O, '5', 0), (I, '5', 30), (I, '5', 60)], "55" ; "one digit absorbs one echo only")]
    fn dedup_rule(presses: &[(DigitSource, char, u64)], expected: &str) {
        let start = Instant::now();
        let mut dedup = Dedup::new(DEFAULT_DEDUP_WINDOW);
        let accepted: String = presses
            .iter()
            .filter(|(source, key, ms)| {
                dedup.accept(*source, digit(*key), start + Duration::from_millis(*ms))
            })
            .map(|(_, key, _)| *key)
            .collect();
        assert_eq!(accepted, expected);
    }
}
