//! WebSocket events.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use voicebot_model::{EntityPath, EventType, ParticipantId};
use voicebot_sim::{CallSpec, Sim, SimConfig};

use super::util::{connect_ws, next_event, send_text, token, within};

#[tokio::test]
async fn upsert_dtmf_remove_with_increasing_sequence() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        let caller = sim.call_in("+15550100").await.unwrap();
        caller.press("1#").await.unwrap();
        caller.hang_up().await.unwrap();
        let mut events = Vec::new();
        for _ in 0..4 {
            events.push(next_event(&mut ws).await);
        }
        let types: Vec<EventType> = events.iter().map(|e| e.event.event_type).collect();
        assert_eq!(
            types,
            [
                EventType::Upsert,
                EventType::Dtmf,
                EventType::Dtmf,
                EventType::Remove
            ]
        );
        assert!(events.windows(2).all(|w| w[0].sequence < w[1].sequence));
        let expected = EntityPath::Participant {
            dn: "800".into(),
            id: caller.participant_id(),
        };
        for event in &events {
            assert_eq!(event.event.entity_path().unwrap(), expected);
        }
        assert_eq!(events[0].event.attached_data, None);
        assert_eq!(events[3].event.attached_data, None);
        assert_eq!(events[1].event.dtmf_input(), Some("1"));
        assert_eq!(events[2].event.dtmf_input(), Some("#"));
    })
    .await;
}

#[tokio::test]
async fn raw_frames_carry_null_attached_data() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        sim.call_in("+15550101").await.unwrap();
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let value: serde_json::Value = serde_json::from_str(frame.to_text().unwrap()).unwrap();
        assert_eq!(value["event"]["event_type"], 0);
        assert!(value["event"].get("attached_data").unwrap().is_null());
    })
    .await;
}

#[tokio::test]
async fn duplicate_upserts_and_unmonitored_dns() {
    within(20, async {
        let mut config = SimConfig {
            duplicate_upserts: true,
            ..SimConfig::default()
        };
        let mut hidden = voicebot_sim::ExtensionSpec::new("102");
        hidden.monitored = false;
        config.extensions.push(hidden);
        let sim = Sim::start_with(config).await.unwrap();
        let token = token(&sim).await;
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        // A call to an unmonitored extension produces no events.
        sim.call(CallSpec::new("+1").to("102")).await.unwrap();
        let caller = sim.call_in("+15550102").await.unwrap();
        let first = next_event(&mut ws).await;
        let second = next_event(&mut ws).await;
        assert_eq!(first.event.event_type, EventType::Upsert);
        assert_eq!(first.event, second.event);
        assert!(second.sequence > first.sequence);
        assert_eq!(first.event.entity_path().unwrap().dn().as_str(), "800");
        assert_eq!(caller.participant_id(), ParticipantId(1));
    })
    .await;
}

#[tokio::test]
async fn pings_are_answered_and_requests_get_type_4_replies() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        ws.send(Message::Ping(b"hi".to_vec().into())).await.unwrap();
        let pong = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(pong, Message::Pong(b"hi".to_vec().into()));
        let request = json!({"RequestID": "r1", "Path": "/callcontrol/800"});
        send_text(&mut ws, request.to_string()).await;
        let reply = next_event(&mut ws).await;
        assert_eq!(reply.event.event_type, EventType::Response);
        let data = reply.event.attached_data.unwrap();
        assert_eq!(data["RequestID"], "r1");
        assert_eq!(data["StatusCode"], 200);
        assert_eq!(data["Response"]["type"], "Wroutepoint");
    })
    .await;
}

#[tokio::test]
async fn upserts_repeat_while_nothing_changes() {
    within(20, async {
        let sim = Sim::start_with(SimConfig {
            repeat_upserts_every: Some(Duration::from_millis(100)),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let token = token(&sim).await;
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        let caller = sim.call_in("+15550103").await.unwrap();
        let entity = EntityPath::Participant {
            dn: "800".into(),
            id: caller.participant_id(),
        };
        let mut last = 0;
        for _ in 0..4 {
            let event = next_event(&mut ws).await;
            assert_eq!(event.event.event_type, EventType::Upsert);
            assert_eq!(event.event.entity_path().unwrap(), entity);
            assert!(event.sequence > last);
            last = event.sequence;
        }
        caller.hang_up().await.unwrap();
        let remove = next_event(&mut ws).await;
        assert_eq!(remove.event.event_type, EventType::Remove);
    })
    .await;
}
