//! [`CallControlError`]: every way a PBX request can fail, and [`BuildError`] for
//! settings that cannot make a client.

use std::fmt;
use std::sync::Arc;

use voicebot_model::{CallLeg, Dn, ParticipantId};

/// A boxed, cloneable error source (transport and WebSocket errors).
pub type BoxError = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Result alias of this crate.
pub type Result<T, E = CallControlError> = std::result::Result<T, E>;

/// What the PBX answered when it refused a request: the HTTP status, the request it
/// refused and the body it sent (with `reasontext` pulled out when the body is a
/// `CallControlResultResponse`).
#[derive(Clone, PartialEq, Eq)]
pub struct Rejection {
    /// HTTP status code.
    pub status: u16,
    /// Request method (`GET`, `POST`).
    pub method: String,
    /// Request path, e.g. `/callcontrol/800/participants/12/drop`.
    pub path: String,
    /// `reasontext` of the body (or `reason`, or an OAuth `error_description`), if any.
    pub reasontext: Option<String>,
    /// The body as text: cut at 512 bytes, with the secret and any token replaced
    /// by `<redacted>`.
    pub body: String,
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("status", &self.status)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("reasontext", &self.reasontext)
            .field("body", &self.body)
            .finish()
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} answered {}", self.method, self.path, self.status)?;
        match &self.reasontext {
            Some(text) => write!(f, ": {text}"),
            None if !self.body.is_empty() => write!(f, ": {}", self.body),
            None => Ok(()),
        }
    }
}

/// A failed Call Control request. Each HTTP status class the PBX uses has its own
/// variant, so callers can tell "no such participant" (404) from "not yet connected"
/// (424) or "not allowed on this leg" (403) without parsing text.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CallControlError {
    /// 400: the request was malformed.
    #[error("bad request: {0}")]
    BadRequest(Rejection),
    /// 401: the token was refused even after one re-authentication.
    #[error("unauthorized: {0}")]
    Unauthorized(Rejection),
    /// 403: authenticated, but this DN or leg may not be controlled by us.
    #[error("forbidden: {0}")]
    Forbidden(Rejection),
    /// 404: unknown DN, device or participant (or a stream of a leg not connected yet).
    #[error("not found: {0}")]
    NotFound(Rejection),
    /// 422: the PBX could not carry out the request with these parameters.
    #[error("unprocessable: {0}")]
    Unprocessable(Rejection),
    /// 424: a dependency is missing, e.g. the leg's media is not available.
    #[error("failed dependency: {0}")]
    FailedDependency(Rejection),
    /// 5xx: the PBX failed.
    #[error("server error: {0}")]
    Server(Rejection),
    /// Any other non-success status.
    #[error("unexpected status: {0}")]
    OtherStatus(Rejection),
    /// The token endpoint refused the credentials.
    #[error("token request refused ({status}): {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Auth {
        /// HTTP status of the token endpoint.
        status: u16,
        /// OAuth `error` code, e.g. `unauthorized` (or `HTTP <status>` when absent).
        error: String,
        /// OAuth `error_description`.
        description: Option<String>,
    },
    /// The PBX answered with a redirect. Redirects are never followed: the request
    /// carried the credentials or the token, which must not reach another host.
    #[error("{method} {path} answered {status}, a redirect{}; redirects are never followed, so nothing was sent there (point the URL at the PBX itself)", location.as_deref().map(|host| format!(" to {host}")).unwrap_or_default())]
    Redirect {
        /// Request method.
        method: String,
        /// Request path.
        path: String,
        /// The 3xx status.
        status: u16,
        /// Scheme, host and port of the `Location` header, if it named one.
        location: Option<String>,
    },
    /// The PBX accepted an action (2xx) but its answer could not be read. The
    /// action was carried out, so it must not be sent again.
    #[error("{what} was accepted ({status}) but its answer cannot be read ({reason}): {body}")]
    UnreadableAnswer {
        /// The request, e.g. `POST /callcontrol/800/participants/12/drop`.
        what: String,
        /// The 2xx status.
        status: u16,
        /// Why the body did not decode.
        reason: String,
        /// The body (cut and redacted as in [`Rejection::body`]).
        body: String,
    },
    /// The connection failed (DNS, TCP, TLS, reset, WebSocket protocol). The message
    /// carries the whole chain of causes on one line, so a TLS failure says why
    /// (unknown issuer, expired, name mismatch) in its first line.
    #[error("transport error while {what}: {}", describe_chain(source.as_ref()))]
    Transport {
        /// What was being done.
        what: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },
    /// No answer in time.
    #[error("timed out{} while {what}", after_text(*after))]
    Timeout {
        /// What was being done.
        what: String,
        /// How long the client waited, when one deadline applied.
        after: Option<std::time::Duration>,
    },
    /// A success response whose body is not what the API promises.
    #[error("cannot decode {what}: {body}")]
    Decode {
        /// What was expected.
        what: String,
        /// The body received (cut and redacted as in [`Rejection::body`]).
        body: String,
    },
    /// The client was shut down, or an audio stream was already closed.
    #[error("closed: {what}")]
    Closed {
        /// What is closed.
        what: String,
    },
    /// A request of one call leg was refused before it was sent, because the
    /// participant at its DN and id is no longer that leg: the PBX removed it, or gave
    /// the id to another call (ids start again after a PBX restart). See
    /// [`Client::ensure_leg`](crate::Client::ensure_leg).
    #[error("participant {id} on {dn} is no longer call {} leg {}; nothing sent", leg.callid, leg.legid)]
    LegGone {
        /// The DN.
        dn: Dn,
        /// The participant id.
        id: ParticipantId,
        /// The leg the request was for.
        leg: CallLeg,
        /// The leg the PBX has at that id now, if any.
        current: Option<CallLeg>,
    },
}

