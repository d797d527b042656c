//! [`AudioOut`]: audio to the caller, written straight onto its connection as the
//! chunks of one long-lived `POST …/stream`.

use std::fmt;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use super::wire::{self, Conn, Head, transport};
use crate::auth::AccessToken;
use crate::client::{Core, Request, observe};
use crate::error::{CallControlError, Result};

/// How often [`AudioOut::send_now`] looks for an early answer from the PBX: every tenth
/// call, 200 ms at the engine's 20 ms media tick. Counted, not timed: a clock read per
/// send cost more than the look itself.
const SENDS_PER_ANSWER_CHECK: u32 = 10;

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
    /// Calls of [`AudioOut::send_now`] left until it looks for an answer (0: this one).
    sends_to_answer_check: u32,
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
            sends_to_answer_check: 0,
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
        self.queue_chunk(audio);
        self.write_pending().await
    }

    /// Bytes handed to the upload so far.
    pub fn bytes_sent(&self) -> u64 {
        self.sent
    }

    /// Makes the upload's connection now instead of with the first chunk, for a writer
    /// that sends without waiting ([`AudioOut::send_now`]). Does nothing once connected.
    ///
    /// # Errors
    /// As [`AudioOut::send`] when the connection cannot be made.
    pub async fn connect(&mut self) -> Result<()> {
        if let Some(failure) = &self.failure {
            return Err(failure.clone());
        }
        if self.connected {
            return Ok(());
        }
        self.started = Instant::now();
        let conn = wire::open(&self.core, "POST", &self.request.path, &self.token, true).await;
        let conn = conn.inspect_err(|error| self.failure = Some(error.clone()))?;
        self.conn = Some(conn);
        self.connected = true;
        Ok(())
    }

    /// [`AudioOut::send`] without waiting, for a writer on a clock of its own (a media
    /// tick serving many calls): `audio` becomes one chunk, and the chunks are written
    /// as far as the socket takes them now. What it does not take is kept, in order,
    /// and written first by the next call ([`AudioOut::backlog`] says how much; a
    /// backlog that never shrinks is the caller's to call a stall). An empty `audio`
    /// only writes the backlog and looks for an answer. The upload must be connected
    /// ([`AudioOut::connect`]).
    ///
    /// # Errors
    /// As [`AudioOut::send`], except that a 401 ends the upload instead of reopening it
    /// here: the token is invalidated (in the background), so the next upload opened
    /// gets a fresh one. `Closed` when the upload was never connected.
    pub fn send_now(&mut self, audio: &[u8]) -> Result<()> {
        // The PBX answers an upload early only to end it, which is rare: looking costs
        // a system call, so it is done at every tenth write, not at each one (a
        // broken connection shows at the write anyway).
        if self.failure.is_some() || self.sends_to_answer_check == 0 {
            self.sends_to_answer_check = SENDS_PER_ANSWER_CHECK;
            self.check_answer_now()?;
        }
        self.sends_to_answer_check -= 1;
        if !self.connected {
            return Err(self.closed());
        }
        if !audio.is_empty() {
            self.queue_chunk(audio);
        }
        self.write_pending_now()
    }

    /// Appends `audio` as one HTTP chunk to what is waiting to be written.
    fn queue_chunk(&mut self, audio: &[u8]) {
        if self.written == self.pending.len() {
            self.pending.clear();
            self.written = 0;
        }
        push_chunk_size(&mut self.pending, audio.len());
        self.pending.extend_from_slice(audio);
        self.pending.extend_from_slice(b"\r\n");
        self.sent += audio.len() as u64;
        self.counter.increment(audio.len() as u64);
    }

    /// Takes the upload's socket out of tokio's reactor, for a writer that only ever
    /// calls [`AudioOut::send_now`] on a clock of its own: the socket then wakes no
    /// runtime worker (each PBX acknowledgement would otherwise), and each `send_now`
    /// is one system call. The async methods still work, polling the socket every few
    /// milliseconds. The upload must be connected ([`AudioOut::connect`]).
    ///
    /// # Errors
    /// `Closed` when it is not connected, `Transport` when the socket cannot be taken
    /// out (the upload is then over).
    pub fn detach(&mut self) -> Result<()> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(self.closed());
        };
        match conn.detach() {
            Ok(()) => Ok(()),
            Err(error) => Err(self.failed(error)),
        }
    }

    /// Bytes of framed chunks [`AudioOut::send_now`] could not write yet.
    pub fn backlog(&self) -> usize {
        self.pending.len() - self.written
    }

    /// Writes what the socket takes of the queued chunks now, without waiting.
    fn write_pending_now(&mut self) -> Result<()> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(self.closed());
        };
        let mut outcome = Ok(());
        while self.written < self.pending.len() {
            match conn.write_now(&self.pending[self.written..]) {
                Poll::Ready(Ok(0)) => {
                    outcome = Err(std::io::ErrorKind::WriteZero.into());
                    break;
                }
                Poll::Ready(Ok(wrote)) => self.written += wrote,
                Poll::Ready(Err(error)) => {
                    outcome = Err(error);
                    break;
                }
                // The socket is full: the rest waits for the next call.
                Poll::Pending => break,
            }
        }
        if outcome.is_ok()
            && let Poll::Ready(Err(error)) = conn.flush_now()
        {
            outcome = Err(error);
        }
        match outcome {
            Ok(()) => Ok(()),
            Err(error) => {
                // A refusal explains the break better than the break itself.
                self.check_answer_now()?;
                Err(self.failed(error))
            }
        }
    }

    /// [`AudioOut::check_answer`] without waiting: the PBX's answer, when one came,
    /// ends the upload; a refusal's body is what has arrived of it.
    fn check_answer_now(&mut self) -> Result<()> {
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
            let read = match conn.read_now(&mut piece) {
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
            let head = match wire::parse_head(&self.core, &mut self.answer) {
                Ok(None) => continue,
                Ok(Some((head, len))) => {
                    self.answer.drain(..len);
                    head
                }
                Err(error) => return Err(self.failed(error)),
            };
            observe(
                &self.core.settings.pbx_label,
                &self.request,
                &head.status.to_string(),
                self.started.elapsed(),
            );
            self.conn = None;
            if head.status == 401 {
                tracing::debug!(path = %self.request.path, "401 on audio upload: the token is renewed for the next one");
                let (core, token) = (Arc::clone(&self.core), self.token.clone());
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move { core.tokens.invalidate(&token).await });
                }
            }
            let failure = if head.is_success() {
                // An early success still ends the upload: nothing more is heard.
                self.closed()
            } else {
                let mut head = head;
                let body = wire::body_so_far(&mut head, std::mem::take(&mut self.answer));
                wire::rejection(&self.core, "POST", &self.request.path, &head, &body)
            };
            self.failure = Some(failure.clone());
            return Err(failure);
        }
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
            let read = match conn.read_now(&mut piece) {
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

/// Appends a chunk's size line (`{len:x}\r\n`). By hand: through `core::fmt` it took
/// a tenth of the time of writing a chunk, once per call every tick.
fn push_chunk_size(out: &mut Vec<u8>, len: usize) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = [0u8; 2 * std::mem::size_of::<usize>()];
    let mut at = hex.len();
    let mut rest = len;
    loop {
        at -= 1;
        hex[at] = DIGITS[rest & 0xf];
        rest >>= 4;
        if rest == 0 {
            break;
        }
    }
    out.extend_from_slice(&hex[at..]);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod chunk_size {
    use super::push_chunk_size;

    /// The size line is the length in lower-case hex, as `{:x}` writes it.
    #[test]
    fn a_chunk_size_line_is_the_length_in_hex() {
        for len in [0, 1, 9, 10, 15, 16, 255, 320, 640, 4096, 65535, usize::MAX] {
            let mut line = Vec::new();
            push_chunk_size(&mut line, len);
            assert_eq!(line, format!("{len:x}\r\n").into_bytes(), "{len}");
        }
    }
}
