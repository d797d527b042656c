//! Call audio: [`AudioIn`] reads the caller (`GET …/participants/{id}/stream`),
//! [`AudioOut`] talks to the caller (one long-lived chunked `POST …/stream`).
//!
//! Both carry raw PCM s16le, 8 kHz, mono (16 bytes per millisecond).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::Stream;
use reqwest::Method;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;
use tokio::time::{Instant, Sleep};
use voicebot_model::{Dn, ParticipantId};

use crate::client::{Client, Core, Deadline, Request};
use crate::error::{CallControlError, Result};
use crate::rest::participant_path;
use crate::retry::Backoff;

/// The caller's audio as it arrives: a stream of byte chunks, which may split a sample
/// unless [`AudioIn::whole_samples`] is set. Ends when the PBX ends the stream (the
/// participant left); a broken connection yields one `Err` and then ends. With an
/// idle timeout ([`crate::ClientBuilder::audio_idle_timeout`]), a stream that delivers
/// nothing for that long yields one `Timeout` error and then ends.
pub struct AudioIn {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    path: String,
    whole_samples: bool,
    carry: Option<u8>,
    finished: bool,
    received: u64,
    idle: Option<IdleTimer>,
}

/// Ends a stream that stays open but silent: a PBX may keep a dead stream open.
struct IdleTimer {
    limit: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl fmt::Debug for AudioIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudioIn")
            .field("path", &self.path)
            .field("whole_samples", &self.whole_samples)
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl AudioIn {
    fn new(response: reqwest::Response, path: String, idle_timeout: Option<Duration>) -> Self {
        Self {
            body: Box::pin(response.bytes_stream()),
            path,
            whole_samples: false,
            carry: None,
            finished: false,
            received: 0,
            idle: idle_timeout.map(|limit| IdleTimer {
                limit,
                sleep: Box::pin(tokio::time::sleep(limit)),
            }),
        }
    }

    /// Makes every chunk an even number of bytes, carrying an odd trailing byte over
    /// to the next chunk, so each chunk holds whole 16-bit samples. A final odd byte
    /// at the end of the stream is dropped.
    #[must_use]
    pub fn whole_samples(mut self) -> Self {
        self.whole_samples = true;
        self
    }

    /// Bytes received from the PBX so far.
    pub fn bytes_received(&self) -> u64 {
        self.received
    }

    fn align(&mut self, chunk: Bytes) -> Option<Bytes> {
        if !self.whole_samples {
            return Some(chunk);
        }
        let mut joined = match self.carry.take() {
            Some(byte) => {
                let mut joined = BytesMut::with_capacity(chunk.len() + 1);
                joined.extend_from_slice(&[byte]);
                joined.extend_from_slice(&chunk);
                joined.freeze()
            }
            None => chunk,
        };
        if joined.len() % 2 == 1 {
            self.carry = joined.last().copied();
            joined.truncate(joined.len() - 1);
        }
        (!joined.is_empty()).then_some(joined)
    }
}

impl Stream for AudioIn {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.finished {
                return Poll::Ready(None);
            }
            match self.body.as_mut().poll_next(cx) {
                Poll::Pending => {
                    let Some(idle) = self.idle.as_mut() else {
                        return Poll::Pending;
                    };
                    if idle.sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    let limit = idle.limit;
                    self.finished = true;
                    tracing::warn!(path = %self.path, ?limit, "audio stream silent; giving up on it");
                    return Poll::Ready(Some(Err(CallControlError::Timeout {
                        what: format!("audio from {} (nothing for {limit:?})", self.path),
                        after: Some(limit),
                    })));
                }
                Poll::Ready(None) => {
                    self.finished = true;
                    if self.carry.take().is_some() {
                        tracing::debug!(path = %self.path, "audio stream ended mid-sample; odd byte dropped");
                    }
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(error))) => {
                    self.finished = true;
                    let what = format!("reading audio from {}", self.path);
                    return Poll::Ready(Some(Err(CallControlError::from_reqwest(
                        what, error, None,
                    ))));
                }
                Poll::Ready(Some(Ok(chunk))) => {
                    if let Some(idle) = self.idle.as_mut() {
                        let deadline = Instant::now() + idle.limit;
                        idle.sleep.as_mut().reset(deadline);
                    }
                    self.received += chunk.len() as u64;
                    metrics::counter!("voicebot_pbx_audio_bytes_total", "direction" => "in")
                        .increment(chunk.len() as u64);
                    if let Some(chunk) = self.align(chunk) {
                        return Poll::Ready(Some(Ok(chunk)));
                    }
                }
            }
        }
    }
}

