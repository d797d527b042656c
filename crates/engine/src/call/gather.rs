//! `gather`: `voicebot_dispatch::gather` over the call's digit queue, with the media
//! task as its prompter.

use std::sync::Arc;

use voicebot_bot::__engine::GatherRequest;
use voicebot_bot::{CallError, Digits, GatherEnd, PromptSource};
use voicebot_dispatch::{GatherError, GatherSpec, PromptEnd, Prompter};
use voicebot_media::Repeat;

use super::CallCtx;
use super::media::PlayEnd;
use super::play::{Playing, count_barge_in};
use super::spoken;

/// Serves a `Gather` message; one that also listens for speech goes to [`speech`].
///
/// [`speech`]: super::speech
pub(super) async fn serve(
    ctx: &Arc<CallCtx>,
    mut request: GatherRequest,
) -> Result<Digits, CallError> {
    let result = match request.speech.take() {
        Some(speech) => super::speech::gather(ctx, request, speech).await,
        None => gather_digits(ctx, request).await,
    };
    if let Ok(digits) = &result {
        match digits.heard() {
            Some(choice) => ctx.record.choice("speech", &choice.phrase),
            None if !digits.is_empty() => ctx.record.choice("digits", digits.as_str()),
            None => {}
        }
    }
    result
}

/// The digit part of a gather.
pub(super) async fn gather_digits(
    ctx: &Arc<CallCtx>,
    request: GatherRequest,
) -> Result<Digits, CallError> {
    let spec = GatherSpec {
        prompt: request.prompt,
        invalid_prompt: request.invalid_prompt,
        min_digits: request.min_digits,
        max_digits: request.max_digits,
        first_digit_timeout: request.first_digit_timeout,
        inter_digit_timeout: request.inter_digit_timeout,
        terminators: request.terminators,
        terminator_required: request.terminator_required,
        tries: request.tries,
        barge_in_digits: request.barge_in.digits,
        barge_in_speech: request.barge_in.speech,
        validator: request.validator,
    };
    let mut prompter = MediaPrompter {
        ctx,
        digit_barge_in: request.barge_in.digits,
    };
    let mut queue = ctx.digits.lock().await;
    let gathered = voicebot_dispatch::gather(&mut queue, &mut prompter, &spec).await;
    match gathered {
        Ok(gathered) => {
            let end = match gathered.end {
                voicebot_dispatch::GatherEnd::MaxDigits => GatherEnd::MaxDigits,
                voicebot_dispatch::GatherEnd::Terminator => GatherEnd::Terminator,
                voicebot_dispatch::GatherEnd::Timeout => GatherEnd::Timeout,
                voicebot_dispatch::GatherEnd::NoInput => GatherEnd::NoInput,
                voicebot_dispatch::GatherEnd::Invalid => GatherEnd::Invalid,
            };
            Ok(Digits::new(
                &gathered.digits,
                gathered.terminator,
                end,
                gathered.tries,
            ))
        }
        Err(GatherError::Prompt(error)) => Err(error),
        Err(_) => Err(ctx.end_error()),
    }
}

/// Plays gather prompts through the media task. Dropping a `play` future (a digit
/// barged in) drops its [`Playing`], which stops the prompt at once.
struct MediaPrompter<'a> {
    ctx: &'a CallCtx,
    digit_barge_in: bool,
}

impl Prompter for MediaPrompter<'_> {
    type Prompt = PromptSource;
    type Error = CallError;

    async fn play(
        &mut self,
        prompt: &PromptSource,
        stop_on_speech: bool,
    ) -> Result<PromptEnd, CallError> {
        let audio = spoken::open(self.ctx, prompt, Repeat::Times(1)).await?;
        let mut playing = Playing::start(self.ctx, audio, Repeat::Times(1), stop_on_speech).await?;
        // Counted up front and taken back on a normal end: a dropped future is a barge-in.
        let mut barge = BargeInCount {
            ctx: self.ctx,
            armed: self.digit_barge_in,
        };
        let end = playing.end().await;
        barge.armed = false;
        match end? {
            Some(PlayEnd::Finished) => Ok(PromptEnd::Finished),
            Some(PlayEnd::Speech { .. }) => {
                count_barge_in(self.ctx, "speech");
                Ok(PromptEnd::Speech)
            }
            Some(PlayEnd::Stopped { .. }) | None => Err(self.ctx.end_error()),
        }
    }

    fn audio_lost(&self) -> std::time::Duration {
        let micros = self
            .ctx
            .audio_lost
            .load(std::sync::atomic::Ordering::Relaxed);
        std::time::Duration::from_micros(micros)
    }
}

/// Counts a digit barge-in when a gather prompt's future is dropped mid-play.
struct BargeInCount<'a> {
    ctx: &'a CallCtx,
    armed: bool,
}

impl Drop for BargeInCount<'_> {
    fn drop(&mut self) {
        if self.armed && !self.ctx.over.is_cancelled() {
            count_barge_in(self.ctx, "digit");
        }
    }
}
