//! Participant actions for the bot (`drop`, `transferto`, `routeto`, `divert`,
//! `attach_participant_data`) and the engine's own end of a call: the polite drop
//! after a bot returns, and the fallback after a bot fails or at shutdown.
//!
//! Before an action that takes the caller away, the media task is drained: what was
//! already sent (at most the pacer's lead) plays out first, so a goodbye prompt is
//! heard to its end.
//!
//! The fallback uses `transferto` for a connected call (the PBX holds the caller
//! during the attempt and gives the call back on failure, so a failed fallback can
//! still be dropped politely; the caller hears the ringback meanwhile), `divert` for a
//! ringing one (the only action allowed then), and a plain `drop` when no fallback is
//! configured or it failed.
//!
//! Every action ends: `transferto` and `routeto` carry a ring timeout (the bot's, else
//! the engine's `ring_timeout`) that also bounds their HTTP request, and `drop` is
//! retried by the client a bounded number of times. A call whose `drop` still fails
//! is logged at ERROR with its ids and released: the engine stops serving it rather
//! than loop on it.

use std::time::Duration;

use voicebot_bot::{CallError, PromptSource};
use voicebot_callcontrol::CallControlError;
use voicebot_media::Repeat;
use voicebot_model::{Action, ActionRequest, CallControlResult, ParticipantStatus};

use super::CallCtx;
use super::play::{Playing, drain};
use super::verbs::accepted;
use crate::events::CallOutcome;

/// Serves an `Action` message.
pub(super) async fn serve(
    ctx: &CallCtx,
    action: &Action,
    request: &ActionRequest,
) -> Result<(), CallError> {
    if ctx.over.is_cancelled() {
        return Err(ctx.end_error());
    }
    let hands_off = matches!(
        action,
        Action::Drop | Action::TransferTo | Action::RouteTo | Action::Divert
    );
    if hands_off {
        drain(ctx).await;
    }
    let request = with_ring_timeout(action, request, ctx.shared.settings.ring_timeout);
    tracing::debug!(%action, destination = ?request.destination, timeout = ?request.timeout, "action");
    ctx.ensure_leg().await?;
    let result = ctx
        .shared
        .client
        .action(&ctx.dn, ctx.id, action, &request)
        .await;
    if let Err(error) = &result {
        tracing::info!(%action, destination = ?request.destination, %error, "the PBX did not carry out the action");
    }
    match accepted(result) {
        Ok(_) => {
            if hands_off {
                ctx.mark_ended_by_us();
            }
            Ok(())
        }
        // `drop` is idempotent: a leg already gone is what it asked for (perhaps an
        // earlier try went through and only its answer was lost).
        Err(CallError::Rejected { status: 404, .. }) if *action == Action::Drop => {
            ctx.mark_ended_by_us();
            Ok(())
        }
        // The caller left while we asked: report the hang-up, not the PBX's 404.
        Err(CallError::Rejected { status: 404, .. }) if hands_off => Err(CallError::Hangup),
        Err(error) => Err(error),
    }
}

/// `request`, with `ring` as its `timeout` when it is a `routeto`/`transferto` that
/// names none: the PBX then rings for a known time, and the client waits that long.
fn with_ring_timeout(action: &Action, request: &ActionRequest, ring: Duration) -> ActionRequest {
    let mut request = request.clone();
    if matches!(action, Action::RouteTo | Action::TransferTo) && request.timeout.is_none() {
        request.timeout = Some(ring_seconds(ring));
    }
    request
}

fn ring_seconds(ring: Duration) -> u32 {
    u32::try_from(ring.as_secs().max(1)).unwrap_or(u32::MAX)
}

/// Why the engine ends a call itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EngineEnd {
    /// The bot returned while the call was live: drop it.
    BotReturned,
    /// The bot failed: fallback, else drop.
    BotFailed,
    /// The engine could not answer a ringing call: fallback (divert), else drop.
    AnswerFailed,
    /// The engine shuts down: fallback, else drop.
    Shutdown,
}

