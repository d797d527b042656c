//! Fault injection.

use std::time::{Duration, Instant};

use futures::StreamExt;
use voicebot_sim::{CallEnd, JournalKind, RestartIds, Sim, SimConfig};

use super::util::{client, connect_ws, get, next_event, token, within};

#[tokio::test]
async fn fail_next_answers_5xx_then_recovers() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        sim.faults().fail_next("GET /callcontrol", 503, 2);
        assert_eq!(get(&sim, &token, "/callcontrol").await.status(), 503);
        assert_eq!(get(&sim, &token, "/callcontrol/800").await.status(), 503);
        assert_eq!(get(&sim, &token, "/callcontrol").await.status(), 200);
        sim.faults().fail_next("/connect/token", 500, 1);
        let response = client()
            .post(format!("{}/connect/token", sim.base_url()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 500);
        let statuses: Vec<u16> = sim
            .journal()
            .iter()
            .filter_map(|e| match &e.kind {
                JournalKind::Http { status, .. } => Some(*status),
                _ => None,
            })
            .collect();
        assert!(statuses.contains(&503) && statuses.contains(&500));
    })
    .await;
}

#[tokio::test]
async fn delayed_requests_take_longer() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        sim.faults().delay_requests(Duration::from_millis(300));
        let start = Instant::now();
        assert_eq!(get(&sim, &token, "/callcontrol").await.status(), 200);
        assert!(start.elapsed() >= Duration::from_millis(300));
        sim.faults().delay_requests(Duration::ZERO);
    })
    .await;
}

#[tokio::test]
async fn websockets_can_be_dropped_and_refused() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        sim.faults().drop_websockets();
        let end = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match ws.next().await {
                    None | Some(Err(_)) => break,
                    Some(Ok(message)) if message.is_close() => break,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await;
        assert!(end.is_ok(), "socket closed");
        sim.faults().refuse_websockets(1);
        assert!(connect_ws(&sim, &token).await.is_err());
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        sim.call_in("+1").await.unwrap();
        next_event(&mut ws).await;
    })
    .await;
}

#[tokio::test]
async fn stalled_websockets_send_nothing() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        sim.faults().stall_websockets(true);
        tokio::time::sleep(Duration::from_millis(50)).await;
        sim.call_in("+1").await.unwrap();
        let nothing = tokio::time::timeout(Duration::from_millis(500), ws.next()).await;
        assert!(nothing.is_err(), "no frame from a dead socket");
        sim.faults().stall_websockets(false);
        let caller = sim.call_in("+2").await.unwrap();
        let event = next_event(&mut ws).await;
        assert_eq!(
            event.event.entity_path().unwrap().to_string(),
            format!("/callcontrol/800/participants/{}", caller.participant_id())
        );
    })
    .await;
}

#[tokio::test]
async fn cut_audio_streams_ends_the_get_stream() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+1").await.unwrap();
        let url = format!(
            "{}/callcontrol/800/participants/{}/stream",
            sim.base_url(),
            caller.participant_id()
        );
        let response = client().get(&url).bearer_auth(&token).send().await.unwrap();
        let mut stream = response.bytes_stream();
        stream.next().await.unwrap().unwrap();
        sim.faults().cut_audio_streams();
        let ended = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(Ok(_)) = stream.next().await {}
        })
        .await;
        assert!(ended.is_ok());
        assert_eq!(caller.state(), voicebot_sim::CallerState::Connected);
    })
    .await;
}

#[tokio::test]
async fn restart_loses_calls_tokens_and_sequence() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        let caller = sim.call_in("+1").await.unwrap();
        let before = next_event(&mut ws).await;
        sim.faults().restart().await;
        assert_eq!(caller.wait_ended().await, CallEnd::Restarted);
        assert_eq!(get(&sim, &token, "/callcontrol").await.status(), 401);
        let token = super::util::token(&sim).await;
        let mut ws = connect_ws(&sim, &token).await.unwrap();
        sim.call_in("+2").await.unwrap();
        let after = next_event(&mut ws).await;
        assert_eq!(after.sequence, 1);
        assert!(before.sequence >= 1);
        assert!(
            sim.snapshot()
                .iter()
                .map(|d| d.participants.len())
                .sum::<usize>()
                == 1
        );
    })
    .await;
}

/// `(participant id, callid)` of every participant on the route point.
fn route_point_legs(sim: &Sim) -> Vec<(i64, i64)> {
    sim.snapshot()
        .into_iter()
        .filter(|dn| dn.dn == *sim.route_point())
        .flat_map(|dn| dn.participants)
        .map(|participant| (participant.id.0, participant.callid))
        .collect()
}

