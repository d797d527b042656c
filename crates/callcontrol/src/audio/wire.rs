//! The two audio streams' HTTP/1.1, written for them: one connection per stream
//! (plain TCP or TLS on the client's [`crate::TlsConfig`]), a request head with the
//! bearer token, and the PBX's answer read into small buffers sized for 8 kHz PCM.
//!
//! A general HTTP client keeps two connection tasks, a pool entry and read buffers of
//! several kilobytes per stream, and hands every 20 ms chunk from task to task. The
//! streams are long-lived, never pooled and carry a few hundred bytes at a time, so
//! the call's media task reads and writes their sockets itself.

use std::io;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::MaybeTlsStream;
use url::Host;

use super::chunked::Chunked;
use crate::auth::AccessToken;
use crate::client::{Core, sensitive_bearer};
use crate::error::{CallControlError, Rejection, Result, reason_of};

pub(super) use super::conn::Conn;

/// The longest response head read (3CX's are a few hundred bytes).
const HEAD_LIMIT: usize = 16 * 1024;
/// The most of a refusal's body kept for the error.
const BODY_LIMIT: usize = 64 * 1024;

/// How the body of an answer is delimited.
#[derive(Debug, Clone)]
pub(super) enum Framing {
    /// `Transfer-Encoding: chunked`.
    Chunked(Chunked),
    /// `Content-Length`: this many bytes left.
    Length(u64),
    /// Until the connection closes.
    Close,
}

impl Framing {
    /// Whether the whole body has been read.
    pub(super) fn is_done(&self) -> bool {
        match self {
            Self::Chunked(chunked) => chunked.is_done(),
            Self::Length(left) => *left == 0,
            Self::Close => false,
        }
    }

    /// Takes the next payload out of `input`, at most `max` bytes: returns the bytes
    /// of `input` used and where the payload is within them.
    pub(super) fn decode(
        &mut self,
        input: &[u8],
        max: usize,
    ) -> io::Result<(usize, std::ops::Range<usize>)> {
        match self {
            Self::Chunked(chunked) => chunked
                .decode(input, max)
                .map(|step| (step.consumed, step.data))
                .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error)),
            Self::Length(left) => {
                let take = (*left).min(input.len() as u64).min(max as u64) as usize;
                *left -= take as u64;
                Ok((take, 0..take))
            }
            Self::Close => {
                let take = input.len().min(max);
                Ok((take, 0..take))
            }
        }
    }
}

/// The head of the PBX's answer.
#[derive(Debug, Clone)]
pub(super) struct Head {
    pub(super) status: u16,
    pub(super) framing: Framing,
    pub(super) location: Option<String>,
}

impl Head {
    pub(super) fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Opens a connection to the PBX and writes the head of `method path` with `token`;
/// `upload` makes it a chunked `application/octet-stream` body. TCP and TLS set-up are
/// bounded by the client's connect timeout.
pub(super) async fn open(
    core: &Core,
    method: &str,
    path: &str,
    token: &AccessToken,
    upload: bool,
) -> Result<Conn> {
    let bearer = sensitive_bearer(token)?;
    let what = || format!("connecting for {method} {path}");
    let limit = core.settings.connect_timeout;
    let mut conn = match tokio::time::timeout(limit, connect(core)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(error)) => return Err(transport(what(), error)),
        Err(_) => {
            return Err(CallControlError::Timeout {
                what: what(),
                after: Some(limit),
            });
        }
    };
    let mut head = Vec::with_capacity(512);
    head.extend_from_slice(method.as_bytes());
    head.extend_from_slice(b" ");
    head.extend_from_slice(path.as_bytes());
    head.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    head.extend_from_slice(core.host_header.as_bytes());
    head.extend_from_slice(b"\r\nuser-agent: ");
    head.extend_from_slice(USER_AGENT.as_bytes());
    head.extend_from_slice(b"\r\naccept: */*\r\nauthorization: ");
    head.extend_from_slice(bearer.as_bytes());
    if upload {
        head.extend_from_slice(
            b"\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked",
        );
    }
    head.extend_from_slice(b"\r\n\r\n");
    let written = async {
        conn.write_all(&head).await?;
        conn.flush().await
    };
    written
        .await
        .map_err(|error| transport(format!("sending {method} {path}"), error))?;
    Ok(conn)
}

const USER_AGENT: &str = concat!("voicebot/", env!("CARGO_PKG_VERSION"));

async fn connect(core: &Core) -> io::Result<Conn> {
    let port = core.base.port_or_known_default().unwrap_or(443);
    let host = core
        .base
        .host()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the base URL has no host"))?;
    let tcp = match &host {
        Host::Domain(name) => TcpStream::connect((*name, port)).await?,
        Host::Ipv4(ip) => TcpStream::connect((*ip, port)).await?,
        Host::Ipv6(ip) => TcpStream::connect((*ip, port)).await?,
    };
    // Each write is a whole chunk of audio due now: never hold it back.
    tcp.set_nodelay(true)?;
    if core.base.scheme() != "https" {
        return Ok(MaybeTlsStream::Plain(tcp).into());
    }
    let name = match host {
        Host::Domain(name) => ServerName::try_from(name.to_owned())
            .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?,
        Host::Ipv4(ip) => ServerName::from(std::net::IpAddr::V4(ip)),
        Host::Ipv6(ip) => ServerName::from(std::net::IpAddr::V6(ip)),
    };
    let connector = tokio_rustls::TlsConnector::from(core.tls.rustls());
    let tls = connector.connect(name, tcp).await?;
    Ok(MaybeTlsStream::Rustls(tls).into())
}

