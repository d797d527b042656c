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
use crate::calls::{self, arrive_at, connect, destination_behaviour};
use crate::journal::JournalKind;
use crate::state::Shared;
use crate::{CallEnd, FarEnd};

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
            let status = failure_status(shared);
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
            match is_core {
                true => pbx.end_call(shared, callid, CallEnd::Dropped),
                false => {
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
            if pbx.visible(&Dn::new(destination.as_str())).is_some() {
                arrive_at(shared, &mut pbx, callid, &destination, dn);
            }
            pbx.hand_off(shared, callid, dn, id, CallEnd::DivertedTo(destination));
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
/// answers with a failure (the participant stays).
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
    let behaviour = {
        let pbx = shared.pbx();
        destination_behaviour(shared, &pbx, &destination)
    };
    let (wait, outcome) = match behaviour {
        FarEnd::Answer { after, .. } if after <= timeout => (after, Ok(())),
        FarEnd::Answer { .. } => (
            timeout,
            Err(("NoAnswer", "The destination did not answer.")),
        ),
        FarEnd::NoAnswer { after } => (
            after.min(timeout),
            Err(("NoAnswer", "The destination did not answer.")),
        ),
        FarEnd::Busy => (
            Duration::from_millis(100),
            Err(("PhoneBusy", "The destination is busy.")),
        ),
        FarEnd::Unreachable => (
            Duration::ZERO,
            Err(("Unreachable", "The destination cannot be reached.")),
        ),
    };
    if !wait.is_zero() {
        tokio::select! {
            _ = shared.shutdown.cancelled() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
    let failed = |reason: &str, text: &str| {
        let body = CallControlResult::failure(FinalStatus::Failed, reason, text);
        (failure_status(shared), Json(body)).into_response()
    };
    if let Err((reason, text)) = outcome {
        return failed(reason, text);
    }
    let mut pbx = shared.pbx();
    if pbx.leg(dn, id).is_none() {
        return failed("NotFound", "The participant is gone.");
    }
    if pbx.visible(&Dn::new(destination.as_str())).is_some() {
        arrive_at(shared, &mut pbx, callid, &destination, dn);
    }
    let end = match action {
        Action::TransferTo => CallEnd::TransferredTo(destination),
        _ => CallEnd::RoutedTo(destination),
    };
    pbx.hand_off(shared, callid, dn, id, end);
    Json(CallControlResult::success(participant)).into_response()
}
