//! Events lost on an open socket: a `sequence` gap triggers a snapshot resync.

use voicebot_model::PbxEvent;
use voicebot_sim::{JournalKind, SimConfig};

use crate::support::{connected, start, until, within};

async fn calls_changed_during_lost_events_are_reported(sequence_per_connection: bool) {
    let (sim, client) = start(SimConfig {
        sequence_per_connection,
        ..SimConfig::default()
    })
    .await;
    let mut events = client.events();
    connected(&mut events).await;
    let leaving = sim.call_in("+15550001").await.unwrap();
    until(&mut events, |event| {
        matches!(event, PbxEvent::ParticipantUpdated { participant, .. } if participant.id == leaving.participant_id())
    })
    .await;

    sim.faults().drop_next_events(2);
    let arriving = sim.call_in("+15550002").await.unwrap();
    leaving.hang_up().await.unwrap();
    // The next event that gets through reveals the gap.
    arriving.press("5").await.unwrap();

    let (_, before) = until(&mut events, |event| matches!(event, PbxEvent::Dtmf { .. })).await;
    assert!(
        before.contains(&PbxEvent::ParticipantRemoved {
            dn: sim.route_point().clone(),
            id: leaving.participant_id(),
            resync: true
        }),
        "{before:?}"
    );
    assert!(
        before.iter().any(|event| matches!(event,
            PbxEvent::ParticipantUpdated { participant, resync: true } if participant.id == arriving.participant_id())),
        "{before:?}"
    );
    assert!(
        !before.iter().any(|event| matches!(
            event,
            PbxEvent::Disconnected { .. } | PbxEvent::Connected { .. }
        )),
        "the socket stayed up: {before:?}"
    );
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
    let journal = sim.journal();
    let sockets = journal
        .iter()
        .filter(|entry| matches!(entry.kind, JournalKind::WsConnected { .. }))
        .count();
    assert_eq!(sockets, 1);
    let dropped = journal
        .iter()
        .filter(|entry| matches!(entry.kind, JournalKind::EventDropped { .. }))
        .count();
    assert_eq!(dropped, 2);
}

#[tokio::test]
async fn a_sequence_gap_resyncs_with_pbx_wide_numbering() {
    within(15, calls_changed_during_lost_events_are_reported(false)).await;
}

#[tokio::test]
async fn a_sequence_gap_resyncs_with_per_connection_numbering() {
    within(15, calls_changed_during_lost_events_are_reported(true)).await;
}
