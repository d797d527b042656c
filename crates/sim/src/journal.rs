//! The journal: an ordered record of everything the simulated PBX saw and did.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Serialize, Serializer};
use tokio::time::Instant;
use voicebot_model::{DeviceId, Dn, ParticipantId, ParticipantStatus};

use crate::CallEnd;

/// One journal line: when (since the simulator started) and what. As JSON (the
/// control API's `GET /sim/journal`): `{"at_ms": 1520, "kind": "call_started", ...}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    /// Time since the simulator started (tokio clock).
    #[serde(rename = "at_ms", serialize_with = "millis")]
    pub at: Duration,
    /// What happened.
    #[serde(flatten)]
    pub kind: JournalKind,
}

fn millis<S>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
{
    serializer.serialize_u64(duration.as_millis() as u64)
}

/// Direction of an audio stream, seen from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamDirection {
    /// `GET …/stream`: audio from the call to the client.
    FromCall,
    /// `POST …/stream`: audio from the client into the call.
    IntoCall,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum JournalKind {
    /// `POST /connect/token` issued a token.
    TokenIssued {
        /// For this client.
        client_id: String,
    },
    /// `POST /connect/token` refused.
    TokenRefused {
        /// The client id given, if any.
        client_id: Option<String>,
        /// HTTP status answered.
        status: u16,
        /// Why.
        reason: String,
    },
    /// A token stopped being valid because a newer one was issued.
    TokenRevoked,
    /// An HTTP request and the status it got.
    Http {
        /// Method.
        method: String,
        /// Path as received (percent-encoded).
        path: String,
        /// Status answered.
        status: u16,
    },
    /// A WebSocket was accepted.
    WsConnected {
        /// Connection number (1, 2, …).
        connection: u64,
    },
    /// A WebSocket upgrade was refused.
    WsRefused {
        /// HTTP status answered.
        status: u16,
    },
    /// A WebSocket closed.
    WsClosed {
        /// Connection number.
        connection: u64,
        /// Why.
        reason: String,
    },
    /// An event was queued to the WebSockets.
    EventSent {
        /// Its sequence number (of the PBX-wide counter).
        sequence: u64,
        /// 0 upsert, 1 remove, 2 DTMF, 4 response.
        event_type: i64,
        /// Entity path.
        entity: String,
    },
    /// A call started.
    CallStarted {
        /// Call id.
        callid: i64,
        /// Calling number.
        from: String,
        /// Called number.
        to: String,
    },
    /// A call ended (from the simulated caller's point of view).
    CallEnded {
        /// Call id.
        callid: i64,
        /// How.
        end: CallEnd,
    },
    /// A participant appeared or changed status.
    ParticipantStatus {
        /// Its DN.
        dn: Dn,
        /// Its id.
        id: ParticipantId,
        /// New status.
        status: ParticipantStatus,
    },
    /// A participant was removed.
    ParticipantRemoved {
        /// Its DN.
        dn: Dn,
        /// Its id.
        id: ParticipantId,
    },
    /// A `makecall`.
    MakeCall {
        /// From this DN.
        dn: Dn,
        /// Device named in the path, if any.
        device: Option<String>,
        /// Destination.
        destination: String,
        /// Status answered.
        status: u16,
    },
    /// A participant action.
    Action {
        /// DN in the path.
        dn: Dn,
        /// Participant id in the path.
        id: ParticipantId,
        /// The call of the participant the path named when the request arrived
        /// (`None`: no such participant): tells which caller an action hit when a
        /// restart handed the id to a new call.
        callid: Option<i64>,
        /// Action name.
        action: String,
        /// Destination, if given.
        destination: Option<String>,
        /// Status answered.
        status: u16,
    },
    /// The caller pressed keys.
    DtmfPressed {
        /// Call id.
        callid: i64,
        /// Keys.
        digits: String,
        /// Audio the caller had heard when pressing (the playout clock, not wall
        /// time): what a prompt stopped by these keys can be measured against.
        #[serde(rename = "heard_ms", serialize_with = "millis")]
        heard: std::time::Duration,
    },
    /// An audio stream opened.
    StreamOpened {
        /// DN.
        dn: Dn,
        /// Participant.
        id: ParticipantId,
        /// Direction.
        direction: StreamDirection,
    },
    /// An audio stream closed.
    StreamClosed {
        /// DN.
        dn: Dn,
        /// Participant.
        id: ParticipantId,
        /// Direction.
        direction: StreamDirection,
        /// Bytes carried.
        bytes: u64,
        /// Why.
        reason: String,
    },
    /// A fault was injected.
    Fault {
        /// Which.
        description: String,
    },
    /// The PBX restarted and lost its state.
    Restarted,
    /// A device registered on a DN, or changed its user agent.
    DeviceRegistered {
        /// Its DN.
        dn: Dn,
        /// The device.
        device: DeviceId,
    },
    /// A device left a DN.
    DeviceUnregistered {
        /// Its DN.
        dn: Dn,
        /// The device.
        device: DeviceId,
    },
    /// A scripted call's script ended (the simulator runs on either way).
    ScriptEnded {
        /// The scripted call's number ([`crate::ScriptedCall::id`]).
        id: u64,
        /// Its PBX call id.
        callid: i64,
        /// Who placed it.
        label: String,
        /// Why it failed; `None` when every step ran.
        error: Option<String>,
    },
    /// An event took a sequence number but was lost on every socket
    /// ([`crate::Faults::drop_next_events`]).
    EventDropped {
        /// The sequence number it took (PBX-wide numbering).
        sequence: u64,
        /// Its entity path.
        entity: String,
    },
}

/// The journal store.
#[derive(Debug)]
pub(crate) struct Journal {
    start: Instant,
    entries: Mutex<Vec<JournalEntry>>,
}

impl Journal {
    pub(crate) fn new(start: Instant) -> Self {
        Self {
            start,
            entries: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn record(&self, kind: JournalKind) {
        tracing::debug!(?kind, "sim journal");
        let at = self.start.elapsed();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.push(JournalEntry { at, kind });
    }

    pub(crate) fn entries(&self) -> Vec<JournalEntry> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
