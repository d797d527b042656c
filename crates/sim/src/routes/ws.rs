//! `GET /callcontrol/ws`: Bearer-authenticated event socket. Sends events for the
//! client's DNs, answers pings, and answers PascalCase requests with event type 4.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::extract::ws::{
    Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use voicebot_model::{
    ActionRequest, EventType, MakeCallRequest, WsEnvelope, WsEvent, WsRequest, WsResponse,
};

use super::{authorize, cc_error};
use crate::auth::bearer;
use crate::journal::JournalKind;
use crate::state::Shared;

/// Events queued per socket before the socket is dropped as dead.
const EVENT_QUEUE: usize = 1024;

/// The upgrade: 503 while refusals are injected, 401 without a valid bearer.
pub(super) async fn upgrade(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if shared.faults.take_ws_refusal() {
        shared.record(JournalKind::WsRefused { status: 503 });
        return cc_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Fault",
            "Injected refusal.",
        );
    }
    let authorized = match authorize(&shared, &headers) {
        Ok(authorized) => authorized,
        Err(response) => {
            shared.record(JournalKind::WsRefused {
                status: response.status().as_u16(),
            });
            return response;
        }
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return rejection.into_response(),
    };
    let token = bearer(&headers).unwrap_or_default().to_owned();
    let revoked = authorized.revoked;
    // Subscribed before the 101 goes out: a client that reads the snapshot right after
    // the handshake must see every event after it. (Subscribing once the upgraded
    // socket's task runs lost the events of that window on a busy machine, and with
    // them whole calls.) Events wait in the queue until the socket task sends them;
    // a failed upgrade drops the queue and the next event unsubscribes it.
    let (tx, rx) = mpsc::channel::<WsEnvelope>(EVENT_QUEUE);
    let connection = {
        let mut pbx = shared.pbx();
        pbx.next_connection += 1;
        let connection = pbx.next_connection;
        pbx.subscribe(connection, tx);
        connection
    };
    let subscription = Subscription { connection, rx };
    upgrade.on_upgrade(move |socket| async move {
        #[cfg(test)]
        tests::socket_task_starts().await;
        run_socket(shared, socket, token, revoked, subscription).await;
    })
}

/// A socket's place in the event fan-out, taken at the handshake.
struct Subscription {
    connection: u64,
    rx: mpsc::Receiver<WsEnvelope>,
}

async fn run_socket(
    shared: Arc<Shared>,
    mut socket: WebSocket,
    token: String,
    revoked: CancellationToken,
    subscription: Subscription,
) {
    let Subscription { connection, mut rx } = subscription;
    shared.record(JournalKind::WsConnected { connection });
    let cut = shared.faults.ws_cut();
    let mut stalled = shared.faults.stalled();
    let reason = loop {
        if *stalled.borrow_and_update() {
            // A dead socket: nothing is read (pings go unanswered), nothing is sent.
            // Biased: a wake-up must be seen before events queued after it.
            tokio::select! {
                biased;
                _ = shared.shutdown.cancelled() => break "shutdown",
                _ = cut.cancelled() => break "dropped by fault",
                _ = revoked.cancelled() => break "token revoked",
                changed = stalled.changed() => if changed.is_err() { break "shutdown" },
                event = rx.recv() => if event.is_none() { break "too slow" },
            }
            continue;
        }
        tokio::select! {
            _ = shared.shutdown.cancelled() => break "shutdown",
            _ = cut.cancelled() => break "dropped by fault",
            _ = revoked.cancelled() => break "token revoked",
            changed = stalled.changed() => if changed.is_err() { break "shutdown" },
            event = rx.recv() => {
                let Some(event) = event else { break "too slow" };
                let text = serde_json::to_string(&event).unwrap_or_default();
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break "send failed";
                }
            }
            message = socket.recv() => match message {
                None | Some(Err(_)) => break "client went away",
                Some(Ok(Message::Close(_))) => break "closed by client",
                Some(Ok(Message::Ping(payload))) => {
                    if socket.send(Message::Pong(payload)).await.is_err() {
                        break "send failed";
                    }
                }
                Some(Ok(Message::Text(text))) => {
                    let reply = answer_request(&shared, &token, text.as_str()).await;
                    if let Some(reply) = reply
                        && socket.send(Message::Text(reply.into())).await.is_err()
                    {
                        break "send failed";
                    }
                }
                Some(Ok(_)) => {}
            }
        }
    };
    if !matches!(reason, "client went away" | "send failed") {
        let _ = socket.send(Message::Close(None)).await;
    }
    shared.pbx().unsubscribe(connection);
    shared.record(JournalKind::WsClosed {
        connection,
        reason: reason.to_owned(),
    });
}

