//! Participants, makecall and the action rules.

use std::time::Duration;

use serde_json::json;
use voicebot_model::{CallControlResult, DeviceId, DnType, Participant, ParticipantStatus};
use voicebot_sim::{CallEnd, CallSpec, FarEnd, FarEnds, InboundMode, JournalKind, Sim, SimConfig};

use super::util::{client, get, participant, post_json, token, within};

#[tokio::test]
async fn inbound_call_appears_connected_with_all_fields() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let caller = sim
            .call(CallSpec::new("+15551234567").name("Ada"))
            .await
            .unwrap();
        caller.wait_connected().await.unwrap();
        let id = caller.participant_id().0;
        let p = participant(&sim, &token, "800", id).await;
        assert_eq!(p.status, ParticipantStatus::Connected);
        assert_eq!(p.party_caller_id, "+15551234567");
        assert_eq!(p.party_caller_name, "Ada");
        assert_eq!(p.party_dn_type, DnType::ExternalLine);
        assert_eq!(p.callid, caller.callid());
        let raw: serde_json::Value =
            get(&sim, &token, &format!("/callcontrol/800/participants/{id}"))
                .await
                .json()
                .await
                .unwrap();
        assert_eq!(raw.as_object().unwrap().len(), 18);
        let list: Vec<Participant> = get(&sim, &token, "/callcontrol/800/participants")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list.len(), 1);
        caller.hang_up().await.unwrap();
        assert_eq!(caller.wait_ended().await, CallEnd::HungUp);
        let gone = get(&sim, &token, &format!("/callcontrol/800/participants/{id}")).await;
        assert_eq!(gone.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn foreign_dns_are_403_and_unknown_ids_404() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        assert_eq!(get(&sim, &token, "/callcontrol/999").await.status(), 403);
        assert_eq!(
            get(&sim, &token, "/callcontrol/999/participants")
                .await
                .status(),
            403
        );
        let response = get(&sim, &token, "/callcontrol/800/participants/4242").await;
        assert_eq!(response.status(), 404);
        let body: CallControlResult = response.json().await.unwrap();
        assert!(body.result.is_none());
        assert!(body.reasontext.is_some());
        assert_eq!(
            get(&sim, &token, "/callcontrol/800/participants/abc")
                .await
                .status(),
            404
        );
        let response = post_json(
            &sim,
            &token,
            "/callcontrol/800/participants/4242/drop",
            json!({}),
        )
        .await;
        assert_eq!(response.status(), 404);
        let response = post_json(
            &sim,
            &token,
            "/callcontrol/999/participants/1/drop",
            json!({}),
        )
        .await;
        assert_eq!(response.status(), 403);
    })
    .await;
}

#[tokio::test]
async fn divert_needs_ringing_and_transferto_needs_connected() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+15550001").await.unwrap();
        let path = format!("/callcontrol/800/participants/{}", caller.participant_id());
        let response = post_json(
            &sim,
            &token,
            &format!("{path}/divert"),
            json!({"destination": "101"}),
        )
        .await;
        assert_eq!(response.status(), 422);
        let body: CallControlResult = response.json().await.unwrap();
        assert!(body.reasontext.unwrap().contains("Connected"));
        let response = post_json(&sim, &token, &format!("{path}/answer"), json!({})).await;
        assert_eq!(response.status(), 422, "already connected");

        let ringing = Sim::start_with(SimConfig {
            inbound: InboundMode::Ringing,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let token = super::util::token(&ringing).await;
        let caller = ringing.call_in("+15550002").await.unwrap();
        let path = format!("/callcontrol/800/participants/{}", caller.participant_id());
        assert_eq!(
            participant(&ringing, &token, "800", caller.participant_id().0)
                .await
                .status,
            ParticipantStatus::Ringing
        );
        let response = post_json(
            &ringing,
            &token,
            &format!("{path}/transferto"),
            json!({"destination": "+1555"}),
        )
        .await;
        assert_eq!(response.status(), 422);
        let response = post_json(&ringing, &token, &format!("{path}/answer"), json!({})).await;
        assert_eq!(response.status(), 200);
        caller.wait_connected().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn divert_a_ringing_extension_call() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let caller = sim
            .call(CallSpec::new("+15550003").to("101"))
            .await
            .unwrap();
        let id = caller.participant_id().0;
        assert_eq!(
            participant(&sim, &token, "101", id).await.status,
            ParticipantStatus::Ringing
        );
        let response = post_json(
            &sim,
            &token,
            &format!("/callcontrol/101/participants/{id}/divert"),
            json!({"destination": "+15559999", "reason": "NoAnswer"}),
        )
        .await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            caller.wait_ended().await,
            CallEnd::DivertedTo("+15559999".into())
        );
    })
    .await;
}

