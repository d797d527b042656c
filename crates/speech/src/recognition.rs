//! What a recogniser heard: [`Recognition`] (one partial or final hypothesis) and its [`Word`]s.

use std::time::Duration;

/// One hypothesis from a recogniser.
///
/// Partial results (`is_final == false`) are the recogniser's running guess while the caller
/// is still speaking; each may replace the previous one. A final result closes an utterance and
/// is never revised. Times are relative to the start of the call (see
/// [`SessionOptions::call_offset`](crate::SessionOptions::call_offset)).
#[derive(Debug, Clone, PartialEq)]
pub struct Recognition {
    /// The words heard, lower case, separated by single spaces. Empty for silence or noise.
    pub text: String,
    /// Whether this closes the utterance.
    pub is_final: bool,
    /// When the utterance (or, if known, its first word) started.
    pub start: Duration,
    /// When the utterance (or its last word) ended.
    pub end: Duration,
    /// The recogniser's confidence, 0..=1, if it gives one.
    pub confidence: Option<f32>,
    /// Word timings and confidences, if the recogniser gives them (final results only).
    pub words: Vec<Word>,
}

/// One recognised word with its times.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// The word, lower case.
    pub text: String,
    /// When it started, relative to the call.
    pub start: Duration,
    /// When it ended, relative to the call.
    pub end: Duration,
    /// The recogniser's confidence in this word, 0..=1, if given.
    pub confidence: Option<f32>,
}

impl Recognition {
    /// The text as digits, if every word is a digit word (`zero`..`nine`, `oh`) or a digit:
    /// "four one oh two" becomes `"4102"`. `None` for empty text or any other word.
    #[must_use]
    pub fn digits(&self) -> Option<String> {
        words_to_digits(&self.text)
    }

    /// The text with the words normalised: lower case, single spaces, no punctuation.
    #[must_use]
    pub fn normalized_text(&self) -> String {
        normalize(&self.text)
    }
}

/// The digit words a caller may say, in order `0..=9`.
pub const DIGIT_WORDS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

/// Converts "one two three" (or "1 2 3", or "oh") to `"123"`; `None` if any word is not a digit.
#[must_use]
pub fn words_to_digits(text: &str) -> Option<String> {
    let mut digits = String::new();
    for word in normalize(text).split(' ').filter(|w| !w.is_empty()) {
        let digit = match word {
            "oh" | "o" => Some(0),
            w if w.len() == 1 => w.chars().next().and_then(|c| c.to_digit(10)),
            w => DIGIT_WORDS.iter().position(|&d| d == w).map(|p| p as u32),
        }?;
        digits.push(char::from_digit(digit, 10)?);
    }
    match digits.is_empty() {
        true => None,
        false => Some(digits),
    }
}

/// Lower case, letters/digits/apostrophes only, words separated by single spaces.
pub(crate) fn normalize(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| match c.is_alphanumeric() || c == '\'' {
            true => c.to_ascii_lowercase(),
            false => ' ',
        })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Converts seconds from a recogniser (possibly negative, NaN or huge) to a `Duration`.
pub(crate) fn seconds(value: f64) -> Duration {
    match value.is_finite() && value > 0.0 {
        true => Duration::try_from_secs_f64(value).unwrap_or(Duration::MAX),
        false => Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_from_words_digits_and_oh() {
        assert_eq!(words_to_digits("four one oh two").as_deref(), Some("4102"));
        assert_eq!(words_to_digits("1 2 three").as_deref(), Some("123"));
        assert_eq!(words_to_digits("Nine, eight.").as_deref(), Some("98"));
        assert_eq!(words_to_digits("one for sales"), None);
        assert_eq!(words_to_digits(""), None);
        assert_eq!(words_to_digits("12"), None);
    }

    #[test]
    fn normalize_strips_punctuation_and_case() {
        assert_eq!(normalize("  Speak to,  an AGENT! "), "speak to an agent");
        assert_eq!(normalize("don't"), "don't");
    }

    #[test]
    fn seconds_never_panics() {
        assert_eq!(seconds(-1.0), Duration::ZERO);
        assert_eq!(seconds(f64::NAN), Duration::ZERO);
        assert_eq!(seconds(1e300), Duration::MAX);
        assert_eq!(seconds(1.5), Duration::from_millis(1500));
    }
}
