//! The webhook sink: one JSON POST per final result, from a background worker with a
//! bounded queue, so a slow or dead server never holds up the call.
//!
//! Overflow policy: [`Webhook::post`] never waits; when the queue is full the result
//! is dropped and counted in [`WebhookStats::dropped`]. The worker retries a POST
//! that failed for a reason that may pass (connection error, timeout, 5xx, 429) with
//! exponential backoff, and gives up on it after `retries` (counted as failed).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::config::WebhookConfig;
use crate::line::TranscriptLine;

/// The first delay before a retry; delays double up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(200);
/// The longest delay between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Queues results for the worker. Dropping every `Webhook` lets the worker drain and end.
#[derive(Debug, Clone)]
pub struct Webhook {
    queue: mpsc::Sender<TranscriptLine>,
    stats: Arc<WebhookStats>,
}

/// Posts queued results; run it with [`WebhookWorker::run`] alongside the call.
#[derive(Debug)]
pub struct WebhookWorker {
    queue: mpsc::Receiver<TranscriptLine>,
    client: reqwest::Client,
    config: WebhookConfig,
    stats: Arc<WebhookStats>,
}

/// Counters of one webhook.
#[derive(Debug, Default)]
pub struct WebhookStats {
    /// Results the server accepted (2xx).
    pub delivered: AtomicU64,
    /// Retries made.
    pub retried: AtomicU64,
    /// Results given up on after the retries, or refused (4xx).
    pub failed: AtomicU64,
    /// Results dropped because the queue was full.
    pub dropped: AtomicU64,
}

/// The webhook could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookError(String);

impl std::fmt::Display for WebhookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WebhookError {}

impl Webhook {
    /// A webhook queue and its worker.
    ///
    /// # Errors
    /// [`WebhookError`] for a URL that is not `http(s)://`, or an HTTP client that
    /// cannot be built.
    pub fn new(config: &WebhookConfig) -> Result<(Self, WebhookWorker), WebhookError> {
        let scheme_ok = config.url.starts_with("http://") || config.url.starts_with("https://");
        if !scheme_ok || reqwest::Url::parse(&config.url).is_err() {
            return Err(WebhookError(format!(
                "{:?} is not an http:// or https:// URL",
                config.url
            )));
        }
        // reqwest is built without a TLS provider of its own: use ring, as the rest of
        // voicebot does (installing twice is harmless).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|error| WebhookError(format!("the HTTP client: {error}")))?;
        let (queue, receiver) = mpsc::channel(config.queue.max(1));
        let stats = Arc::new(WebhookStats::default());
        let worker = WebhookWorker {
            queue: receiver,
            client,
            config: config.clone(),
            stats: Arc::clone(&stats),
        };
        Ok((Self { queue, stats }, worker))
    }

    /// Queues `line` for posting; never waits. Returns `false` if it was dropped.
    pub fn post(&self, line: TranscriptLine) -> bool {
        match self.queue.try_send(line) {
            Ok(()) => true,
            Err(_) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("the webhook queue is full; a result was dropped");
                false
            }
        }
    }

    /// The counters, shared with the worker.
    pub fn stats(&self) -> &Arc<WebhookStats> {
        &self.stats
    }
}

impl WebhookWorker {
    /// Posts results until every [`Webhook`] is dropped and the queue is empty.
    ///
    /// # Cancellation
    /// Dropping the future abandons the POST in flight and the results still queued.
    pub async fn run(mut self) {
        while let Some(line) = self.queue.recv().await {
            self.deliver(&line).await;
        }
    }

    async fn deliver(&self, line: &TranscriptLine) {
        let mut backoff = MIN_BACKOFF;
        for attempt in 0..=self.config.retries {
            if attempt > 0 {
                self.stats.retried.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            let sent = self.client.post(&self.config.url).json(line).send().await;
            match sent {
                Ok(response) if response.status().is_success() => {
                    self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Ok(response) if retryable(response.status()) => {
                    tracing::debug!(status = %response.status(), attempt, "webhook POST failed");
                }
                Ok(response) => {
                    tracing::warn!(status = %response.status(), "the webhook refused a result");
                    self.stats.failed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                Err(error) => tracing::debug!(%error, attempt, "webhook POST failed"),
            }
        }
        tracing::warn!(
            retries = self.config.retries,
            "the webhook kept failing; a result was given up on"
        );
        self.stats.failed.fetch_add(1, Ordering::Relaxed);
    }
}

fn retryable(status: reqwest::StatusCode) -> bool {
    status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
}

#[cfg(test)]
mod tests;
