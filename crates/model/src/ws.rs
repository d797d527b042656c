//! WebSocket messages of `/callcontrol/ws`: server events (snake_case) and the
//! request/response pair (PascalCase, as 3CX's own types declare them).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{AttachedData, DiversionReason, EntityPath, EntityPathError, EventType};

/// One event frame sent by the PBX.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WsEnvelope {
    /// Increasing number of the event on this connection.
    #[serde(default)]
    pub sequence: u64,
    /// The event.
    pub event: WsEvent,
}

/// The event inside a [`WsEnvelope`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WsEvent {
    /// What happened.
    pub event_type: EventType,
    /// REST path of the entity concerned, e.g. `/callcontrol/800/participants/12`.
    pub entity: String,
    /// `null` on upserts and removals; `{"dtmf_input": ...}` on DTMF; a
    /// [`WsResponse`] on replies.
    #[serde(default)]
    pub attached_data: Option<Value>,
}

impl WsEvent {
    /// Parses [`WsEvent::entity`].
    ///
    /// # Errors
    /// When the entity is not a call-control path this crate understands.
    pub fn entity_path(&self) -> Result<EntityPath, EntityPathError> {
        self.entity.parse()
    }

    /// The DTMF digits of a DTMF event, if it carries any.
    pub fn dtmf_input(&self) -> Option<&str> {
        self.attached_data.as_ref()?.get("dtmf_input")?.as_str()
    }
}

/// `attached_data` of a DTMF event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DtmfData {
    /// The digit(s) pressed.
    pub dtmf_input: String,
}

/// A request sent over the socket (3CX's `CallControlRequest` wrapper).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WsRequest {
    /// Chosen by the client and echoed in the reply.
    #[serde(rename = "RequestID")]
    pub request_id: String,
    /// The REST path, e.g. `/callcontrol/800/participants/12/routeto`.
    pub path: String,
    /// Action parameters; absent for reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_data: Option<WsRequestData>,
}

/// Parameters of a [`WsRequest`]: the action body in PascalCase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct WsRequestData {
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DiversionReason>,
    /// Where to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// Data to attach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached_data: Option<AttachedData>,
}

/// The reply to a [`WsRequest`], delivered as an event of type 4 in `attached_data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WsResponse {
    /// The request's id.
    #[serde(rename = "RequestID")]
    pub request_id: String,
    /// The request's path.
    pub path: String,
    /// HTTP status of the operation.
    pub status_code: u16,
    /// What the same HTTP call would have returned.
    #[serde(default)]
    pub response: Value,
}
