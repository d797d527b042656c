//! The HTTP side: signed POSTs with a timeout and bounded retries.
//!
//! Redirects are never followed (`redirect::Policy::none()`): a 3xx is an error naming
//! the status and the host it pointed to, so a server cannot send signed call data to
//! a host the configuration does not name. Answers are read up to
//! [`MAX_ANSWER_BYTES`]; error messages quote at most 512 bytes of a body.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

use crate::error::WebhookError;
use crate::sign::Signer;
use crate::verb::quote_bytes;

/// The largest answer read.
pub(crate) const MAX_ANSWER_BYTES: usize = 1 << 20;
/// The first delay before a retry; delays double up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(200);
/// The longest delay between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Posts signed JSON bodies.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    client: reqwest::Client,
    signer: Signer,
    retries: u32,
}

impl HttpClient {
    /// A client with a per-attempt `timeout` and `retries` more attempts.
    pub(crate) fn new(timeout: Duration, retries: u32, signer: Signer) -> Result<Self, String> {
        // reqwest is built without a TLS provider of its own: use ring, as the rest of
        // voicebot does (installing twice is harmless).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("voicebot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| format!("the HTTP client: {error}"))?;
        Ok(Self {
            client,
            signer,
            retries,
        })
    }

    /// POSTs `body` to `url` and returns the answer's body.
    ///
    /// # Errors
    /// [`WebhookError::Unreachable`] once every attempt failed for a reason that may
    /// pass (connection, timeout, 5xx, 429); [`WebhookError::Refused`] at once for any
    /// other status that is not 2xx, redirects included.
    pub(crate) async fn post(&self, url: &str, body: &[u8]) -> Result<Vec<u8>, WebhookError> {
        let mut backoff = MIN_BACKOFF;
        let mut reason = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            let mut request = self
                .client
                .post(url)
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_vec());
            // Signed per attempt, so a retry carries a fresh timestamp.
            for (name, value) in self.signer.headers(body) {
                request = request.header(name, value);
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(error) => {
                    reason = describe(&error);
                    tracing::debug!(url, attempt, %reason, "webhook request failed");
                    continue;
                }
            };
            let status = response.status();
            let location = response
                .headers()
                .get("location")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned);
            let answer = match read_capped(response).await {
                Ok(answer) => answer,
                Err(why) => {
                    reason = why;
                    continue;
                }
            };
            if status.is_success() {
                return Ok(answer);
            }
            if retryable(status) {
                reason = format!("HTTP {status}: {}", quote_bytes(&answer));
                tracing::debug!(url, attempt, %reason, "webhook request failed");
                continue;
            }
            return Err(WebhookError::Refused {
                url: url.to_owned(),
                detail: refusal_detail(status.as_u16(), location.as_deref(), &answer),
            });
        }
        Err(WebhookError::Unreachable {
            url: url.to_owned(),
            reason,
            attempts: self.retries + 1,
        })
    }
}

/// Reads at most [`MAX_ANSWER_BYTES`] of an answer.
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(format!(
                        "the answer is larger than {MAX_ANSWER_BYTES} bytes"
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(error) => return Err(format!("reading the answer: {}", describe(&error))),
        }
    }
}

fn retryable(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// A reqwest error with its causes.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "no answer within the timeout".to_owned();
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What a refusing status says: for a redirect, the status and the host it pointed to
/// (never followed); otherwise the status and the start of the body.
fn refusal_detail(status: u16, location: Option<&str>, body: &[u8]) -> String {
    match status {
        300..=399 => {
            let host = location
                .and_then(|location| url::Url::parse(location).ok())
                .and_then(|url| url.host_str().map(str::to_owned))
                .unwrap_or_else(|| "the same host".to_owned());
            format!("HTTP {status} redirect to {host}: redirects are not followed")
        }
        _ => format!("HTTP {status}: {}", quote_bytes(body)),
    }
}

/// [`refusal_detail`] with the URL, for WebSocket handshakes.
pub(crate) fn refusal(url: &str, status: u16, location: Option<&str>, body: &[u8]) -> String {
    format!("{url}: {}", refusal_detail(status, location, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redirect_names_its_status_and_host_only() {
        let detail = refusal_detail(302, Some("https://elsewhere.example/path?token=x"), b"");
        assert_eq!(
            detail,
            "HTTP 302 redirect to elsewhere.example: redirects are not followed"
        );
    }

    #[test]
    fn a_refusal_quotes_at_most_512_bytes_of_the_body() {
        let body = vec![b'x'; 5000];
        let detail = refusal_detail(400, None, &body);
        assert!(detail.starts_with("HTTP 400: \"xxx"), "{detail}");
        assert!(detail.len() < 600, "{}", detail.len());
        assert!(detail.contains("5000 bytes"), "{detail}");
    }
}
