//! One audio stream's connection: plain TCP or TLS, watched by tokio's reactor until it
//! is *detached* ([`Conn::detach`]) for a reader and writer on a clock of its own.
//!
//! A media tick reads and writes each call's sockets at every tick whatever they hold,
//! so it needs no readiness events. A socket the reactor watches still produces them:
//! every chunk of the caller's audio arriving wakes a parked runtime worker for nothing
//! (the tick reads it later anyway), hundreds of times per tick with hundreds of calls.
//! A detached socket is a non-blocking `std` socket the reactor does not know; TLS on it
//! is driven by hand through rustls' buffers. A detached connection still works
//! through [`AsyncRead`]/[`AsyncWrite`] for the rare waits (the answer to a finished
//! upload, the caller's last words after a hang-up), by polling it every
//! [`RETRY`] instead of being woken.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;
use tokio_tungstenite::MaybeTlsStream;

/// How often a detached connection that is waited on is tried again.
const RETRY: Duration = Duration::from_millis(5);

/// One audio stream's connection.
pub(crate) struct Conn {
    inner: Inner,
}

enum Inner {
    /// Watched by the reactor: waits are woken by readiness events.
    Watched(Box<MaybeTlsStream<TcpStream>>),
    /// Not watched: read and written only when asked.
    Detached(Box<Detached>),
    /// Between the two (only while detaching, or after detaching failed).
    Gone,
}

struct Detached {
    socket: std::net::TcpStream,
    tls: Option<rustls::ClientConnection>,
    /// The wake-up of a task waiting on this connection.
    retry: Option<Pin<Box<Sleep>>>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.inner {
            Inner::Watched(_) => "watched",
            Inner::Detached(_) => "detached",
            Inner::Gone => "gone",
        };
        f.debug_struct("Conn").field("state", &state).finish()
    }
}

impl From<MaybeTlsStream<TcpStream>> for Conn {
    fn from(stream: MaybeTlsStream<TcpStream>) -> Self {
        Self {
            inner: Inner::Watched(Box::new(stream)),
        }
    }
}

impl Conn {
    /// Takes the socket out of tokio's reactor: from now on it produces no readiness
    /// events, and [`Conn::read_now`]/[`Conn::write_now`] make one system call each.
    /// Does nothing when already detached.
    ///
    /// # Errors
    /// When the socket cannot be taken out (the connection is then unusable).
    pub(super) fn detach(&mut self) -> io::Result<()> {
        let stream = match std::mem::replace(&mut self.inner, Inner::Gone) {
            Inner::Watched(stream) => *stream,
            other => {
                self.inner = other;
                return Ok(());
            }
        };
        let (socket, tls) = match stream {
            MaybeTlsStream::Plain(tcp) => (tcp.into_std()?, None),
            MaybeTlsStream::Rustls(tls) => {
                let (tcp, connection) = tls.into_inner();
                (tcp.into_std()?, Some(connection))
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "an audio connection is plain TCP or rustls",
                ));
            }
        };
        // `into_std` leaves it non-blocking; say so rather than rely on it.
        socket.set_nonblocking(true)?;
        self.inner = Inner::Detached(Box::new(Detached {
            socket,
            tls,
            retry: None,
        }));
        Ok(())
    }

    /// Reads what the connection holds now, without waiting and without arranging a
    /// wake-up: `Pending` when nothing is there, `Ready(Ok(0))` at its end.
    pub(super) fn read_now(&mut self, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match &mut self.inner {
            Inner::Watched(stream) => {
                let mut context = Context::from_waker(futures::task::noop_waker_ref());
                let mut read = ReadBuf::new(buf);
                match Pin::new(&mut **stream).poll_read(&mut context, &mut read) {
                    Poll::Ready(Ok(())) => Poll::Ready(Ok(read.filled().len())),
                    Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
                    Poll::Pending => Poll::Pending,
                }
            }
            Inner::Detached(detached) => pending_on_would_block(detached.read(buf)),
            Inner::Gone => Poll::Ready(Err(gone())),
        }
    }

    /// Writes what the connection takes of `buf` now, without waiting: `Pending` when
    /// it takes nothing.
    pub(super) fn write_now(&mut self, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &mut self.inner {
            Inner::Watched(stream) => {
                let mut context = Context::from_waker(futures::task::noop_waker_ref());
                Pin::new(&mut **stream).poll_write(&mut context, buf)
            }
            Inner::Detached(detached) => pending_on_would_block(detached.write(buf)),
            Inner::Gone => Poll::Ready(Err(gone())),
        }
    }

    /// Pushes out what TLS holds of earlier writes, without waiting: `Pending` while
    /// some is left.
    pub(super) fn flush_now(&mut self) -> Poll<io::Result<()>> {
        match &mut self.inner {
            Inner::Watched(stream) => {
                let mut context = Context::from_waker(futures::task::noop_waker_ref());
                Pin::new(&mut **stream).poll_flush(&mut context)
            }
            Inner::Detached(detached) => pending_on_would_block(detached.flush_tls()),
            Inner::Gone => Poll::Ready(Err(gone())),
        }
    }
}

fn gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the audio connection was lost while being taken out of the reactor",
    )
}