#[tokio::test]
async fn a_restart_starts_the_id_counters_again_as_configured() {
    within(20, async {
        // Two calls before the restart (ids and callids 1 and 2), one after.
        let cases = [
            (RestartIds::All, (1, 1)),
            (RestartIds::ParticipantIds, (1, 3)),
            (RestartIds::Keep, (3, 3)),
        ];
        for (restart_ids, expected) in cases {
            let sim = Sim::start_with(SimConfig {
                restart_ids,
                ..SimConfig::default()
            })
            .await
            .unwrap();
            sim.call_in("+15550001")
                .await
                .unwrap()
                .hang_up()
                .await
                .unwrap();
            let live = sim.call_in("+15550002").await.unwrap();
            assert_eq!(route_point_legs(&sim), vec![(2, 2)], "{restart_ids:?}");
            sim.faults().restart().await;
            assert_eq!(live.wait_ended().await, CallEnd::Restarted);
            sim.call_in("+15550003").await.unwrap();
            assert_eq!(route_point_legs(&sim), vec![expected], "{restart_ids:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_journal_names_the_call_an_action_hit() {
    within(20, async {
        let sim = Sim::start_with(SimConfig {
            restart_ids: RestartIds::ParticipantIds,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let first = sim.call_in("+15550001").await.unwrap();
        sim.faults().restart().await;
        assert_eq!(first.wait_ended().await, CallEnd::Restarted);
        let token_after = token(&sim).await;
        let second = sim.call_in("+15550002").await.unwrap();
        // The id the first call had now names the second call's participant.
        let path = "/callcontrol/800/participants/1/drop";
        let response = client()
            .post(format!("{}{path}", sim.base_url()))
            .bearer_auth(&token_after)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(second.wait_ended().await, CallEnd::Dropped);
        let missing = client()
            .post(format!("{}{path}", sim.base_url()))
            .bearer_auth(&token_after)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
        let hits: Vec<(Option<i64>, u16)> = sim
            .journal()
            .into_iter()
            .filter_map(|entry| match entry.kind {
                JournalKind::Action { callid, status, .. } => Some((callid, status)),
                _ => None,
            })
            .collect();
        assert_eq!(hits, vec![(Some(2), 200), (None, 404)]);
    })
    .await;
}

#[tokio::test]
async fn dropped_events_leave_a_sequence_gap_on_an_open_socket() {
    within(20, async {
        for per_connection in [false, true] {
            let sim = voicebot_sim::Sim::start_with(voicebot_sim::SimConfig {
                sequence_per_connection: per_connection,
                ..voicebot_sim::SimConfig::default()
            })
            .await
            .unwrap();
            let token = token(&sim).await;
            let mut ws = connect_ws(&sim, &token).await.unwrap();
            let first = sim.call_in("+15550001").await.unwrap();
            let seen = next_event(&mut ws).await;
            sim.faults().drop_next_events(2);
            sim.call_in("+15550002").await.unwrap();
            first.hang_up().await.unwrap();
            let third = sim.call_in("+15550003").await.unwrap();
            let next = next_event(&mut ws).await;
            assert_eq!(
                next.sequence,
                seen.sequence + 3,
                "per connection: {per_connection}"
            );
            assert!(
                next.event
                    .entity
                    .ends_with(&format!("/{}", third.participant_id().0))
            );
            let dropped = sim
                .journal()
                .iter()
                .filter(|e| matches!(e.kind, JournalKind::EventDropped { .. }))
                .count();
            assert_eq!(dropped, 2);
        }
    })
    .await;
}

#[tokio::test]
async fn stalled_audio_streams_stay_open_and_send_nothing() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+15550004").await.unwrap();
        let path = format!(
            "/callcontrol/800/participants/{}/stream",
            caller.participant_id().0
        );
        let mut body = get(&sim, &token, &path).await.bytes_stream();
        assert!(body.next().await.unwrap().is_ok());
        sim.faults().stall_audio_streams(true);
        // Let chunks queued before the stall drain.
        tokio::time::sleep(Duration::from_millis(100)).await;
        while tokio::time::timeout(Duration::from_millis(50), body.next())
            .await
            .is_ok()
        {}
        let silent = tokio::time::timeout(Duration::from_millis(300), body.next()).await;
        assert!(silent.is_err(), "nothing arrives while stalled");
        sim.faults().stall_audio_streams(false);
        let resumed = tokio::time::timeout(Duration::from_secs(2), body.next()).await;
        assert!(
            matches!(resumed, Ok(Some(Ok(_)))),
            "audio resumes on the same stream"
        );
    })
    .await;
}

#[tokio::test]
async fn restart_loses_xapi_changes_too() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let numbers = |sim: &Sim, token: String| {
            let url = format!("{}/xapi/v1/Users", sim.base_url());
            async move {
                let body: serde_json::Value = client()
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                body["value"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|user| user["Number"].as_str().unwrap_or("").to_owned())
                    .collect::<Vec<String>>()
            }
        };
        let created = client()
            .post(format!("{}/xapi/v1/Users", sim.base_url()))
            .bearer_auth(&token)
            .json(&serde_json::json!({
                "Id": 0, "Number": "211", "FirstName": "John",
                "EmailAddress": "john@example.com"
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let before = numbers(&sim, token.clone()).await;
        assert!(before.contains(&"211".to_owned()), "{before:?}");

        sim.faults().restart().await;
        let token = super::util::token(&sim).await;
        let after = numbers(&sim, token).await;
        assert!(!after.contains(&"211".to_owned()), "{after:?}");
        assert!(
            after.contains(&"101".to_owned()),
            "configured users come back: {after:?}"
        );
    })
    .await;
}
