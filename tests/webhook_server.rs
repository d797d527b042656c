//! An in-test webhook server (real HTTP on loopback, axum) that checks every
//! request's signature with ring's HMAC directly, records what it saw and answers as
//! the test says.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use ring::hmac;
use serde_json::Value;

/// The secret tests sign with.
pub(crate) const SECRET: &[u8] = b"test-webhook-secret";

/// A request the server saw.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) path: String,
    pub(crate) body: Value,
    pub(crate) signature_ok: bool,
}

/// What the server answers.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) delay: Duration,
    pub(crate) location: Option<String>,
}

impl Reply {
    /// 200 with these verbs.
    pub(crate) fn verbs(verbs: Value) -> Self {
        Self::raw(200, &verbs.to_string())
    }

    /// Any status and body.
    pub(crate) fn raw(status: u16, body: &str) -> Self {
        Self {
            status,
            body: body.to_owned(),
            delay: Duration::ZERO,
            location: None,
        }
    }
}

type Answer = Arc<dyn Fn(&str, &Value) -> Reply + Send + Sync>;

#[derive(Clone)]
struct ServerState {
    seen: Arc<Mutex<Vec<Seen>>>,
    answer: Answer,
}

/// A running server.
pub(crate) struct WebhookServer {
    pub(crate) url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl WebhookServer {
    /// Serves on `127.0.0.1:0`; `answer(path, body)` decides each reply.
    pub(crate) async fn start(
        answer: impl Fn(&str, &Value) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = ServerState {
            seen: Arc::clone(&seen),
            answer: Arc::new(answer),
        };
        let app = Router::new().fallback(handle).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, seen }
    }

    /// Every request so far.
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Requests that want verbs (not status events).
    pub(crate) fn asked(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|seen| seen.body["event"] != "status")
            .collect()
    }

    /// The status events, as `status` or `status:outcome`.
    pub(crate) fn statuses(&self) -> Vec<Value> {
        self.seen()
            .into_iter()
            .filter(|seen| seen.body["event"] == "status")
            .map(|seen| seen.body["status"].clone())
            .collect()
    }

    /// Waits (up to 5 s) until a request to `path` was seen.
    pub(crate) async fn wait_path(&self, path: &str) -> Seen {
        for _ in 0..500 {
            if let Some(seen) = self.seen().into_iter().find(|seen| seen.path == path) {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no request to {path}: {:?}", self.seen());
    }

    /// Waits (up to 5 s) until the `ended` status arrived; returns it.
    pub(crate) async fn wait_ended(&self) -> Value {
        for _ in 0..500 {
            if let Some(ended) = self.statuses().into_iter().find(|s| s["status"] == "ended") {
                return ended;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no ended status: {:?}", self.statuses());
    }
}

/// Checks `X-Voicebot-Signature: v1=<hex>` against HMAC-SHA256 of
/// `"{X-Voicebot-Timestamp}.{signed}"`, and that the timestamp is recent.
pub(crate) fn signature_ok(headers: &HeaderMap, signed: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let (Some(timestamp), Some(signature)) = (
        header("x-voicebot-timestamp"),
        header("x-voicebot-signature"),
    ) else {
        return false;
    };
    let Ok(seconds) = timestamp.parse::<u64>() else {
        return false;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    if now.abs_diff(seconds) > 60 {
        return false;
    }
    let Some(hex) = signature.strip_prefix("v1=") else {
        return false;
    };
    let Some(tag) = (0..hex.len())
        .step_by(2)
        .map(|at| {
            hex.get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(signed);
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
    hmac::verify(&key, &message, &tag).is_ok()
}

async fn handle(
    State(state): State<ServerState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.seen.lock().unwrap().push(Seen {
        path: path.clone(),
        body: value.clone(),
        signature_ok: signature_ok(&headers, &body),
    });
    let reply = (state.answer)(&path, &value);
    tokio::time::sleep(reply.delay).await;
    let status = StatusCode::from_u16(reply.status).unwrap();
    match reply.location {
        Some(location) => (status, [("location", location)], reply.body).into_response(),
        None => (status, reply.body).into_response(),
    }
}
