//! The crate's error type: one enum, with the PBX's OData error body where it sent one.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Result alias for XAPI operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The OData error object 3CX returns on every non-2xx response
/// (`{"error": {"code", "message", "target", "details", "innerError"}}`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ODataError {
    /// Machine-readable code (may be empty when the body was not OData).
    #[serde(default)]
    pub code: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// The property or item the error is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Further errors, e.g. one per invalid property.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ODataErrorDetail>,
    /// Server-specific extra data, kept as JSON.
    #[serde(
        default,
        rename = "innerError",
        skip_serializing_if = "Option::is_none"
    )]
    pub inner_error: Option<serde_json::Value>,
}

/// One entry of [`ODataError::details`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ODataErrorDetail {
    /// Machine-readable code.
    #[serde(default)]
    pub code: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// The property the detail is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// The `{"error": …}` envelope around [`ODataError`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ODataErrorBody {
    /// The error itself.
    pub error: ODataError,
}

impl ODataError {
    /// Reads an error body; text that is not an OData error becomes the message, so
    /// nothing the PBX (or a proxy in front of it) said is lost.
    #[must_use]
    pub fn from_body(status: u16, body: &str) -> Self {
        match serde_json::from_str::<ODataErrorBody>(body) {
            Ok(parsed) => parsed.error,
            Err(_) => Self {
                code: String::new(),
                message: match body.trim() {
                    "" => format!("HTTP {status}"),
                    text => text.chars().take(2_000).collect(),
                },
                ..Self::default()
            },
        }
    }
}

impl std::fmt::Display for ODataError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code.is_empty() {
            true => write!(f, "{}", self.message)?,
            false => write!(f, "{}: {}", self.code, self.message)?,
        }
        for detail in &self.details {
            write!(f, "; {}", detail.message)?;
            if let Some(target) = &detail.target {
                write!(f, " ({target})")?;
            }
        }
        Ok(())
    }
}

/// Everything that can go wrong talking to XAPI.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 400: validation failed (duplicate number or e-mail, `Number` changed, bad body).
    #[error("XAPI rejected the request (400): {0}")]
    BadRequest(Box<ODataError>),
    /// 401: the token was missing, expired or revoked (even after one fresh token).
    #[error("XAPI authentication failed (401): {0}")]
    Unauthorized(Box<ODataError>),
    /// 403: the API client's role is too weak (e.g. not system owner).
    #[error("XAPI permission denied (403): {0}")]
    Forbidden(Box<ODataError>),
    /// 404: no such entity, or a malformed function parameter.
    #[error("XAPI entity not found (404): {0}")]
    NotFound(Box<ODataError>),
    /// Any other non-2xx status.
    #[error("XAPI returned HTTP {status}: {body}")]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The error body.
        body: Box<ODataError>,
    },
    /// XAPI answered with a redirect, which is never followed: the request carried
    /// the token, which must not reach another host.
    #[error("XAPI answered {status}, a redirect{}; redirects are never followed, so nothing was sent there (point the URL at the PBX itself)", location.as_deref().map(|host| format!(" to {host}")).unwrap_or_default())]
    Redirect {
        /// The 3xx status.
        status: u16,
        /// Scheme, host and port of the `Location` header, if it named one.
        location: Option<String>,
    },
    /// Getting a bearer token failed.
    #[error("could not get an access token: {0}")]
    Token(Arc<dyn std::error::Error + Send + Sync>),
    /// The request never got a response (connect, TLS, timeout, reset).
    #[error("XAPI transport error: {}", voicebot_callcontrol::describe_chain(&**.0))]
    Transport(Arc<reqwest::Error>),
    /// A 2xx response whose body or headers were not what XAPI sends.
    #[error("unexpected XAPI response: {0}")]
    Protocol(String),
}

impl Error {
    /// Builds the error for a non-2xx status and its body.
    #[must_use]
    pub fn from_status(status: u16, body: &str) -> Self {
        let odata = Box::new(ODataError::from_body(status, body));
        match status {
            400 => Self::BadRequest(odata),
            401 => Self::Unauthorized(odata),
            403 => Self::Forbidden(odata),
            404 => Self::NotFound(odata),
            _ => Self::Status {
                status,
                body: odata,
            },
        }
    }

    /// The HTTP status, when the PBX answered.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::BadRequest(_) => Some(400),
            Self::Unauthorized(_) => Some(401),
            Self::Forbidden(_) => Some(403),
            Self::NotFound(_) => Some(404),
            Self::Status { status, .. } | Self::Redirect { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The PBX's error body, when it answered with an error status.
    #[must_use]
    pub fn odata(&self) -> Option<&ODataError> {
        match self {
            Self::BadRequest(body)
            | Self::Unauthorized(body)
            | Self::Forbidden(body)
            | Self::NotFound(body)
            | Self::Status { body, .. } => Some(body),
            _ => None,
        }
    }

    /// Whether this is a 404.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound(_))
    }
}

impl From<reqwest::Error> for Error {
    fn from(err: reqwest::Error) -> Self {
        Self::Transport(Arc::new(err.without_url()))
    }
}

/// Errors building an [`XapiClient`](crate::XapiClient); separate from request errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The base URL is not an absolute `http`/`https` URL.
    #[error("invalid PBX URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// The HTTP client could not be built (e.g. no TLS provider installed).
    #[error("could not build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    /// The TLS settings could not be made.
    #[error("could not set up TLS: {0}")]
    Tls(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_odata_body() {
        let body = r#"{"error":{"code":"400","message":"Validation failed","target":null,
            "details":[{"code":"DUPLICATE","message":"Number in use","target":"Number"}],
            "innerError":{"trace":"x"}}}"#;
        let err = Error::from_status(400, body);
        let odata = err.odata().expect("400 carries a body");
        assert_eq!(odata.message, "Validation failed");
        assert_eq!(odata.details[0].target.as_deref(), Some("Number"));
        assert!(odata.inner_error.is_some());
        assert!(matches!(err, Error::BadRequest(_)));
    }

    #[test]
    fn non_odata_body_becomes_message() {
        let err = Error::from_status(502, "<html>bad gateway</html>");
        assert_eq!(err.status(), Some(502));
        assert_eq!(
            err.odata().map(|o| o.message.as_str()),
            Some("<html>bad gateway</html>")
        );
        assert_eq!(
            Error::from_status(401, "")
                .odata()
                .map(|o| o.message.as_str()),
            Some("HTTP 401")
        );
    }
}
