//! Periodic repeats of participant Upserts ([`crate::SimConfig::repeat_upserts_every`]):
//! a real PBX re-announces participants that did not change, so a client must be
//! idempotent (reference §4.2, PD-CODE's ~750 ms).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;
use voicebot_model::{Dn, EntityPath, EventType, ParticipantId};

use crate::state::Shared;

/// Re-sends an Upsert for every participant each `every`, until the simulator stops.
pub(crate) async fn run(shared: Arc<Shared>, every: Duration) {
    // A zero period would spin; nothing real repeats faster than a frame.
    let every = every.max(Duration::from_millis(20));
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        let mut pbx = shared.pbx();
        let legs: Vec<(Dn, i64)> = pbx
            .dns
            .iter()
            .flat_map(|(dn, state)| state.participants.keys().map(|id| (dn.clone(), *id)))
            .collect();
        for (dn, id) in legs {
            let entity = EntityPath::Participant {
                dn,
                id: ParticipantId(id),
            };
            pbx.emit(&shared, EventType::Upsert, entity, None);
        }
    }
}