impl CallControlError {
    /// The HTTP status, for errors that carry one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Auth { status, .. }
            | Self::Redirect { status, .. }
            | Self::UnreadableAnswer { status, .. } => Some(*status),
            other => other.rejection().map(|rejection| rejection.status),
        }
    }

    /// The PBX's `reasontext` (or OAuth `error_description`), if it sent one.
    pub fn reasontext(&self) -> Option<&str> {
        match self {
            Self::Auth { description, .. } => description.as_deref(),
            other => other.rejection()?.reasontext.as_deref(),
        }
    }

    /// The body of the PBX's error response, if any.
    pub fn body(&self) -> Option<&str> {
        match self {
            Self::Decode { body, .. } | Self::UnreadableAnswer { body, .. } => Some(body),
            other => other.rejection().map(|rejection| rejection.body.as_str()),
        }
    }

    /// The refused request, for status errors.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            Self::BadRequest(rejection)
            | Self::Unauthorized(rejection)
            | Self::Forbidden(rejection)
            | Self::NotFound(rejection)
            | Self::Unprocessable(rejection)
            | Self::FailedDependency(rejection)
            | Self::Server(rejection)
            | Self::OtherStatus(rejection) => Some(rejection),
            _ => None,
        }
    }

    /// Whether the PBX answered 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }

    /// Whether the PBX answered 424.
    pub fn is_failed_dependency(&self) -> bool {
        matches!(self, Self::FailedDependency(_))
    }

    /// Whether the credentials or the token were refused.
    pub fn is_auth(&self) -> bool {
        matches!(self, Self::Auth { .. } | Self::Unauthorized(_))
    }

    /// Whether repeating an idempotent request may succeed: 5xx, timeouts and
    /// transport failures. Never true for 4xx.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Server(_) | Self::Timeout { .. } | Self::Transport { .. }
        )
    }

    /// Whether the PBX accepted the request (2xx) although its answer could not be
    /// read ([`CallControlError::UnreadableAnswer`]): the action was carried out and
    /// must be treated as done, never sent again.
    pub fn was_accepted(&self) -> bool {
        matches!(self, Self::UnreadableAnswer { .. })
    }

    /// Whether the PBX answered with a redirect (never followed).
    pub fn is_redirect(&self) -> bool {
        matches!(self, Self::Redirect { .. })
    }

    /// Maps a non-success status to its variant.
    pub(crate) fn from_rejection(rejection: Rejection) -> Self {
        match rejection.status {
            400 => Self::BadRequest(rejection),
            401 => Self::Unauthorized(rejection),
            403 => Self::Forbidden(rejection),
            404 => Self::NotFound(rejection),
            422 => Self::Unprocessable(rejection),
            424 => Self::FailedDependency(rejection),
            500..=599 => Self::Server(rejection),
            _ => Self::OtherStatus(rejection),
        }
    }

    /// Wraps a reqwest error, keeping timeouts apart; `deadline` is the timeout the
    /// request ran under, if any, so the error can say how long it waited.
    pub(crate) fn from_reqwest(
        what: impl Into<String>,
        error: reqwest::Error,
        deadline: Option<std::time::Duration>,
    ) -> Self {
        let what = what.into();
        match error.is_timeout() {
            true => Self::Timeout {
                what,
                after: deadline,
            },
            false => Self::Transport {
                what,
                source: Arc::new(error.without_url()),
            },
        }
    }
}

