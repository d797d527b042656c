//! Property and fuzz tests of the wire types: whatever a PBX (or something pretending to
//! be one) sends as a WebSocket event frame, a REST body or a token answer, parsing
//! returns a value or an error, never a panic; and what parses round-trips.
//!
//! Quick by default (proptest's 256 cases per target); `PROPTEST_CASES=1000000` runs a
//! million.

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use voicebot_model::*;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `base` with up to eight random byte edits (overwrite, insert or delete), so most cases
/// stay close to a real payload and reach deep into the parser.
fn mutated(base: String) -> impl Strategy<Value = Vec<u8>> {
    let edits = prop::collection::vec((any::<u16>(), 0u8..3, any::<u8>()), 0..8);
    edits.prop_map(move |edits| {
        let mut bytes = base.clone().into_bytes();
        for (at, op, byte) in edits {
            let at = usize::from(at) % (bytes.len() + 1);
            match (op, at < bytes.len()) {
                (0, true) => bytes[at] = byte,
                (1, _) => bytes.insert(at, byte),
                (_, true) => {
                    bytes.remove(at);
                }
                _ => bytes.push(byte),
            }
        }
        bytes
    })
}

/// Parses `bytes` as `T`; whatever parses must serialise and parse back to itself.
fn parse_round_trips<T>(bytes: &[u8])
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    if let Ok(value) = serde_json::from_slice::<T>(bytes) {
        let again = serde_json::to_vec(&value).expect("a parsed value serialises");
        let back: T = serde_json::from_slice(&again).expect("what we wrote parses");
        assert_eq!(back, value);
    }
}

/// What the event socket does with a frame: parse it, then read its entity and digits.
fn handle_frame(bytes: &[u8]) {
    if let Ok(envelope) = serde_json::from_slice::<WsEnvelope>(bytes) {
        let _ = envelope.event.entity_path();
        if let Some(digits) = envelope.event.dtmf_input() {
            let _ = parse_digits(digits);
        }
    }
    parse_round_trips::<WsEnvelope>(bytes);
    parse_round_trips::<WsResponse>(bytes);
}

fn any_json_text() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        "[\\[\\]{}\":,0-9a-z_ .-]{0,200}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #[test]
    fn event_frames_never_panic(bytes in prop_oneof![
        any_json_text(),
        mutated(fixture("ws_upsert.json")),
        mutated(fixture("ws_dtmf.json")),
        mutated(fixture("ws_response.json")),
    ]) {
        handle_frame(&bytes);
    }

    #[test]
    fn participant_bodies_never_panic(bytes in prop_oneof![
        any_json_text(),
        mutated(fixture("participant_real.json")),
        mutated(fixture("makecall_response.json")),
    ]) {
        parse_round_trips::<Participant>(&bytes);
        parse_round_trips::<Vec<Participant>>(&bytes);
        parse_round_trips::<CallControlResult>(&bytes);
        if let Ok(participant) = serde_json::from_slice::<Participant>(&bytes) {
            let _ = participant.call_leg();
            let _ = participant.is_same_leg(&participant);
        }
    }

    #[test]
    fn snapshot_and_entity_bodies_never_panic(bytes in prop_oneof![
        any_json_text(),
        mutated(fixture("snapshot_doc.json")),
    ]) {
        parse_round_trips::<Vec<DnInfo>>(&bytes);
        parse_round_trips::<DnInfo>(&bytes);
        parse_round_trips::<Device>(&bytes);
    }

    #[test]
    fn token_answers_never_panic(bytes in prop_oneof![
        any_json_text(),
        mutated(fixture("token_response.json")),
        mutated(fixture("token_error.json")),
    ]) {
        parse_round_trips::<TokenResponse>(&bytes);
        parse_round_trips::<TokenError>(&bytes);
    }

    #[test]
    fn entity_paths_parse_or_name_the_problem(path in prop_oneof![
        "/callcontrol/[a-z0-9%/]{0,40}",
        any::<String>(),
    ]) {
        match path.parse::<EntityPath>() {
            // What parses prints as a path that parses to the same entity.
            Ok(entity) => prop_assert_eq!(entity.to_string().parse::<EntityPath>().ok(), Some(entity)),
            Err(error) => {
                let quoted = format!("{:?}", path);
                prop_assert!(error.to_string().contains(&quoted));
            }
        }
    }

    #[test]
    fn entity_paths_round_trip(dn in ".{1,12}", device in ".{1,24}", id in any::<i64>()) {
        for entity in [
            EntityPath::Dn(Dn::new(dn.clone())),
            EntityPath::Participant { dn: Dn::new(dn.clone()), id: ParticipantId(id) },
            EntityPath::Device { dn: Dn::new(dn.clone()), device: DeviceId::new(device.clone()) },
        ] {
            prop_assert_eq!(entity.to_string().parse::<EntityPath>(), Ok(entity));
        }
    }

    #[test]
    fn digits_parse_or_name_the_key(text in any::<String>()) {
        match parse_digits(&text) {
            Ok(digits) => prop_assert!(digits.len() <= text.chars().count()),
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }
}
