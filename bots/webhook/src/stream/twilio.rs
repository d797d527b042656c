//! The Twilio Media Streams protocol, field by field as Twilio's "Media Streams -
//! WebSocket Messages" reference gives it, for bidirectional streams.
//!
//! To the agent: `connected` (`protocol`, `version`), then `start` (`sequenceNumber`,
//! `start.{accountSid, streamSid, callSid, tracks, customParameters, mediaFormat}`,
//! `streamSid`), `media` every 20 ms (`media.{track, chunk, timestamp, payload}` with
//! base64 μ-law 8 kHz mono), `dtmf` (`dtmf.{track, digit}`), `mark` (`mark.name`,
//! echoed) and finally `stop` (`stop.{accountSid, callSid}`). Every message but
//! `connected` carries `streamSid` and a `sequenceNumber` counting from "1"; numbers
//! are strings, as Twilio sends them.
//!
//! From the agent: `media` (`media.payload`, base64 μ-law of any length), `mark`
//! (`mark.name`) and `clear`. Their `streamSid` is not checked; other events are
//! ignored, as Twilio ignores them.
//!
//! 3CX has no Twilio account or call SIDs: `callSid` is `CA` and 32 hex digits made
//! of the PBX call and leg ids, `accountSid` is `AC` and 32 hex digits of the route
//! point's number, `streamSid` is `MZ` and 32 random hex digits.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use voicebot_bot::{CallInfo, Digit, Frame, G711};

use super::bridge::FromAgent;

/// Builds the messages to a Twilio-compatible agent.
#[derive(Debug)]
pub(super) struct TwilioEncoder {
    stream_sid: String,
    call_sid: String,
    account_sid: String,
    sequence: u64,
    chunk: u64,
    codes: [u8; Frame::SAMPLES],
}

impl TwilioEncoder {
    pub(super) fn new(info: &CallInfo) -> Self {
        let call_sid = format!("CA{:016x}{:016x}", info.call_id(), info.leg_id());
        let route_point: String = info
            .called_dn()
            .as_str()
            .bytes()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let account_sid = format!("AC{route_point:0>32.32}");
        let stream_sid = format!("MZ{:032x}", rand::random::<u128>());
        Self {
            stream_sid,
            call_sid,
            account_sid,
            sequence: 0,
            chunk: 0,
            codes: [0; Frame::SAMPLES],
        }
    }

    fn next_sequence(&mut self) -> String {
        self.sequence += 1;
        self.sequence.to_string()
    }

    /// `connected` and `start`.
    pub(super) fn opening(&mut self, parameters: &BTreeMap<String, String>) -> [String; 2] {
        let connected = json!({ "event": "connected", "protocol": "Call", "version": "1.0.0" });
        let start = json!({
            "event": "start",
            "sequenceNumber": self.next_sequence(),
            "start": {
                "accountSid": self.account_sid,
                "streamSid": self.stream_sid,
                "callSid": self.call_sid,
                "tracks": ["inbound"],
                "customParameters": parameters,
                "mediaFormat": { "encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1 },
            },
            "streamSid": self.stream_sid,
        });
        [connected.to_string(), start.to_string()]
    }

    /// One frame of the caller's audio heard `timestamp` after the stream started.
    pub(super) fn media(&mut self, frame: &Frame, timestamp: Duration) -> String {
        G711::Ulaw.encode_into(frame.as_samples(), &mut self.codes);
        self.chunk += 1;
        json!({
            "event": "media",
            "sequenceNumber": self.next_sequence(),
            "media": {
                "track": "inbound",
                "chunk": self.chunk.to_string(),
                "timestamp": timestamp.as_millis().to_string(),
                "payload": BASE64.encode(self.codes),
            },
            "streamSid": self.stream_sid,
        })
        .to_string()
    }

    /// A key the caller pressed.
    pub(super) fn dtmf(&mut self, digit: Digit) -> String {
        json!({
            "event": "dtmf",
            "streamSid": self.stream_sid,
            "sequenceNumber": self.next_sequence(),
            "dtmf": { "track": "inbound_track", "digit": digit.to_string() },
        })
        .to_string()
    }

    /// The agent's mark, played (or cleared).
    pub(super) fn mark(&mut self, name: &str) -> String {
        json!({
            "event": "mark",
            "sequenceNumber": self.next_sequence(),
            "streamSid": self.stream_sid,
            "mark": { "name": name },
        })
        .to_string()
    }

    /// The last message.
    pub(super) fn stop(&mut self) -> String {
        json!({
            "event": "stop",
            "sequenceNumber": self.next_sequence(),
            "streamSid": self.stream_sid,
            "stop": { "accountSid": self.account_sid, "callSid": self.call_sid },
        })
        .to_string()
    }
}

/// Reads one text message from a Twilio-compatible agent; μ-law audio is decoded into
/// `samples` (reused).
pub(super) fn decode(text: &str, samples: &mut Vec<i16>) -> Result<FromAgent, String> {
    let message: Value =
        serde_json::from_str(text).map_err(|error| format!("a message is not JSON: {error}"))?;
    let event = message.get("event").and_then(Value::as_str);
    match event {
        Some("media") => {
            let payload = message
                .pointer("/media/payload")
                .and_then(Value::as_str)
                .ok_or("a media message has no media.payload string")?;
            let codes = BASE64
                .decode(payload)
                .map_err(|error| format!("media.payload is not base64: {error}"))?;
            samples.clear();
            samples.resize(codes.len(), 0);
            G711::Ulaw.decode_into(&codes, samples);
            Ok(FromAgent::Audio)
        }
        Some("mark") => {
            let name = message
                .pointer("/mark/name")
                .and_then(Value::as_str)
                .ok_or("a mark message has no mark.name string")?;
            Ok(FromAgent::Mark(name.to_owned()))
        }
        Some("clear") => Ok(FromAgent::Clear),
        _ => Ok(FromAgent::Ignored),
    }
}

#[cfg(test)]
mod tests {
    use voicebot_bot::{Direction, Dn};
    use voicebot_model::Participant;

