//! The transcriber's webhook against a server that accepts and never answers: the
//! call, the recording and the JSONL must not notice, and the bot must let go of
//! the call within the webhook's `drain` time.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::time::Instant;
use voicebot_bot::bot_fn;
use voicebot_sim::SimConfig;

use super::{context, files, one, recognizer, say};
use crate::support::{Harness, report, timeout};

/// The bot's grace after the hang-up: ten times the webhook sink's 500 ms drain.
const GRACE: Duration = Duration::from_secs(5);

/// Listens on a local port and holds every connection open without reading or
/// answering; reports each connection it accepts.
async fn hanging_server() -> (String, tokio::sync::mpsc::UnboundedReceiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (accepted, connections) = report();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
            let _ = accepted.send(());
        }
    });
    (url, connections)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_webhook_holds_up_neither_the_call_nor_the_bot() {
    timeout(async {
        let (url, mut connections) = hanging_server().await;
        let dir = tempfile::tempdir().unwrap();
        // Without `drain`, a 30 s POST timeout and its retries would keep the bot
        // (and the call's task) for minutes.
        let config: toml::Value = toml::from_str(&format!(
            r#"grammar = ["support", "billing", "operator"]
            [sinks]
            webhook = {{ url = "{url}", timeout = "30s", retries = 3, drain = "500ms" }}"#
        ))
        .unwrap();
        let transcriber = context(dir.path(), Some(recognizer()))
            .build_bot("transcriber", config)
            .expect("the transcriber builds");
        let (returned, mut bot_done) = report();
        let bot = bot_fn(move |call| {
            let (transcriber, returned) = (Arc::clone(&transcriber), returned.clone());
            async move {
                let outcome = transcriber.handle(call).await;
                let _ = returned.send((Instant::now(), outcome.is_ok()));
                outcome
            }
        });
        let recordings = dir.path().to_owned();
        let harness = Harness::start_with(
            SimConfig::default(),
            // A grace longer than the drain: the bot must end by itself, not be aborted.
            |b| b.recordings_dir(&recordings).bot_grace(GRACE),
            Arc::new(bot),
        )
        .await;
        let caller = harness.sim.call_in("+15550206").await.unwrap();
        caller.wait_connected().await.unwrap();
        let started = Instant::now();
        say(&caller, &["support", "operator"]).await;
        caller.wait_sent().await;
        let sent = started.elapsed();
        caller.hang_up().await.unwrap();
        let hung_up = Instant::now();

        let (at, ok) = bot_done.recv().await.expect("the bot returns");
        assert!(ok, "the bot ended without an error");
        // It ended by itself, its drain over, long before the webhook's 30 s timeout:
        // past the 5 s grace the engine would have aborted it and it would never
        // have reported.
        let took = at - hung_up;
        assert!(took < GRACE, "the bot took {took:?}");
        connections
            .try_recv()
            .expect("the webhook reached the hanging server");

        // The call ends normally, and the engine finalises the recording.
        let mut stats = harness.engine.stats();
        for _ in 0..100 {
            if stats.calls_ended == 1 && stats.active_calls == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            stats = harness.engine.stats();
        }
        assert_eq!((stats.calls_ended, stats.active_calls), (1, 0), "{stats:?}");
        assert_eq!((stats.bot_errors, stats.bot_panics), (0, 0), "{stats:?}");
        let recording = one(files(dir.path(), "wav"));
        let mut length = 0.0;
        for _ in 0..100 {
            if let Ok(reader) = hound::WavReader::open(&recording) {
                length = f64::from(reader.duration()) / 8000.0;
                if (length - sent.as_secs_f64()).abs() < 0.6 {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            (length - sent.as_secs_f64()).abs() < 0.6,
            "{length} vs {sent:?}"
        );
        let text = std::fs::read_to_string(recording.with_extension("jsonl")).unwrap();
        let finals = text
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
            .filter(|line| line["final"] == true)
            .count();
        assert_eq!(finals, 2, "{text}");
    })
    .await;
}
