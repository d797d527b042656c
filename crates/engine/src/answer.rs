//! [`AnswerMode`]: who answers a route-point call that arrives `Ringing`, and the
//! engine's own answer.
//!
//! 3CX's route-point calls usually arrive `Connected`, but a PBX may present them
//! `Ringing` until someone sends `answer` (reference §6.5, §11.1). A bot written for
//! connected calls (it plays at once) would then leave the caller ringing until they
//! give up, so by default the engine answers such calls before the bot starts.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use voicebot_dispatch::CallUpdate;
use voicebot_model::{Participant, ParticipantStatus};

use crate::engine::Shared;

/// How long an answered leg may take to show `Connected`.
const CONNECT_LIMIT: Duration = Duration::from_secs(10);

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
    wait_connected(updates, given_up, &shared.root, participant, CONNECT_LIMIT).await
}

/// Waits until the PBX reports `participant` connected, for at most `limit`.
async fn wait_connected(
    updates: &mut mpsc::Receiver<CallUpdate>,
    given_up: &CancellationToken,
    stop: &CancellationToken,
    participant: &mut Participant,
    limit: Duration,
) -> Answered {
    let limit_passed = tokio::time::sleep(limit);
    tokio::pin!(limit_passed);
    while !participant.is_connected() {
        tokio::select! {
            () = &mut limit_passed => {
                return Answered::Failed(format!(
                    "the PBX accepted the answer but the leg did not connect within {} s",
                    limit.as_secs()
                ));
            }
            update = updates.recv() => match update {
                Some(CallUpdate::Status(update)) => *participant = *update,
                Some(CallUpdate::Removed) | None => return Answered::Gone,
                Some(_) => {}
            },
            () = given_up.cancelled() => return Answered::Gone,
            () = stop.cancelled() => return Answered::Gone,
        }
    }
    Answered::Connected
}

#[cfg(test)]
mod tests {
    use voicebot_model::{Dn, ParticipantId};

    use super::*;

    fn ringing() -> Participant {
        Participant {
            dn: Dn::new("800"),
            id: ParticipantId(1),
            status: ParticipantStatus::Ringing,
            ..Participant::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_answered_leg_that_never_connects_fails_after_the_limit() {
        let (_keep, mut updates) = mpsc::channel(4);
        let (given_up, stop) = (CancellationToken::new(), CancellationToken::new());
        let mut participant = ringing();
        let start = tokio::time::Instant::now();
        let answered = wait_connected(
            &mut updates,
            &given_up,
            &stop,
            &mut participant,
            CONNECT_LIMIT,
        )
        .await;
        assert!(
            matches!(&answered, Answered::Failed(reason) if reason.contains("10 s")),
            "{answered:?}"
        );
        assert_eq!(start.elapsed(), CONNECT_LIMIT);
    }

    #[tokio::test(start_paused = true)]
    async fn the_connected_update_or_a_removal_ends_the_wait() {
        let (sender, mut updates) = mpsc::channel(4);
        let (given_up, stop) = (CancellationToken::new(), CancellationToken::new());
        let mut participant = ringing();
        let mut connected = ringing();
        connected.status = ParticipantStatus::Connected;
        sender
            .send(CallUpdate::Status(Box::new(connected)))
            .await
            .unwrap();
        let answered = wait_connected(
            &mut updates,
            &given_up,
            &stop,
            &mut participant,
            CONNECT_LIMIT,
        )
        .await;
        assert!(matches!(answered, Answered::Connected), "{answered:?}");
        assert!(participant.is_connected());

        let mut participant = ringing();
        sender.send(CallUpdate::Removed).await.unwrap();
        let answered = wait_connected(
            &mut updates,
            &given_up,
            &stop,
            &mut participant,
            CONNECT_LIMIT,
        )
        .await;
        assert!(matches!(answered, Answered::Gone), "{answered:?}");
    }
}
