//! The event socket dropping mid-call does not end the call.

use std::time::Duration;

use voicebot_bot::bot_fn;
use voicebot_sim::JournalKind;

use crate::support::{Harness, report, sawtooth, timeout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_event_socket_does_not_end_the_call() {
    timeout(async {
        let (results, mut result) = report();
        let harness = Harness::start(bot_fn(move |call| {
            let results = results.clone();
            async move {
                call.play(sawtooth(75)).not_interruptible().await?;
                let digits = call
                    .gather()
                    .max_digits(1)
                    .timeout(std::time::Duration::from_secs(5))
                    .await?;
                let _ = results.send(digits);
                Ok(())
            }
        }))
        .await;
        let caller = harness.sim.call_in("+15550401").await.unwrap();
        caller.wait_heard(Duration::from_millis(300)).await.unwrap();
        harness.sim.faults().drop_websockets();
        // The client reconnects (and resyncs) while the prompt goes on.
        for _ in 0..300 {
            let connections = harness
                .sim
                .journal()
                .iter()
                .filter(|entry| matches!(entry.kind, JournalKind::WsConnected { .. }))
                .count();
            if connections >= 2 && harness.engine.health().pbx_connected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        caller
            .wait_heard(Duration::from_millis(1500))
            .await
            .unwrap();
        caller.press("7").await.unwrap();
        let digits = result.recv().await.unwrap();
        assert_eq!(digits.as_str(), "7");
        assert_eq!(caller.wait_ended().await, voicebot_sim::CallEnd::Dropped);
        // All of the prompt, once: nothing lost or repeated across the reconnect. (Whether
        // it played without a gap is a real-time claim a busy machine bends; the load
        // bench measures it.)
        let heard = caller.heard();
        assert_eq!(heard.audio_duration(), Duration::from_millis(1500));
    })
    .await;
}
