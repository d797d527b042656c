//! Extensions with behaviour and the open `routeto` questions (reference §11.18,
//! §11.19): failures answered with a non-2xx status by default, a pending request
//! that ends with the caller, and a routed participant that lingers for the
//! client's `drop`. Every setting is also tested the other way.

use std::time::Duration;

use serde_json::json;
use voicebot_model::{CallControlResult, EventType};
use voicebot_sim::{
    AfterRoute, Answered, CallEnd, ExtensionSpec, FarEnd, JournalKind, Script, ScriptStatus, Sim,
    SimConfig, Step,
};

use super::util::{act, connect_ws, get, makecall, next_event, post_json, token, within};

fn with_extensions(extensions: &[(&str, &str)]) -> SimConfig {
    SimConfig {
        extensions: extensions
            .iter()
            .map(|(dn, behaviour)| ExtensionSpec::new(*dn).answering(behaviour.parse().unwrap()))
            .collect(),
        ..SimConfig::default()
    }
}

async fn route(sim: &Sim, token: &str, id: i64, destination: &str) -> reqwest::Response {
    let path = format!("/callcontrol/800/participants/{id}/routeto");
    post_json(sim, token, &path, json!({ "destination": destination })).await
}

#[tokio::test]
async fn extensions_answer_refuse_or_ring_out_as_configured() {
    within(30, async {
        let sim = Sim::start_with(with_extensions(&[
            ("100", "answer:200ms"),
            ("200", "busy"),
            ("300", "reject:100ms"),
            ("400", "noanswer:300ms"),
        ]))
        .await
        .unwrap();
        let token = token(&sim).await;
        for (destination, reason) in [
            ("200", "PhoneBusy"),
            ("300", "Rejected"),
            ("400", "NoAnswer"),
        ] {
            let caller = sim.call_in("+15550001").await.unwrap();
            let response = route(&sim, &token, caller.participant_id().0, destination).await;
            assert_eq!(response.status(), 422, "{destination}");
            let body: CallControlResult = response.json().await.unwrap();
            assert_eq!(body.reason, reason, "{destination}");
            // A failed route leaves the caller where it was.
            assert_eq!(caller.state(), voicebot_sim::CallerState::Connected);
            caller.hang_up().await.unwrap();
        }
        let caller = sim.call_in("+15550002").await.unwrap();
        let response = route(&sim, &token, caller.participant_id().0, "100").await;
        assert_eq!(response.status(), 200);
        assert_eq!(caller.wait_ended().await, CallEnd::RoutedTo("100".into()));
        // The call is now on extension 100, connected, referred by the route point.
        let on_100 = &sim
            .snapshot()
            .into_iter()
            .find(|dn| dn.dn.as_str() == "100")
            .unwrap();
        assert_eq!(on_100.participants.len(), 1);
        assert!(on_100.participants[0].is_connected());
        assert_eq!(on_100.participants[0].party_caller_id, "+15550002");
    })
    .await;
}

#[tokio::test]
async fn a_failed_route_answers_200_failed_when_set_so() {
    within(20, async {
        let sim = Sim::start_with(SimConfig {
            route_failure_status: 200,
            ..with_extensions(&[("200", "busy")])
        })
        .await
        .unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+15550003").await.unwrap();
        let response = route(&sim, &token, caller.participant_id().0, "200").await;
        assert_eq!(response.status(), 200);
        let body: CallControlResult = response.json().await.unwrap();
        assert!(!body.is_success());
    })
    .await;
}

#[tokio::test]
async fn a_pending_routeto_ends_when_the_caller_hangs_up() {
    // Within 10 s although the destination rings for 30 s: the request ends with
    // the call, not with the ring timeout.
    within(10, async {
        let sim = Sim::start_with(with_extensions(&[("100", "noanswer:30s")]))
            .await
            .unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+15550004").await.unwrap();
        let hang_up = {
            let caller = caller.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                caller.hang_up().await.unwrap();
            }
        };
        let (response, ()) = tokio::join!(
            route(&sim, &token, caller.participant_id().0, "100"),
            hang_up
        );
        assert_eq!(response.status(), 404);
        let body: CallControlResult = response.json().await.unwrap();
        assert!(
            body.reasontext
                .unwrap_or_default()
                .contains("left the call")
        );
        assert_eq!(caller.wait_ended().await, CallEnd::HungUp);
    })
    .await;
}

