//! What voicebot sends to the webhook server: one JSON object per request, the same
//! over HTTP (a POST body) and over a WebSocket (a text message). Its schema is
//! `docs/webhook.schema.json` (`Request`).

use std::time::Duration;

use serde::Serialize;
use voicebot_bot::{AttachedData, CallInfo, Digits, Direction, GatherEnd, RecordEnd, Recording};

/// The call a request is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallDetails {
    /// The PBX call id (shared by every leg).
    pub call_id: i64,
    /// Our leg's number within the call.
    pub leg_id: i64,
    /// Our participant id on the route point.
    pub participant_id: i64,
    /// The other party's number.
    pub caller: String,
    /// The other party's display name (may be empty).
    pub caller_name: String,
    /// The DID dialled, when the PBX reports one.
    pub did: Option<String>,
    /// The route point the call reached.
    pub route_point: String,
    /// `inbound` or `outbound`.
    pub direction: &'static str,
    /// Data attached to the call so far by `attach_data` verbs.
    pub attached_data: AttachedData,
}

impl CallDetails {
    /// The details of the call `info` describes.
    pub fn new(info: &CallInfo) -> Self {
        Self {
            call_id: info.call_id(),
            leg_id: info.leg_id(),
            participant_id: info.participant_id().0,
            caller: info.caller_number().to_owned(),
            caller_name: info.caller_name().to_owned(),
            did: info.did().map(str::to_owned),
            route_point: info.called_dn().as_str().to_owned(),
            direction: match info.direction() {
                Direction::Outbound => "outbound",
                _ => "inbound",
            },
            attached_data: AttachedData::new(),
        }
    }
}

/// One request: what happened, on which call, and its place in the call's sequence.
#[derive(Debug, Clone, Serialize)]
pub struct Request<'a> {
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
    /// Counts the call's requests from 1; a retried request keeps its number, so a
    /// server can tell a retry from a new request.
    pub sequence: u64,
    /// The `action` or `redirect` URL this request answers, as the verb gave it (lets a
    /// WebSocket server dispatch as an HTTP server would by path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The call.
    pub call: &'a CallDetails,
}

/// What a request reports.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A call started: the answer is its first verbs.
    Call,
    /// A `gather` with an `action` ended.
    Gather {
        /// What the caller typed or said.
        gather: GatherResult,
    },
    /// A `record` with an `action` ended.
    Record {
        /// The recording.
        record: RecordResult,
    },
    /// A `stream` with an `action` ended.
    Stream {
        /// How it ended.
        stream: StreamResult,
    },
    /// A `redirect` verb asks for new verbs.
    Redirect,
    /// A call event for the `status_url`; no answer is read.
    Status {
        /// The event.
        status: Status,
    },
}

impl Event {
    /// Whether the server answers this request with verbs.
    pub fn wants_verbs(&self) -> bool {
        !matches!(self, Self::Status { .. })
    }
}

/// The result of a `gather`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatherResult {
    /// The digits typed (terminator excluded); empty when nothing valid came.
    pub digits: String,
    /// `max_digits`, `terminator`, `timeout`, `no_input`, `invalid` or `speech`.
    pub ended_by: &'static str,
    /// The key that ended input, if one did.
    pub terminator: Option<String>,
    /// Which try produced the result (1-based).
    pub tries: u32,
    /// The choice said, when speech ended the gather.
    pub speech: Option<SpeechResult>,
}

/// A spoken choice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpeechResult {
    /// Its position in the verb's `speech.choices`.
    pub index: usize,
    /// The phrase recognised.
    pub phrase: String,
    /// The recogniser's confidence, if it gave one.
    pub confidence: Option<f32>,
}

impl From<&Digits> for GatherResult {
    fn from(digits: &Digits) -> Self {
        Self {
            digits: digits.as_str().to_owned(),
            ended_by: match digits.ended_by() {
                GatherEnd::MaxDigits => "max_digits",
                GatherEnd::Terminator => "terminator",
                GatherEnd::Timeout => "timeout",
                GatherEnd::NoInput => "no_input",
                GatherEnd::Invalid => "invalid",
                GatherEnd::Speech => "speech",
                _ => "other",
            },
            terminator: digits.terminator().map(|digit| digit.to_string()),
            tries: digits.tries(),
            speech: digits.heard().map(|choice| SpeechResult {
                index: choice.index,
                phrase: choice.phrase.clone(),
                confidence: choice.confidence,
            }),
        }
    }
}

/// The result of a `record`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordResult {
    /// Where the WAV file is (on the voicebot host).
    pub path: String,
    /// Its length in milliseconds.
    pub duration_ms: u64,
    /// `max_length`, `silence`, `terminator` or `hangup`.
    pub ended_by: &'static str,
    /// The key that stopped it, if one did.
    pub terminator: Option<String>,
    /// Stretches where the caller's audio was lost in transit (silence in the file).
    pub gaps: Vec<GapResult>,
}

/// A gap in a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GapResult {
    /// Where it starts, in milliseconds from the start of the recording.
    pub at_ms: u64,
    /// Its length in milliseconds.
    pub len_ms: u64,
}

impl From<&Recording> for RecordResult {
    fn from(recording: &Recording) -> Self {
        let (ended_by, terminator) = match recording.ended_by {
            RecordEnd::MaxLength => ("max_length", None),
            RecordEnd::Silence => ("silence", None),
            RecordEnd::Terminator(digit) => ("terminator", Some(digit.to_string())),
            RecordEnd::Hangup => ("hangup", None),
            _ => ("other", None),
        };
        Self {
            path: recording.path.display().to_string(),
            duration_ms: millis(recording.duration),
            ended_by,
            terminator,
            gaps: recording
                .gaps
                .iter()
                .map(|gap| GapResult {
                    at_ms: millis(gap.at),
                    len_ms: millis(gap.len),
                })
                .collect(),
        }
    }
}

/// How a `stream` ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamResult {
    /// `agent_closed`, `connect_failed`, `agent_failed`, `agent_silent` or
    /// `max_duration`.
    pub ended_by: &'static str,
    /// What went wrong, for `connect_failed` and `agent_failed`.
    pub error: Option<String>,
    /// How long the stream ran, in milliseconds.
    pub duration_ms: u64,
}

/// A call event posted to the `status_url`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    /// `started`, `answered`, `transferred` or `ended`.
    pub status: &'static str,
    /// Where the call went, for `transferred`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// How the call ended, for `ended`: `hangup` (the caller left), `completed` (a
    /// verb ended it), `transferred`, or `failed` (the call went to the fallback).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'static str>,
    /// Why, for `failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Status {
    /// A status with no details.
    pub fn plain(status: &'static str) -> Self {
        Self {
            status,
            destination: None,
            outcome: None,
            error: None,
        }
    }
}

/// Milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
