//! OData error bodies (`{"error": {"code", "message", "details"}}`, reference §7.8).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A refusal, rendered as an OData error with its status.
#[derive(Debug, Clone)]
pub(crate) struct XapiError {
    pub(crate) status: StatusCode,
    pub(crate) code: String,
    pub(crate) message: String,
    /// `(code, message, target)`.
    pub(crate) details: Vec<(String, String, String)>,
}

pub(crate) type XapiResult<T> = Result<T, XapiError>;

impl XapiError {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// 400 for a malformed query or body.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 400 for a rule broken by one property, with a detail naming it.
    pub(crate) fn invalid(target: &str, code: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "ValidationFailed".to_owned(),
            message: "One or more validation errors occurred.".to_owned(),
            details: vec![(code.to_owned(), message, target.to_owned())],
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Forbidden", message)
    }
}

impl IntoResponse for XapiError {
    fn into_response(self) -> Response {
        let details: Vec<_> = self
            .details
            .iter()
            .map(|(code, message, target)| json!({"code": code, "message": message, "target": target}))
            .collect();
        let mut error = json!({"code": self.code, "message": self.message, "target": null});
        if !details.is_empty() {
            error["details"] = serde_json::Value::Array(details);
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}
