//! `gather`: [`GatherBuilder`] and [`Digits`].

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use voicebot_model::Digit;
use voicebot_speech::{Choice, Grammar, Recognition, Recognizer};

use super::BargeIn;
use crate::Call;
use crate::error::{CallError, CallResult};
use crate::message::{CallMessage, GatherRequest, SpeechGather};
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
    /// The caller said something the gather's grammar accepts (see [`Digits::heard`]).
    Speech,
    /// The caller said something the gather's grammar does not accept, or accepted it with
    /// less than [`GatherBuilder::min_confidence`] (see [`Digits::unmatched`]). Treat it as
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
    /// [`GatherBuilder::speech`] that speech ended; `None` otherwise (digits typed, or
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

/// How long a speech gather waits for the recogniser's last result by default.
const DEFAULT_SPEECH_TIMEOUT: Duration = Duration::from_secs(2);

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
                speech: None,
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

    /// Also listen for speech: a final result that names a choice of `grammar` (or,
    /// for [`Grammar::digits`], a digit string of the right length) ends the gather,
    /// unless digits end it first; a final result that does not (speech off the
    /// grammar) ends it as [`GatherEnd::NoMatch`], whatever [`tries`](Self::tries) says,
    /// so the bot can say why and ask again. Speech also stops the prompt (barge-in). Uses the
    /// engine's recogniser unless [`recognizer`](Self::recognizer) names one; a
    /// gather with speech and no recogniser fails with [`CallError::InvalidRequest`].
    ///
    /// ```no_run
    /// # use voicebot_bot::{Call, Grammar};
    /// # async fn example(call: Call) -> Result<(), Box<dyn std::error::Error>> {
    /// let menu = Grammar::choices(["sales", "support"])?;
    /// let answer = call.gather().prompt("prompts/press-or-say.wav").max_digits(1).speech(menu).await?;
    /// match (answer.heard().map(|choice| choice.index), answer.as_str()) {
    ///     (Some(0), _) | (None, "1") => call.transfer("200").await?,
    ///     (Some(1), _) | (None, "2") => call.transfer("300").await?,
    ///     _ => call.hangup().await?,
    /// }
    /// # Ok(()) }
    /// ```
    pub fn speech(mut self, grammar: Grammar) -> Self {
        let speech = self.request.speech.get_or_insert_with(|| SpeechGather {
            grammar: grammar.clone(),
            recognizer: None,
            timeout: DEFAULT_SPEECH_TIMEOUT,
            min_confidence: None,
        });
        speech.grammar = grammar;
        self.request.barge_in.speech = true;
        self
    }

    /// The recogniser for [`speech`](Self::speech) (default: the engine's). Has no
    /// effect without `speech`.
    pub fn recognizer(mut self, recognizer: Arc<dyn Recognizer>) -> Self {
        if let Some(speech) = &mut self.request.speech {
            speech.recognizer = Some(recognizer);
        }
        self
    }

    /// How long to wait, after the digit timeouts, for the recogniser's last result
    /// (default 2 s). Has no effect without [`speech`](Self::speech).
    pub fn speech_timeout(mut self, timeout: Duration) -> Self {
        if let Some(speech) = &mut self.request.speech {
            speech.timeout = timeout;
        }
        self
    }

    /// The least confidence (0..=1) at which a spoken choice is accepted; a result the
    /// grammar accepts with less ends the gather as [`GatherEnd::NoMatch`]. Results
    /// without a confidence (the recogniser gives none) are accepted. Has no effect
    /// without [`speech`](Self::speech).
    ///
    /// The built-in PocketSphinx recogniser already rejects what is off its grammar;
    /// its confidences on the test phrases are in the speech crate's docs.
    pub fn min_confidence(mut self, confidence: f32) -> Self {
        if let Some(speech) = &mut self.request.speech {
            speech.min_confidence = Some(confidence);
        }
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
        if let Some(min) = request.speech.as_ref().and_then(|s| s.min_confidence)
            && !(0.0..=1.0).contains(&min)
        {
            return Err(CallError::InvalidRequest(format!(
                "min_confidence must be within 0..=1 (got {min})"
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
