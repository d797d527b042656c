//! Wire types of the 3CX V20 Call Control API.
//!
//! This crate owns the JSON shapes the PBX and voicebot exchange: the token response,
//! DN/device/participant records, `makecall` and participant-action bodies, the
//! `CallControlResultResponse`, WebSocket event envelopes and requests, plus the id
//! newtypes ([`Dn`], [`ParticipantId`], [`DeviceId`]), the entity path parser
//! ([`EntityPath`]) and DTMF [`Digit`]s. It does no I/O and depends on no other
//! workspace crate, so both the client (`voicebot-callcontrol`) and the simulator
//! (`voicebot-sim`) share exactly one definition of the format.
//!
//! Design rule: the PBX is tolerated, never trusted. Unknown statuses, DN types,
//! event types and diversion reasons are kept as `Other(..)` values instead of
//! failing the parse; `null`, `""` and `"None"` in optional string fields all read
//! as "not set". Golden fixtures in `tests/fixtures/` pin the format.
//!
//! ```
//! use voicebot_model::{EntityPath, WsEnvelope, EventType};
//!
//! let text = r#"{"sequence":60,"event":{"event_type":0,
//!     "entity":"/callcontrol/800/participants/12","attached_data":null}}"#;
//! let envelope: WsEnvelope = serde_json::from_str(text).unwrap();
//! assert_eq!(envelope.event.event_type, EventType::Upsert);
//! let path = envelope.event.entity_path().unwrap();
//! assert!(matches!(path, EntityPath::Participant { .. }));
//! ```

mod action;
mod digit;
mod dn;
mod entity;
mod enums;
mod event;
mod ids;
mod lenient;
mod participant;
mod result;
mod token;
mod ws;

pub use action::{Action, ActionRequest, AttachedData, MakeCallRequest};
pub use digit::{Digit, DigitError, parse_digits};
pub use dn::{Device, DnInfo};
pub use entity::{EntityPath, EntityPathError, EntityPathErrorReason, encode_segment};
pub use enums::{DiversionReason, DnType, EventType, FinalStatus, ParticipantStatus};
pub use event::PbxEvent;
pub use ids::{DeviceId, Dn, ParticipantId};
pub use participant::{CallLeg, Participant};
pub use result::CallControlResult;
pub use token::{TokenError, TokenResponse};
pub use ws::{DtmfData, WsEnvelope, WsEvent, WsRequest, WsRequestData, WsResponse};

/// Bytes per millisecond of call audio: PCM s16le, 8000 samples per second, mono.
pub const AUDIO_BYTES_PER_MS: usize = 16;
/// Sample rate of call audio in Hz.
pub const AUDIO_SAMPLE_RATE: u32 = 8000;
