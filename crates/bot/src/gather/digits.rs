//! What a gather returns: [`Digits`] and why it ended, [`GatherEnd`].

use std::fmt;

use voicebot_model::Digit;
use voicebot_speech::{Choice, Recognition};

/// Why a gather ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GatherEnd {
    /// The maximum number of digits was reached.
    MaxDigits,
    /// A terminator key was pressed.
    Terminator,
    /// The caller stopped typing (valid input ended by the inter-digit timeout).
    Timeout,
    /// No key at all in any try.
    NoInput,
    /// Every try had invalid input.
    Invalid,
    /// The caller said something the gather's grammar accepts (see [`Digits::heard`]).
    Speech,
    /// The caller said something the gather's grammar does not accept, or accepted it with
    /// less than [`GatherBuilder::min_confidence`](crate::GatherBuilder::min_confidence) (see [`Digits::unmatched`]). Treat it as
    /// invalid input: say so and ask again.
    NoMatch,
}

/// Digits a caller typed (or, in a speech gather, said as words), or the choice
/// they said: valid input, or empty when every try failed.
#[derive(Debug, Clone)]
pub struct Digits {
    text: String,
    terminator: Option<Digit>,
    ended_by: GatherEnd,
    tries: u32,
    heard: Option<Choice>,
    unmatched: Option<Recognition>,
}

impl PartialEq for Digits {
    fn eq(&self, other: &Self) -> bool {
        // Confidences compare by bits, so equality stays reflexive (and `Eq` holds) even
        // for a NaN a recogniser might report.
        let same_heard = match (&self.heard, &other.heard) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                a.index == b.index
                    && a.phrase == b.phrase
                    && (a.start, a.end) == (b.start, b.end)
                    && a.confidence.map(f32::to_bits) == b.confidence.map(f32::to_bits)
            }
            _ => false,
        };
        self.text == other.text
            && self.terminator == other.terminator
            && self.ended_by == other.ended_by
            && self.tries == other.tries
            && same_heard
            && self.unmatched.as_ref().map(|r| &r.text) == other.unmatched.as_ref().map(|r| &r.text)
    }
}

impl Eq for Digits {}

impl Digits {
    /// The result of a gather (for the engine, and for tests of bots). Characters
    /// of `text` that are not DTMF keys are dropped.
    pub fn new(text: &str, terminator: Option<Digit>, ended_by: GatherEnd, tries: u32) -> Self {
        Self {
            text: text
                .chars()
                .filter(|key| Digit::new(*key).is_ok())
                .collect(),
            terminator,
            ended_by,
            tries,
            heard: None,
            unmatched: None,
        }
    }

    /// The result of a speech gather in which the caller said something off the grammar
    /// (for the engine, and for tests of bots): empty, ended by [`GatherEnd::NoMatch`].
    pub fn no_match(heard: Recognition, tries: u32) -> Self {
        Self {
            text: String::new(),
            terminator: None,
            ended_by: GatherEnd::NoMatch,
            tries,
            heard: None,
            unmatched: Some(heard),
        }
    }

    /// What the caller said when the gather ended by [`GatherEnd::NoMatch`]: the
    /// recogniser's result (its text, possibly empty when nothing on the grammar was
    /// heard, and its confidence); `None` otherwise.
    pub fn unmatched(&self) -> Option<&Recognition> {
        self.unmatched.as_ref()
    }

    /// The result of a speech gather in which the caller said `choice` (for the
    /// engine, and for tests of bots). It has no digits and ends by
    /// [`GatherEnd::Speech`].
    pub fn spoken(choice: Choice, tries: u32) -> Self {
        Self {
            text: String::new(),
            terminator: None,
            ended_by: GatherEnd::Speech,
            tries,
            heard: Some(choice),
            unmatched: None,
        }
    }

    /// The choice of the grammar the caller said, in a gather with
    /// [`GatherBuilder::speech`](crate::GatherBuilder::speech) that speech ended; `None` otherwise (digits typed, or
    /// digits said as words: those are in [`as_str`](Self::as_str)).
    pub fn heard(&self) -> Option<&Choice> {
        self.heard.as_ref()
    }

    /// The digits as text, terminator excluded (e.g. `"1234"`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether nothing valid was typed or said (timeout, every try invalid, or speech
    /// off the grammar).
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.heard.is_none()
    }

    /// How many digits.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// The digits one by one.
    pub fn iter(&self) -> impl Iterator<Item = Digit> + '_ {
        self.text.chars().filter_map(|key| Digit::new(key).ok())
    }

    /// The key that ended input, if one did.
    pub fn terminator(&self) -> Option<Digit> {
        self.terminator
    }

    /// Why the gather ended.
    pub fn ended_by(&self) -> GatherEnd {
        self.ended_by
    }

    /// Which try produced this (1-based; the last try when empty).
    pub fn tries(&self) -> u32 {
        self.tries
    }
}

impl fmt::Display for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq<str> for Digits {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for Digits {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}
