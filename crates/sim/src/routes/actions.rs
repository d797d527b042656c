//! `makecall` (both forms) and participant actions.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use voicebot_model::{
    Action, ActionRequest, CallControlResult, DeviceId, Dn, DnType, FinalStatus, MakeCallRequest,
    Participant, ParticipantId, ParticipantStatus,
};

use super::{authorize, cc_error, json_body, participant_id, visible_dn};
use crate::calls::{self, connect};
use crate::handoff::{destination_behaviour, hand_on, remove_handed_on};
use crate::journal::JournalKind;
use crate::state::Shared;
use crate::{AfterRoute, CallEnd, FarEnd};

/// `POST /callcontrol/{dn}/makecall`
pub(super) async fn make_call(
    State(shared): State<Arc<Shared>>,
    Path(dn): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    place_call(&shared, Dn::new(dn), None, &headers, &body)
}

/// `POST /callcontrol/{dn}/devices/{deviceid}/makecall`
pub(super) async fn make_call_from_device(
    State(shared): State<Arc<Shared>>,
    Path((dn, device)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    place_call(
        &shared,
        Dn::new(dn),
        Some(DeviceId::new(device)),
        &headers,
        &body,
    )
}

fn place_call(
    shared: &Arc<Shared>,
    dn: Dn,
    device: Option<DeviceId>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let journal = |destination: &str, status: StatusCode| {
        shared.record(JournalKind::MakeCall {
            dn: dn.clone(),
            device: device.as_ref().map(|d| d.to_string()),
            destination: destination.to_owned(),
            status: status.as_u16(),
        });
    };
    if let Err(response) = authorize(shared, headers) {
        return response;
    }
    {
        let pbx = shared.pbx();
        let state = match visible_dn(&pbx, &dn) {
            Ok(state) => state,
            Err(response) => return response,
        };
        if let Some(device) = &device
            && !state.devices.contains(device)
        {
            journal("", StatusCode::NOT_FOUND);
            return cc_error(
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!("Device {device} not found on DN {dn}."),
            );
        }
    }
    let request: MakeCallRequest = match json_body(headers, body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    if request.destination.trim().is_empty() {
        journal("", StatusCode::UNPROCESSABLE_ENTITY);
        return cc_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "InvalidDestination",
            "A destination is required.",
        );
    }
    let timeout = request.timeout.map(|secs| Duration::from_secs(secs.into()));
    match calls::make_call(shared, &dn, device.clone(), &request.destination, timeout) {
        Ok(participant) => {
            journal(&request.destination, StatusCode::OK);
            Json(CallControlResult::success(participant)).into_response()
        }
        Err(refused) => {
            let status = StatusCode::from_u16(shared.config.makecall_failure_status)
                .unwrap_or(StatusCode::OK);
            journal(&request.destination, status);
            let body =
                CallControlResult::failure(FinalStatus::Failed, refused.reason, refused.text);
            (status, Json(body)).into_response()
        }
    }
}

fn failure_status(shared: &Shared) -> StatusCode {
    StatusCode::from_u16(shared.config.route_failure_status).unwrap_or(StatusCode::OK)
}

/// `POST /callcontrol/{dn}/participants/{id}/{action}`
pub(super) async fn action(
    State(shared): State<Arc<Shared>>,
    Path((dn, id, action)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let dn = Dn::new(dn);
    let action = Action::from(action.as_str());
    let mut destination = None;
    // Read before acting: a drop or hand-off removes the participant.
    let callid = id
        .parse()
        .ok()
        .and_then(|id| shared.pbx().leg(&dn, id).map(|leg| leg.callid));
    let response = run_action(
        &shared,
        &dn,
        &id,
        &action,
        &headers,
        &body,
        &mut destination,
    )
    .await;
    if let Ok(id) = id.parse() {
        shared.record(JournalKind::Action {
            dn,
            id: ParticipantId(id),
            callid,
            action: action.to_string(),
            destination,
            status: response.status().as_u16(),
        });
    }
    response
}

fn unprocessable(text: &str) -> Response {
    cc_error(StatusCode::UNPROCESSABLE_ENTITY, "InvalidState", text)
}

async fn run_action(
    shared: &Arc<Shared>,
    dn: &Dn,
    id: &str,
    action: &Action,
    headers: &HeaderMap,
    body: &[u8],
    destination_out: &mut Option<String>,
) -> Response {
    if let Err(response) = authorize(shared, headers) {
        return response;
    }
    let id = match participant_id(id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let (leg, dn_type, direct_control) = {
        let pbx = shared.pbx();
        let state = match visible_dn(&pbx, dn) {
            Ok(state) => state,
            Err(response) => return response,
        };
        if state.foreign.contains_key(&id) {
            return cc_error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "This leg is not controlled by this DN.",
            );
        }
        match state.participants.get(&id) {
            Some(leg) => (leg.clone(), state.dn_type.clone(), state.direct_control),
            None => {
                return cc_error(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("Participant {id} not found on DN {dn}."),
                );
            }
        }
    };
    if let Action::Other(name) = action {
        return cc_error(
            StatusCode::NOT_FOUND,
            "UnknownAction",
            &format!("Unknown action {name}."),
        );
    }
    let request: ActionRequest = match json_body(headers, body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    *destination_out = request.destination.clone();
    let status = leg.participant.status.clone();
    let callid = leg.callid;
    let success =
        |participant: Participant| Json(CallControlResult::success(participant)).into_response();
    match action {
        Action::Drop => {
            let mut pbx = shared.pbx();
            let is_core = pbx
                .calls
                .get(&callid)
                .is_some_and(|call| call.core.dn == *dn && call.core.participant_id.0 == id);
            let bridged = crate::internal::bridged_call(&pbx, dn, id).is_some();
            match (leg.handed_on, is_core || bridged) {
                // Handed on by a routeto: the call goes on at its destination.
                (true, _) => remove_handed_on(shared, &mut pbx, dn, id),
                // The caller's side of a call to the route point hung up.
                (false, true) if bridged => pbx.end_call(shared, callid, CallEnd::HungUp),
                (false, true) => pbx.end_call(shared, callid, CallEnd::Dropped),
                (false, false) => {
                    pbx.remove_leg(shared, dn, id);
                    let empty = pbx
                        .calls
                        .get(&callid)
                        .is_some_and(|call| call.legs.is_empty());
                    if empty {
                        pbx.end_call(shared, callid, CallEnd::Dropped);
                    }
                }
            }
            success(leg.participant)
        }
        Action::Answer => {
            if status != ParticipantStatus::Ringing {
                return unprocessable(&format!("Cannot answer a participant that is {status}."));
            }
            if dn_type != DnType::RoutePoint && !direct_control {
                return unprocessable("The device does not support direct control.");
            }
            let mut pbx = shared.pbx();
            connect(shared, &mut pbx, callid, dn, id);
            let participant = pbx
                .leg(dn, id)
                .map_or(leg.participant, |l| l.participant.clone());
            success(participant)
        }
        Action::Divert => {
            if status != ParticipantStatus::Ringing {
                return unprocessable(&format!("Cannot divert a participant that is {status}."));
            }
            let Some(destination) = request.destination.filter(|d| !d.is_empty()) else {
                return unprocessable("A destination is required.");
            };
            let mut pbx = shared.pbx();
            let end = CallEnd::DivertedTo(destination.clone());
            hand_on(shared, &mut pbx, callid, dn, id, end, &destination, None);
            success(leg.participant)
        }
        Action::RouteTo | Action::TransferTo => {
            let allowed = match action {
                Action::TransferTo => status == ParticipantStatus::Connected,
                _ => matches!(
                    status,
                    ParticipantStatus::Ringing | ParticipantStatus::Connected
                ),
            };
            if !allowed {
                return unprocessable(&format!("Cannot {action} a participant that is {status}."));
            }
            let Some(destination) = request.destination.filter(|d| !d.is_empty()) else {
                return unprocessable("A destination is required.");
            };
            let timeout = request
                .timeout
                .filter(|secs| *secs > 0)
                .map_or(shared.config.route_timeout, |secs| {
                    Duration::from_secs(secs.into())
                });
            hand_over(
                shared,
                dn,
                id,
                callid,
                action,
                destination,
                timeout,
                leg.participant,
            )
            .await
        }
        Action::AttachParticipantData | Action::AttachPartyData => success(leg.participant),
        Action::Other(_) => unprocessable("Unknown action."),
    }
}

/// `routeto`/`transferto`: waits for the destination, then hands the call over or
/// answers with a failure (the participant stays). The wait ends early when the
/// participant goes (the caller hung up): a pending request ends with the call.
#[allow(clippy::too_many_arguments)]
async fn hand_over(
    shared: &Arc<Shared>,
    dn: &Dn,
    id: i64,
    callid: i64,
    action: &Action,
    destination: String,
    timeout: Duration,
    participant: Participant,
) -> Response {
    let (behaviour, gone) = {
        let pbx = shared.pbx();
        let gone = pbx
            .leg(dn, id)
            .map(|leg| leg.gone.clone())
            .unwrap_or_default();
        (destination_behaviour(shared, &pbx, &destination), gone)
    };
    let no_answer = ("NoAnswer", "The destination did not answer.");
    let (wait, outcome) = match behaviour {
        FarEnd::Answer { after, .. } if after <= timeout => (after, Ok(())),
        FarEnd::Answer { .. } => (timeout, Err(no_answer)),
        FarEnd::NoAnswer { after } => (after.min(timeout), Err(no_answer)),
        FarEnd::Reject { after } if after <= timeout => (
            after,
            Err(("Rejected", "The destination declined the call.")),
        ),
        FarEnd::Reject { .. } => (timeout, Err(no_answer)),
        FarEnd::Busy => (
            Duration::from_millis(100),
            Err(("PhoneBusy", "The destination is busy.")),
        ),
        FarEnd::Unreachable => (
            Duration::ZERO,
            Err(("Unreachable", "The destination cannot be reached.")),
        ),
    };
    let participant_gone = || {
        cc_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("Participant {id} left the call before {destination} answered."),
        )
    };
    if !wait.is_zero() {
        tokio::select! {
            _ = shared.shutdown.cancelled() => {}
            // The caller hung up (or the call ended otherwise) while it rang: the
            // request ends now, as the participant it names is gone.
            _ = gone.cancelled() => return participant_gone(),
            _ = tokio::time::sleep(wait) => {}
        }
    }
    if let Err((reason, text)) = outcome {
        let body = CallControlResult::failure(FinalStatus::Failed, reason, text);
        return (failure_status(shared), Json(body)).into_response();
    }
    let mut pbx = shared.pbx();
    if pbx.leg(dn, id).is_none() {
        return participant_gone();
    }
    let end = match action {
        Action::TransferTo => CallEnd::TransferredTo(destination.clone()),
        _ => CallEnd::RoutedTo(destination.clone()),
    };
    let linger = match shared.config.after_route {
        AfterRoute::Removed => None,
        AfterRoute::Lingers(linger) => Some(linger),
    };
    hand_on(shared, &mut pbx, callid, dn, id, end, &destination, linger);
    Json(CallControlResult::success(participant)).into_response()
}
