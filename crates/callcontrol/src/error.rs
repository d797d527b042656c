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
    /// The raw body as text (cut at 4 KiB).
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
    /// The connection failed (DNS, TCP, TLS, reset, WebSocket protocol).
    #[error("transport error while {what}: {source}")]
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
        /// The body received (cut at 4 KiB).
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
            Self::Auth { status, .. } => Some(*status),
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
            Self::Decode { body, .. } => Some(body),
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

/// Cuts a body for storage in an error, on a character boundary.
pub(crate) fn truncate_body(body: &str) -> String {
    const LIMIT: usize = 4096;
    if body.len() <= LIMIT {
        return body.to_owned();
    }
    let mut end = LIMIT;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &body[..end])
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
        assert!(cut.len() <= 4100);
        assert!(cut.ends_with('…'));
    }
}
