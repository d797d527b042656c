//! [`EngineDialer`]: the engine's implementation of `voicebot_bot::Dialer`.
//!
//! `dial` places the call from the route point's first device (the DN form when it
//! has none), announces the new leg to the dispatcher, and waits. When the far end
//! answers, the leg's call task runs the request's bot, and `dial` resolves when that
//! call ends.
//!
//! Busy or no answer, in order of trust:
//! 1. a refused `makecall` (`finalstatus` not `Success`, or an HTTP error whose body is
//!    a CallControlResult): its `reason` code (`PhoneBusy`, `NoAnswer`, as in the
//!    diversion reasons), else its `reasontext`;
//! 2. only when the PBX accepted the call and later just removed the leg (a removal
//!    carries no reason): timing. A leg removed within the engine's `busy_within`
//!    setting (default [`BUSY_WITHIN`]) is taken as busy, a later one as not answered.
//!    This is a guess: a far end that rejects after ringing a while reads as no
//!    answer, and one that fails fast for another reason reads as busy.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;
use voicebot_bot::{CallError, DialOutcome, DialRequest, Dialer, async_trait};
use voicebot_callcontrol::CallControlError;
use voicebot_model::{CallControlResult, MakeCallRequest, Participant};

mod late;

pub use late::LateDialer;

use crate::call::DialReport;
use crate::engine::{PendingDial, Shared, Slot};

/// The default of `EngineBuilder::busy_within`: a leg removed sooner than this after
/// `makecall` counts as busy.
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
                // Error bodies are CallControlResult-shaped: prefer their reason code.
                let reason = error
                    .body()
                    .and_then(|body| serde_json::from_str::<serde_json::Value>(body).ok())
                    .and_then(|body| body.get("reason")?.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let text = error
                    .reasontext()
                    .map(str::to_owned)
                    .unwrap_or_else(|| error.to_string());
                return Ok(refused(&reason, Some(&text)));
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
            Ok(DialReport::NotAnswered) => Ok(unanswered(
                placed.elapsed(),
                ring,
                shared.settings.busy_within,
            )),
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

/// A `makecall` the PBX refused: by its reason code, else by the words of its text.
fn refused(reason: &str, text: Option<&str>) -> DialOutcome {
    let code = reason.to_ascii_lowercase();
    let words = text.unwrap_or_default().to_ascii_lowercase();
    let text = text
        .filter(|text| !text.is_empty())
        .unwrap_or(reason)
        .to_owned();
    let is_busy = |s: &str| s.contains("busy");
    let is_no_answer = |s: &str| {
        ["noanswer", "no answer", "not answered", "no_answer"]
            .iter()
            .any(|phrase| s.contains(phrase))
    };
    match () {
        () if is_busy(&code) => DialOutcome::Busy { reason: text },
        () if is_no_answer(&code) => DialOutcome::NoAnswer { reason: text },
        () if is_busy(&words) => DialOutcome::Busy { reason: text },
        () if is_no_answer(&words) => DialOutcome::NoAnswer { reason: text },
        () => DialOutcome::Failed { reason: text },
    }
}

/// A leg the PBX removed before it was answered, without a reason: the last-resort
/// timing guess of the module docs (`busy_within` zero turns it off).
fn unanswered(after: Duration, ring: Duration, busy_within: Duration) -> DialOutcome {
    match after < busy_within && after + Duration::from_millis(500) < ring {
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
        // The code wins over the words; the words help when the code says nothing.
        assert_eq!(
            refused("NoAnswer", Some("Not answered: line busy")).kind(),
            "no_answer"
        );
        assert_eq!(refused("None", Some("User busy")).kind(), "busy");
        assert_eq!(
            refused("", Some("The call was not answered")).kind(),
            "no_answer"
        );
        let (ring, within) = (Duration::from_secs(30), BUSY_WITHIN);
        let guess = |after, ring, within| unanswered(after, ring, within).kind();
        assert_eq!(guess(Duration::from_millis(150), ring, within), "busy");
        assert_eq!(guess(Duration::from_secs(5), ring, within), "no_answer");
        assert_eq!(
            guess(Duration::from_millis(900), Duration::from_secs(1), within),
            "no_answer"
        );
        assert_eq!(
            guess(Duration::from_millis(150), ring, Duration::ZERO),
            "no_answer"
        );
    }
}
