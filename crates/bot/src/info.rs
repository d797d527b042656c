//! [`CallInfo`]: who is calling whom.

use voicebot_model::{Dn, Participant, ParticipantId};

/// Whether the call came in or was placed by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Direction {
    /// A caller reached the bot's DN.
    Inbound,
    /// The engine placed the call.
    Outbound,
}

/// Identity of a call, fixed when the call starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    dn: Dn,
    participant: ParticipantId,
    caller_number: String,
    caller_name: String,
    did: Option<String>,
    call_id: i64,
    leg_id: i64,
    direction: Direction,
    engine_id: uuid::Uuid,
}

impl CallInfo {
    /// The identity of the call whose leg on our DN is `participant`.
    pub fn new(participant: &Participant, direction: Direction) -> Self {
        let did = participant.party_did.trim();
        Self {
            dn: participant.dn.clone(),
            participant: participant.id,
            caller_number: participant.party_caller_id.clone(),
            caller_name: participant.party_caller_name.clone(),
            did: (!did.is_empty()).then(|| did.to_owned()),
            call_id: participant.callid,
            leg_id: participant.legid,
            direction,
            engine_id: uuid::Uuid::now_v7(),
        }
    }

    /// The engine's id of this call: a time-ordered UUID unique across PBX restarts
    /// and engine runs (the PBX's [`call_id`](Self::call_id) starts again at 1 when
    /// the PBX restarts). Call records, transcript lines and logs carry it.
    pub fn engine_id(&self) -> uuid::Uuid {
        self.engine_id
    }

    /// The other party's number (the caller on inbound calls, the callee on
    /// outbound ones), e.g. `+16125551234` or an extension.
    pub fn caller_number(&self) -> &str {
        &self.caller_number
    }

    /// The other party's display name; may be empty.
    pub fn caller_name(&self) -> &str {
        &self.caller_name
    }

    /// Our DN: the route point (or extension) the call reached.
    pub fn called_dn(&self) -> &Dn {
        &self.dn
    }

    /// The DID the caller dialled, when the PBX reports one (often it does not).
    pub fn did(&self) -> Option<&str> {
        self.did.as_deref()
    }

    /// The PBX call id, shared by every leg of the call.
    pub fn call_id(&self) -> i64 {
        self.call_id
    }

    /// The leg number within the call.
    pub fn leg_id(&self) -> i64 {
        self.leg_id
    }

    /// Our participant id on [`called_dn`](Self::called_dn).
    pub fn participant_id(&self) -> ParticipantId {
        self.participant
    }

    /// Inbound or outbound.
    pub fn direction(&self) -> Direction {
        self.direction
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_participant() {
        let participant = Participant {
            id: ParticipantId(12),
            dn: Dn::new("800"),
            party_caller_id: "+16125551234".to_owned(),
            party_caller_name: "Alice".to_owned(),
            party_did: " ".to_owned(),
            callid: 2,
            legid: 3,
            ..Participant::default()
        };
        let info = CallInfo::new(&participant, Direction::Inbound);
        assert_eq!(info.caller_number(), "+16125551234");
        assert_eq!(info.caller_name(), "Alice");
        assert_eq!(info.called_dn().as_str(), "800");
        assert_eq!(info.did(), None);
        assert_eq!((info.call_id(), info.leg_id()), (2, 3));
        assert_eq!(info.participant_id(), ParticipantId(12));
        let again = CallInfo::new(&participant, Direction::Inbound);
        assert_ne!(info.engine_id(), again.engine_id(), "one id per call");
    }
}
