//! The gather state machine: `play_and_get_digits` over a call's [`DigitQueue`].
//!
//! One *try* plays the prompt (skipped when type-ahead digits are already waiting
//! and digits may barge in), then collects digits: the first must come within the
//! first-digit timeout (counted from the end of the prompt), each next one within
//! the inter-digit timeout. A try ends on a terminator key, on `max_digits`, or on
//! a timeout. Its input is then checked (length, required terminator, validator);
//! a failed try plays the invalid-input prompt (not after silence: a caller who
//! said nothing has not typed anything invalid) and starts the next try. When every
//! try fails, the result is empty.
//!
//! Prompts are played through a [`Prompter`], which the engine implements over its
//! media task and tests implement with timers, so every timeout here is a
//! `tokio::time` deadline and exact under a paused clock.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use voicebot_model::Digit;

use crate::digits::DigitQueue;
use crate::error::GatherError;

/// Decides whether collected digits are acceptable (e.g. a regex or a checksum).
pub type Validator = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// How a prompt played by a [`Prompter`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptEnd {
    /// It played to the end.
    Finished,
    /// The caller started speaking and the prompt was stopped.
    Speech,
}

/// Plays prompts for [`gather`]. The engine implements it over its media task.
pub trait Prompter {
    /// What a prompt is (a file, samples...).
    type Prompt: Sync;
    /// Why a prompt could not be played (typically: the call ended).
    type Error;

    /// Plays `prompt` once. With `stop_on_speech`, it stops and returns
    /// [`PromptEnd::Speech`] as soon as the caller speaks.
    ///
    /// Dropping the returned future must stop the prompt: that is how a digit
    /// barges in.
    fn play(
        &mut self,
        prompt: &Self::Prompt,
        stop_on_speech: bool,
    ) -> impl Future<Output = Result<PromptEnd, Self::Error>> + Send;

    /// How much of the caller's audio has been lost in transit so far in the call (its
    /// stream cut or stalled), if the prompter knows. A timeout that runs out is
    /// extended by what was lost while it ran: a caller who could not be heard was not
    /// silent. The default: nothing is ever lost.
    fn audio_lost(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

/// The settings of one gather.
#[derive(Clone)]
pub struct GatherSpec<P> {
    /// Played at the start of each try.
    pub prompt: Option<P>,
    /// Played after a try with invalid input, before the next try.
    pub invalid_prompt: Option<P>,
    /// Fewest digits accepted (terminator not counted).
    pub min_digits: usize,
    /// Most digits collected (at least 1); reaching it ends the try unless a
    /// terminator is required.
    pub max_digits: usize,
    /// How long to wait for the first digit after the prompt.
    pub first_digit_timeout: Duration,
    /// How long to wait for each further digit.
    pub inter_digit_timeout: Duration,
    /// Keys that end input; they are not part of the digits.
    pub terminators: Vec<Digit>,
    /// Whether input without a terminator is invalid.
    pub terminator_required: bool,
    /// How many tries (at least 1).
    pub tries: u32,
    /// Whether a digit stops the prompt (and type-ahead skips it).
    pub barge_in_digits: bool,
    /// Whether caller speech stops the prompt.
    pub barge_in_speech: bool,
    /// Extra check on the digits.
    pub validator: Option<Validator>,
}

impl<P> Default for GatherSpec<P> {
    /// No prompt, 1 to 20 digits, 5 s first-digit and 3 s inter-digit timeouts, `#`
    /// ends input (not required), one try, digits barge in.
    fn default() -> Self {
        Self {
            prompt: None,
            invalid_prompt: None,
            min_digits: 1,
            max_digits: 20,
            first_digit_timeout: Duration::from_secs(5),
            inter_digit_timeout: Duration::from_secs(3),
            terminators: vec![Digit::new('#').expect("'#' is a DTMF key")],
            terminator_required: false,
            tries: 1,
            barge_in_digits: true,
            barge_in_speech: false,
            validator: None,
        }
    }
}

impl<P> fmt::Debug for GatherSpec<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherSpec")
            .field("prompt", &self.prompt.is_some())
            .field("invalid_prompt", &self.invalid_prompt.is_some())
            .field("min_digits", &self.min_digits)
            .field("max_digits", &self.max_digits)
            .field("first_digit_timeout", &self.first_digit_timeout)
            .field("inter_digit_timeout", &self.inter_digit_timeout)
            .field("terminators", &self.terminators)
            .field("terminator_required", &self.terminator_required)
            .field("tries", &self.tries)
            .field("barge_in_digits", &self.barge_in_digits)
            .field("barge_in_speech", &self.barge_in_speech)
            .field("validator", &self.validator.is_some())
            .finish()
    }
}

/// Why a gather ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatherEnd {
    /// `max_digits` were collected.
    MaxDigits,
    /// A terminator key was pressed.
    Terminator,
    /// The timeout after the last digit (or the first-digit timeout, when no digit
    /// is needed) ended valid input.
    Timeout,
    /// Every try ended without a single key; the digits are empty.
    NoInput,
    /// Every try failed and the last one had invalid input; the digits are empty.
    Invalid,
}

/// The result of a gather: valid digits, or empty digits when every try failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gathered {
    /// The digits, terminator excluded; empty for [`GatherEnd::NoInput`] and
    /// [`GatherEnd::Invalid`].
    pub digits: String,
    /// The terminator that ended input, if any.
    pub terminator: Option<Digit>,
    /// Why the gather ended.
    pub end: GatherEnd,
    /// The try that produced this result (1-based).
    pub tries: u32,
}

