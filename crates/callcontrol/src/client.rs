//! [`Client`] and the request core every endpoint goes through: bearer token, one
//! re-authentication on 401, status mapping, logging and metrics, GET retries.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::auth::{AccessToken, TokenProvider};
use crate::builder::{ClientBuilder, Settings};
use crate::error::{CallControlError, Rejection, Result, location_host, reason_of};
use crate::events::{EventStream, EventsRuntime, SharedState, StateCache};
use crate::retry::RetryPolicy;
use crate::tls::TlsConfig;

/// The 3CX Call Control client. Cheap to clone: clones share the token, the HTTP
/// connection pool, the event task and the state cache.
///
/// Background work (the event socket) starts on the first [`Client::events`] call and
/// stops when every clone of the client and every [`EventStream`] are dropped, on
/// [`Client::shutdown`], or when the builder's cancellation token fires.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    core: Arc<Core>,
    cancel: CancellationToken,
    state: Arc<SharedState>,
    events: Mutex<Option<EventsRuntime>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The event task holds only the core, never the client, so this runs once the
        // last client and stream are gone.
        self.cancel.cancel();
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.core.origin)
            .field("client_id", &self.inner.core.client_id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts building a client for the PBX at `base_url` (`https://pbx:5001`, or
    /// `http://127.0.0.1:port` for local use). Only the scheme, host and port are used.
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(base_url)
    }

    pub(crate) fn from_core(core: Core, cancel: CancellationToken) -> Self {
        Self {
            inner: Arc::new(Inner {
                core: Arc::new(core),
                cancel,
                state: Arc::new(SharedState::default()),
                events: Mutex::new(None),
            }),
        }
    }

    pub(crate) fn core(&self) -> &Arc<Core> {
        &self.inner.core
    }

    pub(crate) fn shared_state(&self) -> &SharedState {
        &self.inner.state
    }

    /// The PBX's name in this client's metrics ([`crate::ClientBuilder::pbx_name`]).
    pub fn pbx_name(&self) -> &str {
        &self.inner.core.settings.pbx_label
    }

    /// The token provider, to share with the Configuration API client: 3CX keeps one
    /// token per API client, so two providers would revoke each other's tokens.
    pub fn token_provider(&self) -> TokenProvider {
        self.inner.core.tokens.clone()
    }

    /// The API client id, which is also the DN of its route point.
    pub fn client_id(&self) -> &str {
        &self.inner.core.client_id
    }

    /// The PBX version from the last `X-3CX-Version` header seen, if any.
    pub fn pbx_version(&self) -> Option<String> {
        self.inner.core.tokens.pbx_version()
    }

    /// A new stream of resolved PBX events. The first call starts the event task
    /// (which needs a tokio runtime); later calls add subscribers that receive events
    /// from then on. The stream must be polled: when its buffer is full the event task
    /// waits rather than drop control events.
    pub fn events(&self) -> EventStream {
        if self.inner.cancel.is_cancelled() {
            // A stream of a stopped client ends at once.
            let (_, receiver) = tokio::sync::mpsc::channel(1);
            return EventStream::new(receiver, self.clone());
        }
        let mut runtime = self
            .inner
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let capacity = self.inner.core.settings.event_buffer;
        let receiver = match runtime.as_ref() {
            Some(running) => running.subscribe(capacity),
            None => {
                let (started, first) = EventsRuntime::start(
                    self.inner.core.clone(),
                    self.inner.state.clone(),
                    self.inner.cancel.clone(),
                    capacity,
                );
                *runtime = Some(started);
                first
            }
        };
        EventStream::new(receiver, self.clone())
    }

    /// A copy of the state cache: DN → devices and participants, as of the last
    /// resolved event. Empty until [`Client::events`] has been called and the first
    /// snapshot was read.
    pub fn state(&self) -> StateCache {
        self.inner.state.snapshot()
    }

    /// Stops the event task: every [`EventStream`] ends, and later
    /// [`Client::events`] calls return streams that end at once. REST requests and
    /// audio streams keep working.
    pub fn shutdown(&self) {
        self.inner.cancel.cancel();
    }

    /// Whether [`Client::shutdown`] was called or the cancellation token fired.
    pub fn is_shut_down(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }
}

/// How long a request may take.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Deadline {
    /// The whole exchange, body included (REST).
    Whole,
    /// Until the response headers arrive; the body may stream for ever (audio in).
    Headers,
    /// No limit: an upload whose answer comes only when its body ends (audio out).
    Unlimited,
}

/// One request, re-sendable for the 401 retry.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) path: String,
    /// A low-cardinality name for metrics (`participant`, `action`...).
    pub(crate) endpoint: &'static str,
    pub(crate) json: Option<Bytes>,
    pub(crate) deadline: Deadline,
    /// The deadline of this request when it is not the client's `request_timeout`
    /// (a `transferto` waits for the destination to ring out).
    pub(crate) timeout: Option<Duration>,
}

impl Request {
    pub(crate) fn get(path: String, endpoint: &'static str) -> Self {
        Self {
            method: Method::GET,
            path,
            endpoint,
            json: None,
            deadline: Deadline::Whole,
            timeout: None,
        }
    }

