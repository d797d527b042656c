//! Call records: one [`CallRecord`] per finished call, built while the call runs
//! and handed to the [`EngineBuilder::call_records`](crate::EngineBuilder::call_records)
//! channel when it ends. The hand-off never waits (an unbounded channel), so a slow
//! record writer costs memory, never a call's progress.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use voicebot_bot::{CallInfo, Direction, Recording};

use crate::events::CallOutcome;

/// Where finished calls' records go.
pub type CallRecordSender = mpsc::UnboundedSender<CallRecord>;

/// Everything the engine knows of one call once it has ended: the line `cdr.jsonl`
/// gets. Times are RFC 3339 in UTC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallRecord {
    /// The engine's id of the call ([`CallInfo::engine_id`]): unique across PBX
    /// restarts and engine runs.
    pub id: String,
    /// Which PBX (its `[[pbx]]` name; `default` with one `[pbx]` table).
    pub pbx: String,
    /// The PBX's call id (starts again at 1 when the PBX restarts).
    pub pbx_call_id: i64,
    /// The PBX's leg id within the call.
    pub pbx_leg_id: i64,
    /// Our participant id on the route point.
    pub participant: i64,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// The other party's number.
    pub caller: String,
    /// The other party's display name (may be empty).
    pub caller_name: String,
    /// The DID dialled, when the PBX reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub did: Option<String>,
    /// Our DN: the route point the call reached (or dialled from).
    pub route_point: String,
    /// The bot configured on the route point (set by the program running the engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot: Option<String>,
    /// When the call reached the engine.
    pub started_at: String,
    /// When it was connected (answered), if ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<String>,
    /// When it ended.
    pub ended_at: String,
    /// From start to end, in milliseconds.
    pub duration_ms: u64,
    /// From start to the first prompt starting, in milliseconds, if one played.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_audio_ms: Option<u64>,
    /// How it ended: `hangup`, `completed`, `fallback`, `dropped`, `shutdown`,
    /// `not_answered` (as `voicebot_calls_total{outcome}`).
    pub outcome: String,
    /// Every digit the caller pressed, in order (out-of-band and in-band, once each).
    pub digits: String,
    /// What the caller chose: each gather's digits or spoken phrase.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Transfers, routes, diverts and drops the bot asked for, with their results.
    #[serde(default)]
    pub actions: Vec<ActionRecord>,
    /// Recordings the call left.
    #[serde(default)]
    pub recordings: Vec<RecordingRecord>,
    /// Transcripts noted by the bot ([`Call::note`](voicebot_bot::Call::note)).
    #[serde(default)]
    pub transcripts: Vec<String>,
    /// Errors: the bot's failure, and those it noted.
    #[serde(default)]
    pub errors: Vec<String>,
}

/// One answer to a gather.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Choice {
    /// `digits` or `speech`.
    pub by: String,
    /// The digits, or the phrase recognised.
    pub value: String,
}

/// One participant action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionRecord {
    /// `transferto`, `routeto`, `divert`, `drop`, `attach_participant_data`.
    pub action: String,
    /// Where to, for transfers, routes and diverts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// `ok`, or why it failed.
    pub result: String,
    /// From the request to the PBX's answer, in milliseconds.
    pub duration_ms: u64,
}

/// One recording.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordingRecord {
    /// The file, as written.
    pub path: PathBuf,
    /// Its object URL once a store is configured (`s3://bucket/prefix/name.wav`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_url: Option<String>,
    /// Its length in milliseconds.
    pub duration_ms: u64,
    /// Stretches of the caller's audio that never arrived (silence in the file).
    pub gaps: usize,
    /// Milliseconds of those gaps.
    pub gaps_ms: u64,
}

