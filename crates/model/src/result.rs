//! `CallControlResultResponse`: the body of `makecall` and of participant actions,
//! and (as 3CX's own client reads it) of their error responses.

use serde::{Deserialize, Serialize};

use crate::lenient::null_as_default;
use crate::{FinalStatus, Participant};

/// Result of a call-control request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CallControlResult {
    /// Outcome.
    #[serde(default)]
    pub finalstatus: FinalStatus,
    /// Machine-readable reason (`"None"` on success).
    #[serde(deserialize_with = "null_as_default", default)]
    pub reason: String,
    /// The participant created or affected; after `makecall`, `result.id` is the new leg.
    #[serde(default)]
    pub result: Option<Participant>,
    /// Human-readable failure text.
    #[serde(default)]
    pub reasontext: Option<String>,
}

impl CallControlResult {
    /// A successful result carrying `participant`.
    pub fn success(participant: Participant) -> Self {
        Self {
            finalstatus: FinalStatus::Success,
            reason: "None".to_owned(),
            result: Some(participant),
            reasontext: None,
        }
    }

    /// A failed result with a reason and a human-readable text.
    pub fn failure(
        status: FinalStatus,
        reason: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Self {
            finalstatus: status,
            reason: reason.into(),
            result: None,
            reasontext: Some(text.into()),
        }
    }

    /// Whether the request succeeded (3CX's own client checks `result.id`, so do we,
    /// falling back to `finalstatus`).
    pub fn is_success(&self) -> bool {
        self.result.is_some() || self.finalstatus == FinalStatus::Success
    }
}