    pub(crate) fn post_json(path: String, endpoint: &'static str, json: Bytes) -> Self {
        Self {
            method: Method::POST,
            path,
            endpoint,
            json: Some(json),
            deadline: Deadline::Whole,
            timeout: None,
        }
    }
}

/// What the event task and the public client share: HTTP, tokens, settings.
pub(crate) struct Core {
    pub(crate) http: reqwest::Client,
    pub(crate) tls: TlsConfig,
    pub(crate) origin: String,
    /// The PBX's base URL (scheme, host and port are used), for the audio streams'
    /// own connections.
    pub(crate) base: Url,
    /// The `Host` header of a request to the PBX: the host, and the port unless it is
    /// the scheme's default.
    pub(crate) host_header: String,
    pub(crate) ws_url: Url,
    pub(crate) client_id: String,
    pub(crate) tokens: TokenProvider,
    pub(crate) settings: Settings,
}

impl Core {
    pub(crate) fn new(
        http: reqwest::Client,
        tls: TlsConfig,
        base: Url,
        ws_url: Url,
        client_id: String,
        tokens: TokenProvider,
        settings: Settings,
    ) -> Self {
        let host_header = match base.port() {
            Some(port) => format!("{}:{port}", base.host_str().unwrap_or_default()),
            None => base.host_str().unwrap_or_default().to_owned(),
        };
        Self {
            http,
            tls,
            origin: base.origin().ascii_serialization(),
            host_header,
            base,
            ws_url,
            client_id,
            tokens,
            settings,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// Sends `request` with the current token; on a 401 invalidates that token and
    /// sends once more with a fresh one. Returns only success responses.
    pub(crate) async fn send(&self, request: &Request) -> Result<reqwest::Response> {
        let mut reauthenticated = false;
        loop {
            let token = self.tokens.token().await?;
            let response = self.send_once(request, &token).await?;
            let status = response.status().as_u16();
            if status == 401 && !reauthenticated {
                tracing::debug!(path = %request.path, "401: re-authenticating once");
                self.tokens.invalidate(&token).await;
                reauthenticated = true;
                continue;
            }
            if response.status().is_success() {
                return Ok(response);
            }
            return Err(self.rejection(request, response).await);
        }
    }

    /// One attempt with a given builder tweak (used by the audio upload, whose body
    /// cannot be cloned).
    pub(crate) async fn send_once_with(
        &self,
        request: &Request,
        token: &AccessToken,
        body: Option<reqwest::Body>,
        content_type: Option<&'static str>,
    ) -> Result<reqwest::Response> {
        let started = Instant::now();
        let mut builder = self
            .http
            .request(request.method.clone(), self.url(&request.path))
            .header(AUTHORIZATION, sensitive_bearer(token)?);
        if let Some(body) = body {
            builder = builder.body(body);
        }
        if let Some(content_type) = content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        let what = || format!("{} {}", request.method, request.path);
        let limit = request.timeout.unwrap_or(self.settings.request_timeout);
        let sent = match request.deadline {
            Deadline::Whole => builder.timeout(limit).send().await,
            Deadline::Unlimited => builder.send().await,
            Deadline::Headers => match tokio::time::timeout(limit, builder.send()).await {
                Ok(sent) => sent,
                Err(_) => {
                    observe(
                        &self.settings.pbx_label,
                        request,
                        "timeout",
                        started.elapsed(),
                    );
                    return Err(CallControlError::Timeout {
                        what: what(),
                        after: Some(limit),
                    });
                }
            },
        };
        let deadline = match request.deadline {
            Deadline::Unlimited => None,
            Deadline::Whole | Deadline::Headers => Some(limit),
        };
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                observe(
                    &self.settings.pbx_label,
                    request,
                    "error",
                    started.elapsed(),
                );
                return Err(CallControlError::from_reqwest(what(), error, deadline));
            }
        };
        self.tokens.note_version(response.headers());
        observe(
            &self.settings.pbx_label,
            request,
            response.status().as_str(),
            started.elapsed(),
        );
        Ok(response)
    }

    async fn send_once(&self, request: &Request, token: &AccessToken) -> Result<reqwest::Response> {
        let body = request.json.clone().map(reqwest::Body::from);
        let content_type = request
            .json
            .as_ref()
            .map(|_| "application/json; charset=utf-8");
        self.send_once_with(request, token, body, content_type)
            .await
    }

