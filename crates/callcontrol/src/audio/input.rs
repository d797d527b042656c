//! [`AudioIn`]: the caller's audio, read straight off its connection.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::wire::{Conn, Framing, transport};
use crate::error::{CallControlError, Result};

/// Bytes read from the socket at a time: 96 ms of audio with its chunk framing, more
/// than a media tick's (a reader that fell behind reads twice).
const READ_BUFFER: usize = 1536;

/// The caller's audio as it arrives: a stream of byte chunks, which may split a sample
/// unless [`AudioIn::whole_samples`] is set. Ends when the PBX ends the stream (the
/// participant left); a broken connection yields one `Err` and then ends. With an
/// idle timeout ([`crate::ClientBuilder::audio_idle_timeout`]), a stream that delivers
/// nothing for that long yields one `Timeout` error and then ends.
///
/// [`AudioIn::read`] reads into the caller's buffer without allocating; the `Stream`
/// hands out each read as [`Bytes`].
pub struct AudioIn {
    conn: Conn,
    /// Bytes read off the socket, `start..end` not yet decoded.
    raw: Box<[u8]>,
    start: usize,
    end: usize,
    framing: Framing,
    path: String,
    whole_samples: bool,
    carry: Option<u8>,
    finished: bool,
    received: u64,
    counter: metrics::Counter,
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
    /// The stream on `conn` whose answer head was read; `rest` is what came after it.
    pub(super) fn new(
        conn: Conn,
        framing: Framing,
        rest: &[u8],
        path: String,
        idle_timeout: Option<Duration>,
        pbx: &std::sync::Arc<str>,
    ) -> Self {
        let mut raw = vec![0; READ_BUFFER.max(rest.len())].into_boxed_slice();
        raw[..rest.len()].copy_from_slice(rest);
        Self {
            conn,
            raw,
            start: 0,
            end: rest.len(),
            framing,
            path,
            whole_samples: false,
            carry: None,
            finished: false,
            received: 0,
            counter: metrics::counter!(
                "voicebot_pbx_audio_bytes_total",
                "pbx" => std::sync::Arc::clone(pbx),
                "direction" => "in"
            ),
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

    /// Takes the stream's socket out of tokio's reactor, for a reader that only ever
    /// calls [`AudioIn::read_now`] on a clock of its own: arriving audio then wakes no
    /// runtime worker (hundreds of calls' chunks would, between ticks, for nothing).
    /// [`AudioIn::read`] and the `Stream` still work, polling the socket every few
    /// milliseconds.
    ///
    /// # Errors
    /// `Transport` when the socket cannot be taken out (the stream has then ended).
    pub fn detach(&mut self) -> Result<()> {
        match self.conn.detach() {
            Ok(()) => Ok(()),
            Err(error) => Err(self.fail(error)),
        }
    }

    /// Reads the audio that has arrived into `buf` (all of it that fits), waiting
    /// while none has; `Ok(0)` once the stream has ended. `buf` must hold at least two
    /// bytes.
    ///
    /// # Errors
    /// `Transport` when the connection broke or the body is malformed, `Timeout` from
    /// the idle timeout; the stream has ended after either.
    ///
    /// # Cancellation
    /// Safe: audio read off the socket stays buffered for the next read.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        std::future::poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// [`AudioIn::read`] without waiting: `None` while nothing has arrived. For a
    /// reader on a clock of its own (a media tick), which takes what is there at each
    /// tick and is not woken in between; the idle timeout is checked on each call.
    ///
    /// # Errors
    /// As [`AudioIn::read`].
    pub fn read_now(&mut self, buf: &mut [u8]) -> Option<Result<usize>> {
        let mut context = Context::from_waker(futures::task::noop_waker_ref());
        match self.poll_read(&mut context, buf) {
            Poll::Ready(read) => Some(read),
            Poll::Pending => None,
        }
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, out: &mut [u8]) -> Poll<Result<usize>> {
        if self.finished {
            return Poll::Ready(Ok(0));
        }
        if out.len() < 2 {
            return Poll::Ready(Err(CallControlError::Closed {
                what: format!("reading audio from {} into under two bytes", self.path),
            }));
        }
        let mut filled = 0;
        if let Some(byte) = self.carry.take() {
            out[0] = byte;
            filled = 1;
        }
        let carried = filled;
        let stop = self.fill(cx, out, &mut filled);
        let fresh = (filled - carried) as u64;
        self.received += fresh;
        self.counter.increment(fresh);
        let read = align(self.whole_samples, out, filled, &mut self.carry);
        if read > 0 {
            // A failure after some audio comes out of the next read: the socket
            // reports it again (or its end).
            return Poll::Ready(Ok(read));
        }
        match stop {
            // Both leave something to hand out; should one not, try again rather than
            // report an end.
            Stop::Full | Stop::Drained => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Stop::Done => {
                self.finished = true;
                if self.carry.take().is_some() {
                    tracing::debug!(path = %self.path, "audio stream ended mid-sample; odd byte dropped");
                }
                Poll::Ready(Ok(0))
            }
            Stop::Pending => self.poll_idle(cx),
            Stop::End if matches!(self.framing, Framing::Close) => {
                self.finished = true;
                Poll::Ready(Ok(0))
            }
            Stop::End => {
                let error = std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the PBX closed the connection in the middle of the stream",
                );
                Poll::Ready(Err(self.fail(error)))
            }
            Stop::Failed(error) => Poll::Ready(Err(self.fail(error))),
        }
    }

    /// Decodes buffered payload into `out[*filled..]`, reading the socket while there is
    /// room, until the socket has nothing more: one read that does not fill the buffer
    /// is taken as all there is, so a reader keeping up makes one system call per read.
    fn fill(&mut self, cx: &mut Context<'_>, out: &mut [u8], filled: &mut usize) -> Stop {
        let start = *filled;
        let mut short = false;
        loop {
            while *filled < out.len() && self.start < self.end && !self.framing.is_done() {
                let input = &self.raw[self.start..self.end];
                let (used, data) = match self.framing.decode(input, out.len() - *filled) {
                    Ok(step) => step,
                    Err(error) => return Stop::Failed(error),
                };
                out[*filled..*filled + data.len()].copy_from_slice(&input[data.clone()]);
                *filled += data.len();
                self.start += used;
                if used == 0 {
                    break;
                }
            }
            if *filled == out.len() {
                return Stop::Full;
            }
            if self.framing.is_done() {
                return Stop::Done;
            }
            // At least two bytes, so that a whole-samples read hands out something.
            if short && *filled > start && *filled >= 2 {
                return Stop::Drained;
            }
            // Only framing bytes are left (a few at most): move them to the front.
            self.raw.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            let mut read = ReadBuf::new(&mut self.raw[self.end..]);
            let room = read.remaining();
            match Pin::new(&mut self.conn).poll_read(cx, &mut read) {
                Poll::Pending => return Stop::Pending,
                Poll::Ready(Err(error)) => return Stop::Failed(error),
                Poll::Ready(Ok(())) if read.filled().is_empty() => return Stop::End,
                Poll::Ready(Ok(())) => {
                    let got = read.filled().len();
                    short = got < room;
                    self.end += got;
                    if let Some(idle) = self.idle.as_mut() {
                        idle.sleep.as_mut().reset(Instant::now() + idle.limit);
                    }
                }
            }
        }
    }

    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<Result<usize>> {
        let Some(idle) = self.idle.as_mut() else {
            return Poll::Pending;
        };
        if idle.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let limit = idle.limit;
        self.finished = true;
        tracing::warn!(path = %self.path, ?limit, "audio stream silent; giving up on it");
        Poll::Ready(Err(CallControlError::Timeout {
            what: format!("audio from {} (nothing for {limit:?})", self.path),
            after: Some(limit),
        }))
    }

    fn fail(&mut self, error: std::io::Error) -> CallControlError {
        self.finished = true;
        transport(format!("reading audio from {}", self.path), error)
    }
}

/// Why [`AudioIn::fill`] stopped.
enum Stop {
    /// The reader's buffer is full.
    Full,
    /// The socket had no more for now (a read that did not fill the buffer).
    Drained,
    /// The body is complete.
    Done,
    /// Nothing more has arrived; the task is woken when something does.
    Pending,
    /// The connection ended.
    End,
    /// Reading or decoding failed.
    Failed(std::io::Error),
}

/// The length of `out[..filled]` to hand out: all of it, or in whole-samples mode an
/// even length, the odd last byte kept in `carry` (and nothing when only a carried
/// byte is there).
fn align(whole_samples: bool, out: &[u8], filled: usize, carry: &mut Option<u8>) -> usize {
    if !whole_samples || filled.is_multiple_of(2) {
        return filled;
    }
    *carry = Some(out[filled - 1]);
    filled - 1
}

impl Stream for AudioIn {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut buf = [0u8; READ_BUFFER];
        match self.poll_read(cx, &mut buf) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(0)) => Poll::Ready(None),
            Poll::Ready(Ok(read)) => Poll::Ready(Some(Ok(Bytes::copy_from_slice(&buf[..read])))),
            Poll::Ready(Err(error)) => Poll::Ready(Some(Err(error))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_samples_keeps_the_odd_byte_back() {
        let mut carry = None;
        assert_eq!(align(true, b"\x01\x02\x03", 3, &mut carry), 2);
        assert_eq!(carry, Some(3));
        let mut carry = None;
        assert_eq!(align(true, b"\x01", 1, &mut carry), 0);
        assert_eq!(carry, Some(1));
        let mut carry = None;
        assert_eq!(align(false, b"\x01\x02\x03", 3, &mut carry), 3);
        assert_eq!(carry, None);
        assert_eq!(align(true, b"\x01\x02", 2, &mut carry), 2);
        assert_eq!(carry, None);
    }
}
