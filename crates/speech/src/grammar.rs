//! Grammars: what a caller may say, for recognisers that can be restricted (PocketSphinx's JSGF
//! mode, Vosk's phrase list), and matching a [`Recognition`] back to the choice it names.
//!
//! A restricted vocabulary is far more accurate on telephone audio than free-form recognition:
//! the recogniser only has to tell a handful of phrases apart.

use std::time::Duration;

use crate::{
    error::ConfigError,
    recognition::{DIGIT_WORDS, Recognition, normalize},
};

/// The most digits a [`Grammar::digits`] may ask for.
pub const MAX_DIGITS: usize = 32;

/// What a caller may say in one utterance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grammar {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Choices(Vec<String>),
    Digits { min: usize, max: usize },
    Jsgf(String),
}

/// The choice of a [`Grammar::choices`] grammar a result names.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Its position in the list given to [`Grammar::choices`].
    pub index: usize,
    /// The phrase as normalised (lower case, single spaces).
    pub phrase: String,
    /// The recogniser's confidence in the result, if it gave one.
    pub confidence: Option<f32>,
    /// When the result that named it started, relative to the call (its
    /// [`Recognition::start`]).
    pub start: Duration,
    /// When that result ended, relative to the call.
    pub end: Duration,
}

impl Grammar {
    /// One of several phrases, e.g. `Grammar::choices(["sales", "support", "speak to an agent"])`.
    /// Phrases are normalised to lower case words.
    ///
    /// # Errors
    /// [`ConfigError::EmptyGrammar`] for no phrases or an empty one;
    /// [`ConfigError::InvalidPhrase`] for characters other than letters, digits, `'` and spaces
    /// (JSGF operators must not leak in).
    pub fn choices<I, S>(choices: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut phrases = Vec::new();
        for choice in choices {
            let raw = choice.as_ref();
            if raw
                .chars()
                .any(|c| !(c.is_alphanumeric() || c == '\'' || c.is_whitespace()))
            {
                return Err(ConfigError::InvalidPhrase {
                    phrase: raw.to_owned(),
                });
            }
            let phrase = normalize(raw);
            if phrase.is_empty() {
                return Err(ConfigError::EmptyGrammar);
            }
            phrases.push(phrase);
        }
        match phrases.is_empty() {
            true => Err(ConfigError::EmptyGrammar),
            false => Ok(Self {
                kind: Kind::Choices(phrases),
            }),
        }
    }

    /// A string of `min..=max` digits spoken as words ("four one oh two").
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] unless `1 <= min <= max <= MAX_DIGITS`.
    pub fn digits(min: usize, max: usize) -> Result<Self, ConfigError> {
        if min == 0 || min > max || max > MAX_DIGITS {
            return Err(ConfigError::OutOfRange {
                setting: "digits",
                reason: "needs 1 <= min <= max <= 32",
            });
        }
        Ok(Self {
            kind: Kind::Digits { min, max },
        })
    }

    /// A grammar written in JSGF by hand, for recognisers that take JSGF (PocketSphinx). Other
    /// recognisers ignore it and recognise freely.
    ///
    /// # Errors
    /// [`ConfigError::EmptyGrammar`] if `source` is blank. The JSGF itself is checked by the
    /// recogniser when a session starts.
    pub fn jsgf(source: impl Into<String>) -> Result<Self, ConfigError> {
        let source = source.into();
        match source.trim().is_empty() {
            true => Err(ConfigError::EmptyGrammar),
            false => Ok(Self {
                kind: Kind::Jsgf(source),
            }),
        }
    }

    /// The grammar in JSGF V1.0, with one public rule.
    #[must_use]
    pub fn to_jsgf(&self) -> String {
        match &self.kind {
            Kind::Jsgf(source) => source.clone(),
            Kind::Choices(phrases) => {
                let alternatives: Vec<String> =
                    phrases.iter().map(|p| format!("( {p} )")).collect();
                format!(
                    "#JSGF V1.0;\ngrammar choices;\npublic <choice> = {};\n",
                    alternatives.join(" | ")
                )
            }
            Kind::Digits { min, max } => {
                // JSGF has `+` but no counted repetition, so the bounds are spelled out:
                // `min` required digits, then `max - min` nested optional ones.
                let mut rule = "<digit> ".repeat(*min);
                let optional = max - min;
                rule.push_str(&"[ <digit> ".repeat(optional));
                rule.push_str(&"] ".repeat(optional));
                format!(
                    "#JSGF V1.0;\ngrammar digits;\npublic <digits> = {};\n<digit> = {} | oh;\n",
                    rule.trim_end(),
                    DIGIT_WORDS.join(" | ")
                )
            }
        }
    }

    /// The phrases of a [`Grammar::choices`] grammar; `None` for other grammars.
    #[cfg_attr(not(feature = "pocketsphinx"), allow(dead_code))]
    pub(crate) fn choice_phrases(&self) -> Option<&[String]> {
        match &self.kind {
            Kind::Choices(phrases) => Some(phrases),
            _ => None,
        }
    }

    /// The phrases a recogniser should listen for, for recognisers that take a list (Vosk's
    /// `grammar`); `None` for hand-written JSGF.
    #[must_use]
    pub fn phrases(&self) -> Option<Vec<String>> {
        match &self.kind {
            Kind::Choices(phrases) => Some(phrases.clone()),
            Kind::Digits { .. } => Some(
                DIGIT_WORDS
                    .iter()
                    .copied()
                    .chain(["oh"])
                    .map(str::to_owned)
                    .collect(),
            ),
            Kind::Jsgf(_) => None,
        }
    }

    /// Which choice `result` names: the phrase equal to its text, or else the longest phrase
    /// found in it as whole words ("sales please" names "sales"). `None` if no phrase matches
    /// or this is not a [`Grammar::choices`] grammar.
    #[must_use]
    pub fn choice(&self, result: &Recognition) -> Option<Choice> {
        let Kind::Choices(phrases) = &self.kind else {
            return None;
        };
        let heard = format!(" {} ", result.normalized_text());
        let exact = phrases.iter().position(|p| heard.trim() == p);
        let contained = || {
            phrases
                .iter()
                .enumerate()
                .filter(|(_, p)| heard.contains(&format!(" {p} ")))
                .max_by_key(|(_, p)| p.len())
                .map(|(i, _)| i)
        };
        let index = exact.or_else(contained)?;
        Some(Choice {
            index,
            phrase: phrases.get(index)?.clone(),
            confidence: result.confidence,
            start: result.start,
            end: result.end,
        })
    }

    /// Whether `result` is something this grammar allows: a choice, a digit string of the right
    /// length, or (hand-written JSGF, which this crate does not parse) any non-empty text.
    #[must_use]
    pub fn accepts(&self, result: &Recognition) -> bool {
        match &self.kind {
            Kind::Choices(_) => self.choice(result).is_some(),
            Kind::Digits { min, max } => result
                .digits()
                .is_some_and(|d| (*min..=*max).contains(&d.len())),
            Kind::Jsgf(_) => !result.normalized_text().is_empty(),
        }
    }
}

#[cfg(test)]
mod tests;
