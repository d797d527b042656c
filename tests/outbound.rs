//! Outbound calls placed with the engine's dialer: answered, busy, not answered.

use std::sync::Arc;
use std::time::Duration;

use voicebot_bot::{Bot, DialOutcome, DialRequest, bot_fn};
use voicebot_sim::{CallEnd, FarEnd, FarEnds, JournalKind, SimConfig};

use crate::support::{Harness, sawtooth, timeout};

fn config() -> SimConfig {
    SimConfig {
        far_ends: FarEnds::default()
            .with("5550001", FarEnd::answer_after(Duration::from_millis(200)))
            .with("5550002", FarEnd::Busy)
            .with(
                "5550003",
                FarEnd::NoAnswer {
                    after: Duration::from_secs(5),
                },
            ),
        ..SimConfig::default()
    }
}

fn announcement() -> Arc<dyn Bot> {
    Arc::new(bot_fn(|call| async move {
        call.play(sawtooth(15)).not_interruptible().await?;
        call.hangup().await?;
        Ok(())
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialling_an_answering_number_runs_the_bot() {
    timeout(async {
        let harness = Harness::start_with(config(), |b| b, announcement()).await;
        let dialer = harness.engine.dialer();
        let from = harness.sim.route_point().clone();
        let outcome = dialer
            .dial(DialRequest::new(from.clone(), "5550001", announcement()))
            .await
            .unwrap();
        let DialOutcome::Answered { talk_time, bot_error, .. } = outcome else {
            panic!("not answered: {outcome:?}");
        };
        assert_eq!(bot_error, None);
        assert!(talk_time >= Duration::from_millis(300));
        let far_end = harness.sim.outbound_calls().pop().unwrap();
        assert_eq!(far_end.wait_ended().await, CallEnd::Dropped);
        let heard = far_end.heard().audio();
        assert!(heard == sawtooth(15).samples(), "heard {} samples", heard.len());
        // Placed from the route point's device.
        let placed = harness.sim.journal().into_iter().any(|entry| {
            matches!(entry.kind, JournalKind::MakeCall { dn, device: Some(_), destination, status: 200 }
                if dn == from && destination == "5550001")
        });
        assert!(placed, "{:?}", harness.sim.journal().into_iter().filter(|e| matches!(e.kind, JournalKind::MakeCall { .. })).collect::<Vec<_>>());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_and_unanswered_numbers_are_outcomes() {
    timeout(async {
        let harness = Harness::start_with(config(), |b| b, announcement()).await;
        let dialer = harness.engine.dialer();
        let from = harness.sim.route_point().clone();
        let busy = dialer
            .dial(DialRequest::new(from.clone(), "5550002", announcement()))
            .await
            .unwrap();
        assert_eq!(busy.kind(), "busy", "{busy:?}");
        let mut request = DialRequest::new(from, "5550003", announcement());
        request.ring_timeout = Some(Duration::from_secs(1));
        let unanswered = dialer.dial(request).await.unwrap();
        assert_eq!(unanswered.kind(), "no_answer", "{unanswered:?}");
    })
    .await;
}
