//! `gather`: the bot crate's gather (`voicebot_bot::__engine::gather`, with its speech
//! race) over the call's digit queue, with the media task as its prompter.

use std::sync::Arc;

use voicebot_bot::__engine::{
    GatherError, GatherRequest, Listener, PromptEnd, Prompter, gather_with_speech,
};
use voicebot_bot::{CallError, Digits, PromptSource};
use voicebot_media::Repeat;

use super::CallCtx;
use super::media::PlayEnd;
use super::play::{Playing, count_barge_in};
use super::spoken;

/// Serves a `Gather` message, listening for speech too when the request asks.
///
/// # Errors
/// [`CallError::InvalidRequest`] for speech when neither the request nor the engine
/// has a recogniser; the call's end error once it is over; a prompt's error.
pub(super) async fn serve(ctx: &Arc<CallCtx>, request: GatherRequest) -> Result<Digits, CallError> {
    let listener = match &request.speech {
        Some(speech) => {
            let recognizer = speech
                .recognizer
                .clone()
                .or_else(|| ctx.shared.settings.recognizer.clone())
                .ok_or_else(|| {
                    CallError::InvalidRequest(
                        "gather with speech, but no speech recogniser is configured \
                         (EngineBuilder::recognizer, or [speech] recognizer in voicebot.toml)"
                            .to_owned(),
                    )
                })?;
            Some(Listener {
                recognizer,
                // Results are timed from the call's start, not the gather's.
                call_offset: ctx.clock.now(),
                // Subscribed before the session starts so the first syllables are not lost.
                frames: ctx.audio_in.upgrade().map(|sender| sender.subscribe()),
            })
        }
        None => None,
    };
    let mut prompter = MediaPrompter {
        ctx,
        digit_barge_in: request.barge_in.digits,
    };
    let gathered = match listener {
        Some(listener) => gather_with_speech(&ctx.digits, &mut prompter, &request, listener).await,
        None => voicebot_bot::__engine::gather(&ctx.digits, &mut prompter, &request).await,
    };
    let digits = match gathered {
        Ok(digits) => digits,
        Err(GatherError::Prompt(error)) => return Err(error),
        Err(_) => return Err(ctx.end_error()),
    };
    match digits.heard() {
        Some(choice) => ctx.record.choice("speech", &choice.phrase),
        None if !digits.is_empty() => ctx.record.choice("digits", digits.as_str()),
        None => {}
    }
    Ok(digits)
}

/// Plays gather prompts through the media task. Dropping a `play` future (a digit
/// barged in) drops its [`Playing`], which stops the prompt at once.
struct MediaPrompter<'a> {
    ctx: &'a CallCtx,
    digit_barge_in: bool,
}

impl Prompter for MediaPrompter<'_> {
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
