//! The HTTP surface: route table, error bodies, and the middleware that journals
//! every request and applies injected request faults.

mod actions;
mod snapshot;
pub(crate) mod stream;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use voicebot_model::{CallControlResult, Dn, FinalStatus};

use crate::auth::{self, Api, Authorized};
use crate::journal::JournalKind;
use crate::state::{DnState, Pbx, Shared};

/// Builds the router of a simulated PBX.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let pbx = call_control_routes()
        .merge(crate::xapi::router(shared.clone()))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), observe))
        .with_state(shared.clone());
    // The control API is the simulator's own, not the PBX's: outside the journal
    // and the injected faults.
    crate::control::router(shared).merge(pbx)
}

/// The Call Control routes alone, for requests that arrive over the WebSocket.
pub(crate) fn call_control_router(shared: Arc<Shared>) -> Router {
    call_control_routes()
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), observe))
        .with_state(shared)
}

fn call_control_routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/connect/token", post(auth::token))
        .route("/callcontrol", get(snapshot::list))
        .route("/callcontrol/ws", get(ws::upgrade))
        .route("/callcontrol/{dn}", get(snapshot::dn))
        .route("/callcontrol/{dn}/devices", get(snapshot::devices))
        .route("/callcontrol/{dn}/devices/{device}", get(snapshot::device))
        .route(
            "/callcontrol/{dn}/devices/{device}/makecall",
            post(actions::make_call_from_device),
        )
        .route("/callcontrol/{dn}/makecall", post(actions::make_call))
        .route(
            "/callcontrol/{dn}/participants",
            get(snapshot::participants),
        )
        .route(
            "/callcontrol/{dn}/participants/{id}",
            get(snapshot::participant),
        )
        .route(
            "/callcontrol/{dn}/participants/{id}/stream",
            get(stream::get_stream).post(stream::post_stream),
        )
        .route(
            "/callcontrol/{dn}/participants/{id}/{action}",
            post(actions::action),
        )
}

async fn not_found() -> Response {
    cc_error(StatusCode::NOT_FOUND, "NotFound", "No such endpoint.")
}

/// Journals the request, and applies delay and failure faults before it is handled.
async fn observe(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let delay = shared.faults.delay();
    if !delay.is_zero() {
        tokio::select! {
            _ = shared.shutdown.cancelled() => {}
            _ = tokio::time::sleep(delay) => {}
        }
    }
    let mut response = match shared.faults.take_failure(&method, &path) {
        Some(status) => cc_error(status, "Fault", "Injected failure."),
        None => next.run(request).await,
    };
    if let Ok(version) = HeaderValue::from_str(&shared.config.version) {
        response.headers_mut().insert("x-3cx-version", version);
    }
    shared.record(JournalKind::Http {
        method: method.to_string(),
        path,
        status: response.status().as_u16(),
    });
    response
}

/// An error answered with a `CallControlResult`-shaped body (`result: null`).
pub(crate) fn cc_error(status: StatusCode, reason: &str, text: &str) -> Response {
    let body = CallControlResult::failure(FinalStatus::Failed, reason, text);
    (status, axum::Json(body)).into_response()
}

/// Bearer check for Call Control routes.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<Authorized, Response> {
    auth::check_bearer(shared, headers, Api::CallControl)
}

/// The DN if the client may use it: 403 otherwise (whether or not it exists).
fn visible_dn<'a>(pbx: &'a Pbx, dn: &Dn) -> Result<&'a DnState, Response> {
    pbx.visible(dn).ok_or_else(|| {
        cc_error(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!("DN {dn} is not controlled by this API client."),
        )
    })
}

/// A participant id path segment: 404 when it is not an integer.
fn participant_id(text: &str) -> Result<i64, Response> {
    text.parse().map_err(|_| {
        cc_error(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("Participant {text} not found."),
        )
    })
}

/// Reads a JSON body as 3CX does: a JSON content type is required (415 without,
/// even for an empty body), an empty body is refused (400), `{}` is fine.
fn json_body<T>(headers: &HeaderMap, body: &[u8]) -> Result<T, Response>
where
    T: DeserializeOwned,
{
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.to_ascii_lowercase())
        .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
    if !is_json {
        return Err(cc_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "The request body must be JSON (Content-Type: application/json).",
        ));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(cc_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "A non-empty request body is required.",
        ));
    }
    serde_json::from_slice(body).map_err(|error| {
        cc_error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("The request body is not valid: {error}"),
        )
    })
}
