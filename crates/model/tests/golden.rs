//! Golden fixtures: JSON shapes copied from the 3CX reference pin the wire format that
//! both the client and the simulator use. Each fixture must parse, and re-serialising
//! the parsed value must give back the same JSON (up to documented normalisation).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use voicebot_model::*;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Parses the fixture as `T` and checks that serialising it again gives the same JSON.
fn round_trip<T: DeserializeOwned + Serialize>(name: &str) -> T {
    let json = fixture(name);
    let value: T = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&value).unwrap(),
        json,
        "{name} did not round-trip"
    );
    value
}

#[test]
fn token_response() {
    let token: TokenResponse = round_trip("token_response.json");
    assert_eq!(token.expires_in, 60);
    assert_eq!(token.refresh_token, None);
}

#[test]
fn token_error() {
    let error: TokenError = round_trip("token_error.json");
    assert_eq!(error.error, "unauthorized");
}

#[test]
fn real_participant_capture() {
    let participant: Participant = round_trip("participant_real.json");
    assert_eq!(participant.id, ParticipantId(6));
    assert_eq!(participant.status, ParticipantStatus::Connected);
    assert_eq!(
        participant.device_id,
        Some(DeviceId::new("sip:209@127.0.0.1:5483"))
    );
    assert_eq!(participant.party_dn_type, DnType::Extension);
    assert_eq!(participant.originated_by_dn, None);
    assert_eq!(participant.originated_by_type, DnType::None);
}

#[test]
fn documented_snapshot_keeps_unknown_values() {
    let snapshot: Vec<DnInfo> = round_trip("snapshot_doc.json");
    let dn = &snapshot[0];
    assert_eq!(dn.dn_type, DnType::Other("string".into()));
    assert_eq!(dn.devices[0].device_id.as_str(), "string");
    let participant = &dn.participants[0];
    assert_eq!(
        participant.status,
        ParticipantStatus::Other("string".into())
    );
    assert!(participant.direct_control);
}

#[test]
fn makecall_request() {
    let request: MakeCallRequest = round_trip("makecall_request.json");
    assert_eq!(request.timeout, Some(45));
    assert_eq!(request.attacheddata.unwrap()["crm_id"], "12345");
}

#[test]
fn makecall_response_with_partial_participant() {
    // The documented example carries only six participant fields; the rest default.
    let result: CallControlResult =
        serde_json::from_value(fixture("makecall_response.json")).unwrap();
    assert!(result.is_success());
    assert_eq!(result.finalstatus, FinalStatus::Success);
    let participant = result.result.unwrap();
    assert_eq!(participant.id, ParticipantId(1));
    assert_eq!(participant.status, ParticipantStatus::Dialing);
    assert_eq!(participant.callid, 12345);
}

#[test]
fn action_request() {
    let request: ActionRequest = round_trip("action_request.json");
    assert_eq!(request.reason, Some(DiversionReason::None));
    assert_eq!(request.destination.as_deref(), Some("200"));
}

#[test]
fn ws_upsert() {
    let envelope: WsEnvelope = round_trip("ws_upsert.json");
    assert_eq!(envelope.sequence, 60);
    assert_eq!(envelope.event.event_type, EventType::Upsert);
    assert_eq!(envelope.event.attached_data, None);
    assert_eq!(
        envelope.event.entity_path().unwrap(),
        EntityPath::Participant {
            dn: Dn::new("800"),
            id: ParticipantId(12)
        }
    );
}

#[test]
fn ws_dtmf() {
    let envelope: WsEnvelope = round_trip("ws_dtmf.json");
    assert_eq!(envelope.event.event_type, EventType::Dtmf);
    assert_eq!(envelope.event.dtmf_input(), Some("1"));
}

#[test]
fn ws_request_and_response_are_pascal_case() {
    let request: WsRequest = round_trip("ws_request.json");
    assert_eq!(request.request_id, "req-1");
    assert_eq!(
        request.request_data.unwrap().destination.as_deref(),
        Some("200")
    );
    let response: WsResponse = round_trip("ws_response.json");
    assert_eq!(response.status_code, 200);
}
