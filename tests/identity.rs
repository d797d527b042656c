//! Call identity across a PBX restart: a new caller given the participant id of a
//! call the restart lost gets its own bot, and nothing the lost call's session does
//! reaches the new caller (issue #11, item 4: "the old session's fallback and drop
//! hit the new caller").

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use voicebot_bot::{CallError, bot_fn};
use voicebot_engine::{CallOutcome, EngineEvent};
use voicebot_sim::{CallEnd, JournalKind, RestartIds, Sim, SimConfig};

use crate::support::{Harness, report, sawtooth, timeout};

const LOST: &str = "+15550701";
const NEW: &str = "+15550702";
/// The new caller's prompt: 25 frames.
const PROMPT: Duration = Duration::from_millis(500);

fn refusals(sim: &Sim) -> usize {
    sim.journal()
        .iter()
        .filter(|entry| matches!(entry.kind, JournalKind::WsRefused { .. }))
        .count()
}

/// `(action, callid hit, status)` of every participant action the PBX saw.
fn actions(sim: &Sim) -> Vec<(String, Option<i64>, u16)> {
    sim.journal()
        .into_iter()
        .filter_map(|entry| match entry.kind {
            JournalKind::Action {
                action,
                callid,
                status,
                ..
            } => Some((action, callid, status)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_caller_given_a_lost_calls_id_gets_its_bot_and_nothing_of_the_old_session() {
    timeout(async {
        let (results, mut result) = report();
        let release = Arc::new(Notify::new());
        let bot = {
            let release = Arc::clone(&release);
            bot_fn(move |call| {
                let (results, release) = (results.clone(), Arc::clone(&release));
                async move {
                    if call.info().caller_number() == NEW {
                        call.play(sawtooth(25)).not_interruptible().await?;
                        call.hangup().await?;
                        return Ok(());
                    }
                    // The lost call's bot outlives the restart, then hangs up and
                    // fails, so the engine also tries its fallback and its drop.
                    call.play(sawtooth(5)).not_interruptible().await?;
                    release.notified().await;
                    let _ = results.send(call.hangup().await);
                    Err(std::io::Error::other("the lost call's bot fails").into())
                }
            })
        };
        let config = SimConfig {
            restart_ids: RestartIds::ParticipantIds,
            ..SimConfig::default()
        };
        let harness = Harness::start_with(
            config,
            |builder| builder.fallback(Some("200".to_owned())),
            Arc::new(bot),
        )
        .await;
        let sim = &harness.sim;
        let mut engine_events = harness.engine.subscribe();
        let lost = sim.call_in(LOST).await.unwrap();
        lost.wait_heard(Duration::from_millis(100)).await.unwrap();

        // The PBX restarts, and the new caller arrives before the engine is back.
        sim.faults().refuse_websockets(usize::MAX);
        sim.faults().restart().await;
        assert_eq!(lost.wait_ended().await, CallEnd::Restarted);
        for _ in 0..500 {
            if !harness.engine.health().pbx_connected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(!harness.engine.health().pbx_connected);
        let new = sim.call_in(NEW).await.unwrap();
        assert_eq!(new.participant_id(), lost.participant_id());
        assert_ne!(new.callid(), lost.callid());

        // The lost call's session acts now, while the engine cannot see the PBX; it
        // gets two reconnect attempts' time before the socket may come back.
        release.notify_one();
        let refused = refusals(sim);
        while refusals(sim) < refused + 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        sim.faults().refuse_websockets(0);

        new.wait_heard(PROMPT).await.unwrap();
        assert_eq!(new.wait_ended().await, CallEnd::Dropped);
        assert_eq!(new.heard().audio_duration(), PROMPT);
        assert!(matches!(result.recv().await, Some(Err(CallError::Hangup))));

        // Both calls end with a known outcome: the lost one as gone, the new one
        // completed by its bot.
        let mut outcomes = Vec::new();
        while outcomes.len() < 2 {
            if let Ok(EngineEvent::CallEnded {
                call_id, outcome, ..
            }) = engine_events.recv().await
            {
                outcomes.push((call_id, outcome));
            }
        }
        outcomes.sort_by_key(|(call_id, _)| *call_id);
        assert_eq!(
            outcomes,
            vec![
                (lost.callid(), CallOutcome::Hangup),
                (new.callid(), CallOutcome::Completed),
            ]
        );

        // The PBX saw one drop of the new call (its own bot's) and nothing else: no
        // fallback, no drop of the lost session, nothing twice.
        harness.wait_action("drop").await;
        assert_eq!(
            actions(sim),
            vec![("drop".to_owned(), Some(new.callid()), 200)]
        );
    })
    .await;
}
