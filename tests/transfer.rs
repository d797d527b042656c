//! Call actions as the PBX sees them: transfer, route, divert, hang-up.

use std::sync::Arc;
use std::time::Duration;

use voicebot_bot::{CallError, DiversionReason, bot_fn};
use voicebot_engine::AnswerMode;
use voicebot_sim::{CallEnd, FarEnd, FarEnds, InboundMode, SimConfig};

use crate::support::{Harness, report, sawtooth, timeout};

fn config() -> SimConfig {
    SimConfig {
        far_ends: FarEnds::default()
            .with("200", FarEnd::answer_after(Duration::from_millis(100)))
            .with("300", FarEnd::Busy),
        ..SimConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_and_a_failed_route_appear_in_the_journal() {
    timeout(async {
        let (results, mut result) = report();
        let bot = Arc::new(bot_fn(move |call| {
            let results = results.clone();
            async move {
                let routed = call.route_to("300").prompt(sawtooth(10)).await;
                let _ = results.send(routed);
                call.transfer("200").await?;
                Ok(())
            }
        }));
        let harness = Harness::start_with(config(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550301").await.unwrap();
        assert_eq!(
            caller.wait_ended().await,
            CallEnd::TransferredTo("200".into())
        );
        let routed = result.recv().await.unwrap();
        assert!(
            matches!(routed, Err(CallError::Rejected { .. })),
            "{routed:?}"
        );
        assert_eq!(
            harness.wait_actions(2).await,
            vec![
                ("routeto".to_owned(), Some("300".to_owned())),
                ("transferto".to_owned(), Some("200".to_owned())),
            ]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_to_hands_the_call_over() {
    timeout(async {
        let bot = Arc::new(bot_fn(|call| async move {
            call.route_to("200").await?;
            Ok(())
        }));
        let harness = Harness::start_with(config(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550302").await.unwrap();
        assert_eq!(caller.wait_ended().await, CallEnd::RoutedTo("200".into()));
        assert_eq!(
            harness.wait_actions(1).await[0],
            ("routeto".to_owned(), Some("200".to_owned()))
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ringing_call_is_diverted() {
    timeout(async {
        let bot = Arc::new(bot_fn(|call| async move {
            call.divert("200", DiversionReason::None).await?;
            Ok(())
        }));
        let config = SimConfig {
            inbound: InboundMode::Ringing,
            ..config()
        };
        // This route point leaves ringing calls to its bot, which diverts them.
        let dn = config.route_point_dn();
        let harness =
            Harness::start_with(config, |b| b.answer_mode(dn, AnswerMode::Bot), bot).await;
        let caller = harness.sim.call_in("+15550303").await.unwrap();
        assert_eq!(caller.wait_ended().await, CallEnd::DivertedTo("200".into()));
        assert_eq!(
            harness.wait_actions(1).await,
            vec![("divert".to_owned(), Some("200".to_owned()))]
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hangup_after_a_goodbye_lets_it_play_out() {
    timeout(async {
        let goodbye = sawtooth(25);
        let prompt = goodbye.clone();
        let harness = Harness::start(bot_fn(move |call| {
            let prompt = prompt.clone();
            async move {
                call.answer().await?;
                call.play(prompt).await?;
                call.hangup().await?;
                Ok(())
            }
        }))
        .await;
        let caller = harness.sim.call_in("+15550304").await.unwrap();
        assert_eq!(caller.wait_ended().await, CallEnd::Dropped);
        let heard = caller.heard().audio();
        assert!(
            heard == goodbye.samples(),
            "heard {} samples of {}",
            heard.len(),
            goodbye.len_samples()
        );
        assert_eq!(
            harness.wait_actions(1).await,
            vec![("drop".to_owned(), None)]
        );
    })
    .await;
}
