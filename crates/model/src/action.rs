//! Request bodies: `makecall` and participant actions.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DiversionReason;

/// Data attached to a call or participant: a string → string map.
pub type AttachedData = BTreeMap<String, String>;

/// Body of `POST /callcontrol/{dn}[/devices/{deviceid}]/makecall`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MakeCallRequest {
    /// Number or DN to call.
    pub destination: String,
    /// Seconds to wait for an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// Data attached to the new call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attacheddata: Option<AttachedData>,
}

impl MakeCallRequest {
    /// A request that calls `destination` with no timeout or attached data.
    pub fn to(destination: impl Into<String>) -> Self {
        Self {
            destination: destination.into(),
            ..Self::default()
        }
    }
}

/// Body of `POST /callcontrol/{dn}/participants/{id}/{action}`. Every field is
/// optional; an empty body serialises as `{}`, which the PBX requires (an empty
/// body without a JSON content type is refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ActionRequest {
    /// Why (for `divert` and `routeto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DiversionReason>,
    /// Where to (for `divert`, `routeto`, `transferto`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Seconds to try the destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u32>,
    /// Data to attach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attacheddata: Option<AttachedData>,
}

impl ActionRequest {
    /// A request naming only a destination.
    pub fn to(destination: impl Into<String>) -> Self {
        Self {
            destination: Some(destination.into()),
            ..Self::default()
        }
    }
}

/// A participant action: the last segment of the action path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// End this participant's part in the call.
    Drop,
    /// Answer (direct-control devices and route points only).
    Answer,
    /// Replace a ringing participant by another destination.
    Divert,
    /// Add an alternative route; the participant stays until delivery succeeds.
    RouteTo,
    /// Transfer a connected participant.
    TransferTo,
    /// Attach data to this participant.
    AttachParticipantData,
    /// Attach data to the other party.
    AttachPartyData,
    /// Any other action name, sent as given.
    Other(String),
}

impl Action {
    /// The path segment of the action.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Drop => "drop",
            Self::Answer => "answer",
            Self::Divert => "divert",
            Self::RouteTo => "routeto",
            Self::TransferTo => "transferto",
            Self::AttachParticipantData => "attach_participant_data",
            Self::AttachPartyData => "attach_party_data",
            Self::Other(name) => name,
        }
    }
}

impl From<&str> for Action {
    fn from(name: &str) -> Self {
        match name {
            "drop" => Self::Drop,
            "answer" => Self::Answer,
            "divert" => Self::Divert,
            "routeto" => Self::RouteTo,
            "transferto" => Self::TransferTo,
            "attach_participant_data" => Self::AttachParticipantData,
            "attach_party_data" => Self::AttachPartyData,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_action_body_is_an_empty_object() {
        assert_eq!(
            serde_json::to_string(&ActionRequest::default()).unwrap(),
            "{}"
        );
    }

    #[test]
    fn action_names_round_trip() {
        for name in [
            "drop",
            "answer",
            "divert",
            "routeto",
            "transferto",
            "attach_participant_data",
            "attach_party_data",
            "park",
        ] {
            assert_eq!(Action::from(name).as_str(), name);
        }
        assert_eq!(Action::from("park"), Action::Other("park".into()));
    }
}
