//! Calls on the engine's own call threads (`call_threads`): every verb works there as on
//! the engine's runtime, with the PBX's faults on (a refused stream open, streams cut
//! mid-prompt), and the digits that arrive on the engine's runtime reach the calls.

use std::sync::Arc;
use std::time::Duration;

use voicebot_bot::{PlayOutcome, bot_fn};
use voicebot_sim::{CallEnd, JournalKind, SimConfig, StreamDirection};

use crate::support::{Harness, report, sawtooth, timeout};

/// What one call's bot saw.
#[derive(Debug)]
struct Seen {
    thread: String,
    first: PlayOutcome,
    digits: String,
    second: PlayOutcome,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_on_call_threads_barge_in_and_survive_refused_and_cut_streams() {
    timeout(async {
        const CALLS: usize = 4;
        let (results, mut result) = report();
        let bot = bot_fn(move |call| {
            let results = results.clone();
            async move {
                let thread = std::thread::current().name().unwrap_or_default().to_owned();
                // Long enough that only the caller's key ends it.
                let first = call.play(sawtooth(500)).await?;
                let digits = call.gather().max_digits(1).await?.as_str().to_owned();
                // 2 s, cut in the middle by the test.
                let second = call.play(sawtooth(100)).await?;
                let _ = results.send(Seen {
                    thread,
                    first,
                    digits,
                    second,
                });
                Ok(())
            }
        });
        let harness =
            Harness::start_with(SimConfig::default(), |b| b.call_threads(2), Arc::new(bot)).await;
        // The first stream to a caller is refused once: retried on its call thread.
        let stream = format!(
            "POST /callcontrol/{}/participants",
            harness.sim.route_point()
        );
        harness.sim.faults().fail_next(stream.as_str(), 503, 1);
        let mut callers = Vec::new();
        for n in 0..CALLS {
            callers.push(harness.sim.call_in(&format!("+1555070{n}")).await.unwrap());
        }
        for caller in &callers {
            caller.wait_heard(Duration::from_millis(300)).await.unwrap();
            caller.press("7").await.unwrap();
        }
        // Every call is in its second prompt once the first barged in; cut them all.
        for caller in &callers {
            caller.wait_heard(Duration::from_millis(700)).await.unwrap();
        }
        harness.sim.faults().cut_audio_streams();
        let mut seen = Vec::new();
        for _ in 0..CALLS {
            seen.push(result.recv().await.expect("every bot reports"));
        }
        for caller in &callers {
            assert_eq!(caller.wait_ended().await, CallEnd::Dropped);
        }
        let mut threads: Vec<&str> = seen.iter().map(|seen| seen.thread.as_str()).collect();
        threads.sort_unstable();
        threads.dedup();
        assert_eq!(threads, ["vb-calls-0", "vb-calls-1"], "{seen:?}");
        for seen in &seen {
            assert!(
                matches!(seen.first, PlayOutcome::Interrupted { .. }),
                "{seen:?}"
            );
            assert_eq!(seen.digits, "7", "{seen:?}");
            assert_eq!(
                seen.second,
                PlayOutcome::Finished,
                "no verb fails because of a reopen: {seen:?}"
            );
        }
        let reopened = harness
            .sim
            .journal()
            .iter()
            .filter(|entry| {
                matches!(
                    &entry.kind,
                    JournalKind::StreamOpened {
                        direction: StreamDirection::IntoCall,
                        ..
                    }
                )
            })
            .count();
        assert!(
            reopened >= 2 * CALLS,
            "every call's stream to the caller was reopened after the cut: {reopened} opens"
        );
        let stats = harness.engine.stats();
        assert_eq!((stats.bot_errors, stats.bot_panics), (0, 0), "{stats:?}");
        // Every call task ends on its thread (the test's timeout fails it otherwise).
        while harness.engine.stats().active_calls > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}
