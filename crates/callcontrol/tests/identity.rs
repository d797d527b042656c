//! Call identity: a participant id that a PBX restart gave to a new caller is a new
//! call, and [`Client::ensure_leg`] refuses requests of the call that was lost.

use std::time::Duration;

use voicebot_callcontrol::CallControlError;
use voicebot_model::{CallLeg, Participant, PbxEvent};
use voicebot_sim::{Caller, JournalKind, RestartIds, Sim, SimConfig};

use crate::support::{builder, connected, start, until, within};

fn refusals(sim: &Sim) -> usize {
    sim.journal()
        .iter()
        .filter(|entry| matches!(entry.kind, JournalKind::WsRefused { .. }))
        .count()
}

/// The participant the client's cache holds for `caller`, once an update said so.
async fn seen(
    client: &voicebot_callcontrol::Client,
    events: &mut voicebot_callcontrol::EventStream,
    caller: &Caller,
) -> Participant {
    let (event, _) = until(events, |event| match event {
        PbxEvent::ParticipantUpdated { participant, .. } => participant.callid == caller.callid(),
        _ => false,
    })
    .await;
    let PbxEvent::ParticipantUpdated { participant, .. } = event else {
        unreachable!("until returned an update");
    };
    assert_eq!(
        client
            .state()
            .participant(caller.dn(), caller.participant_id()),
        Some(&participant)
    );
    participant
}

#[tokio::test]
async fn a_reused_id_after_a_restart_is_a_new_call_and_the_lost_call_is_refused() {
    within(20, async {
        let (sim, client) = start(SimConfig {
            restart_ids: RestartIds::ParticipantIds,
            ..SimConfig::default()
        })
        .await;
        let mut events = client.events();
        connected(&mut events).await;
        let first = sim.call_in("+15550001").await.unwrap();
        let lost = seen(&client, &mut events, &first).await;
        let (dn, id, lost_leg) = (lost.dn.clone(), lost.id, lost.call_leg());
        client.ensure_leg(&dn, id, lost.call_leg()).await.unwrap();

        // The PBX restarts; the new caller arrives before the client is back.
        sim.faults().refuse_websockets(usize::MAX);
        sim.faults().restart().await;
        until(&mut events, |event| {
            matches!(event, PbxEvent::Disconnected { .. })
        })
        .await;
        let second = sim.call_in("+15550002").await.unwrap();
        assert_eq!(second.participant_id(), id);
        assert_ne!(second.callid(), lost.callid);

        // Meanwhile the cache cannot tell: the check waits for the resync.
        let check = tokio::spawn({
            let client = client.clone();
            let dn = dn.clone();
            async move { client.ensure_leg(&dn, id, lost_leg).await }
        });
        let refused = refusals(&sim);
        while refusals(&sim) < refused + 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            !check.is_finished(),
            "the check waits while the socket is down"
        );
        sim.faults().refuse_websockets(0);

        let (_, resync) = connected(&mut events).await;
        let removed = resync.iter().position(|event| {
            *event
                == PbxEvent::ParticipantRemoved {
                    dn: dn.clone(),
                    id,
                    resync: true,
                }
        });
        let added = resync.iter().position(|event| match event {
            PbxEvent::ParticipantUpdated {
                participant,
                resync,
            } => *resync && participant.callid == second.callid(),
            _ => false,
        });
        assert!(
            matches!((removed, added), (Some(removed), Some(added)) if removed < added),
            "{resync:?}"
        );

        let current = client.state().participant(&dn, id).cloned().unwrap();
        match check.await.unwrap() {
            Err(CallControlError::LegGone {
                leg, current: now, ..
            }) => {
                assert_eq!(leg, lost_leg);
                assert_eq!(now, Some(current.call_leg()));
            }
            other => panic!("the lost call's check passed: {other:?}"),
        }
        client
            .ensure_leg(&dn, id, current.call_leg())
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_same_call_after_a_reconnect_passes_the_check() {
    within(20, async {
        let (sim, client) = start(SimConfig::default()).await;
        let mut events = client.events();
        connected(&mut events).await;
        let caller = sim.call_in("+15550001").await.unwrap();
        let participant = seen(&client, &mut events, &caller).await;
        sim.faults().drop_websockets();
        let (_, resync) = connected(&mut events).await;
        assert!(
            !resync
                .iter()
                .any(|event| matches!(event, PbxEvent::ParticipantRemoved { .. })),
            "{resync:?}"
        );
        client
            .ensure_leg(&participant.dn, participant.id, participant.call_leg())
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_removed_participant_is_refused() {
    within(20, async {
        let (sim, client) = start(SimConfig::default()).await;
        let mut events = client.events();
        connected(&mut events).await;
        let caller = sim.call_in("+15550001").await.unwrap();
        let participant = seen(&client, &mut events, &caller).await;
        caller.hang_up().await.unwrap();
        until(&mut events, |event| {
            matches!(event, PbxEvent::ParticipantRemoved { .. })
        })
        .await;
        let result = client
            .ensure_leg(&participant.dn, participant.id, participant.call_leg())
            .await;
        assert!(
            matches!(result, Err(CallControlError::LegGone { current: None, .. })),
            "{result:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_check_gives_up_when_the_socket_stays_down() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let client = builder(&sim)
            .request_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let mut events = client.events();
        connected(&mut events).await;
        let caller = sim.call_in("+15550001").await.unwrap();
        let participant = seen(&client, &mut events, &caller).await;
        sim.faults().refuse_websockets(usize::MAX);
        sim.faults().drop_websockets();
        until(&mut events, |event| {
            matches!(event, PbxEvent::Disconnected { .. })
        })
        .await;
        let result = client
            .ensure_leg(&participant.dn, participant.id, participant.call_leg())
            .await;
        assert!(
            matches!(result, Err(CallControlError::Timeout { .. })),
            "{result:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn without_the_event_task_nothing_is_checked() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        let caller = sim.call_in("+15550001").await.unwrap();
        let unknown = CallLeg {
            callid: caller.callid() + 100,
            legid: 0,
        };
        client
            .ensure_leg(caller.dn(), caller.participant_id(), unknown)
            .await
            .unwrap();
    })
    .await;
}
