//! The plain-TCP server: HTTP/1.1 (and h2c) through hyper, except audio streams.
//!
//! A connection whose first request is an audio stream (`GET`/`POST
//! …/participants/{id}/stream`) has that request's head read here and handled by the
//! router like any other (faults, journal, checks and errors are the same); when the
//! handler accepts the stream, its socket leaves tokio's reactor and the media clock
//! reads and writes it at each tick ([`crate::wire`]): no task, channel or wake-up per
//! 20 ms chunk, and POSTed audio plays from the moment the kernel says it arrived. The
//! connection closes after the stream, which its answer says (`Connection: close`).
//! Every other connection is hyper's, from its first byte.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::routes::stream::{OwnSocket, TakeOver, TakeOverSlot};
use crate::state::Shared;
use crate::wire::head::{self, Start, StreamRequest};
use crate::wire::socket::stamp_arrivals;
use crate::wire::stream::{RawGet, RawPost};

/// An error answer's body larger than this is cut (they are small JSON documents).
const MAX_ANSWER_BODY: usize = 1 << 20;
/// How long a refused stream's request body is read and discarded after the answer,
/// so that closing the connection does not reset it before the client reads the answer.
const LINGER: Duration = Duration::from_secs(2);

/// Serves `router` on `listener` until the simulator shuts down: one task per connection.
pub(crate) async fn serve(listener: TcpListener, router: Router, shared: Arc<Shared>) {
    let shutdown = shared.shutdown.clone();
    while let Some((socket, _)) = accept(&listener, &shutdown).await {
        tokio::spawn(connection(socket, router.clone(), shared.clone()));
    }
}

/// The next connection (small writes sent at once), or `None` at `shutdown`.
pub(crate) async fn accept(
    listener: &TcpListener,
    shutdown: &CancellationToken,
) -> Option<(TcpStream, SocketAddr)> {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return None,
            accepted = listener.accept() => match accepted {
                Ok((mut socket, peer)) => {
                    crate::sim::no_delay(&mut socket);
                    return Some((socket, peer));
                }
                Err(error) => {
                    // Out of file descriptors and the like: wait, then go on serving.
                    tracing::warn!(%error, "sim accept");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// One connection: its first request decides who serves it.
async fn connection(mut socket: TcpStream, router: Router, shared: Arc<Shared>) {
    let shutdown = shared.shutdown.clone();
    let mut start = BytesMut::with_capacity(1024);
    let head_len = loop {
        match head::classify(&start) {
            Start::Stream { len } => break Some(len),
            Start::Other => break None,
            Start::Incomplete => {}
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            read = socket.read_buf(&mut start) => match read {
                Ok(0) | Err(_) if start.is_empty() => return,
                // Whatever hyper makes of a truncated head.
                Ok(0) | Err(_) => break None,
                Ok(_) => {}
            },
        }
    };
    let parsed = head_len.and_then(|len| head::parse(&start[..len]).map(|parsed| (len, parsed)));
    match parsed {
        Some((len, request)) => {
            let body = start.split_off(len);
            stream(socket, request, body, router).await;
        }
        None => http(Prefixed::new(start.freeze(), socket), router, shutdown).await,
    }
}

/// Serves a connection through hyper (HTTP/1.1 with upgrades for the event WebSocket,
/// or HTTP/2) until it ends or the simulator shuts down.
pub(crate) async fn http<Io>(io: Io, router: Router, shutdown: CancellationToken)
where
    Io: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let io = hyper_util::rt::TokioIo::new(io);
    let service = hyper_util::service::TowerToHyperService::new(router);
    let builder =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    let connection = builder.serve_connection_with_upgrades(io, service);
    tokio::select! {
        _ = shutdown.cancelled() => {}
        result = connection => {
            if let Err(error) = result {
                tracing::debug!(%error, "sim connection ended");
            }
        }
    }
}

/// A stream request: the router answers it; an accepted stream goes to the media clock.
async fn stream(mut socket: TcpStream, parsed: StreamRequest, early: BytesMut, router: Router) {
    let StreamRequest {
        mut request,
        body,
        expects_continue,
    } = parsed;
    let post = request.method() == axum::http::Method::POST;
    request.extensions_mut().insert(OwnSocket);
    let Ok(response) = router.oneshot(request).await;
    let take = response
        .extensions()
        .get::<TakeOverSlot>()
        .and_then(TakeOverSlot::take);
    let Some(TakeOver {
        core,
        bridged,
        ticket,
    }) = take
    else {
        refuse(socket, response, post).await;
        return;
    };
    let (status, headers) = (response.status(), response.headers().clone());
    if post && expects_continue {
        // A client gone before its stream began: the ticket's drop journals it.
        let Ok(()) = socket.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await else {
            return;
        };
    }
    let Ok(socket) = socket.into_std() else {
        return;
    };
    if post {
        if let Err(error) = stamp_arrivals(&socket) {
            tracing::debug!(%error, "sim stream: no arrival times");
        }
        let answer = head::answer_head(status, &headers, &[("content-length", "0")]);
        let post = RawPost::new(
            socket,
            body,
            answer,
            (Instant::now(), early),
            bridged,
            ticket,
        );
        if let Err(post) = core.media().attach_post(post) {
            post.answer("call media ended");
        }
    } else {
        // The answer's head goes out when the stream is attached, not before: a client
        // that has it may have the caller speak at once, and must hear it.
        let head = head::answer_head(status, &headers, &[("transfer-encoding", "chunked")]);
        let get = RawGet::new(socket, &head, ticket);
        if let Err(get) = core.media().attach_get(get, bridged) {
            get.finish("call media ended");
        }
    }
}

/// Writes the router's answer to a stream request it did not accept (an error, a
/// fault), then closes the connection, reading what the client still sends for a
/// moment so that the close does not reset the answer away.
async fn refuse(mut socket: TcpStream, response: axum::response::Response, post: bool) {
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, MAX_ANSWER_BODY)
        .await
        .unwrap_or_default();
    let length = body.len().to_string();
    let mut out = head::answer_head(parts.status, &parts.headers, &[("content-length", &length)]);
    if parts.status != StatusCode::NOT_MODIFIED {
        out.extend_from_slice(&body);
    }
    if socket.write_all(&out).await.is_err() {
        return;
    }
    let _ = socket.shutdown().await;
    if post {
        let mut sink = vec![0u8; 4096];
        let _ = tokio::time::timeout(LINGER, async {
            while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
        })
        .await;
    }
}

/// A connection with bytes already read from it in front.
struct Prefixed {
    prefix: Bytes,
    io: TcpStream,
}

impl Prefixed {
    fn new(prefix: Bytes, io: TcpStream) -> Self {
        Self { prefix, io }
    }
}

impl AsyncRead for Prefixed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.prefix.is_empty() {
            let take = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..take]);
            self.prefix.advance(take);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