/// The record of a call in progress.
#[derive(Debug)]
pub(crate) struct Draft {
    started: Instant,
    record: Mutex<CallRecord>,
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Draft {
    /// The record of the call `info` names, started now.
    pub(crate) fn new(info: &CallInfo, pbx: &str) -> Self {
        Self {
            started: Instant::now(),
            record: Mutex::new(CallRecord {
                id: info.engine_id().to_string(),
                pbx: pbx.to_owned(),
                pbx_call_id: info.call_id(),
                pbx_leg_id: info.leg_id(),
                participant: info.participant_id().0,
                direction: match info.direction() {
                    Direction::Outbound => "outbound",
                    _ => "inbound",
                }
                .to_owned(),
                caller: info.caller_number().to_owned(),
                caller_name: info.caller_name().to_owned(),
                did: info.did().map(str::to_owned),
                route_point: info.called_dn().as_str().to_owned(),
                bot: None,
                started_at: now(),
                answered_at: None,
                ended_at: String::new(),
                duration_ms: 0,
                first_audio_ms: None,
                outcome: String::new(),
                digits: String::new(),
                choices: Vec::new(),
                actions: Vec::new(),
                recordings: Vec::new(),
                transcripts: Vec::new(),
                errors: Vec::new(),
            }),
        }
    }

    /// A record of no call, for tests of the parts that write to one.
    #[cfg(test)]
    pub(crate) fn detached() -> std::sync::Arc<Self> {
        let participant = voicebot_model::Participant::default();
        std::sync::Arc::new(Self::new(
            &CallInfo::new(&participant, Direction::Inbound),
            "test",
        ))
    }

    fn edit(&self, change: impl FnOnce(&mut CallRecord)) {
        change(&mut self.record.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// The call was connected.
    pub(crate) fn answered(&self) {
        self.edit(|record| {
            record.answered_at.get_or_insert_with(now);
        });
    }

    /// A prompt started; the first one is the call's time to first audio.
    pub(crate) fn audio_started(&self) {
        let elapsed = self.started.elapsed();
        let mut first = None;
        self.edit(|record| {
            if record.first_audio_ms.is_none() {
                record.first_audio_ms = Some(millis(elapsed));
                first = Some(record.pbx.clone());
            }
        });
        if let Some(pbx) = first {
            metrics::histogram!(crate::metrics::FIRST_AUDIO_SECONDS, "pbx" => pbx)
                .record(elapsed.as_secs_f64());
        }
    }

    /// The caller pressed `digit`.
    pub(crate) fn digit(&self, digit: char) {
        self.edit(|record| record.digits.push(digit));
    }

    /// A gather ended with `value`, by `digits` or `speech`.
    pub(crate) fn choice(&self, by: &str, value: &str) {
        self.edit(|record| {
            record.choices.push(Choice {
                by: by.to_owned(),
                value: value.to_owned(),
            });
        });
    }

    /// An action ended with `result` after `took`.
    pub(crate) fn action(
        &self,
        action: String,
        destination: Option<String>,
        result: String,
        took: Duration,
    ) {
        self.edit(|record| {
            record.actions.push(ActionRecord {
                action,
                destination,
                result,
                duration_ms: millis(took),
            });
        });
    }

    /// A recording was finished.
    pub(crate) fn recording(&self, recording: &Recording) {
        self.edit(|record| {
            record.recordings.push(RecordingRecord {
                path: recording.path.clone(),
                object_url: None,
                duration_ms: millis(recording.duration),
                gaps: recording.gaps.len(),
                gaps_ms: recording.gaps.iter().map(|gap| millis(gap.len)).sum(),
            });
        });
    }

    /// A transcript the bot noted.
    pub(crate) fn transcript(&self, text: String) {
        self.edit(|record| record.transcripts.push(text));
    }

    /// An error: the bot's failure, or one it noted.
    pub(crate) fn error(&self, text: String) {
        self.edit(|record| record.errors.push(text));
    }

    /// The finished record.
    pub(crate) fn finish(&self, outcome: CallOutcome) -> CallRecord {
        let elapsed = self.started.elapsed();
        let mut record = self
            .record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        record.ended_at = now();
        record.duration_ms = millis(elapsed);
        record.outcome = outcome.as_str().to_owned();
        record
    }
}

#[cfg(test)]
mod tests {
    use voicebot_model::{Dn, Participant, ParticipantId};

    use super::*;

    #[test]
    fn a_record_collects_the_call_and_round_trips() {
        let participant = Participant {
            id: ParticipantId(5),
            dn: Dn::new("800"),
            party_caller_id: "+15550100".to_owned(),
            callid: 9,
            legid: 2,
            ..Participant::default()
        };
        let info = CallInfo::new(&participant, Direction::Inbound);
        let draft = Draft::new(&info, "default");
        draft.answered();
        draft.audio_started();
        draft.audio_started();
        for digit in ['1', '#'] {
            draft.digit(digit);
        }
        draft.choice("digits", "1");
        draft.action(
            "transferto".into(),
            Some("100".into()),
            "ok".into(),
            Duration::from_millis(1500),
        );
        draft.transcript("I would like sales".into());
        let record = draft.finish(CallOutcome::Completed);
        assert_eq!(record.id, info.engine_id().to_string());
        assert_eq!((record.pbx_call_id, record.pbx_leg_id), (9, 2));
        assert_eq!(record.digits, "1#");
        assert_eq!(record.outcome, "completed");
        assert!(record.answered_at.is_some() && record.first_audio_ms.is_some());
        assert_eq!(record.actions[0].duration_ms, 1500);
        let line = serde_json::to_string(&record).unwrap();
        assert!(!line.contains('\n'));
        let back: CallRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(back, record);
    }
}
