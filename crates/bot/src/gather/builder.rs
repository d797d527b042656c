//! `call.gather()`: the [`GatherBuilder`] a bot awaits.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use voicebot_model::Digit;
use voicebot_speech::{Grammar, Recognizer};

use super::{Digits, GatherRequest, SpeechGather};
use crate::call::{BargeIn, Call};
use crate::error::{CallError, CallResult};
use crate::message::CallMessage;
use crate::prompt::PromptSource;

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
                terminators: Vec::new(),
                ..GatherRequest::default()
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
    /// grammar) ends it as [`GatherEnd::NoMatch`](super::GatherEnd::NoMatch), whatever [`tries`](Self::tries) says,
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
    /// grammar accepts with less ends the gather as [`GatherEnd::NoMatch`](super::GatherEnd::NoMatch). Results
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
            call.request(|reply| CallMessage::Gather {
                request: Box::new(request),
                reply,
            })
            .await
        })
    }
}