/// What the upload task reads: audio, or the request to end the body cleanly.
#[derive(Debug)]
enum Chunk {
    Data(Bytes),
    Finish,
}

/// Audio to the caller: one chunked `POST …/stream` kept open for the whole call.
/// Every [`AudioOut::send`] becomes one chunk on the wire; [`AudioOut::finish`] ends
/// the body with the zero-length chunk; dropping it aborts the upload instead.
/// Pacing (staying about half a second ahead of real time) is the caller's job.
pub struct AudioOut {
    sender: Option<mpsc::Sender<Chunk>>,
    task: Option<JoinHandle<Result<()>>>,
    path: String,
    finish_timeout: std::time::Duration,
    sent: u64,
}

impl fmt::Debug for AudioOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudioOut")
            .field("path", &self.path)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl AudioOut {
    /// Queues `audio` as the next chunk, waiting while the queue is full. Empty chunks
    /// are skipped (an empty chunk would end the body).
    ///
    /// # Errors
    /// The PBX's answer if it ended the upload (e.g. `NotFound` once the participant
    /// is gone), `Transport` if the connection broke, `Closed` after a clean end.
    ///
    /// # Cancellation
    /// Safe: a cancelled send queues nothing.
    pub async fn send(&mut self, audio: Bytes) -> Result<()> {
        if audio.is_empty() {
            return Ok(());
        }
        let len = audio.len() as u64;
        let sender = self.sender.as_ref().ok_or_else(|| self.closed())?;
        match sender.send(Chunk::Data(audio)).await {
            Ok(()) => {
                self.sent += len;
                metrics::counter!("voicebot_pbx_audio_bytes_total", "direction" => "out")
                    .increment(len);
                Ok(())
            }
            Err(_) => Err(self.outcome().await.err().unwrap_or_else(|| self.closed())),
        }
    }

    /// Bytes handed to the upload so far.
    pub fn bytes_sent(&self) -> u64 {
        self.sent
    }

    /// Ends the body cleanly (zero-length chunk) and waits for the PBX's answer.
    ///
    /// # Errors
    /// The PBX's refusal, a broken connection, or `Timeout` when the PBX does not
    /// answer within the request timeout after the body ended.
    pub async fn finish(mut self) -> Result<()> {
        if let Some(sender) = self.sender.take() {
            // If the task is gone already, its outcome below says why.
            let _ = sender.send(Chunk::Finish).await;
        }
        match tokio::time::timeout(self.finish_timeout, self.outcome()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(CallControlError::Timeout {
                what: format!("waiting for the answer to POST {}", self.path),
                after: Some(self.finish_timeout),
            }),
        }
    }

    /// Waits for the upload task and returns its result (once).
    async fn outcome(&mut self) -> Result<()> {
        self.sender = None;
        let Some(task) = self.task.as_mut() else {
            return Err(self.closed());
        };
        let outcome = match task.await {
            Ok(outcome) => outcome,
            Err(error) => Err(CallControlError::Closed {
                what: format!("audio upload task failed: {error}"),
            }),
        };
        self.task = None;
        outcome
    }

    fn closed(&self) -> CallControlError {
        CallControlError::Closed {
            what: format!("audio upload to {}", self.path),
        }
    }
}

impl Drop for AudioOut {
    fn drop(&mut self) {
        // Aborting drops the request mid-body: the PBX sees the connection close
        // without a terminating chunk, as with 3CX's own AbortController.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The request body: chunks from the shared receiver until `Finish` (clean end) or
/// until the sender is dropped without it (an error, which aborts the request). The
/// receiver is shared so that a second body can take over after a 401.
fn body_stream(
    receiver: Arc<Mutex<mpsc::Receiver<Chunk>>>,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures::stream::unfold(Some(receiver), |state| async move {
        let receiver = state?;
        let next = receiver.lock().await.recv().await;
        match next {
            Some(Chunk::Data(bytes)) => Some((Ok(bytes), Some(receiver))),
            Some(Chunk::Finish) => None,
            None => Some((
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "audio upload dropped without finish",
                )),
                None,
            )),
        }
    })
}

