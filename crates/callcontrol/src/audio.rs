//! Call audio: [`AudioIn`] reads the caller (`GET …/participants/{id}/stream`),
//! [`AudioOut`] talks to the caller (one long-lived chunked `POST …/stream`).
//!
//! Both carry raw PCM s16le, 8 kHz, mono (16 bytes per millisecond). Each stream has a
//! connection of its own, read and written by whoever holds the stream (a call's media
//! task) with no task of its own in between ([`wire`]): same TLS roots, bearer token,
//! one re-authentication on 401 and error variants as the REST calls.

mod chunked;
mod conn;
mod input;
mod output;
mod wire;

use reqwest::Method;
use tokio::time::Instant;
use voicebot_model::{Dn, ParticipantId};

pub use self::input::AudioIn;
pub use self::output::AudioOut;
use crate::client::{Client, Core, Deadline, Request, observe};
use crate::error::{CallControlError, Result};
use crate::rest::participant_path;
use crate::retry::Backoff;

impl Client {
    /// Opens the caller's audio (`GET …/participants/{id}/stream`). While the leg is
    /// still connecting the PBX answers 404 or 424; those (and 5xx/transport errors)
    /// are retried with a 50 ms → 500 ms backoff for up to the builder's
    /// `audio_open_timeout`.
    ///
    /// # Errors
    /// The last 404/424 when the stream never became available, any other status
    /// variant at once, `Timeout` when no response headers arrive in time.
    pub async fn audio_from(&self, dn: &Dn, id: ParticipantId) -> Result<AudioIn> {
        let core = self.core();
        let path = format!("{}/stream", participant_path(dn, id));
        let request = Request {
            method: Method::GET,
            path: path.clone(),
            endpoint: "stream_in",
            json: None,
            deadline: Deadline::Headers,
            timeout: None,
        };
        let settings = &core.settings;
        let give_up = Instant::now() + settings.audio_open_timeout;
        let mut backoff = Backoff::new(settings.audio_open_initial, settings.audio_open_max);
        loop {
            match open_in(core, &request).await {
                Ok(audio) => return Ok(audio),
                Err(error)
                    if error.is_not_found()
                        || error.is_failed_dependency()
                        || error.is_transient() =>
                {
                    let delay = backoff.next_delay();
                    if Instant::now() + delay > give_up {
                        return Err(error);
                    }
                    tracing::debug!(%path, status = ?error.status(), ?delay, "audio stream not ready; retrying");
                    tokio::time::sleep(delay).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Opens the audio channel to the caller (`POST …/participants/{id}/stream`,
    /// chunked). Open it once per call and keep it: 3CX's own client does, and a
    /// `Content-Length: 0` or re-opened request may end the stream on the PBX.
    ///
    /// # Errors
    /// Token errors at once; the connection is made with the first chunk, so a
    /// connection failure and the PBX's answer to the upload come out of
    /// [`AudioOut::send`] or [`AudioOut::finish`].
    pub async fn audio_to(&self, dn: &Dn, id: ParticipantId) -> Result<AudioOut> {
        let path = format!("{}/stream", participant_path(dn, id));
        let request = Request {
            method: Method::POST,
            path,
            endpoint: "stream_out",
            json: None,
            deadline: Deadline::Unlimited,
            timeout: None,
        };
        AudioOut::open(self.core().clone(), request).await
    }
}

/// One attempt at opening the caller's audio: the request, then its answer's head
/// within the request timeout, again once with a fresh token after a 401.
async fn open_in(core: &Core, request: &Request) -> Result<AudioIn> {
    let mut reauthenticated = false;
    let limit = core.settings.request_timeout;
    loop {
        let token = core.tokens.token().await?;
        let started = Instant::now();
        let opened = tokio::time::timeout(limit, async {
            let mut conn = wire::open(core, "GET", &request.path, &token, false).await?;
            let mut rest = Vec::new();
            let head = wire::read_head(core, &mut conn, &mut rest)
                .await
                .map_err(|error| wire::transport(format!("GET {}", request.path), error))?;
            Ok::<_, CallControlError>((conn, head, rest))
        })
        .await;
        let (mut conn, mut head, rest) = match opened {
            Ok(Ok(opened)) => opened,
            Ok(Err(error)) => {
                observe(
                    &core.settings.pbx_label,
                    request,
                    "error",
                    started.elapsed(),
                );
                return Err(error);
            }
            Err(_) => {
                observe(
                    &core.settings.pbx_label,
                    request,
                    "timeout",
                    started.elapsed(),
                );
                return Err(CallControlError::Timeout {
                    what: format!("GET {}", request.path),
                    after: Some(limit),
                });
            }
        };
        observe(
            &core.settings.pbx_label,
            request,
            &head.status.to_string(),
            started.elapsed(),
        );
        if head.status == 401 && !reauthenticated {
            tracing::debug!(path = %request.path, "401: re-authenticating once");
            core.tokens.invalidate(&token).await;
            reauthenticated = true;
            continue;
        }
        if head.is_success() {
            let idle = core.settings.audio_idle_timeout;
            return Ok(AudioIn::new(
                conn,
                head.framing,
                &rest,
                request.path.clone(),
                idle,
                &core.settings.pbx_label,
            ));
        }
        let body = tokio::time::timeout(limit, wire::read_body(&mut conn, &mut head, rest))
            .await
            .unwrap_or_default();
        return Err(wire::rejection(core, "GET", &request.path, &head, &body));
    }
}
