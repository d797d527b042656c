//! The raw protocol, for agents that want no codec: binary WebSocket messages of PCM
//! s16le 8 kHz mono both ways (320-byte frames to the agent, any even length from
//! it), and JSON text events.
//!
//! To the agent: `{"event":"start","call":{..},"parameters":{..},"format":{..}}`
//! first, then binary frames, `{"event":"dtmf","digit":"5"}`,
//! `{"event":"mark","name":".."}` (echoed) and `{"event":"stop"}` last. From the
//! agent: binary audio, `{"event":"mark","name":".."}` and `{"event":"clear"}`.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use voicebot_bot::Digit;

use super::bridge::FromAgent;
use crate::request::CallDetails;

/// The `start` event.
pub(super) fn start(call: &CallDetails, parameters: &BTreeMap<String, String>) -> String {
    json!({
        "event": "start",
        "call": call,
        "parameters": parameters,
        "format": { "encoding": "pcm_s16le", "sample_rate": 8000, "channels": 1, "frame_ms": 20 },
    })
    .to_string()
}

/// A key the caller pressed.
pub(super) fn dtmf(digit: Digit) -> String {
    json!({ "event": "dtmf", "digit": digit.to_string() }).to_string()
}

/// The agent's mark, played (or cleared).
pub(super) fn mark(name: &str) -> String {
    json!({ "event": "mark", "name": name }).to_string()
}

/// The last event.
pub(super) fn stop() -> String {
    json!({ "event": "stop" }).to_string()
}

/// Decodes binary s16le audio into `samples` (reused); an odd byte at the end waits in
/// `carry` for the next message, since a frame may be split anywhere.
pub(super) fn decode_audio(bytes: &[u8], carry: &mut Option<u8>, samples: &mut Vec<i16>) {
    samples.clear();
    let mut bytes = bytes;
    if let (Some(low), Some((&high, rest))) = (*carry, bytes.split_first()) {
        samples.push(i16::from_le_bytes([low, high]));
        *carry = None;
        bytes = rest;
    }
    let pairs = bytes.chunks_exact(2);
    if let [last] = pairs.remainder() {
        *carry = Some(*last);
    }
    samples.extend(pairs.map(|pair| i16::from_le_bytes([pair[0], pair[1]])));
}

/// Reads one text event from the agent.
pub(super) fn decode_event(text: &str) -> Result<FromAgent, String> {
    let message: Value =
        serde_json::from_str(text).map_err(|error| format!("an event is not JSON: {error}"))?;
    match message.get("event").and_then(Value::as_str) {
        Some("mark") => message
            .get("name")
            .and_then(Value::as_str)
            .map(|name| FromAgent::Mark(name.to_owned()))
            .ok_or_else(|| "a mark event has no name string".to_owned()),
        Some("clear") => Ok(FromAgent::Clear),
        _ => Ok(FromAgent::Ignored),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_split_mid_sample_is_joined() {
        let mut carry = None;
        let mut samples = Vec::new();
        let bytes = [0x34u8, 0x12, 0x78];
        decode_audio(&bytes, &mut carry, &mut samples);
        assert_eq!(samples, [0x1234]);
        assert_eq!(carry, Some(0x78));
        decode_audio(&[0x56, 0xFF, 0x7F], &mut carry, &mut samples);
        assert_eq!(samples, [0x5678, 0x7FFF]);
        assert_eq!(carry, None);
    }

    #[test]
    fn events_from_the_agent() {
        assert_eq!(
            decode_event(r#"{"event":"mark","name":"x"}"#),
            Ok(FromAgent::Mark("x".to_owned()))
        );
        assert_eq!(decode_event(r#"{"event":"clear"}"#), Ok(FromAgent::Clear));
        assert_eq!(decode_event(r#"{"event":"other"}"#), Ok(FromAgent::Ignored));
        assert!(decode_event("nope").unwrap_err().contains("not JSON"));
    }
}
