//! `record`: the caller's lossless audio into a WAV file through the recording writer.
//!
//! The media task counts the maximum length in samples and watches silence; this verb
//! watches the terminator keys. Only the terminator that ends the recording is taken
//! (before it reaches the digit queue); other keys pressed meanwhile stay queued as
//! type-ahead for the next gather. Whatever ends it — including a hang-up — the file
//! is finalised by the writer before the reply, and trimmed first if asked
//! (`crate::trim`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use voicebot_bot::__engine::{RecordRequest, Reply};
use voicebot_bot::{BargeIn, CallError, PromptSource, RecordEnd, Recording};
use voicebot_media::Repeat;

use super::CallCtx;
use super::keys::TerminatorWatch;
use super::media::MediaCommand;
use super::play::play;

/// The beep before a recording.
const BEEP: PromptSource = PromptSource::Tone {
    hz: 1000,
    second_hz: None,
    duration: Duration::from_millis(250),
};

/// Serves a `Record` message. Replies itself: a hang-up still gets `Ok`.
pub(super) async fn serve(
    ctx: &Arc<CallCtx>,
    mut request: RecordRequest,
    mut reply: Reply<Recording>,
) {
    if request.path.is_relative() {
        request.path = ctx.shared.settings.recordings_dir.join(&request.path);
    }
    if request.beep {
        let beeped = tokio::select! {
            () = reply.closed() => return,
            () = ctx.over.cancelled() => return,
            beeped = beep(ctx) => beeped,
        };
        if let Err(error) = beeped {
            let _ = reply.send(Err(error));
            return;
        }
    }
    let id = ctx.shared.next_id();
    ctx.recordings.started(&ctx.shared, &request.path);
    let (done, mut finished) = oneshot::channel();
    let command = MediaCommand::Record {
        id,
        path: request.path.clone(),
        channels: request.channels,
        max_length: request.max_length,
        silence_timeout: request.silence_timeout,
        done,
    };
    if ctx.media.send(command).await.is_err() {
        let _ = reply.send(Err(ctx.end_error()));
        return;
    }
    tracing::debug!(path = %request.path.display(), "recording");
    // Armed now, so a key pressed before the recording began ends nothing.
    let terminator = (!request.terminators.is_empty())
        .then(|| ctx.terminators.watch(id, request.terminators.clone()));
    let outcome = tokio::select! {
        outcome = &mut finished => outcome,
        () = reply.closed() => {
            // The bot stopped waiting: close the file anyway.
            let end = RecordEnd::MaxLength;
            let _ = ctx.media.try_send(MediaCommand::StopRecording { id, end });
            return;
        }
        key = pressed(ctx, terminator) => {
            if let Some(key) = key {
                let end = RecordEnd::Terminator(key);
                let _ = ctx.media.send(MediaCommand::StopRecording { id, end }).await;
            }
            finished.await
        }
    };
    let recording = match outcome {
        Ok(Ok(finished)) => Ok(Recording {
            path: finished.summary.path,
            duration: finished.summary.duration,
            ended_by: finished.end,
            gaps: finished.gaps,
        }),
        Ok(Err(error)) => Err(CallError::media(error)),
        Err(_) => Err(CallError::Shutdown),
    };
    let recording = match recording {
        Ok(recording) if request.trim_silence => trim(recording).await,
        other => other,
    };
    match &recording {
        Ok(recording) => ctx.record.recording(recording),
        Err(error) => ctx
            .record
            .error(format!("recording {}: {error}", request.path.display())),
    }
    let _ = reply.send(recording);
}

/// Cuts the silence around a finished recording, on the blocking pool.
async fn trim(mut recording: Recording) -> Result<Recording, CallError> {
    let path = recording.path.clone();
    let trimmed = tokio::task::spawn_blocking(move || crate::trim::trim_file(&path)).await;
    match trimmed {
        Ok(Ok(duration)) => {
            recording.duration = duration;
            Ok(recording)
        }
        Ok(Err(error)) => Err(CallError::media(error)),
        Err(error) => Err(CallError::media(std::io::Error::other(error))),
    }
}

async fn beep(ctx: &CallCtx) -> Result<(), CallError> {
    let tone = ctx.shared.prompts.resolve(&BEEP).await?;
    play(ctx, tone, Repeat::Times(1), BargeIn::NONE)
        .await
        .map(|_| ())
}

/// Waits for a terminator key; `None` when the call is over (the media task then
/// finishes the recording itself) or the recording has no terminators.
async fn pressed(ctx: &CallCtx, watch: Option<TerminatorWatch>) -> Option<voicebot_bot::Digit> {
    let Some(mut watch) = watch else {
        ctx.over.cancelled().await;
        return None;
    };
    tokio::select! {
        () = ctx.over.cancelled() => None,
        key = watch.pressed() => Some(key),
    }
}