/// ` after 40 s` (whole seconds when whole, else milliseconds), or nothing.
fn after_text(after: Option<std::time::Duration>) -> String {
    match after {
        Some(after) if after.subsec_millis() == 0 => format!(" after {} s", after.as_secs()),
        Some(after) => format!(" after {} ms", after.as_millis()),
        None => String::new(),
    }
}

/// Pulls a human-readable reason out of an error body: `reasontext`, then `reason`
/// (unless it is the uninformative `"None"`), then an OAuth `error_description`.
pub(crate) fn reason_of(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let text = |key: &str| {
        value
            .get(key)
            .and_then(serde_json::Value::as_str)
            .filter(|text| !text.is_empty() && *text != "None")
            .map(str::to_owned)
    };
    text("reasontext")
        .or_else(|| text("reason"))
        .or_else(|| text("error_description"))
}

/// Longest body kept in an error: enough for any `reasontext`, too short to carry
/// a whole page (or a leaked document) into the logs.
pub(crate) const BODY_LIMIT: usize = 512;

/// Cuts a body for storage in an error, on a character boundary, after replacing
/// anything that looks like a bearer token or a JWT with `<redacted>`. Known secrets
/// are removed before this by [`crate::TokenProvider`]'s redaction.
pub(crate) fn truncate_body(body: &str) -> String {
    let body = redact_token_shapes(body);
    if body.len() <= BODY_LIMIT {
        return body;
    }
    let mut end = BODY_LIMIT;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &body[..end])
}

/// Text fit for an error or a log line when no secret is known: anything shaped
/// like a bearer token or a JWT replaced by `<redacted>`, cut at 512 bytes.
/// [`crate::TokenProvider::redact`] also removes the client secret and its tokens.
pub fn redact_text(text: &str) -> String {
    truncate_body(text)
}

/// `url` with any user-info (`user:password@`) replaced by `***@`, for messages and
/// logs. Text that does not parse as a URL is cut at its user-info the same way.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |end| authority_start + end);
    match url[authority_start..authority_end].rfind('@') {
        Some(at) => format!(
            "{}***{}",
            &url[..authority_start],
            &url[authority_start + at..]
        ),
        None => url.to_owned(),
    }
}

/// Replaces JWTs (`eyJ…` with two dots) and the word after `Bearer ` with
/// `<redacted>`, so a PBX echoing an `Authorization` header or a token never puts
/// it into an error message.
pub(crate) fn redact_token_shapes(text: &str) -> String {
    let is_token_char =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=' | '+' | '/');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let bearer = rest
            .get(..7)
            .is_some_and(|head| head.eq_ignore_ascii_case("bearer "));
        if bearer {
            out.push_str(&rest[..7]);
            let end = rest[7..]
                .find(|c| !is_token_char(c))
                .map_or(rest.len(), |i| i + 7);
            if end > 7 {
                out.push_str("<redacted>");
            }
            rest = &rest[end..];
            continue;
        }
        if rest.starts_with("eyJ") {
            let end = rest.find(|c| !is_token_char(c)).unwrap_or(rest.len());
            if rest[..end].matches('.').count() >= 2 {
                out.push_str("<redacted>");
                rest = &rest[end..];
                continue;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// An error and its sources on one line (`a: b: c`), skipping a source whose text
/// its parent already contains, so the root cause (e.g. rustls' "invalid peer
/// certificate: UnknownIssuer") reaches the first line of the message.
pub fn describe_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    if text.contains("invalid peer certificate")
        || text.contains("certificate") && text.contains("UnknownIssuer")
    {
        text.push_str(" (a PBX behind a private CA needs its CA certificate in pbx.ca_file)");
    }
    text
}

/// `scheme://host:port` of a redirect's `Location` (resolved against the request
/// URL), without path, query or user-info: enough to say where it pointed.
pub(crate) fn location_host(request_url: &str, location: Option<&str>) -> Option<String> {
    let base = url::Url::parse(request_url).ok()?;
    let target = base.join(location?).ok()?;
    let host = target.host_str()?;
    Some(match target.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}", target.scheme()),
        None => format!("{}://{host}", target.scheme()),
    })
}