/// Runs a gather: prompts through `prompter`, reads `queue`.
///
/// Digits read are consumed; digits left over (typed after the input ended) stay
/// queued for whatever reads next.
///
/// # Errors
/// [`GatherError::Closed`] when the queue closes (the call ended);
/// [`GatherError::Prompt`] when the prompter fails.
///
/// # Cancellation
/// Cancel-safe with respect to the queue: digits not yet returned stay queued.
/// Dropping the future drops any prompt being played, which stops it.
pub async fn gather<R>(
    queue: &mut DigitQueue,
    prompter: &mut R,
    spec: &GatherSpec<R::Prompt>,
) -> Result<Gathered, GatherError<R::Error>>
where
    R: Prompter,
{
    let tries = spec.tries.max(1);
    let mut last_failure = GatherEnd::NoInput;
    for try_number in 1..=tries {
        if let Some(prompt) = &spec.prompt {
            play(queue, prompter, prompt, spec).await?;
        }
        let input = collect(queue, prompter, spec)
            .await
            .ok_or(GatherError::Closed)?;
        match verdict(spec, &input) {
            Verdict::Valid => {
                return Ok(Gathered {
                    digits: input.digits,
                    terminator: input.terminator,
                    end: input.end,
                    tries: try_number,
                });
            }
            Verdict::NoInput => last_failure = GatherEnd::NoInput,
            Verdict::Invalid => {
                last_failure = GatherEnd::Invalid;
                if try_number < tries
                    && let Some(prompt) = &spec.invalid_prompt
                {
                    play(queue, prompter, prompt, spec).await?;
                }
            }
        }
    }
    Ok(Gathered {
        digits: String::new(),
        terminator: None,
        end: last_failure,
        tries,
    })
}

/// Plays one prompt, stopping it when a digit is waiting if digits may barge in.
async fn play<R>(
    queue: &mut DigitQueue,
    prompter: &mut R,
    prompt: &R::Prompt,
    spec: &GatherSpec<R::Prompt>,
) -> Result<(), GatherError<R::Error>>
where
    R: Prompter,
{
    if !spec.barge_in_digits {
        // Digits pressed meanwhile stay queued and are read right after the prompt.
        prompter
            .play(prompt, spec.barge_in_speech)
            .await
            .map_err(GatherError::Prompt)?;
        return Ok(());
    }
    if !queue.is_empty() {
        // Type-ahead: the caller already knows what to press.
        return Ok(());
    }
    tokio::select! {
        end = prompter.play(prompt, spec.barge_in_speech) => {
            end.map_err(GatherError::Prompt)?;
        }
        // Leaves the digit queued; if the queue closed, `collect` reports it.
        _ = queue.wait_unread() => {}
    }
    Ok(())
}

#[derive(Debug)]
struct Input {
    digits: String,
    terminator: Option<Digit>,
    end: GatherEnd,
    // A digit arrived after `max_digits` while waiting for a required terminator.
    overflow: bool,
}

/// Collects one try's input; `None` when the queue closed (the call ended). A timeout
/// is extended by the caller's audio lost while it ran ([`Prompter::audio_lost`]).
async fn collect<R: Prompter>(
    queue: &mut DigitQueue,
    prompter: &R,
    spec: &GatherSpec<R::Prompt>,
) -> Option<Input> {
    let max_digits = spec.max_digits.max(1);
    let mut input = Input {
        digits: String::with_capacity(max_digits),
        terminator: None,
        end: GatherEnd::Timeout,
        overflow: false,
    };
    let mut deadline = Instant::now() + spec.first_digit_timeout;
    let mut lost = prompter.audio_lost();
    loop {
        let digit = match tokio::time::timeout_at(deadline, queue.next()).await {
            Err(_elapsed) => {
                let now_lost = prompter.audio_lost();
                let gap = now_lost.saturating_sub(lost);
                if gap.is_zero() {
                    return Some(input);
                }
                deadline += gap;
                lost = now_lost;
                continue;
            }
            Ok(None) => return None,
            Ok(Some(digit)) => digit,
        };
        if spec.terminators.contains(&digit) {
            input.terminator = Some(digit);
            input.end = GatherEnd::Terminator;
            return Some(input);
        }
        if input.digits.len() >= max_digits {
            input.overflow = true;
            return Some(input);
        }
        input.digits.push(digit.as_char());
        if input.digits.len() >= max_digits && !spec.terminator_required {
            input.end = GatherEnd::MaxDigits;
            return Some(input);
        }
        deadline = Instant::now() + spec.inter_digit_timeout;
        lost = prompter.audio_lost();
    }
}

enum Verdict {
    Valid,
    NoInput,
    Invalid,
}

fn verdict<P>(spec: &GatherSpec<P>, input: &Input) -> Verdict {
    let nothing_pressed = input.digits.is_empty() && input.terminator.is_none();
    if nothing_pressed && (spec.min_digits > 0 || spec.terminator_required) {
        return Verdict::NoInput;
    }
    let length_ok = (spec.min_digits..=spec.max_digits.max(1)).contains(&input.digits.len());
    let terminator_ok = !spec.terminator_required || input.terminator.is_some();
    let valid = !input.overflow
        && length_ok
        && terminator_ok
        && spec
            .validator
            .as_ref()
            .is_none_or(|validator| validator(&input.digits));
    match valid {
        true => Verdict::Valid,
        false => Verdict::Invalid,
    }
}

#[cfg(test)]
mod tests;
