//! [`TranscriptLine`]: one result as the sinks write it.

use serde::Serialize;
use voicebot_bot::Recognition;

/// One recognition result, as a JSON line:
/// `{"call_id": 7, "engine_call_id": "0193…", "start": 1.24, "end": 2.1, "text": "support", "confidence": 0.9, "final": true}`.
/// Times are seconds from the start of the call (or of the file, for `voicebot
/// transcribe`), as the recognition session's
/// [`call_offset`](voicebot_bot::SessionOptions::call_offset) sets them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptLine {
    /// The PBX's call id (0 for a file).
    pub call_id: i64,
    /// The engine's id of the call ([`CallInfo::engine_id`](voicebot_bot::CallInfo::engine_id)),
    /// as in the call's record: unique across PBX restarts. Absent for a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_call_id: Option<String>,
    /// When the utterance started, in seconds from the start of the call.
    pub start: f64,
    /// When it ended, in seconds from the start of the call.
    pub end: f64,
    /// What was heard.
    pub text: String,
    /// The recogniser's confidence (0..=1), if it gave one.
    pub confidence: Option<f32>,
    /// Whether this is a final result (partials are only written when enabled).
    #[serde(rename = "final")]
    pub is_final: bool,
    /// The recording's channel, for batch transcripts of a multichannel recording (0 is the
    /// caller); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<u16>,
}

impl TranscriptLine {
    /// The line for `result` in call `call_id`.
    pub fn new(call_id: i64, result: &Recognition) -> Self {
        Self {
            call_id,
            engine_call_id: None,
            // Milliseconds are plenty, and keep the lines short.
            start: (result.start.as_secs_f64() * 1000.0).round() / 1000.0,
            end: (result.end.as_secs_f64() * 1000.0).round() / 1000.0,
            text: result.text.clone(),
            confidence: result.confidence,
            is_final: result.is_final,
            channel: None,
        }
    }

    /// The line as one line of JSON (no newline).
    pub fn to_json(&self) -> String {
        // Serialising plain numbers and strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