fn pending_on_would_block<T>(result: io::Result<T>) -> Poll<io::Result<T>> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::WouldBlock => Poll::Pending,
        other => Poll::Ready(other),
    }
}

impl Detached {
    /// One non-blocking read: `WouldBlock` when nothing is there.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(tls) = self.tls.as_mut() else {
            return retry_interrupted(|| recv(&self.socket, buf));
        };
        loop {
            match tls.reader().read(buf) {
                Ok(read) => return Ok(read),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
                Err(error) => return Err(error),
            }
            // No plaintext buffered: take what the socket has (one read) and decrypt it.
            let read = retry_interrupted(|| tls.read_tls(&mut self.socket))?;
            if read == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the PBX closed the TLS connection without close_notify",
                ));
            }
            tls.process_new_packets()
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
            // A key update or alert to answer goes out now, as far as it can.
            while tls.wants_write() {
                if retry_interrupted(|| tls.write_tls(&mut self.socket)).is_err() {
                    break;
                }
            }
        }
    }

    /// One non-blocking write of plaintext: TLS takes it only once earlier records are
    /// out, so what the socket has not taken stays with the caller.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.tls.is_none() {
            return retry_interrupted(|| send(&self.socket, buf));
        }
        self.flush_tls()?;
        let tls = self.tls.as_mut().expect("checked above");
        let taken = tls.writer().write(buf)?;
        // Out as far as the socket takes it; the rest goes with the next call.
        match self.flush_tls() {
            Ok(()) => Ok(taken),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(taken),
            Err(error) => Err(error),
        }
    }

    /// Writes out the TLS records rustls holds: `WouldBlock` while some are left.
    fn flush_tls(&mut self) -> io::Result<()> {
        let Some(tls) = self.tls.as_mut() else {
            return Ok(());
        };
        while tls.wants_write() {
            retry_interrupted(|| tls.write_tls(&mut self.socket))?;
        }
        Ok(())
    }

    /// `result` as a poll: `WouldBlock` becomes `Pending`, with a retry armed to wake
    /// `cx` (the socket sends no events).
    fn poll_result<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: io::Result<T>,
    ) -> Poll<io::Result<T>> {
        match result {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                self.wait(cx);
                Poll::Pending
            }
            other => Poll::Ready(other),
        }
    }

    /// Arms a retry that wakes `cx`.
    fn wait(&mut self, cx: &mut Context<'_>) {
        // A reader on a clock of its own polls with the no-op waker: it is never woken,
        // so it needs no timer either.
        if cx.waker().will_wake(futures::task::noop_waker_ref()) {
            return;
        }
        let retry = self
            .retry
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(RETRY)));
        if retry.as_mut().poll(cx).is_ready() {
            retry.as_mut().reset(tokio::time::Instant::now() + RETRY);
            // Registers the new deadline with `cx`.
            let _ = retry.as_mut().poll(cx);
        }
    }
}

/// One `recv` on a plain socket. Straight to the system call: `std`'s goes through
/// libc's wrapper, which marks a thread cancellation point around it (2% of the engine's
/// CPU at 1024 calls, for two system calls per call every 40 ms).
fn recv(socket: &std::net::TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    rustix::net::recv(socket, buf, rustix::net::RecvFlags::empty())
        .map(|(read, _)| read)
        .map_err(io::Error::from)
}

/// One `send` on a plain socket, as [`recv`]; a peer that has gone raises no `SIGPIPE`
/// (as with `std`'s).
fn send(socket: &std::net::TcpStream, buf: &[u8]) -> io::Result<usize> {
    rustix::net::send(socket, buf, rustix::net::SendFlags::NOSIGNAL).map_err(io::Error::from)
}

fn retry_interrupted<T>(mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match op() {
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.inner {
            Inner::Watched(stream) => Pin::new(&mut **stream).poll_read(cx, buf),
            Inner::Detached(detached) => {
                let read = detached.read(buf.initialize_unfilled());
                detached
                    .poll_result(cx, read)
                    .map_ok(|read| buf.advance(read))
            }
            Inner::Gone => Poll::Ready(Err(gone())),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.inner {
            Inner::Watched(stream) => Pin::new(&mut **stream).poll_write(cx, buf),
            Inner::Detached(detached) => {
                let written = detached.write(buf);
                detached.poll_result(cx, written)
            }
            Inner::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.inner {
            Inner::Watched(stream) => Pin::new(&mut **stream).poll_flush(cx),
            Inner::Detached(detached) => {
                let flushed = detached.flush_tls();
                detached.poll_result(cx, flushed)
            }
            Inner::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.inner {
            Inner::Watched(stream) => Pin::new(&mut **stream).poll_shutdown(cx),
            Inner::Detached(detached) => {
                if let Some(tls) = detached.tls.as_mut() {
                    tls.send_close_notify();
                }
                let flushed = detached.flush_tls();
                match detached.poll_result(cx, flushed) {
                    Poll::Ready(Ok(())) => {
                        Poll::Ready(detached.socket.shutdown(std::net::Shutdown::Write))
                    }
                    other => other,
                }
            }
            Inner::Gone => Poll::Ready(Err(gone())),
        }
    }
}