/// Carries out a request sent over the socket as the same HTTP request would be,
/// and wraps the answer in an event of type 4.
async fn answer_request(shared: &Arc<Shared>, token: &str, text: &str) -> Option<String> {
    let request: WsRequest = serde_json::from_str(text).ok()?;
    let last = request.path.rsplit('/').next().unwrap_or("");
    let is_post = matches!(
        last,
        "makecall"
            | "drop"
            | "answer"
            | "divert"
            | "routeto"
            | "transferto"
            | "attach_participant_data"
            | "attach_party_data"
    );
    let data = request.request_data.clone().unwrap_or_default();
    let body = match (is_post, last) {
        (false, _) => String::new(),
        (true, "makecall") => serde_json::to_string(&MakeCallRequest {
            destination: data.destination.unwrap_or_default(),
            timeout: data.timeout,
            attacheddata: data.attached_data,
        })
        .unwrap_or_default(),
        (true, _) => serde_json::to_string(&ActionRequest {
            reason: data.reason,
            destination: data.destination,
            timeout: data.timeout,
            attacheddata: data.attached_data,
        })
        .unwrap_or_default(),
    };
    let http = Request::builder()
        .method(match is_post {
            true => Method::POST,
            false => Method::GET,
        })
        .uri(request.path.as_str())
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(body))
        .ok()?;
    let response = super::call_control_router(shared.clone())
        .oneshot(http)
        .await
        .ok()?;
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .ok()?;
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let sequence = shared.pbx().reply_sequence();
    let envelope = WsEnvelope {
        sequence,
        event: WsEvent {
            event_type: EventType::Response,
            entity: request.path.clone(),
            attached_data: serde_json::to_value(WsResponse {
                request_id: request.request_id,
                path: request.path,
                status_code: status,
                response: value,
            })
            .ok(),
        },
    };
    serde_json::to_string(&envelope).ok()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use futures::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use voicebot_model::{EventType, WsEnvelope};

    use crate::Sim;

    /// How long the upgraded socket's task waits before it starts: a busy machine's
    /// scheduling delay, made deterministic.
    static SOCKET_START_DELAY_MS: AtomicU64 = AtomicU64::new(0);

    pub(super) async fn socket_task_starts() {
        let delay = SOCKET_START_DELAY_MS.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
    }

    /// The hang of the recording tests under load: a call made right after the
    /// handshake, before the socket's task ran, was in neither the snapshot the client
    /// had read nor the events it got. The subscription now comes with the 101.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_made_before_the_socket_task_runs_is_still_announced() {
        SOCKET_START_DELAY_MS.store(500, Ordering::Relaxed);
        let sim = Sim::start().await.unwrap();
        let token = sim.issue_token();
        let url = format!("ws://{}/callcontrol/ws", sim.local_addr());
        let mut request = url.into_client_request().unwrap();
        let bearer = format!("Bearer {token}").parse().unwrap();
        request.headers_mut().insert("authorization", bearer);
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        // The 101 is in; the socket's task is still asleep.
        let caller = sim.call_in("+15550999").await.unwrap();
        let event = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let message = ws.next().await.expect("open").expect("a frame");
                if let Ok(text) = message.to_text()
                    && let Ok(envelope) = serde_json::from_str::<WsEnvelope>(text)
                {
                    return envelope;
                }
            }
        })
        .await
        .expect("the call's event arrives");
        assert_eq!(event.event.event_type, EventType::Upsert);
        assert!(
            event
                .event
                .entity
                .contains(&caller.participant_id().to_string())
        );
        SOCKET_START_DELAY_MS.store(0, Ordering::Relaxed);
    }
}
