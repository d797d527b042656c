//! Audio streams served on sockets of their own: out of tokio's reactor, read and
//! written by the media clock at each tick (no task, channel or wake-up per chunk).
//! The bytes on the wire are what the HTTP server writes for the same stream: chunked
//! HTTP/1.1 answers, the connection closed after the stream.

use std::fmt::Write as _;
use std::net::TcpStream;

use bytes::{BufMut, BytesMut};
use tokio::time::Instant;

use super::chunked::Body;
use super::socket::{Received, arrival, control_buffer, receive, send_some};
use super::ticket::{Cut, StreamGuard};

/// Bytes a GET stream may have waiting for a client that does not read before further
/// chunks are dropped: about 10 s of audio, as the HTTP server's queue.
const MAX_PENDING: usize = 512 * 330;
/// Reads of one POST stream per tick at most: a client that floods the simulator does
/// not hold up every other call's clock.
const MAX_READS: usize = 64;
/// The read buffer of a POST stream.
const READ_BUFFER: usize = 4096;

/// A stream's journal entry and cut.
#[derive(Debug)]
pub(crate) struct Ticket {
    /// Journals the stream's end when dropped.
    pub(crate) guard: StreamGuard,
    /// The stream's cut.
    pub(crate) cut: Cut,
}

/// A GET stream: the answer's head is written; chunks follow.
#[derive(Debug)]
pub(crate) struct RawGet {
    socket: TcpStream,
    out: BytesMut,
    ticket: Ticket,
}

impl RawGet {
    /// A stream on `socket` (non-blocking) whose answer starts with `head`.
    pub(crate) fn new(socket: TcpStream, head: &[u8], ticket: Ticket) -> Self {
        Self {
            socket,
            out: BytesMut::from(head),
            ticket,
        }
    }

    /// Whether the stream is cut.
    pub(crate) fn is_cut(&self) -> bool {
        self.ticket.cut.is_cut()
    }

    /// Queues one chunk; dropped when the client is 10 s behind (a phone line is lossy).
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        if chunk.is_empty() || self.out.len() + chunk.len() + 16 > MAX_PENDING {
            return;
        }
        // Written in place: no allocation per chunk.
        let _ = write!(self.out, "{:x}\r\n", chunk.len());
        self.out.put_slice(chunk);
        self.out.put_slice(b"\r\n");
        self.ticket.guard.bytes += chunk.len() as u64;
    }

    /// Writes what the socket takes; `false` once the client is gone.
    pub(crate) fn flush(&mut self) -> bool {
        self.out.is_empty() || send_some(&self.socket, &mut self.out).is_ok()
    }

    /// Ends the stream (the last chunk, then the connection closes). Journalled first,
    /// as the HTTP server's streams are: a client that saw the end finds it there.
    pub(crate) fn finish(self, reason: &str) {
        let Self {
            socket,
            mut out,
            mut ticket,
        } = self;
        ticket.guard.reason = reason.to_owned();
        drop(ticket);
        out.put_slice(b"0\r\n\r\n");
        let _ = send_some(&socket, &mut out);
    }
}

/// A POST stream: its head is read; its body arrives.
#[derive(Debug)]
pub(crate) struct RawPost {
    socket: TcpStream,
    body: Body,
    /// The answer's head, written when the body ends.
    answer: Vec<u8>,
    /// Body bytes that came with the head, and when.
    early: Option<(Instant, BytesMut)>,
    buf: Vec<u8>,
    control: Vec<u8>,
    payload: Vec<u8>,
    bridged: bool,
    /// When the stream was last read (found empty or not), or taken over.
    last_read: Option<Instant>,
    ticket: Ticket,
}

