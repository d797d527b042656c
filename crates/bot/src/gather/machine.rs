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
//! media task and the test kit with timers, so every timeout here is a
//! `tokio::time` deadline and exact under a paused clock.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use voicebot_model::Digit;

use super::{DigitQueue, Digits, GatherEnd, GatherRequest};
use crate::prompt::PromptSource;

/// How a prompt played by a [`Prompter`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptEnd {
    /// It played to the end.
    Finished,
    /// The caller started speaking and the prompt was stopped.
    Speech,
}

/// Plays prompts for [`gather`]. The engine implements it over its media task, the
/// test kit's fake call with timers.
pub trait Prompter {
    /// Why a prompt could not be played (typically: the call ended).
    type Error;

    /// Plays `prompt` once. With `stop_on_speech`, it stops and returns
    /// [`PromptEnd::Speech`] as soon as the caller speaks.
    ///
    /// Dropping the returned future must stop the prompt: that is how a digit
    /// barges in.
    fn play(
        &mut self,
        prompt: &PromptSource,
        stop_on_speech: bool,
    ) -> impl Future<Output = Result<PromptEnd, Self::Error>> + Send;

    /// How much of the caller's audio has been lost in transit so far in the call (its
    /// stream cut or stalled), if the prompter knows. A timeout that runs out is
    /// extended by what was lost while it ran: a caller who could not be heard was not
    /// silent. The default: nothing is ever lost.
    fn audio_lost(&self) -> Duration {
        Duration::ZERO
    }
}

/// Why a [`gather`] stopped without a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatherError<E> {
    /// The digit queue closed: the call ended.
    #[error("the call's digit queue closed")]
    Closed,
    /// The prompter failed to play a prompt.
    #[error("a gather prompt failed")]
    Prompt(#[source] E),
}

/// Runs the digit part of a gather: prompts through `prompter`, reads `queue`. The
/// request's `speech` is not looked at here (see [`gather_with_speech`](super::gather_with_speech)).
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
    queue: &DigitQueue,
    prompter: &mut R,
    request: &GatherRequest,
) -> Result<Digits, GatherError<R::Error>>
where
    R: Prompter,
{
    let tries = request.tries.max(1);
    let mut last_failure = GatherEnd::NoInput;
    for try_number in 1..=tries {
        if let Some(prompt) = &request.prompt {
            play(queue, prompter, prompt, request).await?;
        }
        let input = collect(queue, prompter, request)
            .await
            .ok_or(GatherError::Closed)?;
        match verdict(request, &input) {
            Verdict::Valid => {
                return Ok(Digits::new(
                    &input.digits,
                    input.terminator,
                    input.end,
                    try_number,
                ));
            }
            Verdict::NoInput => last_failure = GatherEnd::NoInput,
            Verdict::Invalid => {
                last_failure = GatherEnd::Invalid;
                if try_number < tries
                    && let Some(prompt) = &request.invalid_prompt
                {
                    play(queue, prompter, prompt, request).await?;
                }
            }
        }
    }
    Ok(Digits::new("", None, last_failure, tries))
}

/// Plays one prompt, stopping it when a digit is waiting if digits may barge in.
async fn play<R>(
    queue: &DigitQueue,
    prompter: &mut R,
    prompt: &PromptSource,
    request: &GatherRequest,
) -> Result<(), GatherError<R::Error>>
where
    R: Prompter,
{
    let stop_on_speech = request.barge_in.speech;
    if !request.barge_in.digits {
        // Digits pressed meanwhile stay queued and are read right after the prompt.
        prompter
            .play(prompt, stop_on_speech)
            .await
            .map_err(GatherError::Prompt)?;
        return Ok(());
    }
    if !queue.is_empty() {
        // Type-ahead: the caller already knows what to press.
        return Ok(());
    }
    tokio::select! {
        end = prompter.play(prompt, stop_on_speech) => {
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
    queue: &DigitQueue,
    prompter: &R,
    request: &GatherRequest,
) -> Option<Input> {
    let max_digits = request.max_digits.max(1);
    let mut input = Input {
        digits: String::with_capacity(max_digits),
        terminator: None,
        end: GatherEnd::Timeout,
        overflow: false,
    };
    let mut deadline = Instant::now() + request.first_digit_timeout;
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
        if request.terminators.contains(&digit) {
            input.terminator = Some(digit);
            input.end = GatherEnd::Terminator;
            return Some(input);
        }
        if input.digits.len() >= max_digits {
            input.overflow = true;
            return Some(input);
        }
        input.digits.push(digit.as_char());
        if input.digits.len() >= max_digits && !request.terminator_required {
            input.end = GatherEnd::MaxDigits;
            return Some(input);
        }
        deadline = Instant::now() + request.inter_digit_timeout;
        lost = prompter.audio_lost();
    }
}

enum Verdict {
    Valid,
    NoInput,
    Invalid,
}

fn verdict(request: &GatherRequest, input: &Input) -> Verdict {
    let nothing_pressed = input.digits.is_empty() && input.terminator.is_none();
    if nothing_pressed && (request.min_digits > 0 || request.terminator_required) {
        return Verdict::NoInput;
    }
    let length_ok = (request.min_digits..=request.max_digits.max(1)).contains(&input.digits.len());
    let terminator_ok = !request.terminator_required || input.terminator.is_some();
    let valid = !input.overflow
        && length_ok
        && terminator_ok
        && request
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
