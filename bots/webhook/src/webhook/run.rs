//! One call of the webhook bot: ask for verbs, run them, ask again where a verb has an
//! `action`, until the verbs end the call (or run out: then it hangs up).
//!
//! Call events go to the `status_url` from a queue beside the call, so a slow status
//! server never holds up the caller; they are delivered until the bot's part ends
//! (the engine gives it a grace period after the caller hangs up).

use std::collections::VecDeque;

use tokio::sync::mpsc;
use voicebot_bot::{BotError, Call, CallError};

use super::Shared;
use super::verbs::{Step, run_verb};
use crate::error::WebhookError;
use crate::request::{CallDetails, Event, Request, Status};
use crate::socket::SocketClient;
use crate::verb::{Verb, parse_answer};

/// How a call left the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// A verb hung up (or the verbs ran out).
    Completed,
    /// A transfer, route or divert took the call.
    Transferred,
}

/// The state of one call.
pub(super) struct Run<'a> {
    pub(super) shared: &'a Shared,
    pub(super) call: Call,
    pub(super) details: CallDetails,
    socket: Option<SocketClient>,
    statuses: Option<mpsc::UnboundedSender<Vec<u8>>>,
    sequence: u64,
    asked: u32,
}

pub(super) async fn run(shared: &Shared, call: Call) -> Result<(), BotError> {
    let (statuses, queued) = mpsc::unbounded_channel();
    let has_status_url = shared.status_url.is_some();
    let socket = shared.is_socket.then(|| {
        SocketClient::new(
            shared.config.url.clone(),
            shared.signer.clone(),
            shared.config.timeout,
            shared.config.retries,
        )
    });
    let run = Run {
        shared,
        details: CallDetails::new(call.info()),
        call,
        socket,
        statuses: has_status_url.then_some(statuses),
        sequence: 0,
        asked: 0,
    };
    let (result, ()) = tokio::join!(run.drive(), deliver_statuses(shared, queued));
    result
}

impl Run<'_> {
    async fn drive(mut self) -> Result<(), BotError> {
        let result = self.converse().await;
        let status = match &result {
            Ok(Ending::Completed) => ("completed", None),
            Ok(Ending::Transferred) => ("transferred", None),
            Err(error) if error.is_hangup() => ("hangup", None),
            Err(error) => ("failed", Some(error.to_string())),
        };
        self.status(Status {
            outcome: Some(status.0),
            error: status.1,
            ..Status::plain("ended")
        })
        .await;
        if let Some(socket) = &mut self.socket {
            socket.close().await;
        }
        // Dropping the sender lets the status queue drain and end.
        self.statuses = None;
        result.map(drop)
    }

    async fn converse(&mut self) -> Result<Ending, BotError> {
        self.status(Status::plain("started")).await;
        self.call.answer().await?;
        self.status(Status::plain("answered")).await;
        let (mut verbs, mut source) = self.ask(Event::Call, None).await?;
        let mut index = 0;
        loop {
            let Some(verb) = verbs.pop_front() else {
                // No verbs left: hang up, as a TwiML document that ends does.
                return match self.call.hangup().await {
                    Ok(()) | Err(CallError::Hangup | CallError::Ended) => Ok(Ending::Completed),
                    Err(other) => Err(other.into()),
                };
            };
            match run_verb(self, verb, &source, index).await? {
                Step::Next => index += 1,
                Step::Fetch { event, url } => {
                    (verbs, source) = self.ask(event, Some(url)).await?;
                    index = 0;
                }
                Step::Ended(ending) => return Ok(ending),
            }
        }
    }

    /// Sends a request that wants verbs; returns them and where they came from.
    pub(super) async fn ask(
        &mut self,
        event: Event,
        url: Option<String>,
    ) -> Result<(VecDeque<Verb>, String), BotError> {
        self.asked += 1;
        if self.asked > self.shared.config.max_requests {
            return Err(WebhookError::TooManyRequests {
                limit: self.shared.config.max_requests,
            }
            .into());
        }
        self.sequence += 1;
        let request = Request {
            event,
            sequence: self.sequence,
            url: url.clone(),
            call: &self.details,
        };
        let body = serde_json::to_string(&request).map_err(BotError::from)?;
        let (source, answer) = match &mut self.socket {
            Some(socket) => {
                let answer = socket.send(&body, true).await?;
                (self.shared.config.url.clone(), answer.unwrap_or_default())
            }
            None => {
                let target = self.resolve(url.as_deref())?;
                let answer = self.shared.http.post(&target, body.as_bytes()).await?;
                (target, answer)
            }
        };
        let verbs = parse_answer(&answer).map_err(|error| WebhookError::BadAnswer {
            url: source.clone(),
            what: error.0,
        })?;
        tracing::debug!(
            call_id = self.details.call_id,
            url = source,
            verbs = verbs.len(),
            "webhook answered"
        );
        Ok((verbs.into(), source))
    }

    /// An `action` or `redirect` URL, resolved against the bot's `url`.
    fn resolve(&self, url: Option<&str>) -> Result<String, WebhookError> {
        let Some(url) = url else {
            return Ok(self.shared.base.to_string());
        };
        let resolved = self
            .shared
            .base
            .join(url)
            .map_err(|why| WebhookError::BadAnswer {
                url: self.shared.base.to_string(),
                what: format!("URL {url:?} does not resolve: {why}"),
            })?;
        match resolved.scheme() {
            "http" | "https" => Ok(resolved.to_string()),
            other => Err(WebhookError::BadAnswer {
                url: self.shared.base.to_string(),
                what: format!("URL {url:?} has scheme {other:?}, not http or https"),
            }),
        }
    }

    /// Reports a call event: on the socket (a WebSocket webhook) and to the
    /// `status_url` (queued, never waited for).
    pub(super) async fn status(&mut self, status: Status) {
        self.sequence += 1;
        let request = Request {
            event: Event::Status { status },
            sequence: self.sequence,
            url: None,
            call: &self.details,
        };
        let Ok(body) = serde_json::to_string(&request) else {
            return;
        };
        if let Some(socket) = &mut self.socket
            && let Err(error) = socket.send(&body, false).await
        {
            tracing::debug!(call_id = self.details.call_id, %error, "status not sent on the socket");
        }
        if let Some(statuses) = &self.statuses {
            let _ = statuses.send(body.into_bytes());
        }
    }
}

/// Posts queued call events to the `status_url` until the call's sender is dropped.
async fn deliver_statuses(shared: &Shared, mut queued: mpsc::UnboundedReceiver<Vec<u8>>) {
    let Some(url) = &shared.status_url else {
        return;
    };
    while let Some(body) = queued.recv().await {
        if let Err(error) = shared.http.post(url, &body).await {
            tracing::warn!(%error, "a call event was not delivered to the status_url");
        }
    }
}
