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
//! still be dropped politely), `divert` for a ringing one (the only action allowed
//! then), and a plain `drop` when no fallback is configured or it failed.

use voicebot_bot::CallError;
use voicebot_model::{Action, ActionRequest, ParticipantStatus};

use super::CallCtx;
use super::play::drain;
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
    tracing::debug!(%action, destination = ?request.destination, "action");
    ctx.ensure_leg().await?;
    let result = ctx
        .shared
        .client
        .action(&ctx.dn, ctx.id, action, request)
        .await;
    match accepted(result) {
        Ok(_) => {
            if hands_off {
                ctx.mark_ended_by_us();
            }
            Ok(())
        }
        // The caller left while we asked: report the hang-up, not the PBX's 404.
        Err(CallError::Rejected { status: 404, .. }) if hands_off => Err(CallError::Hangup),
        Err(error) => Err(error),
    }
}

/// Why the engine ends a call itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EngineEnd {
    /// The bot returned while the call was live: drop it.
    BotReturned,
    /// The bot failed: fallback, else drop.
    BotFailed,
    /// The engine shuts down: fallback, else drop.
    Shutdown,
}

/// Ends the call for the engine; returns the outcome to count.
pub(crate) async fn end_call(ctx: &CallCtx, why: EngineEnd) -> Option<CallOutcome> {
    drain(ctx).await;
    let client = &ctx.shared.client;
    let fallback = match why {
        EngineEnd::BotReturned => None,
        EngineEnd::BotFailed | EngineEnd::Shutdown => ctx.shared.settings.fallback.as_deref(),
    };
    if let Some(destination) = fallback {
        ctx.ensure_leg().await.ok()?;
        let status = ctx.status.borrow().clone();
        let result = match status {
            ParticipantStatus::Connected => {
                Some(client.transfer_to(&ctx.dn, ctx.id, destination).await)
            }
            ParticipantStatus::Ringing => Some(client.divert(&ctx.dn, ctx.id, destination).await),
            _ => None,
        };
        match result.map(accepted) {
            Some(Ok(_)) => {
                tracing::info!(destination, "call handed to the fallback");
                ctx.mark_ended_by_us();
                return Some(match why {
                    EngineEnd::Shutdown => CallOutcome::Shutdown,
                    _ => CallOutcome::Fallback,
                });
            }
            Some(Err(error)) => {
                tracing::warn!(%error, destination, "fallback failed; dropping the call")
            }
            None => {}
        }
    }
    // Gone (or unknown): the call ends as its events say, never by a drop of another's.
    ctx.ensure_leg().await.ok()?;
    if let Err(error) = accepted(client.drop_participant(&ctx.dn, ctx.id).await) {
        tracing::debug!(%error, "drop at the end of the call");
    }
    ctx.mark_ended_by_us();
    Some(match why {
        EngineEnd::BotReturned => CallOutcome::Completed,
        EngineEnd::BotFailed => CallOutcome::Dropped,
        EngineEnd::Shutdown => CallOutcome::Shutdown,
    })
}