impl RawPost {
    /// A stream on `socket` (non-blocking, arrivals stamped) whose body is framed as
    /// `body`; `early` came with the head at its instant. `bridged`: the stream is a
    /// bridged caller's leg (its audio is the caller's speech).
    pub(crate) fn new(
        socket: TcpStream,
        body: Body,
        answer: Vec<u8>,
        early: (Instant, BytesMut),
        bridged: bool,
        ticket: Ticket,
    ) -> Self {
        Self {
            socket,
            body,
            answer,
            last_read: Some(early.0),
            early: Some(early).filter(|(_, bytes)| !bytes.is_empty()),
            buf: vec![0; READ_BUFFER],
            control: control_buffer(),
            payload: Vec::new(),
            bridged,
            ticket,
        }
    }

    /// Whether the stream is a bridged caller's leg.
    pub(crate) fn is_bridged(&self) -> bool {
        self.bridged
    }

    /// Whether the stream is cut.
    pub(crate) fn is_cut(&self) -> bool {
        self.ticket.cut.is_cut()
    }

    /// Reads what has arrived, handing each read's audio to `deliver` with the moment
    /// it arrived and whether the read came late ([`crate::audio::LATE_READ`] after the
    /// previous one: audio coalesced since may have arrived before its stamp says).
    /// Returns why the stream ended, when it has.
    pub(crate) fn read(&mut self, mut deliver: impl FnMut(Instant, &[u8], bool)) -> Option<String> {
        let now = Instant::now();
        let since = self.last_read.replace(now).unwrap_or(now);
        let late = now.saturating_duration_since(since) > crate::audio::LATE_READ;
        let mut deliver = |at, bytes: &[u8]| deliver(at, bytes, late);
        if let Some((at, bytes)) = self.early.take()
            && let Some(end) = self.decode(at, &bytes, &mut deliver)
        {
            return Some(end);
        }
        if self.body.is_done() {
            return Some(self.ended());
        }
        for _ in 0..MAX_READS {
            let mut buf = std::mem::take(&mut self.buf);
            let received = receive(&self.socket, &mut buf, &mut self.control);
            let mut drained = false;
            let end = match received {
                Ok(Received::Data { len, arrived }) => {
                    // A short read took all there was: the next tick reads what comes
                    // after (its arrival stamped), without a read that finds nothing now.
                    drained = len < buf.len();
                    // Bytes the kernel did not stamp (they came before stamps were
                    // turned on, with the request's head) arrived after the last read.
                    let at = arrived.map_or(since, |at| arrival(Some(at)));
                    self.decode(at, &buf[..len], &mut deliver)
                }
                Ok(Received::Nothing) => {
                    self.buf = buf;
                    return None;
                }
                Ok(Received::Closed) | Err(_) => Some("client went away".to_owned()),
            };
            self.buf = buf;
            if end.is_some() || drained {
                return end;
            }
        }
        None
    }

    fn decode(
        &mut self,
        at: Instant,
        bytes: &[u8],
        deliver: &mut impl FnMut(Instant, &[u8]),
    ) -> Option<String> {
        self.payload.clear();
        let decoded = self.body.feed(bytes, &mut self.payload);
        if !self.payload.is_empty() {
            self.ticket.guard.bytes += self.payload.len() as u64;
            deliver(at, &self.payload);
        }
        match decoded {
            // What arrived before the bad frame was played; the rest is discarded.
            Err(error) => Some(format!("invalid body: {error}")),
            Ok(()) if self.body.is_done() => Some(self.ended()),
            Ok(()) => None,
        }
    }

    fn ended(&self) -> String {
        match self.ticket.guard.bytes {
            0 => "empty body".to_owned(),
            _ => "end of body".to_owned(),
        }
    }

    /// Answers the request and closes the connection. Journalled first, as the HTTP
    /// server's streams are: a client that has the answer finds the end there.
    pub(crate) fn answer(self, reason: &str) {
        let Self {
            socket,
            answer,
            mut ticket,
            ..
        } = self;
        ticket.guard.reason = reason.to_owned();
        drop(ticket);
        let _ = send_some(&socket, &mut BytesMut::from(&answer[..]));
    }
}
