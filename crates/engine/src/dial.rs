//! [`EngineDialer`]: the engine's implementation of `voicebot_bot::Dialer`.
//!
//! `dial` places the call from the route point's first device (the DN form when it
//! has none), announces the new leg to the dispatcher, and waits. When the far end
//! answers, the leg's call task runs the request's bot, and `dial` resolves when that
//! call ends. When the leg goes away unanswered the PBX says nothing about why (a
//! removal carries no reason), so the outcome is inferred from timing: a leg removed
//! within [`BUSY_WITHIN`] was refused (busy); one that rang longer was not answered.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;
use voicebot_bot::{CallError, DialOutcome, DialRequest, Dialer, async_trait};
use voicebot_callcontrol::CallControlError;
use voicebot_model::{CallControlResult, MakeCallRequest, Participant};

use crate::call::DialReport;
use crate::engine::{PendingDial, Shared, Slot};

/// A leg removed sooner than this after `makecall` counts as busy.
pub(crate) const BUSY_WITHIN: Duration = Duration::from_secs(2);

/// Places outbound calls for bots (see the module docs).
#[derive(Debug)]
pub(crate) struct EngineDialer {
    shared: Arc<Shared>,
}

impl EngineDialer {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    async fn make_call(
        &self,
        request: &DialRequest,
        ring: Duration,
    ) -> Result<CallControlResult, CallControlError> {
        let client = &self.shared.client;
        let body = MakeCallRequest {
            destination: request.destination.clone(),
            timeout: Some(u32::try_from(ring.as_secs().max(1)).unwrap_or(u32::MAX)),
            attacheddata: (!request.attached_data.is_empty())
                .then(|| request.attached_data.clone()),
        };
        // The first device, as 3CX's own dialers do; the DN form when none is registered.
        let devices = client.devices(&request.from).await?;
        match devices.first() {
            Some(device) => {
                client
                    .make_call_from_device(&request.from, &device.device_id, &body)
                    .await
            }
            None => client.make_call(&request.from, &body).await,
        }
    }
}

#[async_trait]
impl Dialer for EngineDialer {
    async fn dial(&self, request: DialRequest) -> Result<DialOutcome, CallError> {
        let shared = &self.shared;
        if shared.is_shutting_down() || shared.root.is_cancelled() {
            return Err(CallError::Shutdown);
        }
        let Some(permit) = shared.limits.try_admit() else {
            return Ok(DialOutcome::Failed {
                reason: format!(
                    "the engine is at its limit of {} calls",
                    shared.settings.max_calls
                ),
            });
        };
        let ring = request.ring_timeout.unwrap_or(shared.settings.ring_timeout);
        let placed = Instant::now();
        let participant = match self.make_call(&request, ring).await {
            Ok(result) => match result.result {
                Some(participant) if result.is_success() => participant,
                _ => return Ok(refused(&result.reason, result.reasontext.as_deref())),
            },
            Err(error) if error.status().is_some() => {
                let text = error
                    .reasontext()
                    .map(str::to_owned)
                    .unwrap_or_else(|| error.to_string());
                return Ok(refused(&text, Some(&text)));
            }
            Err(error) => return Err(CallError::connection(error)),
        };
        tracing::info!(
            call_id = participant.callid,
            destination = %request.destination,
            "outbound call placed"
        );
        let (report, outcome) = oneshot::channel();
        let pending = PendingDial {
            bot: Arc::clone(&request.bot),
            permit,
            report,
        };
        register(shared, &participant, pending);
        shared
            .dispatch
            .expect_outbound(participant.dn.clone(), participant.id)
            .await
            .map_err(|_| CallError::Shutdown)?;
        match outcome.await {
            Ok(DialReport::Answered {
                call_id,
                talk_time,
                bot_error,
            }) => Ok(DialOutcome::Answered {
                call_id,
                talk_time,
                bot_error,
            }),
            Ok(DialReport::NotAnswered) => Ok(unanswered(placed.elapsed(), ring)),
            Err(_) => Err(CallError::Shutdown),
        }
    }
}

/// Hands the pending dial to the leg if the dispatcher already reported it.
fn register(shared: &Arc<Shared>, participant: &Participant, pending: PendingDial) {
    let key = (participant.dn.clone(), participant.id);
    let mut outbound = shared
        .outbound
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    match outbound.remove(&key) {
        Some(Slot::Arrived(new_call)) => {
            drop(outbound);
            shared.start_outbound(*new_call, pending);
        }
        _ => {
            outbound.insert(key, Slot::Waiting(pending));
        }
    }
}

/// A `makecall` the PBX refused, by its reason.
fn refused(reason: &str, text: Option<&str>) -> DialOutcome {
    let text = text.unwrap_or(reason).to_owned();
    let lower = reason.to_ascii_lowercase();
    match () {
        () if lower.contains("busy") => DialOutcome::Busy { reason: text },
        () if lower.contains("noanswer") || lower.contains("no answer") => {
            DialOutcome::NoAnswer { reason: text }
        }
        () => DialOutcome::Failed { reason: text },
    }
}

/// A leg removed before it was answered; see the module docs.
fn unanswered(after: Duration, ring: Duration) -> DialOutcome {
    match after < BUSY_WITHIN && after + Duration::from_millis(500) < ring {
        true => DialOutcome::Busy {
            reason: format!("the destination refused the call after {after:.1?} (busy)"),
        },
        false => DialOutcome::NoAnswer {
            reason: format!("not answered; the attempt ended after {after:.1?}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_and_removals_map_to_outcomes() {
        assert_eq!(
            refused("PhoneBusy", Some("The destination is busy.")).kind(),
            "busy"
        );
        assert_eq!(refused("NoAnswer", None).kind(), "no_answer");
        assert_eq!(
            refused("Unreachable", Some("cannot be reached")).kind(),
            "failed"
        );
        let ring = Duration::from_secs(30);
        assert_eq!(unanswered(Duration::from_millis(150), ring).kind(), "busy");
        assert_eq!(unanswered(Duration::from_secs(5), ring).kind(), "no_answer");
        assert_eq!(
            unanswered(Duration::from_millis(900), Duration::from_secs(1)).kind(),
            "no_answer"
        );
    }
}
