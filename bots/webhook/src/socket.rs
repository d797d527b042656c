//! The WebSocket side of the webhook bot: one socket per call, opened at the call's
//! first request, carrying the same JSON as the HTTP side. Each request is one text
//! message; a request that wants verbs is answered by the server's next text message.
//! The handshake is signed (the URL stands in for the body). A socket that fails is
//! opened again and the request sent again, within the retries; its `sequence` lets
//! the server tell a resent request from a new one.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::WebhookError;
use crate::sign::Signer;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The per-call socket.
#[derive(Debug)]
pub(crate) struct SocketClient {
    url: String,
    signer: Signer,
    timeout: Duration,
    retries: u32,
    socket: Option<Socket>,
}

impl SocketClient {
    pub(crate) fn new(url: String, signer: Signer, timeout: Duration, retries: u32) -> Self {
        Self {
            url,
            signer,
            timeout,
            retries,
            socket: None,
        }
    }

    /// Sends `body`; when `wants_answer`, returns the server's next text message.
    ///
    /// # Errors
    /// [`WebhookError::Unreachable`] when every attempt failed (no socket, a closed
    /// socket, no answer within the timeout); [`WebhookError::Refused`] when the
    /// handshake was refused with a status.
    pub(crate) async fn send(
        &mut self,
        body: &str,
        wants_answer: bool,
    ) -> Result<Option<Vec<u8>>, WebhookError> {
        let mut reason = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200) * attempt).await;
            }
            match self.attempt(body, wants_answer).await {
                Ok(answer) => return Ok(answer),
                Err(Attempt::Refused(detail)) => {
                    return Err(WebhookError::Refused {
                        url: self.url.clone(),
                        detail,
                    });
                }
                Err(Attempt::Failed(why)) => {
                    tracing::debug!(url = self.url, attempt, %why, "webhook socket failed");
                    self.socket = None;
                    reason = why;
                }
            }
        }
        Err(WebhookError::Unreachable {
            url: self.url.clone(),
            reason,
            attempts: self.retries + 1,
        })
    }

    async fn attempt(
        &mut self,
        body: &str,
        wants_answer: bool,
    ) -> Result<Option<Vec<u8>>, Attempt> {
        let socket = match &mut self.socket {
            Some(socket) => socket,
            None => self.socket.insert(self.connect().await?),
        };
        let timeout = self.timeout;
        tokio::time::timeout(timeout, socket.send(Message::text(body.to_owned())))
            .await
            .map_err(|_| Attempt::Failed(format!("the request waited {timeout:?} to be sent")))?
            .map_err(|error| Attempt::Failed(error.to_string()))?;
        if !wants_answer {
            return Ok(None);
        }
        let answer = tokio::time::timeout(timeout, async {
            loop {
                match socket.next().await {
                    Some(Ok(Message::Text(text))) => return Ok(text.as_bytes().to_vec()),
                    Some(Ok(Message::Close(_))) | None => {
                        return Err("the server closed the socket".to_owned());
                    }
                    // Pings are answered by the socket; binary messages mean nothing here.
                    Some(Ok(_)) => {}
                    Some(Err(error)) => return Err(error.to_string()),
                }
            }
        })
        .await
        .map_err(|_| Attempt::Failed("no answer within the timeout".to_owned()))?
        .map_err(Attempt::Failed)?;
        Ok(Some(answer))
    }

    async fn connect(&self) -> Result<Socket, Attempt> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut request = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|error| Attempt::Refused(error.to_string()))?;
        for (name, value) in self.signer.headers(self.url.as_bytes()) {
            let value =
                HeaderValue::from_str(&value).map_err(|e| Attempt::Failed(e.to_string()))?;
            request.headers_mut().insert(name, value);
        }
        let connecting = tokio_tungstenite::connect_async_with_config(request, None, false);
        match tokio::time::timeout(self.timeout, connecting).await {
            Err(_) => Err(Attempt::Failed(
                "the socket did not open within the timeout".to_owned(),
            )),
            Ok(Ok((socket, _))) => Ok(socket),
            Ok(Err(tungstenite::Error::Http(response))) if !response.status().is_server_error() => {
                Err(Attempt::Refused(crate::http::refusal(
                    &self.url,
                    response.status().as_u16(),
                    response
                        .headers()
                        .get("location")
                        .and_then(|value| value.to_str().ok()),
                    response.body().as_deref().unwrap_or_default(),
                )))
            }
            Ok(Err(error)) => Err(Attempt::Failed(error.to_string())),
        }
    }

    /// Closes the socket (the call is over).
    pub(crate) async fn close(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = tokio::time::timeout(self.timeout, socket.close(None)).await;
        }
    }
}

enum Attempt {
    Refused(String),
    Failed(String),
}