async fn upload(
    core: Arc<Core>,
    request: Request,
    receiver: Arc<Mutex<mpsc::Receiver<Chunk>>>,
) -> Result<()> {
    let mut reauthenticated = false;
    loop {
        let token = core.tokens.token().await?;
        let body = reqwest::Body::wrap_stream(body_stream(receiver.clone()));
        let response = core
            .send_once_with(
                &request,
                &token,
                Some(body),
                Some("application/octet-stream"),
            )
            .await?;
        let status = response.status();
        if status.as_u16() == 401 && !reauthenticated {
            tracing::debug!(path = %request.path, "401 on audio upload: re-authenticating once");
            core.tokens.invalidate(&token).await;
            reauthenticated = true;
            continue;
        }
        if status.is_success() {
            return Ok(());
        }
        return Err(core.rejection(&request, response).await);
    }
}

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
            match core.send(&request).await {
                Ok(response) => {
                    return Ok(AudioIn::new(response, path, settings.audio_idle_timeout));
                }
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
    /// Token errors at once; the PBX's answer to the upload itself comes out of
    /// [`AudioOut::send`] or [`AudioOut::finish`].
    pub async fn audio_to(&self, dn: &Dn, id: ParticipantId) -> Result<AudioOut> {
        let core = self.core().clone();
        // Fail early on credentials rather than on the first send.
        core.tokens.token().await?;
        let path = format!("{}/stream", participant_path(dn, id));
        let request = Request {
            method: Method::POST,
            path: path.clone(),
            endpoint: "stream_out",
            json: None,
            deadline: Deadline::Unlimited,
            timeout: None,
        };
        let (sender, receiver) = mpsc::channel(core.settings.audio_out_buffer);
        let finish_timeout = core.settings.request_timeout;
        let task = tokio::spawn(upload(core, request, Arc::new(Mutex::new(receiver))));
        Ok(AudioOut {
            sender: Some(sender),
            task: Some(task),
            path,
            finish_timeout,
            sent: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    fn audio_in(chunks: Vec<&'static [u8]>) -> AudioIn {
        let stream = futures::stream::iter(
            chunks
                .into_iter()
                .map(|chunk| Ok(Bytes::from_static(chunk))),
        );
        AudioIn {
            body: Box::pin(stream),
            path: "/test".into(),
            whole_samples: true,
            carry: None,
            finished: false,
            received: 0,
            idle: None,
        }
    }

    #[tokio::test]
    async fn whole_samples_carries_odd_bytes() {
        let chunks: Vec<Bytes> = audio_in(vec![b"\x01", b"\x02\x03", b"\x04\x05\x06", b"\x07"])
            .map(|chunk| chunk.unwrap())
            .collect()
            .await;
        assert_eq!(
            chunks,
            vec![
                Bytes::from_static(b"\x01\x02"),
                Bytes::from_static(b"\x03\x04\x05\x06")
            ]
        );
        assert!(chunks.iter().all(|chunk| chunk.len() % 2 == 0));
    }

    #[tokio::test]
    async fn body_ends_cleanly_on_finish_and_errors_when_dropped() {
        let (sender, receiver) = mpsc::channel(4);
        let receiver = Arc::new(Mutex::new(receiver));
        sender
            .send(Chunk::Data(Bytes::from_static(b"ab")))
            .await
            .unwrap();
        sender.send(Chunk::Finish).await.unwrap();
        let items: Vec<_> = body_stream(receiver).collect().await;
        assert_eq!(items.len(), 1);
        assert!(items[0].is_ok());

        let (sender, receiver) = mpsc::channel(4);
        sender
            .send(Chunk::Data(Bytes::from_static(b"ab")))
            .await
            .unwrap();
        drop(sender);
        let items: Vec<_> = body_stream(Arc::new(Mutex::new(receiver))).collect().await;
        assert_eq!(items.len(), 2);
        assert!(items[1].is_err());
    }
}