#[tokio::test]
async fn after_a_route_the_participant_lingers_for_the_clients_drop_unless_set_otherwise() {
    within(20, async {
        // Default: it lingers, so 3CX's sample's `drop` after a successful routeto works.
        let sim = Sim::start_with(with_extensions(&[("100", "answer")]))
            .await
            .unwrap();
        assert_eq!(
            sim.config().after_route,
            AfterRoute::Lingers(Duration::from_secs(1))
        );
        let token = token(&sim).await;
        let caller = sim.call_in("+15550005").await.unwrap();
        let id = caller.participant_id().0;
        assert_eq!(route(&sim, &token, id, "100").await.status(), 200);
        let path = format!("/callcontrol/800/participants/{id}");
        assert_eq!(get(&sim, &token, &path).await.status(), 200);
        // Its media went with the caller.
        assert_eq!(
            get(&sim, &token, &format!("{path}/stream")).await.status(),
            424
        );
        assert_eq!(
            post_json(&sim, &token, &format!("{path}/drop"), json!({}))
                .await
                .status(),
            200
        );
        assert_eq!(get(&sim, &token, &path).await.status(), 404);
        // The drop removed only the handed-on leg: the call goes on at 100.
        let on_100 = sim
            .snapshot()
            .into_iter()
            .find(|dn| dn.dn.as_str() == "100")
            .unwrap();
        assert_eq!(on_100.participants.len(), 1);

        // Not dropped: the PBX removes it itself once the linger is over.
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        let caller = sim.call_in("+15550006").await.unwrap();
        let id = caller.participant_id().0;
        assert_eq!(
            next_event(&mut ws).await.event.event_type,
            EventType::Upsert
        );
        assert_eq!(route(&sim, &token, id, "100").await.status(), 200);
        let removed = format!("/callcontrol/800/participants/{id}");
        loop {
            let event = next_event(&mut ws).await;
            if event.event.event_type == EventType::Remove && event.event.entity == removed {
                break;
            }
        }

        // Set to `Removed`: gone before the answer, so a follow-up drop gets 404.
        let sim = Sim::start_with(SimConfig {
            after_route: AfterRoute::Removed,
            ..with_extensions(&[("100", "answer")])
        })
        .await
        .unwrap();
        let token = super::util::token(&sim).await;
        let caller = sim.call_in("+15550007").await.unwrap();
        let id = caller.participant_id().0;
        assert_eq!(route(&sim, &token, id, "100").await.status(), 200);
        assert_eq!(act(&sim, &token, "800", id, "drop").await, 404);
    })
    .await;
}

#[tokio::test]
async fn the_answered_party_hangs_up_or_runs_its_script() {
    within(20, async {
        let hangs_up = FarEnd::Answer {
            after: Duration::ZERO,
            audio: None,
            then: Answered::HangUpAfter(Duration::from_millis(300)),
        };
        // Its script waits to hear a second of audio nobody plays: it fails when the
        // caller hangs up, and the simulator goes on.
        let script = Script::from(vec![
            Step::SendSilence(Duration::from_millis(100)),
            Step::WaitHeard(Duration::from_secs(1)),
        ]);
        let scripted = FarEnd::Answer {
            after: Duration::ZERO,
            audio: None,
            then: Answered::Script(script),
        };
        let sim = Sim::start_with(SimConfig {
            extensions: vec![
                ExtensionSpec::new("100").answering(hangs_up),
                ExtensionSpec::new("200").answering(scripted),
            ],
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let token = token(&sim).await;
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        let caller = sim.call_in("+15550008").await.unwrap();
        assert_eq!(
            route(&sim, &token, caller.participant_id().0, "100")
                .await
                .status(),
            200
        );
        // The extension's leg appears, then goes when its user hangs up.
        let mut seen_on_100 = None;
        loop {
            let event = next_event(&mut ws).await;
            if !event.event.entity.starts_with("/callcontrol/100/") {
                continue;
            }
            match (event.event.event_type, &seen_on_100) {
                (EventType::Upsert, None) => seen_on_100 = Some(event.event.entity.clone()),
                (EventType::Remove, Some(entity)) if *entity == event.event.entity => break,
                _ => {}
            }
        }
        let ended = sim.journal().into_iter().any(|entry| {
            matches!(
                entry.kind,
                JournalKind::CallEnded {
                    end: CallEnd::HungUp,
                    ..
                }
            )
        });
        assert!(ended, "the answered party's hang-up ends the call");

        let caller = sim.call_in("+15550009").await.unwrap();
        assert_eq!(
            route(&sim, &token, caller.participant_id().0, "200")
                .await
                .status(),
            200
        );
        let answered = loop {
            if let Some(call) = sim.scripted_calls().into_iter().find(|c| c.dn == "200") {
                break call;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(answered.script, ScriptStatus::Running);
        caller.hang_up().await.unwrap();
        let failed = loop {
            let call = sim.scripted_call(answered.id).unwrap();
            if call.script != ScriptStatus::Running {
                break call;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let ScriptStatus::Failed(error) = &failed.script else {
            panic!("the script fails: {failed:?}");
        };
        assert!(error.contains("ended"), "{error}");
        assert!(sim.journal().iter().any(|entry| matches!(
            &entry.kind,
            JournalKind::ScriptEnded { error: Some(_), id, .. } if *id == answered.id
        )));
        // Still serving.
        let again = sim.call_in("+15550010").await.unwrap();
        assert_eq!(
            super::util::participant(&sim, &token, "800", again.participant_id().0)
                .await
                .party_caller_id,
            "+15550010"
        );
    })
    .await;
}

#[tokio::test]
async fn makecall_to_an_answering_extension_connects_and_a_rejecting_one_fails() {
    within(20, async {
        let sim = Sim::start_with(with_extensions(&[
            ("100", "answer:100ms,hangup:200ms"),
            ("200", "reject"),
        ]))
        .await
        .unwrap();
        let token = token(&sim).await;
        let response = makecall(&sim, &token, "800", "100").await;
        assert_eq!(response.status(), 200);
        let far = sim.wait_outbound("100").await.unwrap();
        far.wait_connected().await.unwrap();
        assert_eq!(far.wait_ended().await, CallEnd::HungUp);
        makecall(&sim, &token, "800", "200").await;
        let far = sim.wait_outbound("200").await.unwrap();
        assert_eq!(far.wait_ended().await, CallEnd::Rejected);
    })
    .await;
}
