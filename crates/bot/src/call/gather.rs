//! `gather`: [`GatherBuilder`] and [`Digits`].

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use voicebot_model::Digit;

use super::BargeIn;
use crate::Call;
use crate::error::{CallError, CallResult};
use crate::message::{CallMessage, GatherRequest};
use crate::prompt::PromptSource;

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
}

/// Digits a caller typed: valid input, or empty when every try failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digits {
    text: String,
    terminator: Option<Digit>,
    ended_by: GatherEnd,
    tries: u32,
}

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
        }
    }

    /// The digits as text, terminator excluded (e.g. `"1234"`).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether nothing valid was typed (timeout, or every try invalid).
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
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

/// A `gather` to `.await`: the full `play_and_get_digits`.
///
/// Defaults: no prompt, 1 to 20 digits, 5 s for the first digit (counted from the
/// end of the prompt), 3 s between digits, `#` ends input, one try, key presses
/// interrupt the prompt. Digits typed during an earlier prompt are used first
/// (type-ahead) and then skip this prompt.
///
/// ```no_run
/// # use std::time::Duration;
/// # use voicebot_bot::Call;
/// # async fn example(call: Call) -> Result<(), voicebot_bot::CallError> {
/// let pin = call
///     .gather()
///     .prompt("prompts/enter-pin.wav")
///     .invalid_prompt("prompts/invalid.wav")
///     .min_digits(4)
///     .max_digits(4)
///     .timeout(Duration::from_secs(5))
///     .finish_on("#")
///     .tries(3)
///     .validate(|digits| !digits.starts_with('0'))
///     .await?;
/// if pin.is_empty() {
///     call.hangup().await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a verb does nothing until awaited"]
pub struct GatherBuilder {
    call: Call,
    request: GatherRequest,
    finish_on: String,
}

impl GatherBuilder {
    pub(crate) fn new(call: Call) -> Self {
        Self {
            call,
            request: GatherRequest {
                prompt: None,
                invalid_prompt: None,
                min_digits: 1,
                max_digits: 20,
                first_digit_timeout: Duration::from_secs(5),
                inter_digit_timeout: Duration::from_secs(3),
                terminators: Vec::new(),
                terminator_required: false,
                tries: 1,
                barge_in: BargeIn::DIGITS,
                validator: None,
            },
            finish_on: "#".to_owned(),
        }
    }

    /// Played at the start of each try.
    pub fn prompt(mut self, prompt: impl Into<PromptSource>) -> Self {
        self.request.prompt = Some(prompt.into());
        self
    }

    /// Played after a try with invalid input (not after silence).
    pub fn invalid_prompt(mut self, prompt: impl Into<PromptSource>) -> Self {
        self.request.invalid_prompt = Some(prompt.into());
        self
    }

    /// Fewest digits accepted (0 accepts no input).
    pub fn min_digits(mut self, count: usize) -> Self {
        self.request.min_digits = count;
        self
    }

    /// Most digits; reaching it ends input unless a terminator is required.
    pub fn max_digits(mut self, count: usize) -> Self {
        self.request.max_digits = count;
        self
    }

    /// Exactly `count` digits.
    pub fn digits(self, count: usize) -> Self {
        self.min_digits(count).max_digits(count)
    }

    /// How long to wait for the first digit after the prompt.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.request.first_digit_timeout = timeout;
        self
    }

    /// How long to wait for each further digit.
    pub fn inter_digit_timeout(mut self, timeout: Duration) -> Self {
        self.request.inter_digit_timeout = timeout;
        self
    }

    /// Keys that end input (e.g. `"#"` or `"#*"`); `""` for none.
    pub fn finish_on(mut self, keys: impl Into<String>) -> Self {
        self.finish_on = keys.into();
        self
    }

    /// Whether input is valid only when ended by a terminator key.
    pub fn terminator_required(mut self, required: bool) -> Self {
        self.request.terminator_required = required;
        self
    }

    /// How many tries before giving up with empty digits.
    pub fn tries(mut self, tries: u32) -> Self {
        self.request.tries = tries;
        self
    }

    /// What may interrupt the prompts.
    pub fn barge_in(mut self, barge_in: BargeIn) -> Self {
        self.request.barge_in = barge_in;
        self
    }

    /// Accept only digits for which `check` returns true.
    pub fn validate<F>(mut self, check: F) -> Self
    where
        F: Fn(&str) -> bool + Send + Sync + 'static,
    {
        self.request.validator = Some(Arc::new(check));
        self
    }

    /// Accept only digits the whole of which `pattern` matches (as if anchored
    /// with `^…$`).
    pub fn validate_regex(self, pattern: Regex) -> Self {
        // Anchor once here; a pattern that compiled also compiles inside a group.
        let anchored = Regex::new(&format!("^(?:{})$", pattern.as_str())).unwrap_or(pattern);
        self.validate(move |digits| anchored.is_match(digits))
    }

    fn checked(mut self) -> CallResult<(Call, GatherRequest)> {
        self.request.terminators = self
            .finish_on
            .chars()
            .map(Digit::new)
            .collect::<Result<_, _>>()
            .map_err(|error| CallError::InvalidRequest(format!("finish_on: {error}")))?;
        let request = &self.request;
        if request.max_digits == 0 || request.min_digits > request.max_digits {
            return Err(CallError::InvalidRequest(format!(
                "gather needs 0 <= min_digits <= max_digits and max_digits >= 1 (got {}..={})",
                request.min_digits, request.max_digits
            )));
        }
        if request.tries == 0 {
            return Err(CallError::InvalidRequest(
                "gather needs tries >= 1".to_owned(),
            ));
        }
        if request.terminator_required && request.terminators.is_empty() {
            return Err(CallError::InvalidRequest(
                "terminator_required without finish_on keys".to_owned(),
            ));
        }
        Ok((self.call, self.request))
    }
}

impl IntoFuture for GatherBuilder {
    type Output = CallResult<Digits>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    /// Collects the digits; timeouts and invalid input give empty [`Digits`].
    ///
    /// # Errors
    /// [`CallError::InvalidRequest`] for contradictory settings (checked before
    /// anything is sent); [`CallError::Hangup`] when the caller hangs up;
    /// [`CallError::Media`] when a prompt cannot be played.
    ///
    /// # Cancellation
    /// Dropping the future stops the prompt and the gather; digits not yet
    /// consumed stay queued for the next read.
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let (call, request) = self.checked()?;
            call.request(|reply| CallMessage::Gather { request, reply })
                .await
        })
    }
}
