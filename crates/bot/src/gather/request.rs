//! [`GatherRequest`]: the one description of a gather, from the bot's builder to the
//! state machine.

use std::sync::Arc;
use std::time::Duration;

use voicebot_model::Digit;
use voicebot_speech::{Grammar, Recognizer};

use crate::call::BargeIn;
use crate::prompt::PromptSource;

/// Decides whether gathered digits are acceptable (e.g. a regex or a checksum).
pub type Validator = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The settings of one gather: what a bot's [`GatherBuilder`](crate::GatherBuilder)
/// sends, and what [`gather`](super::gather()) runs on.
#[derive(Clone)]
pub struct GatherRequest {
    /// Played at the start of each try.
    pub prompt: Option<PromptSource>,
    /// Played after a try with invalid input.
    pub invalid_prompt: Option<PromptSource>,
    /// Fewest digits accepted (terminator not counted).
    pub min_digits: usize,
    /// Most digits collected (at least 1); reaching it ends the try unless a
    /// terminator is required.
    pub max_digits: usize,
    /// Wait for the first digit after the prompt.
    pub first_digit_timeout: Duration,
    /// Wait for each further digit.
    pub inter_digit_timeout: Duration,
    /// Keys that end input; they are not part of the digits.
    pub terminators: Vec<Digit>,
    /// Whether input must end with a terminator.
    pub terminator_required: bool,
    /// How many tries.
    pub tries: u32,
    /// What may interrupt the prompts (a digit barging in also skips the prompt when
    /// digits are typed ahead).
    pub barge_in: BargeIn,
    /// Extra check on the digits.
    pub validator: Option<Validator>,
    /// Also listen for speech against a grammar; `None` for digits only.
    pub speech: Option<SpeechGather>,
}

/// The speech part of a [`GatherRequest`]: while the gather runs, the engine feeds the
/// caller's frames to a recognition session and a final result the grammar accepts
/// ends the gather, unless digits end it first.
#[derive(Clone)]
pub struct SpeechGather {
    /// What the caller may say.
    pub grammar: Grammar,
    /// The recogniser to use; `None` for the engine's default.
    pub recognizer: Option<Arc<dyn Recognizer>>,
    /// How long, once the digit timeouts ran out, to wait for the recogniser's last
    /// result (an utterance still being spoken or decoded).
    pub timeout: Duration,
    /// The least confidence at which a spoken choice is accepted (`None`: any).
    pub min_confidence: Option<f32>,
}

impl std::fmt::Debug for SpeechGather {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeechGather")
            .field("grammar", &self.grammar)
            .field("recognizer", &self.recognizer.is_some())
            .field("timeout", &self.timeout)
            .field("min_confidence", &self.min_confidence)
            .finish()
    }
}

impl std::fmt::Debug for GatherRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatherRequest")
            .field("prompt", &self.prompt)
            .field("min_digits", &self.min_digits)
            .field("max_digits", &self.max_digits)
            .field("first_digit_timeout", &self.first_digit_timeout)
            .field("inter_digit_timeout", &self.inter_digit_timeout)
            .field("terminators", &self.terminators)
            .field("terminator_required", &self.terminator_required)
            .field("tries", &self.tries)
            .field("barge_in", &self.barge_in)
            .field("validator", &self.validator.is_some())
            .field("speech", &self.speech)
            .finish_non_exhaustive()
    }
}

impl Default for GatherRequest {
    /// No prompt, 1 to 20 digits, 5 s first-digit and 3 s inter-digit timeouts, `#`
    /// ends input (not required), one try, digits barge in, no speech.
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
            barge_in: BargeIn::DIGITS,
            validator: None,
            speech: None,
        }
    }
}
