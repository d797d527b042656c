//! The event stream: live events, dedup, 404 as removal, reconnect with resync,
//! dead-socket detection, shutdown.

use std::time::Duration;

use futures::StreamExt;
use voicebot_model::{ParticipantStatus, PbxEvent};
use voicebot_sim::{InboundMode, JournalKind, Sim, SimConfig};

use crate::support::{connected, start, until, within};

fn updated_id(event: &PbxEvent) -> Option<(i64, bool, ParticipantStatus)> {
    match event {
        PbxEvent::ParticipantUpdated {
            participant,
            resync,
        } => Some((participant.id.0, *resync, participant.status.clone())),
        _ => None,
    }
}

fn ws_connections(sim: &Sim) -> usize {
    sim.journal()
        .iter()
        .filter(|entry| matches!(entry.kind, JournalKind::WsConnected { .. }))
        .count()
}

#[tokio::test]
async fn follows_a_call_from_start_to_hang_up() {
    within(15, async {
        let (sim, client) = start(SimConfig::default()).await;
        let mut events = client.events();
        let (connection, resync) = connected(&mut events).await;
        assert_eq!(connection, 1);
        assert!(
            resync
                .iter()
                .any(|event| matches!(event, PbxEvent::DnUpdated { .. }))
        );

        let caller = sim.call_in("+15551234").await.unwrap();
        let id = caller.participant_id();
        let (event, _) = until(&mut events, |event| {
            updated_id(event).is_some_and(|(pid, _, status)| {
                pid == id.0 && status == ParticipantStatus::Connected
            })
        })
        .await;
        assert_eq!(updated_id(&event).map(|(_, resync, _)| resync), Some(false));
        assert!(client.state().participant(sim.route_point(), id).is_some());

        caller.press("12").await.unwrap();
        let mut digits = String::new();
        while digits.len() < 2 {
            let (event, _) =
                until(&mut events, |event| matches!(event, PbxEvent::Dtmf { .. })).await;
            if let PbxEvent::Dtmf {
                digits: pressed,
                id: pid,
                ..
            } = event
            {
                assert_eq!(pid, id);
                digits.extend(pressed.iter().map(|digit| digit.as_char()));
            }
        }
        assert_eq!(digits, "12");

        caller.hang_up().await.unwrap();
        let (event, _) = until(&mut events, |event| {
            matches!(event, PbxEvent::ParticipantRemoved { .. })
        })
        .await;
        assert_eq!(
            event,
            PbxEvent::ParticipantRemoved {
                dn: sim.route_point().clone(),
                id,
                resync: false
            }
        );
        assert!(client.state().participant(sim.route_point(), id).is_none());
    })
    .await;
}

#[tokio::test]
async fn repeated_upserts_are_emitted_once() {
    within(15, async {
        let (sim, client) = start(SimConfig {
            duplicate_upserts: true,
            inbound: InboundMode::Ringing,
            ..SimConfig::default()
        })
        .await;
        let mut events = client.events();
        connected(&mut events).await;
        let caller = sim.call_in("+15551234").await.unwrap();
        let id = caller.participant_id();
        let mine = |event: &PbxEvent| updated_id(event).filter(|(pid, ..)| *pid == id.0);
        let (ringing, _) = until(&mut events, |event| mine(event).is_some()).await;
        assert_eq!(mine(&ringing).unwrap().2, ParticipantStatus::Ringing);
        client.answer(sim.route_point(), id).await.unwrap();
        let (connected, before) = until(&mut events, |event| mine(event).is_some()).await;
        assert_eq!(mine(&connected).unwrap().2, ParticipantStatus::Connected);
        assert!(before.iter().all(|event| mine(event).is_none()), "{before:?}");
        // Let the duplicate upserts arrive and be resolved before the call ends.
        tokio::time::sleep(Duration::from_millis(300)).await;
        caller.hang_up().await.unwrap();
        let (_, before) = until(&mut events, |event| matches!(event, PbxEvent::ParticipantRemoved { .. })).await;
        assert!(before.iter().all(|event| mine(event).is_none()), "duplicates emitted: {before:?}");
        let upserts_sent = sim
            .journal()
            .iter()
            .filter(|entry| matches!(&entry.kind, JournalKind::EventSent { event_type: 0, entity, .. } if entity.ends_with(&format!("/participants/{}", id.0))))
            .count();
        assert!(upserts_sent >= 4, "the simulator sent each upsert twice ({upserts_sent})");
    })
    .await;
}

#[tokio::test]
async fn a_404_on_the_upsert_get_is_a_removal() {
    within(15, async {
        let (sim, client) = start(SimConfig {
            inbound: InboundMode::Ringing,
            ..SimConfig::default()
        })
        .await;
        let mut events = client.events();
        connected(&mut events).await;
        let caller = sim.call_in("+15551234").await.unwrap();
        let id = caller.participant_id();
        until(&mut events, |event| {
            updated_id(event).is_some_and(|(pid, ..)| pid == id.0)
        })
        .await;
        // The next participant GET (after the Connected upsert) answers 404.
        let path = format!("GET /callcontrol/800/participants/{}", id.0);
        sim.faults().fail_next(path.as_str(), 404, 1);
        client.answer(sim.route_point(), id).await.unwrap();
        let (event, _) = until(&mut events, |event| {
            matches!(event, PbxEvent::ParticipantRemoved { .. })
        })
        .await;
        assert_eq!(
            event,
            PbxEvent::ParticipantRemoved {
                dn: sim.route_point().clone(),
                id,
                resync: false
            }
        );
    })
    .await;
}