#[tokio::test]
async fn transferto_hands_the_call_over_and_routeto_reports_busy() {
    within(20, async {
        let config = SimConfig {
            far_ends: FarEnds::default()
                .with("200", FarEnd::answer_after(Duration::from_millis(100)))
                .with("300", FarEnd::Busy),
            ..SimConfig::default()
        };
        let sim = Sim::start_with(config).await.unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+15550004").await.unwrap();
        let path = format!("/callcontrol/800/participants/{}", caller.participant_id());
        let response = post_json(&sim, &token, &format!("{path}/routeto"), json!({"destination": "300"})).await;
        // A failed route is not a 2xx (SimConfig::route_failure_status, reference §11.18).
        assert_eq!(response.status(), 422);
        let body: CallControlResult = response.json().await.unwrap();
        assert!(!body.is_success());
        assert_eq!(body.reason, "PhoneBusy");
        assert_eq!(caller.state(), voicebot_sim::CallerState::Connected);
        let response = post_json(&sim, &token, &format!("{path}/transferto"), json!({"destination": "200"})).await;
        assert_eq!(response.status(), 200);
        let body: CallControlResult = response.json().await.unwrap();
        assert!(body.is_success());
        assert_eq!(caller.wait_ended().await, CallEnd::TransferredTo("200".into()));
        assert!(sim.journal().iter().any(|e| matches!(
            &e.kind,
            JournalKind::Action { action, status: 200, destination: Some(d), .. } if action == "transferto" && d == "200"
        )));
    })
    .await;
}

#[tokio::test]
async fn action_bodies_need_json() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+15550005").await.unwrap();
        let url = format!(
            "{}/callcontrol/800/participants/{}/drop",
            sim.base_url(),
            caller.participant_id()
        );
        let response = client()
            .post(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415);
        let response = client()
            .post(&url)
            .bearer_auth(&token)
            .header("content-type", "application/json; charset=utf-8")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(caller.wait_ended().await, CallEnd::Dropped);
    })
    .await;
}

#[tokio::test]
async fn makecall_from_a_percent_encoded_device() {
    within(20, async {
        let config = SimConfig {
            far_ends: FarEnds::default()
                .with("+4930123", FarEnd::answer_after(Duration::from_millis(200))),
            far_leg_events: true,
            ..SimConfig::default()
        };
        let sim = Sim::start_with(config).await.unwrap();
        let token = token(&sim).await;
        let device = sim.route_point_device();
        let path = format!(
            "/callcontrol/800/devices/{}/makecall",
            device.path_segment()
        );
        let response = post_json(&sim, &token, &path, json!({"destination": "+4930123"})).await;
        assert_eq!(response.status(), 200);
        let body: CallControlResult = response.json().await.unwrap();
        let placed = body.result.unwrap();
        assert_eq!(placed.status, ParticipantStatus::Dialing);
        assert_eq!(placed.device_id, Some(device.clone()));
        let far = sim.wait_outbound("+4930123").await.unwrap();
        assert_eq!(far.participant_id(), placed.id);
        far.wait_connected().await.unwrap();
        assert_eq!(
            participant(&sim, &token, "800", placed.id.0).await.status,
            ParticipantStatus::Connected
        );
        // The far leg (PD-CODE): 403 on GET and drop.
        let far_id = placed.id.0 + 1;
        assert_eq!(
            get(
                &sim,
                &token,
                &format!("/callcontrol/800/participants/{far_id}")
            )
            .await
            .status(),
            403
        );
        let response = post_json(
            &sim,
            &token,
            &format!("/callcontrol/800/participants/{far_id}/drop"),
            json!({}),
        )
        .await;
        assert_eq!(response.status(), 403);

        let unknown = format!(
            "/callcontrol/800/devices/{}/makecall",
            DeviceId::new("sip:nobody@x").path_segment()
        );
        let response = post_json(&sim, &token, &unknown, json!({"destination": "1"})).await;
        assert_eq!(response.status(), 404);
        let response = get(
            &sim,
            &token,
            &format!("/callcontrol/800/devices/{}", device.path_segment()),
        )
        .await;
        assert_eq!(response.status(), 200);
    })
    .await;
}

