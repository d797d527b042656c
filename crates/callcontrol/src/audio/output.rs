//! [`AudioOut`]: audio to the caller, written straight onto its connection as the
//! chunks of one long-lived `POST …/stream`.

use std::fmt;
use std::io::Write as _;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use super::wire::{self, Conn, Head, transport};
use crate::auth::AccessToken;
use crate::client::{Core, Request, observe};
use crate::error::{CallControlError, Result};

/// The first capacity of the buffer chunks are framed in: a 100 ms lead of 8 kHz PCM.
const CHUNK_BUFFER: usize = 1600 + 16;

/// Audio to the caller: one chunked `POST …/stream` kept open for the whole call.
/// Every [`AudioOut::send`] becomes one chunk on the wire, written at once (one system
/// call); [`AudioOut::finish`] ends the body with the zero-length chunk and waits for
/// the PBX's answer; dropping it aborts the upload instead. Pacing (staying a little
/// ahead of real time) is the caller's job.
///
/// The PBX answers only when the body ends, or early when it refuses the upload (the
/// participant is gone): each send looks for such an answer first, without waiting.
pub struct AudioOut {
    core: Arc<Core>,
    request: Request,
    conn: Option<Conn>,
    /// Whether the connection was made (it is made with the first chunk).
    connected: bool,
    /// The token the request went out with (invalidated on a 401).
    token: AccessToken,
    reauthenticated: bool,
    /// Framed chunks not yet written, from `written` on.
    pending: Vec<u8>,
    written: usize,
    /// What the PBX answered so far (normally nothing until the body ends).
    answer: Vec<u8>,
    /// Why the upload is over, once it is.
    failure: Option<CallControlError>,
    finish_timeout: Duration,
    sent: u64,
    counter: metrics::Counter,
    started: Instant,
}