#[tokio::test]
async fn calls_that_start_and_end_while_the_socket_is_down_are_resynced() {
    within(20, async {
        let (sim, client) = start(SimConfig::default()).await;
        let mut events = client.events();
        connected(&mut events).await;
        let leaving = sim.call_in("+15550001").await.unwrap();
        until(&mut events, |event| {
            updated_id(event).is_some_and(|(pid, ..)| pid == leaving.participant_id().0)
        })
        .await;

        sim.faults().refuse_websockets(usize::MAX);
        sim.faults().drop_websockets();
        until(&mut events, |event| {
            matches!(event, PbxEvent::Disconnected { .. })
        })
        .await;
        let arriving = sim.call_in("+15550002").await.unwrap();
        leaving.hang_up().await.unwrap();
        // Let a few reconnect attempts be refused while the calls change.
        tokio::time::sleep(Duration::from_millis(300)).await;
        sim.faults().refuse_websockets(0);

        let (connection, resync) = connected(&mut events).await;
        assert_eq!(connection, 2);
        assert!(
            resync.contains(&PbxEvent::ParticipantRemoved {
                dn: sim.route_point().clone(),
                id: leaving.participant_id(),
                resync: true
            }),
            "{resync:?}"
        );
        assert!(
            resync
                .iter()
                .filter_map(updated_id)
                .any(|(pid, resync, _)| pid == arriving.participant_id().0 && resync),
            "{resync:?}"
        );
        let refused = sim
            .journal()
            .iter()
            .filter(|entry| matches!(entry.kind, JournalKind::WsRefused { .. }))
            .count();
        assert!(refused >= 1);

        let state = client.state();
        assert!(
            state
                .participant(sim.route_point(), arriving.participant_id())
                .is_some()
        );
        assert!(
            state
                .participant(sim.route_point(), leaving.participant_id())
                .is_none()
        );

        // Live events flow again on the new socket.
        arriving.hang_up().await.unwrap();
        let (event, _) = until(&mut events, |event| {
            matches!(event, PbxEvent::ParticipantRemoved { .. })
        })
        .await;
        assert!(matches!(
            event,
            PbxEvent::ParticipantRemoved { resync: false, .. }
        ));
    })
    .await;
}

#[tokio::test]
async fn a_silent_socket_is_detected_and_replaced() {
    within(20, async {
        let (sim, client) = start(SimConfig::default()).await;
        let mut events = client.events();
        connected(&mut events).await;
        sim.faults().stall_websockets(true);
        let (event, _) = until(&mut events, |event| {
            matches!(event, PbxEvent::Disconnected { .. })
        })
        .await;
        assert!(
            matches!(&event, PbxEvent::Disconnected { reason } if reason.contains("no pong")),
            "{event:?}"
        );
        // Events sent while sockets are stalled are lost on the wire; the call can
        // only be learnt from a snapshot resync.
        let caller = sim.call_in("+15550003").await.unwrap();
        let id = caller.participant_id().0;
        let (event, _) = until(&mut events, |event| {
            updated_id(event).is_some_and(|(pid, ..)| pid == id)
        })
        .await;
        assert_eq!(updated_id(&event).map(|(_, resync, _)| resync), Some(true));
        sim.faults().stall_websockets(false);
        // A healthy socket again: live events flow.
        caller.hang_up().await.unwrap();
        let (event, _) = until(&mut events, |event| {
            matches!(event, PbxEvent::ParticipantRemoved { .. })
        })
        .await;
        assert!(matches!(event, PbxEvent::ParticipantRemoved { .. }));
    })
    .await;
}

#[tokio::test]
async fn reconnects_after_a_pbx_restart() {
    within(20, async {
        let (sim, client) = start(SimConfig::default()).await;
        let mut events = client.events();
        connected(&mut events).await;
        let caller = sim.call_in("+15550004").await.unwrap();
        until(&mut events, |event| {
            updated_id(event).is_some_and(|(pid, ..)| pid == caller.participant_id().0)
        })
        .await;
        sim.faults().restart().await;
        let (_, resync) = connected(&mut events).await;
        assert!(
            resync.contains(&PbxEvent::ParticipantRemoved {
                dn: sim.route_point().clone(),
                id: caller.participant_id(),
                resync: true
            }),
            "{resync:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn shutdown_ends_the_stream_and_closes_the_socket() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        let mut events = client.events();
        connected(&mut events).await;
        client.shutdown();
        while events.next().await.is_some() {}
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            sim.journal()
                .iter()
                .any(|entry| matches!(entry.kind, JournalKind::WsClosed { .. }))
        );
    })
    .await;
}

#[tokio::test]
async fn dropping_the_client_and_stream_stops_the_task() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        let mut events = client.events();
        connected(&mut events).await;
        // The stream alone keeps the task running.
        drop(client);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !sim.journal()
                .iter()
                .any(|entry| matches!(entry.kind, JournalKind::WsClosed { .. }))
        );
        drop(events);
        let mut closed = false;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            closed = sim
                .journal()
                .iter()
                .any(|entry| matches!(entry.kind, JournalKind::WsClosed { .. }));
            if closed {
                break;
            }
        }
        assert!(closed, "the socket closes once client and stream are gone");
        assert_eq!(ws_connections(&sim), 1);
    })
    .await;
}
