//! The control API: JSON over HTTP on the simulator's own port, under `/sim/`, so a
//! test in any language can place scripted calls, follow them and read the journal.
//! It is not part of the PBX: its requests are not journalled and faults do not
//! touch them. It has no authentication; the simulator listens on loopback unless
//! told otherwise.
//!
//! | Method | Path | Does |
//! |---|---|---|
//! | POST | `/sim/calls` | places a call: `{"from": "+15550100", "to": "800", "name": "Alice", "steps": [..]}` → 201 call |
//! | GET | `/sim/calls` | every scripted call |
//! | GET | `/sim/calls/{id}` | one call: state, end, heard, pressed, script status |
//! | GET | `/sim/calls/{id}/heard` | what it heard: `{"heard_ms", "segments": [{"start_ms", "len_ms"}], "underruns"}` |
//! | GET | `/sim/calls/{id}/heard.wav` | what it heard, 8 kHz mono WAV |
//! | POST | `/sim/calls/{id}/press` | `{"digits": "12#"}` |
//! | POST | `/sim/calls/{id}/hangup` | hangs up |
//! | GET | `/sim/journal?since=N` | journal entries from index N on |

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::state::Shared;
use crate::{CallSpec, Caller, Script, Step, calls};

/// The control API's routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/sim/calls", post(place).get(list))
        .route("/sim/calls/{id}", get(one))
        .route("/sim/calls/{id}/heard", get(heard))
        .route("/sim/calls/{id}/heard.wav", get(heard_wav))
        .route("/sim/calls/{id}/press", post(press))
        .route("/sim/calls/{id}/hangup", post(hang_up))
        .route("/sim/journal", get(journal))
        .with_state(shared)
}

/// `POST /sim/calls` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlaceCall {
    from: String,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    did: Option<String>,
    #[serde(default)]
    steps: Vec<Step>,
    #[serde(default)]
    label: Option<String>,
}

/// A control API error: `{"error": "..."}`.
fn error(status: StatusCode, text: impl Into<String>) -> Response {
    (status, Json(json!({ "error": text.into() }))).into_response()
}

fn parse<T>(body: &[u8]) -> Result<T, Response>
where
    T: serde::de::DeserializeOwned,
{
    serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("the request body is not valid: {e}"),
        )
    })
}

async fn place(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: PlaceCall = match parse(&body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    if request.from.trim().is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "`from` must name the calling number",
        );
    }
    let mut spec = CallSpec::new(request.from.clone());
    spec.to = request.to.map(Into::into);
    spec.caller_name = request.name;
    spec.did = request.did;
    let core = match calls::start_inbound(&shared, spec) {
        Ok(core) => core,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    };
    let caller = Caller::new(shared.clone(), core);
    let label = request.label.unwrap_or_else(|| "api".to_owned());
    let script = Script::from(request.steps);
    let id = crate::scripted::spawn(&shared, caller, script, label, request.from);
    match shared.scripted.get(id) {
        Some(call) => (StatusCode::CREATED, Json(call)).into_response(),
        None => error(StatusCode::INTERNAL_SERVER_ERROR, "the call vanished"),
    }
}

async fn list(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.scripted.list()).into_response()
}

fn call_id(text: &str) -> Result<u64, Response> {
    text.parse()
        .map_err(|_| error(StatusCode::NOT_FOUND, format!("no call {text:?}")))
}

fn caller(shared: &Shared, id: &str) -> Result<(u64, Caller), Response> {
    let id = call_id(id)?;
    shared
        .scripted
        .caller(id)
        .map(|caller| (id, caller))
        .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("no call {id}")))
}

async fn one(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let id = match call_id(&id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    match shared.scripted.get(id) {
        Some(call) => Json(call).into_response(),
        None => error(StatusCode::NOT_FOUND, format!("no call {id}")),
    }
}

async fn heard(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let (_, caller) = match caller(&shared, &id) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let heard = caller.heard();
    let ms = |d: std::time::Duration| d.as_millis() as u64;
    Json(json!({
        "heard_ms": ms(heard.audio_duration()),
        "segments": heard.segments.iter().map(|s| json!({"start_ms": ms(s.start), "len_ms": ms(s.len)})).collect::<Vec<_>>(),
        "underruns": heard.underruns.iter().map(|g| json!({"at_ms": ms(g.at), "len_ms": ms(g.len)})).collect::<Vec<_>>(),
        "bytes_received": heard.bytes_received,
    }))
    .into_response()
}

async fn heard_wav(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let (_, caller) = match caller(&shared, &id) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let samples = caller.heard().samples;
    let mut wav = Vec::with_capacity(44 + samples.len() * 2);
    crate::wav::write_wav_to(&mut wav, &samples);
    let mut response = wav.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
    response
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Press {
    digits: String,
}

async fn press(State(shared): State<Arc<Shared>>, Path(id): Path<String>, body: Bytes) -> Response {
    let (id, caller) = match caller(&shared, &id) {
        Ok(found) => found,
        Err(response) => return response,
    };
    let request: Press = match parse(&body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    match caller.press(&request.digits).await {
        Ok(()) => {
            shared.scripted.pressed(id, &request.digits);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => error(StatusCode::CONFLICT, e.to_string()),
    }
}

async fn hang_up(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let (_, caller) = match caller(&shared, &id) {
        Ok(found) => found,
        Err(response) => return response,
    };
    match caller.hang_up().await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(StatusCode::CONFLICT, e.to_string()),
    }
}

#[derive(Debug, Deserialize)]
struct Since {
    #[serde(default)]
    since: usize,
}

async fn journal(State(shared): State<Arc<Shared>>, Query(since): Query<Since>) -> Response {
    let entries = shared.journal.entries();
    let from = since.since.min(entries.len());
    Json(json!({
        "next": entries.len(),
        "entries": &entries[from..],
    }))
    .into_response()
}
