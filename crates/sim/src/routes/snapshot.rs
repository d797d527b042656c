//! Read endpoints: `GET /callcontrol`, DNs, devices, participants.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use voicebot_model::{DeviceId, Dn, DnInfo};

use super::{authorize, cc_error, participant_id, visible_dn};
use crate::state::Shared;

/// `GET /callcontrol`
pub(super) async fn list(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(response) = authorize(&shared, &headers) {
        return response;
    }
    Json(shared.pbx().dn_infos()).into_response()
}

/// Authorises the request and answers `view` of the DN's record, or the refusal
/// (401 without a valid token, 403 for a DN the client may not see).
fn dn_view<T: Serialize>(
    shared: &Shared,
    headers: &HeaderMap,
    dn: String,
    view: impl FnOnce(DnInfo) -> T,
) -> Response {
    if let Err(response) = authorize(shared, headers) {
        return response;
    }
    let dn = Dn::new(dn);
    let pbx = shared.pbx();
    match visible_dn(&pbx, &dn) {
        Ok(state) => Json(view(pbx.dn_info(&dn, state))).into_response(),
        Err(response) => response,
    }
}

/// `GET /callcontrol/{dn}`
pub(super) async fn dn(
    State(shared): State<Arc<Shared>>,
    Path(dn): Path<String>,
    headers: HeaderMap,
) -> Response {
    dn_view(&shared, &headers, dn, |info| info)
}

/// `GET /callcontrol/{dn}/devices`
pub(super) async fn devices(
    State(shared): State<Arc<Shared>>,
    Path(dn): Path<String>,
    headers: HeaderMap,
) -> Response {
    dn_view(&shared, &headers, dn, |info| info.devices)
}

/// `GET /callcontrol/{dn}/devices/{deviceid}` (the id arrives percent-decoded).
pub(super) async fn device(
    State(shared): State<Arc<Shared>>,
    Path((dn, device)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorize(&shared, &headers) {
        return response;
    }
    let dn = Dn::new(dn);
    let device = DeviceId::new(device);
    let pbx = shared.pbx();
    let state = match visible_dn(&pbx, &dn) {
        Ok(state) => state,
        Err(response) => return response,
    };
    match pbx
        .dn_info(&dn, state)
        .devices
        .into_iter()
        .find(|d| d.device_id == device)
    {
        Some(found) => Json(found).into_response(),
        None => cc_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("Device {device} not found on DN {dn}."),
        ),
    }
}

/// `GET /callcontrol/{dn}/participants`
pub(super) async fn participants(
    State(shared): State<Arc<Shared>>,
    Path(dn): Path<String>,
    headers: HeaderMap,
) -> Response {
    dn_view(&shared, &headers, dn, |info| info.participants)
}

/// `GET /callcontrol/{dn}/participants/{id}`
pub(super) async fn participant(
    State(shared): State<Arc<Shared>>,
    Path((dn, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = authorize(&shared, &headers) {
        return response;
    }
    let dn = Dn::new(dn);
    let id = match participant_id(&id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let pbx = shared.pbx();
    let state = match visible_dn(&pbx, &dn) {
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
        Some(leg) => Json(leg.participant.clone()).into_response(),
        None => cc_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("Participant {id} not found on DN {dn}."),
        ),
    }
}