    /// GET a JSON document, retrying 5xx, timeouts and transport errors per policy.
    pub(crate) async fn get_json<T>(&self, path: String, endpoint: &'static str) -> Result<T>
    where
        T: DeserializeOwned,
    {
        let request = Request::get(path, endpoint);
        self.send_retrying(&request, self.settings.get_retry).await
    }

    /// POST a JSON body once (never retried except for the 401 re-authentication,
    /// which is safe because the PBX did not act on a refused token).
    pub(crate) async fn post_json<T>(
        &self,
        path: String,
        endpoint: &'static str,
        body: &impl serde::Serialize,
    ) -> Result<T>
    where
        T: DeserializeOwned,
    {
        let request = Request::post_json(path, endpoint, json_body(body)?);
        let response = self.send(&request).await?;
        self.decode(&request, response).await
    }

    /// POST a participant action under `timeout`; a `drop` (idempotent: dropping a
    /// leg twice leaves it dropped) is retried per the drop policy on 5xx, timeouts
    /// and transport errors. Other actions are sent once.
    pub(crate) async fn post_action<T>(
        &self,
        path: String,
        body: &impl serde::Serialize,
        timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<T>
    where
        T: DeserializeOwned,
    {
        let mut request = Request::post_json(path, "action", json_body(body)?);
        request.timeout = Some(timeout);
        self.send_retrying(&request, retry).await
    }

    /// Sends `request`, again after a backoff while the answer is transient (5xx, a
    /// timeout, a transport error) and `policy` allows more attempts.
    async fn send_retrying<T>(&self, request: &Request, policy: RetryPolicy) -> Result<T>
    where
        T: DeserializeOwned,
    {
        let mut backoff = policy.backoff();
        let mut attempt = 1;
        loop {
            let result = match self.send(request).await {
                Ok(response) => self.decode(request, response).await,
                Err(error) => Err(error),
            };
            match result {
                Err(error) if error.is_transient() && attempt < policy.max_attempts => {
                    let delay = backoff.next_delay();
                    // A repeated action is worth an operator's eye; a repeated read is not.
                    match request.json.is_some() {
                        true => {
                            tracing::warn!(path = %request.path, attempt, %error, ?delay, "retrying the action")
                        }
                        false => {
                            tracing::debug!(path = %request.path, attempt, %error, ?delay, "retrying GET")
                        }
                    }
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// The `Authorization` value, marked sensitive so no Debug output (ours or a
/// dependency's trace) prints it.
pub(crate) fn sensitive_bearer(token: &AccessToken) -> Result<reqwest::header::HeaderValue> {
    let mut value = reqwest::header::HeaderValue::from_str(&token.bearer()).map_err(|_| {
        CallControlError::Decode {
            what: "access token (not a valid header value)".to_owned(),
            body: String::new(),
        }
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Logs and counts one HTTP exchange. Never logs headers: they carry the token.
pub(crate) fn observe(pbx: &Arc<str>, request: &Request, status: &str, latency: Duration) {
    tracing::debug!(
        method = %request.method,
        path = %request.path,
        status,
        latency_ms = latency.as_millis() as u64,
        "pbx request"
    );
    let labels = [
        metrics::Label::new("pbx", Arc::clone(pbx)),
        metrics::Label::new("method", request.method.as_str().to_owned()),
        metrics::Label::new("endpoint", request.endpoint.to_owned()),
        metrics::Label::new("status", status.to_owned()),
    ];
    metrics::counter!("voicebot_pbx_requests_total", labels.iter()).increment(1);
    metrics::histogram!("voicebot_pbx_request_duration_seconds", labels[..3].iter())
        .record(latency.as_secs_f64());
}

impl Core {
    /// Reads a refused response into its error variant: a redirect (never followed)
    /// names where it pointed; any other status keeps the PBX's body, redacted.
    pub(crate) async fn rejection(
        &self,
        request: &Request,
        response: reqwest::Response,
    ) -> CallControlError {
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|value| value.to_str().ok());
            return CallControlError::Redirect {
                method: request.method.to_string(),
                path: request.path.clone(),
                status,
                location: location_host(&self.url(&request.path), location),
            };
        }
        // A body that cannot be read still leaves the status, which is what matters.
        let body = self
            .tokens
            .redact(&response.text().await.unwrap_or_default());
        CallControlError::from_rejection(Rejection {
            status,
            method: request.method.to_string(),
            path: request.path.clone(),
            reasontext: reason_of(&body),
            body,
        })
    }

    /// Decodes a success answer. For a POST the PBX has acted on, a body that does
    /// not decode is [`CallControlError::UnreadableAnswer`], which is never retried:
    /// sending the action again would repeat it.
    async fn decode<T>(&self, request: &Request, response: reqwest::Response) -> Result<T>
    where
        T: DeserializeOwned,
    {
        let what = || format!("{} {}", request.method, request.path);
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|error| {
            CallControlError::from_reqwest(format!("reading {}", what()), error, request.timeout)
        })?;
        serde_json::from_slice(&bytes).map_err(|error| {
            let body = self.tokens.redact(&String::from_utf8_lossy(&bytes));
            match request.method == Method::POST {
                true => CallControlError::UnreadableAnswer {
                    what: what(),
                    status,
                    reason: error.to_string(),
                    body,
                },
                false => CallControlError::Decode {
                    what: format!("response of {} ({error})", what()),
                    body,
                },
            }
        })
    }
}

/// A request body as JSON bytes.
fn json_body(body: &impl serde::Serialize) -> Result<Bytes> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|error| CallControlError::Decode {
            what: format!("request body ({error})"),
            body: String::new(),
        })
}
