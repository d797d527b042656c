//! Request heads read before the router sees them: which requests are audio streams
//! (served on a socket of their own), and the heads of the answers written there.

use axum::body::Body as AxumBody;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};

use super::chunked::Body;

/// A request head longer than this is left to the HTTP server (which refuses it).
pub(crate) const MAX_HEAD: usize = 16 * 1024;

/// What the start of a connection holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// Not all of it yet.
    Incomplete,
    /// A request that is not an audio stream (or not readable here): the HTTP server
    /// serves the connection.
    Other,
    /// The complete head, `len` bytes, of an audio stream request.
    Stream { len: usize },
}

/// Looks at the first bytes of a connection.
pub(crate) fn classify(buf: &[u8]) -> Start {
    let Some(line_end) = find(buf, b"\r\n") else {
        return match buf.len() >= MAX_HEAD {
            true => Start::Other,
            false => Start::Incomplete,
        };
    };
    if !is_stream_line(&buf[..line_end]) {
        return Start::Other;
    }
    match find(buf, b"\r\n\r\n") {
        Some(end) => Start::Stream { len: end + 4 },
        None if buf.len() >= MAX_HEAD => Start::Other,
        None => Start::Incomplete,
    }
}

/// `GET|POST /callcontrol/{dn}/participants/{id}/stream HTTP/1.1`
fn is_stream_line(line: &[u8]) -> bool {
    let Ok(line) = std::str::from_utf8(line) else {
        return false;
    };
    let mut words = line.split(' ');
    let (Some(method), Some(target), Some("HTTP/1.1"), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return false;
    };
    if method != "GET" && method != "POST" {
        return false;
    }
    let path = target.split('?').next().unwrap_or_default();
    let parts: Vec<&str> = path.split('/').collect();
    matches!(
        parts.as_slice(),
        ["", "callcontrol", dn, "participants", id, "stream"] if !dn.is_empty() && !id.is_empty()
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// A stream request read from its head: what the router gets, and how its body (a
/// POST's audio) is framed.
pub(crate) struct StreamRequest {
    /// The request, with an empty body.
    pub(crate) request: Request<AxumBody>,
    /// The framing of the body that follows the head.
    pub(crate) body: Body,
    /// Whether the client waits for `100 Continue` before sending the body.
    pub(crate) expects_continue: bool,
}

/// Parses a complete stream request head; `None` when it is not valid HTTP/1.1 (the
/// HTTP server then answers it).
pub(crate) fn parse(head: &[u8]) -> Option<StreamRequest> {
    let mut slots = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut slots);
    if !matches!(parsed.parse(head), Ok(httparse::Status::Complete(_))) {
        return None;
    }
    let method = Method::from_bytes(parsed.method?.as_bytes()).ok()?;
    let mut builder = Request::builder().method(method).uri(parsed.path?);
    let mut headers = HeaderMap::new();
    for field in parsed.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(field.value).ok()?;
        headers.append(name, value);
    }
    let body = framing(&headers)?;
    let expects_continue = headers
        .get(header::EXPECT)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if let Some(all) = builder.headers_mut() {
        *all = headers;
    }
    let request = builder.body(AxumBody::empty()).ok()?;
    Some(StreamRequest {
        request,
        body,
        expects_continue,
    })
}

/// The body's framing; `None` for framing this server does not read (left to the HTTP
/// server, which refuses it).
fn framing(headers: &HeaderMap) -> Option<Body> {
    if let Some(encoding) = headers.get(header::TRANSFER_ENCODING) {
        let encoding = encoding.to_str().ok()?.trim();
        return encoding.eq_ignore_ascii_case("chunked").then(Body::chunked);
    }
    match headers.get(header::CONTENT_LENGTH) {
        Some(length) => length.to_str().ok()?.trim().parse().ok().map(Body::Length),
        None => Some(Body::Length(0)),
    }
}

/// An answer's status line and headers, with `extra` headers after them and the blank
/// line that ends the head. The connection closes after the stream: it says so.
pub(crate) fn answer_head(
    status: StatusCode,
    headers: &HeaderMap,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    for (name, value) in headers {
        if name == header::CONTENT_LENGTH
            || name == header::TRANSFER_ENCODING
            || name == header::CONNECTION
        {
            continue;
        }
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    for (name, value) in [("date", date.as_str()), ("connection", "close")]
        .into_iter()
        .chain(extra.iter().copied())
    {
        head.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    head
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_requests_are_told_from_the_rest() {
        let get = b"GET /callcontrol/800/participants/7/stream HTTP/1.1\r\nhost: x\r\n\r\n";
        assert_eq!(classify(get), Start::Stream { len: get.len() });
        assert_eq!(classify(&get[..30]), Start::Incomplete);
        assert_eq!(classify(&get[..60]), Start::Incomplete);
        let post = b"POST /callcontrol/800/participants/7/stream?x=1 HTTP/1.1\r\n\r\nbody";
        assert_eq!(
            classify(post),
            Start::Stream {
                len: post.len() - 4
            }
        );
        for other in [
            &b"GET /callcontrol HTTP/1.1\r\n"[..],
            b"POST /callcontrol/800/participants/7/answer HTTP/1.1\r\n",
            b"PUT /callcontrol/800/participants/7/stream HTTP/1.1\r\n",
            b"GET /callcontrol//participants/7/stream HTTP/1.1\r\n",
            b"GET /callcontrol/800/participants/7/stream HTTP/1.0\r\n",
            b"PRI * HTTP/2.0\r\n",
        ] {
            assert_eq!(
                classify(other),
                Start::Other,
                "{}",
                String::from_utf8_lossy(other)
            );
        }
        assert_eq!(classify(&[b'a'; MAX_HEAD]), Start::Other);
    }

    #[test]
    fn heads_give_the_request_and_its_framing() {
        let head = b"POST /callcontrol/800/participants/7/stream HTTP/1.1\r\nAuthorization: Bearer t\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n";
        let parsed = parse(head).expect("valid");
        assert_eq!(parsed.request.method(), Method::POST);
        assert_eq!(
            parsed.request.uri().path(),
            "/callcontrol/800/participants/7/stream"
        );
        assert_eq!(parsed.request.headers()["authorization"], "Bearer t");
        assert_eq!(parsed.body, Body::chunked());
        assert!(parsed.expects_continue);
        let sized = parse(
            b"POST /callcontrol/800/participants/7/stream HTTP/1.1\r\ncontent-length: 640\r\n\r\n",
        );
        assert_eq!(sized.expect("valid").body, Body::Length(640));
        let get = parse(b"GET /callcontrol/800/participants/7/stream HTTP/1.1\r\n\r\n");
        assert_eq!(get.expect("valid").body, Body::Length(0));
        assert!(parse(b"POST /callcontrol/800/participants/7/stream HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n").is_none());
        assert!(parse(b"POST /callcontrol/800/participants/7/stream HTTP/1.1\r\ncontent-length: x\r\n\r\n").is_none());
    }

    #[test]
    fn answer_heads_say_the_connection_closes() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        let head = answer_head(
            StatusCode::OK,
            &headers,
            &[("transfer-encoding", "chunked")],
        );
        let text = String::from_utf8(head).expect("ascii");
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("content-type: application/octet-stream\r\n"));
        assert!(text.contains("connection: close\r\n"));
        assert!(text.contains("transfer-encoding: chunked\r\n"));
        assert!(!text.contains("content-length"));
        assert!(text.ends_with("\r\n\r\n"));
    }
}
