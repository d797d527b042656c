//! A call participant: one leg of a call as seen from one DN.

use serde::{Deserialize, Serialize};

use crate::lenient::{empty_when_none, null_as_default, optional_string};
use crate::{DeviceId, Dn, DnType, ParticipantId, ParticipantStatus};

/// A participant record (`CallParticipant`), all 18 fields of the official list.
///
/// Every field tolerates `null`; unset DNs (`""`) read as `None` and unset types
/// (`""` or `"None"`) as [`DnType::None`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Participant {
    /// Participant id, unique within the DN.
    #[serde(deserialize_with = "null_as_default", default)]
    pub id: ParticipantId,
    /// Call state.
    #[serde(deserialize_with = "null_as_default", default)]
    pub status: ParticipantStatus,
    /// The DN this participant belongs to.
    #[serde(deserialize_with = "null_as_default", default)]
    pub dn: Dn,
    /// Display name of the other party.
    #[serde(deserialize_with = "null_as_default", default)]
    pub party_caller_name: String,
    /// DN of the other party (the trunk DN for external calls).
    #[serde(deserialize_with = "null_as_default", default)]
    pub party_dn: Dn,
    /// Caller-id number of the other party.
    #[serde(deserialize_with = "null_as_default", default)]
    pub party_caller_id: String,
    /// DID of the other party; empty in every capture seen so far.
    #[serde(deserialize_with = "null_as_default", default)]
    pub party_did: String,
    /// Device on this DN handling the leg.
    #[serde(
        deserialize_with = "optional_string",
        serialize_with = "empty_when_none",
        default
    )]
    pub device_id: Option<DeviceId>,
    /// Type of the other party's DN.
    #[serde(deserialize_with = "null_as_default", default)]
    pub party_dn_type: DnType,
    /// Whether the device supports remote control, so `answer` works.
    #[serde(deserialize_with = "null_as_default", default)]
    pub direct_control: bool,
    /// Who originated the call.
    #[serde(
        deserialize_with = "optional_string",
        serialize_with = "empty_when_none",
        default
    )]
    pub originated_by_dn: Option<Dn>,
    /// Type of the originating DN.
    #[serde(deserialize_with = "null_as_default", default)]
    pub originated_by_type: DnType,
    /// Who referred (transferred) the call.
    #[serde(
        deserialize_with = "optional_string",
        serialize_with = "empty_when_none",
        default
    )]
    pub referred_by_dn: Option<Dn>,
    /// Type of the referring DN.
    #[serde(deserialize_with = "null_as_default", default)]
    pub referred_by_type: DnType,
    /// On whose behalf the call is made.
    #[serde(
        deserialize_with = "optional_string",
        serialize_with = "empty_when_none",
        default
    )]
    pub on_behalf_of_dn: Option<Dn>,
    /// Type of the on-behalf-of DN.
    #[serde(deserialize_with = "null_as_default", default)]
    pub on_behalf_of_type: DnType,
    /// PBX call id, shared by all legs of one call.
    #[serde(deserialize_with = "null_as_default", default)]
    pub callid: i64,
    /// Leg number within the call.
    #[serde(deserialize_with = "null_as_default", default)]
    pub legid: i64,
}

impl Participant {
    /// Whether the participant is connected (audio streams are available).
    pub fn is_connected(&self) -> bool {
        self.status == ParticipantStatus::Connected
    }

    /// The call leg this participant is (its `callid` and `legid`).
    pub fn call_leg(&self) -> CallLeg {
        CallLeg {
            callid: self.callid,
            legid: self.legid,
        }
    }

    /// Whether `other` is the same leg of the same call as `self`: same DN and id
    /// *and* same [`CallLeg`]. False for a new call that was given a reused id.
    pub fn is_same_leg(&self, other: &Self) -> bool {
        self.dn == other.dn && self.id == other.id && self.call_leg() == other.call_leg()
    }
}

/// Which call a participant belongs to, beyond its DN and id.
///
/// Participant ids are small integers counted by the running PBX, so after a PBX
/// restart a new caller can be given the id of a call that was lost: DN and id then
/// name a different call. The PBX's `callid` (shared by the legs of one call) and
/// `legid` (the leg within it) tell the two apart, as 3CX's own dialer sample
/// recognises "the same call" by the pair. They do not when a restart also starts
/// the call numbering again and the new call happens to get the old numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CallLeg {
    /// PBX call id.
    pub callid: i64,
    /// Leg number within the call.
    pub legid: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_and_empty_strings_are_tolerated() {
        let json = r#"{"id":3,"status":null,"dn":"800","party_caller_name":null,
            "device_id":"","party_dn_type":"","direct_control":null,
            "originated_by_dn":"None","referred_by_type":null,"callid":7}"#;
        let participant: Participant = serde_json::from_str(json).unwrap();
        assert_eq!(participant.id, ParticipantId(3));
        assert_eq!(participant.device_id, None);
        assert_eq!(participant.originated_by_dn, None);
        assert_eq!(participant.party_dn_type, DnType::None);
        assert!(!participant.direct_control);
        assert_eq!(participant.callid, 7);
        assert_eq!(participant.legid, 0);
    }

    #[test]
    fn a_reused_id_in_another_call_is_another_leg() {
        let first = Participant {
            id: ParticipantId(1),
            dn: Dn::new("800"),
            callid: 5,
            legid: 9,
            ..Participant::default()
        };
        let later = Participant {
            status: ParticipantStatus::Connected,
            ..first.clone()
        };
        assert!(first.is_same_leg(&later));
        let reused = Participant {
            callid: 6,
            ..first.clone()
        };
        assert!(!first.is_same_leg(&reused));
        let other_leg = Participant {
            legid: 10,
            ..first.clone()
        };
        assert!(!first.is_same_leg(&other_leg));
        let other_dn = Participant {
            dn: Dn::new("801"),
            ..first.clone()
        };
        assert!(!first.is_same_leg(&other_dn));
    }

    #[test]
    fn serialises_all_eighteen_fields() {
        let value = serde_json::to_value(Participant::default()).unwrap();
        assert_eq!(value.as_object().unwrap().len(), 18);
        assert_eq!(value["device_id"], "");
        assert_eq!(value["originated_by_type"], "None");
    }
}
