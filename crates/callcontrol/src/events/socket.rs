//! One WebSocket connection to `/callcontrol/ws`: connect with the bearer header, read
//! frames, ping, and notice when the PBX stops answering.

use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::AUTHORIZATION;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;
use voicebot_model::WsEnvelope;

use crate::client::Core;
use crate::error::{CallControlError, Rejection, Result, location_host, reason_of, truncate_body};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens the event socket. A 401 on the upgrade invalidates the token and tries once
/// more with a fresh one, as for REST calls.
pub(crate) async fn connect(core: &Core) -> Result<Socket> {
    let mut reauthenticated = false;
    loop {
        let token = core.tokens.token().await?;
        let mut request = core
            .ws_url
            .as_str()
            .into_client_request()
            .map_err(|error| transport("building the WebSocket request", error))?;
        let mut bearer =
            HeaderValue::from_str(&token.bearer()).map_err(|_| CallControlError::Decode {
                what: "access token (not a valid header value)".to_owned(),
                body: String::new(),
            })?;
        // Keeps the value out of any Debug output of the request.
        bearer.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, bearer);
        let started = Instant::now();
        // The same roots as the REST calls (one `TlsConfig` per client).
        let connector = Connector::Rustls(core.tls.rustls());
        let connecting =
            tokio_tungstenite::connect_async_tls_with_config(request, None, true, Some(connector));
        let outcome = tokio::time::timeout(core.settings.request_timeout, connecting).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        match outcome {
            Err(_) => {
                return Err(CallControlError::Timeout {
                    what: "opening the event socket".to_owned(),
                    after: Some(core.settings.request_timeout),
                });
            }
            Ok(Ok((socket, response))) => {
                tracing::debug!(
                    method = "GET",
                    path = "/callcontrol/ws",
                    status = response.status().as_u16(),
                    latency_ms,
                    "pbx request"
                );
                return Ok(socket);
            }
            Ok(Err(tungstenite::Error::Http(response))) => {
                let status = response.status().as_u16();
                tracing::debug!(
                    method = "GET",
                    path = "/callcontrol/ws",
                    status,
                    latency_ms,
                    "pbx request"
                );
                if status == 401 && !reauthenticated {
                    core.tokens.invalidate(&token).await;
                    reauthenticated = true;
                    continue;
                }
                if response.status().is_redirection() {
                    let location = response
                        .headers()
                        .get(tungstenite::http::header::LOCATION)
                        .and_then(|value| value.to_str().ok());
                    return Err(CallControlError::Redirect {
                        method: "GET".to_owned(),
                        path: "/callcontrol/ws".to_owned(),
                        status,
                        location: location_host(core.ws_url.as_str(), location),
                    });
                }
                let body = core.tokens.redact(
                    &response
                        .body()
                        .as_deref()
                        .map(String::from_utf8_lossy)
                        .unwrap_or_default(),
                );
                return Err(CallControlError::from_rejection(Rejection {
                    status,
                    method: "GET".to_owned(),
                    path: "/callcontrol/ws".to_owned(),
                    reasontext: reason_of(&body),
                    body,
                }));
            }
            Ok(Err(error)) => return Err(transport("opening the event socket", error)),
        }
    }
}

fn transport(what: &str, error: tungstenite::Error) -> CallControlError {
    CallControlError::Transport {
        what: what.to_owned(),
        source: std::sync::Arc::new(error),
    }
}

/// Liveness settings of a connection.
#[derive(Debug, Clone)]
pub(crate) struct Liveness {
    pub(crate) ping_interval: Duration,
    pub(crate) dead_after_pings: u32,
    /// The `pbx` label of the dead-socket counter.
    pub(crate) pbx_label: std::sync::Arc<str>,
}

/// Reads `socket` until it closes, fails, goes silent or `cancel` fires, forwarding
/// each event to `events`. Returns why it ended. Malformed frames are logged and
/// skipped.
pub(crate) async fn read_loop(
    mut socket: Socket,
    events: mpsc::Sender<WsEnvelope>,
    liveness: Liveness,
    cancel: CancellationToken,
) -> String {
    let silence_limit = liveness.ping_interval * liveness.dead_after_pings;
    let mut ticker = tokio::time::interval(liveness.ping_interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker.tick().await;
    // Any frame counts as a sign of life, pongs included.
    let mut last_seen = Instant::now();
    loop {
        tokio::select! {
            () = cancel.cancelled() => {
                let _ = tokio::time::timeout(Duration::from_secs(1), socket.close(None)).await;
                return "client shut down".to_owned();
            }
            _ = ticker.tick() => {
                let silent = last_seen.elapsed();
                if silent >= silence_limit {
                    metrics::counter!(
                        "voicebot_pbx_ws_dead_total",
                        "pbx" => std::sync::Arc::clone(&liveness.pbx_label)
                    )
                    .increment(1);
                    return format!("no pong or frame for {} ms", silent.as_millis());
                }
                // A stalled peer can leave the send buffer full; do not wait on it for
                // longer than one interval.
                let ping = socket.send(Message::Ping(Bytes::from_static(b"voicebot")));
                match tokio::time::timeout(liveness.ping_interval, ping).await {
                    Ok(Ok(())) | Err(_) => {}
                    Ok(Err(error)) => return format!("ping failed: {error}"),
                }
            }
            frame = socket.next() => {
                let message = match frame {
                    None => return "closed by the PBX".to_owned(),
                    Some(Err(error)) => return format!("socket error: {error}"),
                    Some(Ok(message)) => message,
                };
                last_seen = Instant::now();
                let text = match &message {
                    Message::Text(text) => text.as_str(),
                    Message::Binary(bytes) => match std::str::from_utf8(bytes) {
                        Ok(text) => text,
                        Err(_) => {
                            tracing::warn!(len = bytes.len(), "binary event frame is not UTF-8; skipped");
                            continue;
                        }
                    },
                    Message::Close(frame) => return format!("closed by the PBX ({frame:?})"),
                    // tungstenite answers pings itself on the next read or write.
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                };
                let envelope = match serde_json::from_str::<WsEnvelope>(text) {
                    Ok(envelope) => envelope,
                    Err(error) => {
                        tracing::warn!(%error, frame = %truncate_body(text), "malformed event; skipped");
                        continue;
                    }
                };
                if events.send(envelope).await.is_err() {
                    return "event task stopped".to_owned();
                }
                // Waiting on a slow consumer is not silence from the PBX.
                last_seen = Instant::now();
            }
        }
    }
}