    use super::*;

    fn info() -> CallInfo {
        let participant = Participant {
            dn: Dn::new("800"),
            callid: 42,
            legid: 3,
            ..Default::default()
        };
        CallInfo::new(&participant, Direction::Inbound)
    }

    #[test]
    fn opening_is_connected_then_start_with_twilios_fields() {
        let mut encoder = TwilioEncoder::new(&info());
        let parameters = BTreeMap::from([("From".to_owned(), "+15550100".to_owned())]);
        let [connected, start] = encoder.opening(&parameters);
        let connected: Value = serde_json::from_str(&connected).unwrap();
        assert_eq!(
            connected,
            json!({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        );
        let start: Value = serde_json::from_str(&start).unwrap();
        assert_eq!(start["sequenceNumber"], "1");
        assert_eq!(
            start["start"]["callSid"],
            "CA000000000000002a0000000000000003"
        );
        assert_eq!(start["start"]["accountSid"].as_str().unwrap().len(), 34);
        assert_eq!(start["start"]["streamSid"], start["streamSid"]);
        assert!(start["streamSid"].as_str().unwrap().starts_with("MZ"));
        assert_eq!(start["start"]["tracks"], json!(["inbound"]));
        assert_eq!(start["start"]["customParameters"]["From"], "+15550100");
        assert_eq!(
            start["start"]["mediaFormat"],
            json!({"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1})
        );
    }

    #[test]
    fn media_is_base64_mulaw_with_chunk_and_timestamp() {
        let mut encoder = TwilioEncoder::new(&info());
        let _ = encoder.opening(&BTreeMap::new());
        let frame = Frame::from_samples([1000; Frame::SAMPLES]);
        let media: Value =
            serde_json::from_str(&encoder.media(&frame, Duration::from_millis(40))).unwrap();
        assert_eq!(media["sequenceNumber"], "2");
        assert_eq!(media["media"]["track"], "inbound");
        assert_eq!(media["media"]["chunk"], "1");
        assert_eq!(media["media"]["timestamp"], "40");
        let codes = BASE64
            .decode(media["media"]["payload"].as_str().unwrap())
            .unwrap();
        assert_eq!(codes.len(), 160);
        let mut expected = [0u8; 1];
        G711::Ulaw.encode_into(&[1000], &mut expected);
        assert!(codes.iter().all(|&code| code == expected[0]));
    }

    #[test]
    fn agent_media_decodes_and_unknown_events_are_ignored() {
        let mut samples = Vec::new();
        let payload = BASE64.encode([0xFFu8, 0x80, 0x00]);
        let text =
            format!(r#"{{"event":"media","streamSid":"MZ1","media":{{"payload":"{payload}"}}}}"#);
        assert_eq!(decode(&text, &mut samples), Ok(FromAgent::Audio));
        assert_eq!(samples, [0, 32124, -32124]);
        let mark = r#"{"event":"mark","streamSid":"MZ1","mark":{"name":"end"}}"#;
        assert_eq!(
            decode(mark, &mut samples),
            Ok(FromAgent::Mark("end".to_owned()))
        );
        assert_eq!(
            decode(r#"{"event":"clear"}"#, &mut samples),
            Ok(FromAgent::Clear)
        );
        assert_eq!(
            decode(r#"{"event":"whatever"}"#, &mut samples),
            Ok(FromAgent::Ignored)
        );
        let bad = decode(r#"{"event":"media","media":{}}"#, &mut samples).unwrap_err();
        assert!(bad.contains("media.payload"), "{bad}");
    }
}