/// Parses an answer head out of `buf`: the head and its length, or `None` when more
/// bytes are needed. Interim (1xx) answers are skipped.
pub(super) fn parse_head(core: &Core, buf: &mut Vec<u8>) -> io::Result<Option<(Head, usize)>> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let parsed = response
            .parse(buf)
            .map_err(|error| invalid(format!("bad answer head: {error}")))?;
        let httparse::Status::Complete(len) = parsed else {
            if buf.len() > HEAD_LIMIT {
                return Err(invalid(format!("answer head over {HEAD_LIMIT} bytes")));
            }
            return Ok(None);
        };
        let status = response.code.unwrap_or_default();
        if (100..200).contains(&status) {
            buf.drain(..len);
            continue;
        }
        let mut chunked = false;
        let mut length = None;
        let mut location = None;
        let mut version = reqwest::header::HeaderMap::new();
        for header in response.headers.iter() {
            let value = String::from_utf8_lossy(header.value);
            if header.name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if header.name.eq_ignore_ascii_case("content-length") {
                length = Some(
                    value
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| invalid(format!("bad content-length {value:?}")))?,
                );
            } else if header.name.eq_ignore_ascii_case("location") {
                location = Some(value.into_owned());
            } else if header.name.eq_ignore_ascii_case("x-3cx-version")
                && let Ok(value) = reqwest::header::HeaderValue::from_bytes(header.value)
            {
                version.insert("x-3cx-version", value);
            }
        }
        if !version.is_empty() {
            core.tokens.note_version(&version);
        }
        let framing = match (chunked, length) {
            _ if status == 204 || status == 304 => Framing::Length(0),
            (true, _) => Framing::Chunked(Chunked::default()),
            (false, Some(length)) => Framing::Length(length),
            (false, None) => Framing::Close,
        };
        let head = Head {
            status,
            framing,
            location,
        };
        return Ok(Some((head, len)));
    }
}

/// Reads until an answer head is complete; `buf` keeps what came after it.
pub(super) async fn read_head(core: &Core, conn: &mut Conn, buf: &mut Vec<u8>) -> io::Result<Head> {
    loop {
        if let Some((head, len)) = parse_head(core, buf)? {
            buf.drain(..len);
            return Ok(head);
        }
        if read_more(conn, buf).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the PBX closed the connection before answering",
            ));
        }
    }
}

/// Appends what the socket has to `buf`; 0 at the end of the stream.
async fn read_more(conn: &mut Conn, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut piece = [0u8; 1024];
    let read = conn.read(&mut piece).await?;
    buf.extend_from_slice(&piece[..read]);
    Ok(read)
}

/// The body of a refusal, `rest` holding what was read after its head: what arrives,
/// up to [`BODY_LIMIT`]; a body cut short still leaves the status, which is what matters.
pub(super) async fn read_body(conn: &mut Conn, head: &mut Head, mut rest: Vec<u8>) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        if !decode_body(head, &mut rest, &mut body) {
            return body;
        }
        if head.framing.is_done() || body.len() >= BODY_LIMIT {
            return body;
        }
        match read_more(conn, &mut rest).await {
            Ok(0) | Err(_) => return body,
            Ok(_) => {}
        }
    }
}

/// The body of a refusal as far as `rest` (what was read after its head) holds it,
/// for a reader that does not wait for the rest.
pub(super) fn body_so_far(head: &mut Head, mut rest: Vec<u8>) -> Vec<u8> {
    let mut body = Vec::new();
    decode_body(head, &mut rest, &mut body);
    body
}

/// Moves the body bytes `rest` holds into `body`; `false` when the body is malformed.
fn decode_body(head: &mut Head, rest: &mut Vec<u8>, body: &mut Vec<u8>) -> bool {
    while !rest.is_empty() && !head.framing.is_done() {
        let Ok((used, data)) = head.framing.decode(rest, BODY_LIMIT) else {
            return false;
        };
        body.extend_from_slice(&rest[data]);
        rest.drain(..used);
        if used == 0 {
            break;
        }
    }
    true
}

/// The error for a refused stream request, as [`Core::rejection`] makes it for REST.
pub(super) fn rejection(
    core: &Core,
    method: &str,
    path: &str,
    head: &Head,
    body: &[u8],
) -> CallControlError {
    if (300..400).contains(&head.status) {
        return CallControlError::Redirect {
            method: method.to_owned(),
            path: path.to_owned(),
            status: head.status,
            location: crate::error::location_host(&core.url(path), head.location.as_deref()),
        };
    }
    let body = core.tokens.redact(&String::from_utf8_lossy(body));
    CallControlError::from_rejection(Rejection {
        status: head.status,
        method: method.to_owned(),
        path: path.to_owned(),
        reasontext: reason_of(&body),
        body,
    })
}

/// A transport error doing `what`.
pub(super) fn transport(what: String, error: io::Error) -> CallControlError {
    CallControlError::Transport {
        what,
        source: std::sync::Arc::new(error),
    }
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}