/// Ends the call for the engine; returns the outcome to count. Always ends: a
/// fallback that fails is followed by a drop, and a drop that fails after its
/// retries releases the call (logged at ERROR).
pub(crate) async fn end_call(ctx: &CallCtx, why: EngineEnd) -> Option<CallOutcome> {
    drain(ctx).await;
    let fallback = match why {
        EngineEnd::BotReturned => None,
        _ => ctx.shared.settings.fallback.as_deref(),
    };
    if let Some(destination) = fallback {
        ctx.ensure_leg().await.ok()?;
        match hand_to_fallback(ctx, destination, why).await {
            Some(Ok(_)) => {
                tracing::info!(destination, "call handed to the fallback");
                ctx.mark_ended_by_us();
                return Some(match why {
                    EngineEnd::Shutdown => CallOutcome::Shutdown,
                    _ => CallOutcome::Fallback,
                });
            }
            // Accepted, but the answer is unreadable: the PBX has the call.
            Some(Err(error)) if error.was_accepted() => {
                tracing::warn!(%error, destination, "the fallback was accepted with an unreadable answer; treating it as done");
                ctx.mark_ended_by_us();
                return Some(match why {
                    EngineEnd::Shutdown => CallOutcome::Shutdown,
                    _ => CallOutcome::Fallback,
                });
            }
            // The caller left meanwhile: nothing left to end.
            Some(Err(error)) if error.is_not_found() => {
                tracing::info!(
                    destination,
                    "the caller left before the fallback took the call"
                );
                return Some(CallOutcome::Hangup);
            }
            Some(Err(error)) => {
                tracing::warn!(%error, destination, "fallback failed; dropping the call");
            }
            None => {}
        }
    }
    // Gone (or unknown): the call ends as its events say, never by a drop of another's.
    ctx.ensure_leg().await.ok()?;
    match ctx.shared.client.drop_participant(&ctx.dn, ctx.id).await {
        Ok(result) if !result.is_success() => release(ctx, &refusal(&result)),
        Ok(_) => {}
        // Already gone: ended either way. Or accepted with an unreadable answer: the
        // PBX dropped it, and a second drop would only repeat that.
        Err(error) if error.is_not_found() || error.was_accepted() => {}
        Err(error) => release(ctx, &error.to_string()),
    }
    ctx.mark_ended_by_us();
    Some(match why {
        EngineEnd::BotReturned => CallOutcome::Completed,
        EngineEnd::BotFailed | EngineEnd::AnswerFailed => CallOutcome::Dropped,
        EngineEnd::Shutdown => CallOutcome::Shutdown,
    })
}

/// Hands the call to `destination`: `transferto` (with ringback) when connected,
/// `divert` when ringing; `None` when the leg is in neither state. A PBX answer that
/// is not a success comes back as an error.
async fn hand_to_fallback(
    ctx: &CallCtx,
    destination: &str,
    why: EngineEnd,
) -> Option<Result<CallControlResult, CallControlError>> {
    let client = &ctx.shared.client;
    let status = ctx.status.borrow().clone();
    let result = match status {
        ParticipantStatus::Connected => {
            let settings = &ctx.shared.settings;
            // At shutdown the PBX must answer within the shutdown timeout.
            let ring = match why {
                EngineEnd::Shutdown => settings.ring_timeout.min(settings.shutdown_timeout),
                _ => settings.ring_timeout,
            };
            let request = ActionRequest {
                timeout: Some(ring_seconds(ring)),
                ..ActionRequest::to(destination)
            };
            let ringback = ringback(ctx).await;
            let result = client
                .action(&ctx.dn, ctx.id, &Action::TransferTo, &request)
                .await;
            drop(ringback);
            result
        }
        ParticipantStatus::Ringing => client.divert(&ctx.dn, ctx.id, destination).await,
        _ => return None,
    };
    Some(result.and_then(|result| match result.is_success() {
        true => Ok(result),
        false => Err(CallControlError::Closed {
            what: format!("the PBX did not hand the call over: {}", refusal(&result)),
        }),
    }))
}

/// Starts the ringback for an engine-made transfer; dropping it stops the ringback.
/// `None` when it cannot play (the transfer goes on without it).
async fn ringback(ctx: &CallCtx) -> Option<Playing<'_>> {
    let prompt = match ctx.shared.prompts.resolve(&PromptSource::Ringback).await {
        Ok(prompt) => prompt,
        Err(error) => {
            tracing::warn!(%error, "cannot load the ringback; the caller hears silence");
            return None;
        }
    };
    Playing::start(ctx, prompt, Repeat::Forever, false)
        .await
        .ok()
}

fn refusal(result: &CallControlResult) -> String {
    result
        .reasontext
        .clone()
        .filter(|text| !text.is_empty())
        .unwrap_or_else(|| result.reason.clone())
}

/// Gives up on a call the PBX will not let go of.
fn release(ctx: &CallCtx, error: &str) {
    tracing::error!(
        call_id = ctx.call_id,
        dn = %ctx.dn,
        participant = ctx.id.0,
        %error,
        "cannot end the call: drop failed after its retries; the engine releases it (the PBX may still hold the caller)"
    );
    metrics::counter!(crate::metrics::RELEASED, "pbx" => ctx.shared.counters.pbx_label())
        .increment(1);
    crate::stats::Counters::add(&ctx.shared.counters.calls_released, 1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_offs_get_the_ring_timeout_unless_they_name_one() {
        let ring = Duration::from_secs(30);
        let to = ActionRequest::to("200");
        let filled = with_ring_timeout(&Action::TransferTo, &to, ring);
        assert_eq!(filled.timeout, Some(30));
        assert_eq!(
            with_ring_timeout(&Action::RouteTo, &to, ring).timeout,
            Some(30)
        );
        let named = ActionRequest {
            timeout: Some(12),
            ..to.clone()
        };
        assert_eq!(
            with_ring_timeout(&Action::RouteTo, &named, ring).timeout,
            Some(12)
        );
        assert_eq!(with_ring_timeout(&Action::Drop, &to, ring).timeout, None);
        assert_eq!(with_ring_timeout(&Action::Divert, &to, ring).timeout, None);
        assert_eq!(ring_seconds(Duration::from_millis(200)), 1);
    }
}
