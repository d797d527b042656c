//! `play`: a prompt through the media task, stopped by a digit (here) or by speech
//! (in the media task, at the frame it is detected).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use voicebot_bot::__engine::PlayRequest;
use voicebot_bot::{BargeIn, CallError, Interruption, PlayOutcome};
use voicebot_media::Repeat;

use super::spoken::{self, Feed, PlayAudio};
use super::{CallCtx, MediaCommand, PlayEnd};
use crate::stats::Counters;

/// Serves a `Play` message.
pub(super) async fn serve(
    ctx: &Arc<CallCtx>,
    request: PlayRequest,
) -> Result<PlayOutcome, CallError> {
    // `Times(0)` would play nothing and never end the verb as a prompt should.
    let repeat = match request.repeat {
        Repeat::Times(count) => Repeat::Times(count.max(1)),
        Repeat::Forever => Repeat::Forever,
    };
    let audio = spoken::open(ctx, &request.prompt, repeat).await?;
    play(ctx, audio, repeat, request.barge_in).await
}

/// Plays `audio`; a digit (when allowed) stops it and stays queued (type-ahead).
pub(super) async fn play(
    ctx: &CallCtx,
    audio: impl Into<PlayAudio>,
    repeat: Repeat,
    barge_in: BargeIn,
) -> Result<PlayOutcome, CallError> {
    let mut playing = Playing::start(ctx, audio, repeat, barge_in.speech).await?;
    if !barge_in.digits {
        return outcome(ctx, playing.end().await?, None);
    }
    tokio::select! {
        end = playing.end() => outcome(ctx, end?, None),
        unread = ctx.digits.wait_unread() => match unread {
            Some(digit) => {
                let end = playing.stop().await;
                outcome(ctx, end, Some(Interruption::Digit(digit)))
            }
            // The queue closed: the call ended.
            None => outcome(ctx, playing.end().await?, None),
        },
    }
}

fn outcome(
    ctx: &CallCtx,
    end: Option<PlayEnd>,
    digit: Option<Interruption>,
) -> Result<PlayOutcome, CallError> {
    let (by, heard, label) = match end {
        Some(PlayEnd::Finished) => return Ok(PlayOutcome::Finished),
        Some(PlayEnd::Speech { heard }) => (Interruption::Speech, heard, "speech"),
        Some(PlayEnd::Stopped { heard }) => match digit {
            Some(by) => (by, heard, "digit"),
            None => return Err(ctx.end_error()),
        },
        None => return Err(ctx.end_error()),
    };
    count_barge_in(ctx, label);
    tracing::debug!(?by, ?heard, "barge-in");
    Ok(PlayOutcome::Interrupted { by, heard })
}

pub(super) fn count_barge_in(ctx: &CallCtx, by: &'static str) {
    Counters::add(&ctx.shared.counters.barge_ins, 1);
    metrics::counter!(
        crate::metrics::BARGE_INS,
        "pbx" => ctx.shared.counters.pbx_label(),
        "by" => by
    )
    .increment(1);
}

/// A play handed to the media task. Dropping it before it ended stops the prompt at
/// once (a `Stop` command), which is how a gather's digit barges in. A play of text
/// also carries its [`Feed`]: the sentences after the first reach the media task
/// while [`Playing::end`] waits.
pub(super) struct Playing<'a> {
    ctx: &'a CallCtx,
    id: u64,
    done: Option<oneshot::Receiver<PlayEnd>>,
    feed: Option<Feed>,
    /// A sentence that could not be synthesised: reported once what came before it
    /// has played.
    failure: Option<CallError>,
}

impl<'a> Playing<'a> {
    pub(super) async fn start(
        ctx: &'a CallCtx,
        audio: impl Into<PlayAudio>,
        repeat: Repeat,
        stop_on_speech: bool,
    ) -> Result<Self, CallError> {
        let PlayAudio { first, rest } = audio.into();
        let id = ctx.shared.next_id();
        let (done, receiver) = oneshot::channel();
        let (feed, more) = match rest {
            Some(stream) => {
                let (feed, more) = Feed::new(stream);
                (Some(feed), Some(more))
            }
            None => (None, None),
        };
        let command = MediaCommand::Play {
            id,
            prompt: first,
            more,
            repeat,
            stop_on_speech,
            done,
        };
        ctx.media.send(command).await.map_err(|_| ctx.end_error())?;
        ctx.record.audio_started();
        Ok(Self {
            ctx,
            id,
            done: Some(receiver),
            feed,
            failure: None,
        })
    }

    /// Waits for the play to end, feeding it the rest of a text meanwhile; `Ok(None)`
    /// when the media task is gone.
    ///
    /// # Errors
    /// [`CallError::Media`] when a later sentence of a text could not be synthesised:
    /// the sentences before it still play, then the play ends with the error.
    pub(super) async fn end(&mut self) -> Result<Option<PlayEnd>, CallError> {
        let Some(done) = self.done.as_mut() else {
            return Ok(None);
        };
        while let Some(feed) = self.feed.as_mut() {
            tokio::select! {
                end = &mut *done => {
                    self.done = None;
                    self.feed = None;
                    return Ok(end.ok());
                }
                forwarded = feed.forward() => match forwarded {
                    Ok(true) => {}
                    // Everything handed over: the media task ends the play after it.
                    Ok(false) => self.feed = None,
                    Err(error) => {
                        tracing::warn!(%error, "speech synthesis failed mid-text; it ends there");
                        // Dropping the feed tells the media task that nothing follows.
                        self.feed = None;
                        self.failure = Some(error);
                    }
                },
            }
        }
        let end = done.await.ok();
        self.done = None;
        match self.failure.take() {
            Some(failure) if end.is_some() => Err(failure),
            _ => Ok(end),
        }
    }

    /// Stops the play and returns how it ended (usually `Stopped` with what was heard).
    pub(super) async fn stop(&mut self) -> Option<PlayEnd> {
        // Nothing more to synthesise for a stopped play.
        self.feed = None;
        let _ = self
            .ctx
            .media
            .send(MediaCommand::Stop { id: self.id })
            .await;
        let done = self.done.as_mut()?;
        let end = done.await.ok();
        self.done = None;
        end
    }
}

impl Drop for Playing<'_> {
    fn drop(&mut self) {
        if self.done.is_some() {
            // If the queue is full, the media task still sees the closed receiver at
            // its next tick.
            let _ = self.ctx.media.try_send(MediaCommand::Stop { id: self.id });
        }
    }
}

/// Extra wait after the pacer says everything was heard.
const PBX_PLAYOUT_SLACK: Duration = Duration::from_millis(40);

/// How long a drain may take at most: the lead plus a little.
pub(super) fn drain_limit(ctx: &CallCtx) -> Duration {
    ctx.shared.settings.pacer_lead + Duration::from_millis(300)
}

/// Waits until the caller heard what was sent (before a drop or hand-off), bounded.
pub(super) async fn drain(ctx: &CallCtx) {
    let connected = ctx.status.borrow().clone() == voicebot_model::ParticipantStatus::Connected;
    if !connected {
        return;
    }
    let (reply, drained) = oneshot::channel();
    if ctx.media.send(MediaCommand::Drain { reply }).await.is_ok()
        && let Ok(Ok(())) = tokio::time::timeout(drain_limit(ctx), drained).await
    {
        // The PBX plays out on its own 20 ms clock, whose phase we do not know: allow
        // two of its ticks for the last frame.
        tokio::time::sleep(PBX_PLAYOUT_SLACK).await;
    }
}