/// Settings that cannot make a client.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The base URL does not parse or is not `http`/`https`.
    #[error("invalid base URL {url:?}: {reason}")]
    BaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `credentials(..)` was not called.
    #[error("no credentials: call ClientBuilder::credentials")]
    MissingCredentials,
    /// A setting is out of range.
    #[error("invalid setting {name}: {reason}")]
    Setting {
        /// The setting.
        name: &'static str,
        /// Why it is refused.
        reason: String,
    },
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejection(status: u16, body: &str) -> Rejection {
        Rejection {
            status,
            method: "POST".into(),
            path: "/callcontrol/800/participants/1/drop".into(),
            reasontext: reason_of(body),
            body: body.into(),
        }
    }

    #[test]
    fn statuses_map_to_distinct_variants() {
        let cases = [
            (400, "BadRequest"),
            (401, "Unauthorized"),
            (403, "Forbidden"),
            (404, "NotFound"),
            (422, "Unprocessable"),
            (424, "FailedDependency"),
            (503, "Server"),
            (409, "OtherStatus"),
        ];
        for (status, name) in cases {
            let error = CallControlError::from_rejection(rejection(status, ""));
            assert!(
                format!("{error:?}").starts_with(name),
                "{status}: {error:?}"
            );
            assert_eq!(error.status(), Some(status));
        }
    }

    #[test]
    fn reasontext_is_taken_from_the_body() {
        let body = r#"{"finalstatus":"Failed","reason":"None","result":null,"reasontext":"Participant is not ringing"}"#;
        let error = CallControlError::from_rejection(rejection(422, body));
        assert_eq!(error.reasontext(), Some("Participant is not ringing"));
        assert_eq!(error.body(), Some(body));
        assert!(error.to_string().contains("Participant is not ringing"));
        assert_eq!(reason_of(r#"{"reason":"None"}"#), None);
        assert_eq!(reason_of("not json"), None);
    }

    #[test]
    fn transient_is_only_server_timeout_transport() {
        assert!(CallControlError::from_rejection(rejection(502, "")).is_transient());
        assert!(!CallControlError::from_rejection(rejection(404, "")).is_transient());
        let timeout = CallControlError::Timeout {
            what: "POST /callcontrol/800/participants/1/transferto".into(),
            after: Some(std::time::Duration::from_secs(40)),
        };
        assert!(timeout.is_transient());
        assert_eq!(
            timeout.to_string(),
            "timed out after 40 s while POST /callcontrol/800/participants/1/transferto"
        );
    }

    #[test]
    fn long_bodies_are_cut_on_a_char_boundary() {
        let body = "é".repeat(3000);
        let cut = truncate_body(&body);
        assert!(cut.len() <= BODY_LIMIT + '…'.len_utf8());
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn token_shapes_are_redacted() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI4MDAifQ.c2lnbmF0dXJl";
        let body = format!(r#"{{"echo":"Authorization: Bearer abc.DEF-123","token":"{jwt}"}}"#);
        let cut = truncate_body(&body);
        assert!(!cut.contains("abc.DEF-123"), "{cut}");
        assert!(!cut.contains(jwt), "{cut}");
        assert_eq!(
            cut,
            r#"{"echo":"Authorization: Bearer <redacted>","token":"<redacted>"}"#
        );
        // Text that only starts like a JWT stays.
        assert_eq!(redact_token_shapes("eyJust a word"), "eyJust a word");
        assert_eq!(redact_token_shapes("ünïcödé bearer"), "ünïcödé bearer");
    }

    #[test]
    fn the_chain_reaches_the_first_line() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("error sending request")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let inner = std::io::Error::other("invalid peer certificate: UnknownIssuer");
        let error = CallControlError::Transport {
            what: "GET /callcontrol".into(),
            source: Arc::new(Outer(inner)),
        };
        let text = error.to_string();
        assert!(!text.contains('\n'));
        assert!(
            text.starts_with("transport error while GET /callcontrol: error sending request: invalid peer certificate: UnknownIssuer"),
            "{text}"
        );
        assert!(text.contains("pbx.ca_file"), "{text}");
    }

    #[test]
    fn user_info_is_redacted_from_urls() {
        assert_eq!(
            redact_url("https://admin:hunter2@pbx.example.com:5001/x?y=1"),
            "https://***@pbx.example.com:5001/x?y=1"
        );
        assert_eq!(
            redact_url("https://pbx.example.com"),
            "https://pbx.example.com"
        );
        assert_eq!(redact_url("https://a@b@pbx/x@y"), "https://***@pbx/x@y");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn redirect_locations_are_reduced_to_their_origin() {
        assert_eq!(
            location_host(
                "http://127.0.0.1:5001/connect/token",
                Some("https://user:pw@evil.example/steal?x=1")
            ),
            Some("https://evil.example:443".to_owned())
        );
        assert_eq!(
            location_host("http://127.0.0.1:5001/callcontrol", Some("/elsewhere")),
            Some("http://127.0.0.1:5001".to_owned())
        );
        assert_eq!(location_host("http://127.0.0.1:5001/", None), None);
    }
}
