//! Serving the bot's messages: each becomes a future the call task polls alongside
//! the others, so a slow verb (a prompt, a `routeto` that rings) never holds up the
//! next message.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use voicebot_bot::__engine::{CallMessage, Reply};
use voicebot_bot::{CallError, CallNote};
use voicebot_callcontrol::CallControlError;
use voicebot_model::{CallControlResult, ParticipantStatus};

use super::{CallCtx, MediaCommand, actions, gather, play, record};
use crate::events::CallOutcome;

/// A verb in flight. Its output tells the call task when a verb ended the call.
pub(crate) type Verb = Pin<Box<dyn Future<Output = Option<CallOutcome>> + Send>>;

/// Turns a message into its verb.
pub(crate) fn serve(ctx: Arc<CallCtx>, message: CallMessage) -> Verb {
    match message {
        CallMessage::Answer { reply } => Box::pin(verb(ctx, reply, answer)),
        CallMessage::Play { request, reply } => Box::pin(verb(ctx, reply, move |ctx| async move {
            play::serve(&ctx, *request).await
        })),
        CallMessage::Gather { request, reply } => {
            Box::pin(verb(ctx, reply, move |ctx| async move {
                gather::serve(&ctx, *request).await
            }))
        }
        // A recording must be finalised even when the call ends, so it is not cut short
        // by the call's end like the other verbs.
        CallMessage::Record { request, reply } => Box::pin(async move {
            record::serve(&ctx, *request, reply).await;
            None
        }),
        // Actions already sent are not cancelled (the PBX may be acting on them).
        CallMessage::Action {
            action,
            request,
            reply,
        } => Box::pin(async move {
            let started = std::time::Instant::now();
            let outcome = actions::serve(&ctx, &action, &request).await;
            let took = started.elapsed();
            metrics::histogram!(
                crate::metrics::ACTION_SECONDS,
                "pbx" => ctx.shared.counters.pbx_label(),
                "action" => action.to_string(),
                "result" => if outcome.is_ok() { "ok" } else { "failed" }
            )
            .record(took.as_secs_f64());
            ctx.record.action(
                action.to_string(),
                request.destination.clone(),
                match &outcome {
                    Ok(()) => "ok".to_owned(),
                    Err(error) => error.to_string(),
                },
                took,
            );
            let _ = reply.send(outcome);
            None
        }),
        CallMessage::Note { note, reply } => {
            match note {
                CallNote::Transcript(text) => ctx.record.transcript(text),
                CallNote::Error(text) => ctx.record.error(text),
                other => ctx.record.error(format!("{other:?}")),
            }
            let _ = reply.send(Ok(()));
            Box::pin(async { None })
        }
        CallMessage::ClearDigits { reply } => {
            Box::pin(verb(
                ctx,
                reply,
                |ctx| async move { Ok(ctx.digits.clear()) },
            ))
        }
        CallMessage::ClearAudio { reply } => Box::pin(verb(ctx, reply, |ctx| async move {
            let (count, counted) = tokio::sync::oneshot::channel();
            ctx.media
                .send(MediaCommand::ClearAudio { reply: count })
                .await
                .map_err(|_| ctx.end_error())?;
            counted.await.map_err(|_| ctx.end_error())
        })),
        other => {
            tracing::warn!(
                ?other,
                "a call message this engine does not know; its verb fails"
            );
            Box::pin(async { None })
        }
    }
}

/// Runs `work` and replies, unless the bot stops waiting (the reply closes: the work
/// is dropped, which stops it) or the call ends (the reply is dropped: the bot's
/// `Call` reports the recorded end cause).
async fn verb<T, F, Fut>(ctx: Arc<CallCtx>, mut reply: Reply<T>, work: F) -> Option<CallOutcome>
where
    F: FnOnce(Arc<CallCtx>) -> Fut,
    Fut: Future<Output = Result<T, CallError>>,
{
    let over = ctx.over.clone();
    let work = work(ctx);
    tokio::select! {
        biased;
        () = reply.closed() => {}
        () = over.cancelled() => {}
        outcome = work => {
            let _ = reply.send(outcome);
        }
    }
    None
}

/// `answer`: nothing to do once connected; otherwise ask the PBX and wait for the leg
/// to connect.
async fn answer(ctx: Arc<CallCtx>) -> Result<(), CallError> {
    let mut status = ctx.status.clone();
    if *status.borrow() == ParticipantStatus::Connected {
        return Ok(());
    }
    ctx.ensure_leg().await?;
    let result = ctx.shared.client.answer(&ctx.dn, ctx.id).await;
    accepted(result)?;
    status
        .wait_for(|status| *status == ParticipantStatus::Connected)
        .await
        .map_err(|_| ctx.end_error())?;
    Ok(())
}

/// Maps a PBX answer to a verb result: success, or `Rejected` with the PBX's reason.
pub(crate) fn accepted(
    result: Result<CallControlResult, CallControlError>,
) -> Result<CallControlResult, CallError> {
    match result {
        Ok(result) if result.is_success() => Ok(result),
        // The PBX carried it out; only its answer is garbled. Sending it again would
        // repeat the action (a second transfer, a second drop).
        Err(error) if error.was_accepted() => {
            tracing::warn!(%error, "the PBX accepted the action but its answer is unreadable; treating it as done");
            Ok(CallControlResult {
                finalstatus: voicebot_model::FinalStatus::Success,
                reason: "None".to_owned(),
                result: None,
                reasontext: None,
            })
        }
        Ok(result) => Err(CallError::Rejected {
            status: 200,
            reason: result
                .reasontext
                .filter(|text| !text.is_empty())
                .unwrap_or(result.reason),
        }),
        Err(error) => match error.status() {
            Some(status) => Err(CallError::Rejected {
                status,
                reason: error
                    .reasontext()
                    .map(str::to_owned)
                    .unwrap_or_else(|| error.to_string()),
            }),
            None => Err(CallError::connection(error)),
        },
    }
}

impl CallCtx {
    /// The error for work that cannot go on because the call ended.
    pub(crate) fn end_error(&self) -> CallError {
        match () {
            () if self.is_ended_by_us() => CallError::Ended,
            () if self.shared.handoff.is_cancelled() || self.shared.root.is_cancelled() => {
                CallError::Shutdown
            }
            () => CallError::Hangup,
        }
    }
}
