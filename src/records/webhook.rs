//! Posting call records to a URL: signed, retried with backoff, never blocking the
//! record writer (a full queue sheds the record from the webhook only; the file has it).

use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use voicebot_callcontrol::TlsConfig;
use voicebot_engine::CallRecord;
use voicebot_webhook::sign::Signer;

use crate::exit::Exit;

/// Records waiting for the webhook at most.
const QUEUE: usize = 1024;

/// The webhook's queue and the task draining it.
#[derive(Debug)]
pub(super) struct Poster {
    queue: mpsc::Sender<Vec<u8>>,
    task: JoinHandle<()>,
}

impl Poster {
    /// Starts posting to `url`, signing with the secret in `secret_env`.
    ///
    /// # Errors
    /// Exit 2 when the secret variable is unset or empty.
    pub(super) fn start(url: url::Url, secret_env: &str, attempts: u32) -> anyhow::Result<Self> {
        let secret = match std::env::var(secret_env) {
            Ok(secret) if !secret.is_empty() => secret,
            _ => {
                return Err(Exit::Usage.error(format!(
                    "call_records.webhook is set but the environment variable {secret_env} \
                     (its signing secret) is not"
                )));
            }
        };
        let http = TlsConfig::system()
            .map_err(|error| anyhow::anyhow!("{error}"))?
            .http_client_builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .context("building the call record webhook's HTTP client")?;
        let (queue, bodies) = mpsc::channel(QUEUE);
        let signer = Signer::new(secret.as_bytes());
        let task = tokio::spawn(post_all(bodies, http, url, signer, attempts.max(1)));
        Ok(Self { queue, task })
    }

    /// Queues `record` for the webhook; sheds it (with a warning) when the queue is full.
    pub(super) fn offer(&self, record: &CallRecord) {
        let body = match serde_json::to_vec(record) {
            Ok(body) => body,
            Err(error) => {
                tracing::warn!(%error, "a call record could not be encoded for the webhook");
                return;
            }
        };
        if self.queue.try_send(body).is_err() {
            metrics::counter!("voicebot_call_record_webhook_shed_total").increment(1);
            tracing::warn!(
                id = %record.id,
                "call record webhook queue full: this record is only in the file"
            );
        }
    }

    /// Stops taking records and waits for the queued ones.
    pub(super) async fn finish(self) {
        drop(self.queue);
        let _ = self.task.await;
    }
}

async fn post_all(
    mut bodies: mpsc::Receiver<Vec<u8>>,
    http: reqwest::Client,
    url: url::Url,
    signer: Signer,
    attempts: u32,
) {
    while let Some(body) = bodies.recv().await {
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=attempts {
            let mut request = http
                .post(url.clone())
                .header("content-type", "application/json");
            for (name, value) in signer.headers(&body) {
                request = request.header(name, value);
            }
            let outcome = request.body(body.clone()).send().await;
            let retry = match &outcome {
                Ok(answer) if answer.status().is_success() => {
                    metrics::counter!("voicebot_call_record_webhook_total", "result" => "ok")
                        .increment(1);
                    break;
                }
                // A client error other than timeout or rate limit will not heal.
                Ok(answer) => {
                    let status = answer.status();
                    status.is_server_error()
                        || status == reqwest::StatusCode::REQUEST_TIMEOUT
                        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                }
                Err(_) => true,
            };
            let why = match outcome {
                Ok(answer) => format!("HTTP {}", answer.status()),
                Err(error) => voicebot_callcontrol::describe_chain(&error),
            };
            if !retry || attempt == attempts {
                metrics::counter!("voicebot_call_record_webhook_total", "result" => "failed")
                    .increment(1);
                tracing::warn!(%url, attempt, why, "call record not accepted by the webhook; it stays in the file");
                break;
            }
            tracing::debug!(%url, attempt, why, "call record webhook failed; retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(8));
        }
    }
}
