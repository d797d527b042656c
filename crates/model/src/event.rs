//! [`PbxEvent`]: what the PBX told us, after the client has resolved it.
//!
//! The WebSocket only says "this entity changed"; the client GETs the entity (the
//! Upsert → GET pattern), deduplicates repeats, turns a 404 into a removal and, after
//! every (re)connect, diffs a fresh snapshot against its cache. What comes out is this
//! typed stream, which the dispatcher consumes without knowing about HTTP.

use crate::{Device, DeviceId, Digit, Dn, DnInfo, Participant, ParticipantId};

/// A resolved call-control event.
// Events are per call state change, not per audio frame: the size of a participant
// inline is cheaper than boxing it on every event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PbxEvent {
    /// A participant appeared or changed (its DN is `participant.dn`).
    ParticipantUpdated {
        /// The participant as the PBX now reports it.
        participant: Participant,
        /// Whether this came from a snapshot resync rather than a live event.
        resync: bool,
    },
    /// A participant is gone (hang-up, drop, completed transfer...).
    ParticipantRemoved {
        /// Its DN.
        dn: Dn,
        /// Its id.
        id: ParticipantId,
        /// Whether this came from a snapshot resync rather than a live event.
        resync: bool,
    },
    /// A device appeared or changed.
    DeviceUpdated {
        /// The device.
        device: Device,
    },
    /// A device is gone.
    DeviceRemoved {
        /// Its DN.
        dn: Dn,
        /// Its id.
        device: DeviceId,
    },
    /// A DN-level change, with the DN as the PBX now reports it.
    DnUpdated {
        /// The DN record.
        info: DnInfo,
    },
    /// DTMF keys pressed by the other party of a participant, as sent (may be several).
    Dtmf {
        /// The participant's DN.
        dn: Dn,
        /// The participant.
        id: ParticipantId,
        /// The keys of the `dtmf_input` text, in order (never empty; characters that
        /// are no DTMF key were skipped and logged where the event was read).
        digits: Vec<Digit>,
    },
    /// The PBX reported that a prompt finished playing (event type 3).
    PromptPlaybackFinished {
        /// The entity path as sent.
        entity: String,
    },
    /// The event socket is (again) connected and the state cache was resynchronised.
    Connected {
        /// How many times the socket has connected so far (1 on the first connect).
        connection: u64,
    },
    /// The event socket was lost; the client is reconnecting.
    Disconnected {
        /// Why, in words.
        reason: String,
    },
    /// An attempt to (re)connect the event socket failed (the upgrade was refused,
    /// the PBX was unreachable, or the snapshot after it failed); the client tries
    /// again after a backoff.
    ConnectFailed {
        /// Attempts failed in a row so far (1 for the first).
        attempt: u32,
        /// Why, in words (the PBX's status and reason where it gave one).
        reason: String,
    },
}
