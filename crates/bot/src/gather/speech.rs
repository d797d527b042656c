//! Speech in `gather`: the digit gather raced against a recognition session fed the
//! caller's frames. Whichever ends first wins: digits by the usual rules, or a final
//! result: one the grammar accepts (a choice, or digits said as words) at the
//! request's least confidence ends it as speech, any other as a no-match. Dropping
//! the digit gather when speech wins stops its prompt, as a digit barge-in does.
//!
//! The recogniser never holds up the call: `feed` only queues, a session that fails
//! to start or dies leaves a digits-only gather (logged), and the wait for its last
//! result after the digit timeouts is bounded by the request's speech timeout.
//! The engine picks the recogniser (the request's or its own default) and hands the
//! caller's frames over in a [`Listener`].

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use voicebot_media::Frame;
use voicebot_speech::{Grammar, Recognition, Recognizer, SessionOptions};

use super::{
    DigitQueue, Digits, GatherEnd, GatherError, GatherRequest, Prompter, SpeechGather, Validator,
    gather,
};

/// What a speech gather listens with: the recogniser and the caller's audio.
pub struct Listener {
    /// The recogniser to start a session on (the request's, or the engine's default).
    pub recognizer: Arc<dyn Recognizer>,
    /// The call time now, so results are timed from the call's start, not the gather's.
    pub call_offset: Duration,
    /// The caller's frames, subscribed before the session starts so the first
    /// syllables are not lost; `None` when the call's audio is gone.
    pub frames: Option<broadcast::Receiver<Frame>>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("call_offset", &self.call_offset)
            .field("frames", &self.frames.is_some())
            .finish_non_exhaustive()
    }
}

/// Runs a gather that also listens for speech (`request.speech`), or a digits-only
/// [`gather`] when the request has no speech part or the recogniser does not start.
///
/// # Errors
/// As [`gather`].
///
/// # Cancellation
/// As [`gather`]; dropping the future also drops the recognition session.
pub async fn gather_with_speech<R>(
    queue: &DigitQueue,
    prompter: &mut R,
    request: &GatherRequest,
    listener: Listener,
) -> Result<Digits, GatherError<R::Error>>
where
    R: Prompter,
{
    let Some(speech) = &request.speech else {
        return gather(queue, prompter, request).await;
    };
    let Listener {
        recognizer,
        call_offset,
        mut frames,
    } = listener;
    let options = SessionOptions::new()
        .call_offset(call_offset)
        .grammar(speech.grammar.clone())
        .partial_results(false)
        .finish_timeout(speech.timeout);
    let mut session = match recognizer.start(options).await {
        Ok(session) => session,
        Err(error) => {
            tracing::warn!(%error, "the recogniser did not start; this gather takes digits only");
            return gather(queue, prompter, request).await;
        }
    };
    let validator = request.validator.as_ref();
    let digits = gather(queue, prompter, request);
    tokio::pin!(digits);
    let mut results_open = true;
    loop {
        tokio::select! {
            gathered = &mut digits => {
                let gathered = gathered?;
                if !gathered.is_empty() {
                    return Ok(gathered);
                }
                // Nothing typed: the caller may still be speaking, or the recogniser
                // still decoding. Let it flush its last utterance, within the timeout.
                let tries = gathered.tries();
                return Ok(match session.finish().await {
                    Ok(finals) => finals
                        .into_iter()
                        .map(|result| outcome(speech, result, validator, tries))
                        .reduce(|first, next| match first.ended_by() {
                            GatherEnd::Speech => first,
                            _ => next,
                        })
                        .unwrap_or(gathered),
                    Err(error) => {
                        tracing::debug!(%error, "the recogniser's last result was lost");
                        gathered
                    }
                });
            }
            frame = next_frame(&mut frames) => match frame {
                Some(frame) => {
                    if session.feed(&frame).is_err() {
                        tracing::warn!("the recogniser ended mid-gather; digits still work");
                        frames = None;
                    }
                }
                None => frames = None,
            },
            result = session.results().next_final(), if results_open => match result {
                Some(result) => {
                    tracing::debug!(text = %result.text, confidence = ?result.confidence, "speech in gather");
                    return Ok(outcome(speech, result, validator, 1));
                }
                None => results_open = false,
            },
        }
    }
}

