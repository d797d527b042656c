//! [`AnswerMode`]: who answers a route-point call that arrives `Ringing`, and the
//! engine's own answer.
//!
//! 3CX's route-point calls usually arrive `Connected`, but a PBX may present them
//! `Ringing` until someone sends `answer` (reference §6.5, §11.1). A bot written for
//! connected calls (it plays at once) would then leave the caller ringing until they
//! give up, so by default the engine answers such calls before the bot starts.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use voicebot_dispatch::CallUpdate;
use voicebot_model::{Participant, ParticipantStatus};

use crate::engine::Shared;

/// How long an answered leg may take to show `Connected`.
const CONNECT_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Who answers a route-point call that arrives `Ringing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AnswerMode {
    /// The engine answers before the bot starts, so the bot always gets a connected
    /// call (the default).
    #[default]
    Auto,
    /// The bot answers (`call.answer()`), or diverts the ringing call instead.
    Bot,
}

/// How the engine's answer of a ringing call went.
#[derive(Debug)]
pub(crate) enum Answered {
    /// The leg is connected (or was already).
    Connected,
    /// The PBX refused the answer, or the leg did not connect; in words.
    Failed(String),
    /// The caller left (or the engine stopped) first.
    Gone,
}

/// Answers `participant` and waits until the PBX reports it connected.
pub(crate) async fn answer(
    shared: &Shared,
    updates: &mut mpsc::Receiver<CallUpdate>,
    given_up: &CancellationToken,
    participant: &mut Participant,
) -> Answered {
    if participant.status != ParticipantStatus::Ringing {
        return Answered::Connected;
    }
    let sent = shared.client.answer(&participant.dn, participant.id);
    match sent.await {
        Ok(result) if result.is_success() => {
            // The answer's body may already show the leg connected; the event follows.
            if let Some(answered) = result.result.filter(|p| p.id == participant.id) {
                participant.status = answered.status;
            }
        }
        Ok(result) => {
            let reason = result.reasontext.unwrap_or(result.reason);
            return Answered::Failed(format!("the PBX refused the answer: {reason}"));
        }
        // The leg went away while we answered.
        Err(error) if error.is_not_found() => return Answered::Gone,
        Err(error) => return Answered::Failed(error.to_string()),
    }
    let limit = tokio::time::sleep(CONNECT_LIMIT);
    tokio::pin!(limit);
    while !participant.is_connected() {
        tokio::select! {
            () = &mut limit => {
                return Answered::Failed(format!(
                    "the PBX accepted the answer but the leg did not connect within {} s",
                    CONNECT_LIMIT.as_secs()
                ));
            }
            update = updates.recv() => match update {
                Some(CallUpdate::Status(update)) => *participant = update,
                Some(CallUpdate::Removed) | None => return Answered::Gone,
                Some(_) => {}
            },
            () = given_up.cancelled() => return Answered::Gone,
            () = shared.root.cancelled() => return Answered::Gone,
        }
    }
    Answered::Connected
}
