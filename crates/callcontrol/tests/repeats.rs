//! A PBX that repeats Upserts of unchanged participants (PD-CODE: every ~750 ms).

use std::time::Duration;

use voicebot_model::{ParticipantStatus, PbxEvent};
use voicebot_sim::{InboundMode, JournalKind, SimConfig};

use crate::support::{connected, start, until, within};

#[tokio::test]
async fn repeated_upserts_yield_one_update_per_real_change() {
    within(15, async {
        let (sim, client) = start(SimConfig {
            repeat_upserts_every: Some(Duration::from_millis(100)),
            inbound: InboundMode::Ringing,
            ..SimConfig::default()
        })
        .await;
        let mut events = client.events();
        connected(&mut events).await;
        let caller = sim.call_in("+15551234").await.unwrap();
        let id = caller.participant_id();
        let mine = |event: &PbxEvent| match event {
            PbxEvent::ParticipantUpdated { participant, .. } if participant.id == id => {
                Some(participant.status.clone())
            }
            _ => None,
        };
        let (ringing, _) = until(&mut events, |event| mine(event).is_some()).await;
        assert_eq!(mine(&ringing), Some(ParticipantStatus::Ringing));
        // Several repeats of the ringing state go by.
        tokio::time::sleep(Duration::from_millis(350)).await;
        client.answer(sim.route_point(), id).await.unwrap();
        caller.wait_connected().await.unwrap();
        // And several of the connected state.
        tokio::time::sleep(Duration::from_millis(550)).await;
        caller.hang_up().await.unwrap();
        let (_, before) = until(&mut events, |event| {
            matches!(event, PbxEvent::ParticipantRemoved { id: removed, .. } if *removed == id)
        })
        .await;
        let updates: Vec<ParticipantStatus> = before.iter().filter_map(mine).collect();
        assert_eq!(updates, vec![ParticipantStatus::Connected], "{before:?}");
        let upserts_sent = sim
            .journal()
            .iter()
            .filter(|entry| {
                matches!(&entry.kind, JournalKind::EventSent { event_type: 0, entity, .. }
                    if entity.ends_with(&format!("/participants/{}", id.0)))
            })
            .count();
        assert!(
            upserts_sent >= 8,
            "the simulator repeated its upserts ({upserts_sent})"
        );
    })
    .await;
}