/// The gather's outcome for a final result: speech if the grammar accepts it at the
/// least confidence, else a no-match carrying what was heard.
fn outcome(
    speech: &SpeechGather,
    result: Recognition,
    validator: Option<&Validator>,
    tries: u32,
) -> Digits {
    let confident = match (speech.min_confidence, result.confidence) {
        (Some(min), Some(confidence)) => confidence >= min,
        _ => true,
    };
    match accepted(&speech.grammar, &result, validator, tries).filter(|_| confident) {
        Some(spoken) => spoken,
        None => Digits::no_match(result, tries),
    }
}

/// The gather's outcome if `result` is something `grammar` accepts: a choice, or
/// digits said as words that pass the validator.
fn accepted(
    grammar: &Grammar,
    result: &Recognition,
    validator: Option<&Validator>,
    tries: u32,
) -> Option<Digits> {
    if let Some(choice) = grammar.choice(result) {
        return Some(Digits::spoken(choice, tries));
    }
    let digits = result.digits().filter(|_| grammar.accepts(result))?;
    match validator.is_none_or(|check| check(&digits)) {
        true => Some(Digits::new(&digits, None, GatherEnd::Speech, tries)),
        false => None,
    }
}

/// The next caller frame; pending forever once the stream is gone. A lagging
/// receiver skips what it missed (the recogniser keeps call time by its own count).
async fn next_frame(frames: &mut Option<broadcast::Receiver<Frame>>) -> Option<Frame> {
    let Some(receiver) = frames else {
        return std::future::pending().await;
    };
    loop {
        match receiver.recv().await {
            Ok(frame) => return Some(frame),
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heard(text: &str) -> Recognition {
        Recognition {
            text: text.to_owned(),
            is_final: true,
            start: Duration::ZERO,
            end: Duration::from_secs(1),
            confidence: Some(0.8),
            words: Vec::new(),
        }
    }

    #[test]
    fn choices_and_spoken_digits_are_accepted() {
        let menu = Grammar::choices(["sales", "support"]).unwrap();
        let outcome = accepted(&menu, &heard("support please"), None, 1).unwrap();
        assert_eq!(outcome.heard().map(|c| c.index), Some(1));
        assert_eq!(outcome.ended_by(), GatherEnd::Speech);
        assert!(accepted(&menu, &heard("billing"), None, 1).is_none());

        let pin = Grammar::digits(3, 4).unwrap();
        let outcome = accepted(&pin, &heard("one two three"), None, 1).unwrap();
        assert_eq!(outcome.as_str(), "123");
        assert!(outcome.heard().is_none());
        assert!(accepted(&pin, &heard("one two"), None, 1).is_none());
        let no_ones: Validator = Arc::new(|digits: &str| !digits.contains('1'));
        assert!(accepted(&pin, &heard("one two three"), Some(&no_ones), 1).is_none());
    }

    #[test]
    fn off_grammar_and_unsure_results_are_no_matches() {
        let speech = |min_confidence| SpeechGather {
            grammar: Grammar::choices(["sales", "support"]).unwrap(),
            recognizer: None,
            timeout: Duration::from_secs(1),
            min_confidence,
        };
        let off = outcome(&speech(None), heard("opening hours"), None, 1);
        assert_eq!(off.ended_by(), GatherEnd::NoMatch);
        assert!(off.is_empty());
        assert_eq!(
            off.unmatched().map(|r| r.text.as_str()),
            Some("opening hours")
        );
        // Heard at 0.8: accepted at 0.5, a no-match at 0.9.
        let sure = outcome(&speech(Some(0.5)), heard("sales"), None, 1);
        assert_eq!(sure.heard().map(|c| c.index), Some(0));
        let unsure = outcome(&speech(Some(0.9)), heard("sales"), None, 1);
        assert_eq!(unsure.ended_by(), GatherEnd::NoMatch);
        // Without a confidence to compare, the choice stands.
        let mut bare = heard("support");
        bare.confidence = None;
        assert_eq!(
            outcome(&speech(Some(0.9)), bare, None, 1).ended_by(),
            GatherEnd::Speech
        );
    }
}