#[tokio::test]
async fn makecall_to_busy_and_unreachable_numbers_fails() {
    within(20, async {
        let config = SimConfig {
            far_ends: FarEnds::default()
                .with("111", FarEnd::Busy)
                .with("222", FarEnd::Unreachable),
            ..SimConfig::default()
        };
        let sim = Sim::start_with(config).await.unwrap();
        let token = token(&sim).await;
        let response = post_json(
            &sim,
            &token,
            "/callcontrol/800/makecall",
            json!({"destination": "222"}),
        )
        .await;
        let body: CallControlResult = response.json().await.unwrap();
        assert!(body.result.is_none() && body.reasontext.is_some());
        let response = post_json(
            &sim,
            &token,
            "/callcontrol/800/makecall",
            json!({"destination": "111"}),
        )
        .await;
        let body: CallControlResult = response.json().await.unwrap();
        assert!(body.is_success());
        let far = sim.wait_outbound("111").await.unwrap();
        assert_eq!(far.wait_ended().await, CallEnd::Busy);
        assert!(sim.snapshot().iter().all(|dn| dn.participants.is_empty()));
    })
    .await;
}

#[tokio::test]
async fn extension_calls_ring_until_answered_and_transfers_arrive_there() {
    within(20, async {
        let mut config = SimConfig::default();
        let mut plain = voicebot_sim::ExtensionSpec::new("102");
        plain.direct_control = false;
        plain.on_ring = FarEnd::answer_after(Duration::from_millis(100));
        config.extensions.push(plain);
        let sim = Sim::start_with(config).await.unwrap();
        let token = token(&sim).await;

        // 101 has a direct-control device: `answer` works.
        let caller = sim.call(CallSpec::new("+1").to("101")).await.unwrap();
        let path = format!("/callcontrol/101/participants/{}", caller.participant_id());
        let response = post_json(&sim, &token, &format!("{path}/answer"), json!({})).await;
        assert_eq!(response.status(), 200);
        caller.wait_connected().await.unwrap();
        // Extension calls have no audio streams (ISS3).
        let stream = get(&sim, &token, &format!("{path}/stream")).await;
        assert_eq!(stream.status(), 424);

        // 102 has none: `answer` is refused, but its user picks up.
        let caller = sim.call(CallSpec::new("+2").to("102")).await.unwrap();
        let path = format!("/callcontrol/102/participants/{}", caller.participant_id());
        let response = post_json(&sim, &token, &format!("{path}/answer"), json!({})).await;
        assert_eq!(response.status(), 422);
        caller.wait_connected().await.unwrap();

        // A route-point call transferred to 102 shows up there, referred by 800.
        let caller = sim.call_in("+3").await.unwrap();
        let path = format!("/callcontrol/800/participants/{}", caller.participant_id());
        let response = post_json(
            &sim,
            &token,
            &format!("{path}/transferto"),
            json!({"destination": "102"}),
        )
        .await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            caller.wait_ended().await,
            CallEnd::TransferredTo("102".into())
        );
        let at_102: Vec<Participant> = get(&sim, &token, "/callcontrol/102/participants")
            .await
            .json()
            .await
            .unwrap();
        let arrived = at_102.iter().find(|p| p.callid == caller.callid()).unwrap();
        assert_eq!(
            arrived.referred_by_dn.as_ref().map(|d| d.as_str()),
            Some("800")
        );
        caller.hang_up().await.unwrap();
        assert!(
            sim.snapshot()
                .iter()
                .all(|d| d.participants.iter().all(|p| p.callid != caller.callid()))
        );
    })
    .await;
}

#[tokio::test]
async fn actions_over_the_websocket_are_answered_with_type_4() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let mut ws = super::util::connect_ws(&sim, &token).await.unwrap();
        let caller = sim.call_in("+15550009").await.unwrap();
        let upsert = super::util::next_event(&mut ws).await;
        assert_eq!(upsert.event.event_type, voicebot_model::EventType::Upsert);
        let path = format!(
            "/callcontrol/800/participants/{}/drop",
            caller.participant_id()
        );
        let request = json!({"RequestID": "x", "Path": path, "RequestData": {}});
        super::util::send_text(&mut ws, request.to_string()).await;
        let mut reply = None;
        for _ in 0..3 {
            let event = super::util::next_event(&mut ws).await;
            if event.event.event_type == voicebot_model::EventType::Response {
                reply = Some(event);
                break;
            }
        }
        let reply = reply.expect("a type 4 reply");
        assert_eq!(reply.event.attached_data.unwrap()["StatusCode"], 200);
        assert_eq!(caller.wait_ended().await, CallEnd::Dropped);
    })
    .await;
}
