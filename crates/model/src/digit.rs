//! DTMF digits.

use std::fmt;

/// One DTMF key: `0`–`9`, `*`, `#` or `A`–`D`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digit(char);

/// A character that is not a DTMF key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a DTMF digit (expected 0-9, *, #, A-D)")]
pub struct DigitError(pub char);

impl Digit {
    /// The digit for `key`; lower-case `a`–`d` are accepted.
    ///
    /// # Errors
    /// When `key` is not a DTMF key.
    pub fn new(key: char) -> Result<Self, DigitError> {
        match key {
            '0'..='9' | '*' | '#' | 'A'..='D' => Ok(Self(key)),
            'a'..='d' => Ok(Self(key.to_ascii_uppercase())),
            other => Err(DigitError(other)),
        }
    }

    /// The key as a character.
    pub fn as_char(self) -> char {
        self.0
    }
}

impl fmt::Display for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl TryFrom<char> for Digit {
    type Error = DigitError;

    fn try_from(key: char) -> Result<Self, Self::Error> {
        Self::new(key)
    }
}

/// Splits a `dtmf_input` string into digits, skipping whitespace and reporting the
/// first character that is not a key.
///
/// # Errors
/// When a non-whitespace character is not a DTMF key.
pub fn parse_digits(input: &str) -> Result<Vec<Digit>, DigitError> {
    input
        .chars()
        .filter(|key| !key.is_whitespace())
        .map(Digit::new)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_strings_of_several_digits() {
        let digits = parse_digits("12#a").unwrap();
        let text: String = digits.iter().map(|d| d.as_char()).collect();
        assert_eq!(text, "12#A");
    }

    #[test]
    fn names_the_bad_character() {
        assert_eq!(parse_digits("1x").unwrap_err(), DigitError('x'));
    }
}