impl fmt::Debug for AudioOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudioOut")
            .field("path", &self.request.path)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl AudioOut {
    /// The upload, with a token; it connects with its first chunk, so audio sent at
    /// once is not lost to the connection's set-up.
    pub(super) async fn open(core: Arc<Core>, request: Request) -> Result<Self> {
        let token = core.tokens.token().await?;
        let started = Instant::now();
        let counter = metrics::counter!(
            "voicebot_pbx_audio_bytes_total",
            "pbx" => Arc::clone(&core.settings.pbx_label),
            "direction" => "out"
        );
        Ok(Self {
            finish_timeout: core.settings.request_timeout,
            core,
            request,
            conn: None,
            connected: false,
            token,
            reauthenticated: false,
            pending: Vec::with_capacity(CHUNK_BUFFER),
            written: 0,
            answer: Vec::new(),
            failure: None,
            sent: 0,
            counter,
            started,
        })
    }

    /// Sends `audio` as the next chunk. Empty chunks are skipped (an empty chunk would
    /// end the body).
    ///
    /// # Errors
    /// The PBX's answer if it ended the upload (e.g. `NotFound` once the participant
    /// is gone), `Transport` if the connection broke, `Closed` after a clean end.
    ///
    /// # Cancellation
    /// Safe: a cancelled send has queued its chunk whole, and the next `send` or
    /// `finish` writes it before anything else.
    pub async fn send(&mut self, audio: impl AsRef<[u8]>) -> Result<()> {
        let audio = audio.as_ref();
        if audio.is_empty() {
            return Ok(());
        }
        self.check_answer().await?;
        if self.written == self.pending.len() {
            self.pending.clear();
            self.written = 0;
        }
        // Writing into a Vec cannot fail.
        let _ = write!(self.pending, "{:x}\r\n", audio.len());
        self.pending.extend_from_slice(audio);
        self.pending.extend_from_slice(b"\r\n");
        self.sent += audio.len() as u64;
        self.counter.increment(audio.len() as u64);
        self.write_pending().await
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
        match tokio::time::timeout(self.finish_timeout, self.end_body()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(CallControlError::Timeout {
                what: format!("waiting for the answer to POST {}", self.request.path),
                after: Some(self.finish_timeout),
            }),
        }
    }

    async fn end_body(&mut self) -> Result<()> {
        loop {
            self.check_answer().await?;
            self.pending.extend_from_slice(b"0\r\n\r\n");
            self.write_pending().await?;
            let Some(conn) = self.conn.as_mut() else {
                return Err(self.closed());
            };
            let mut head = wire::read_head(&self.core, conn, &mut self.answer)
                .await
                .map_err(|error| self.failed(error))?;
            if self.reopen_after_401(&head).await? {
                continue;
            }
            return self.answered(&mut head).await;
        }
    }

    /// Writes the queued chunks; on a broken connection, the PBX's answer when it sent
    /// one before closing (a refusal explains the break better).
    async fn write_pending(&mut self) -> Result<()> {
        if !self.connected {
            self.started = Instant::now();
            let conn = wire::open(&self.core, "POST", &self.request.path, &self.token, true).await;
            let conn = conn.inspect_err(|error| self.failure = Some(error.clone()))?;
            self.conn = Some(conn);
            self.connected = true;
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(self.closed());
        };
        let (pending, done) = (&self.pending, &mut self.written);
        let written = async {
            while *done < pending.len() {
                let wrote = conn.write(&pending[*done..]).await?;
                if wrote == 0 {
                    return Err(std::io::ErrorKind::WriteZero.into());
                }
                *done += wrote;
            }
            conn.flush().await
        };
        match written.await {
            Ok(()) => Ok(()),
            Err(error) => {
                self.check_answer().await?;
                Err(self.failed(error))
            }
        }
    }

    /// Looks for an answer the PBX sent before the body ended, without waiting for
    /// one: a 401 reopens the upload once with a fresh token (the audio sent meanwhile
    /// is lost), any other answer ends it.
    async fn check_answer(&mut self) -> Result<()> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        if !self.connected {
            return Ok(());
        }
        loop {
            let Some(conn) = self.conn.as_mut() else {
                return Err(self.closed());
            };
            let mut piece = [0u8; 512];
            let read = match wire::read_now(conn, &mut piece) {
                Poll::Pending => return Ok(()),
                Poll::Ready(Ok(0)) => {
                    let error = std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the PBX closed the upload without an answer",
                    );
                    return Err(self.failed(error));
                }
                Poll::Ready(Ok(read)) => read,
                Poll::Ready(Err(error)) => return Err(self.failed(error)),
            };
            self.answer.extend_from_slice(&piece[..read]);
            let parsed = wire::parse_head(&self.core, &mut self.answer);
            let mut head = match parsed {
                Ok(None) => continue,
                Ok(Some((head, len))) => {
                    self.answer.drain(..len);
                    head
                }
                Err(error) => return Err(self.failed(error)),
            };
            if self.reopen_after_401(&head).await? {
                continue;
            }
            let outcome = self.answered(&mut head).await;
            // An early success still ends the upload: nothing more is heard.
            let failure = outcome.err().unwrap_or_else(|| self.closed());
            self.failure = Some(failure.clone());
            return Err(failure);
        }
    }

    /// On the first 401, invalidates the token and sends the request again on a new
    /// connection with a fresh one; whether it did.
    async fn reopen_after_401(&mut self, head: &Head) -> Result<bool> {
        if head.status != 401 || self.reauthenticated {
            return Ok(false);
        }
        tracing::debug!(path = %self.request.path, "401 on audio upload: re-authenticating once");
        observe(
            &self.core.settings.pbx_label,
            &self.request,
            "401",
            self.started.elapsed(),
        );
        self.reauthenticated = true;
        self.conn = None;
        self.answer.clear();
        self.pending.clear();
        self.written = 0;
        self.core.tokens.invalidate(&self.token).await;
        self.token = self.core.tokens.token().await?;
        self.started = Instant::now();
        let conn = wire::open(&self.core, "POST", &self.request.path, &self.token, true).await;
        let conn = conn.inspect_err(|error| self.failure = Some(error.clone()))?;
        self.conn = Some(conn);
        Ok(true)
    }

    /// The outcome of the upload from the PBX's answer `head` (its body read for a
    /// refusal); the connection is done.
    async fn answered(&mut self, head: &mut Head) -> Result<()> {
        observe(
            &self.core.settings.pbx_label,
            &self.request,
            &head.status.to_string(),
            self.started.elapsed(),
        );
        let mut conn = self.conn.take();
        if head.is_success() {
            return Ok(());
        }
        let body = match conn.as_mut() {
            Some(conn) => wire::read_body(conn, head, std::mem::take(&mut self.answer)).await,
            None => Vec::new(),
        };
        Err(wire::rejection(
            &self.core,
            "POST",
            &self.request.path,
            head,
            &body,
        ))
    }

    /// Ends the upload for a broken connection.
    fn failed(&mut self, error: std::io::Error) -> CallControlError {
        self.conn = None;
        let failure = transport(format!("sending audio to {}", self.request.path), error);
        self.failure = Some(failure.clone());
        failure
    }

    fn closed(&self) -> CallControlError {
        CallControlError::Closed {
            what: format!("audio upload to {}", self.request.path),
        }
    }
}
