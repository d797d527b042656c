//! `/health` and `/metrics` over real HTTP.
//!
//! The Prometheus recorder is process-wide and other tests in this binary run engines
//! (and calls) at the same time, so this test only asserts what its own call must have
//! added: counters present and above zero, never exact totals.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use voicebot_bot::bot_fn;

use crate::support::{Harness, report, sawtooth, timeout};

/// `GET path` with HTTP/1.1 on a fresh connection; the status code and the body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("a complete response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

/// The sum of every series of `name` in Prometheus text (any labels).
fn total(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics_are_served_on_the_bound_address() {
    timeout(async {
        let (started, mut on_air) = report();
        // The call stays up until the test has read `/health`.
        let release = Arc::new(tokio::sync::Notify::new());
        let released = Arc::clone(&release);
        let bot = Arc::new(bot_fn(move |call| {
            let started = started.clone();
            let released = Arc::clone(&released);
            async move {
                call.play(sawtooth(25)).await?;
                let _ = started.send(());
                released.notified().await;
                call.hangup().await?;
                Ok(())
            }
        }));
        let any_port: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let harness =
            Harness::start_with(Default::default(), |b| b.metrics_addr(Some(any_port)), bot).await;
        let addr = harness
            .engine
            .metrics_addr()
            .expect("the listener is bound");
        assert_ne!(addr.port(), 0);

        let caller = harness.sim.call_in("+15550401").await.unwrap();
        caller.wait_connected().await.unwrap();
        caller.send_pcm(sawtooth(25).samples()).await;
        on_air.recv().await.unwrap();
        let (status, body) = get(addr, "/health").await;
        assert_eq!(status, 200, "{body}");
        let health: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(health["status"], "ok");
        assert_eq!(health["active_calls"], 1);
        assert_eq!(health["pbx_connected"], true);

        release.notify_one();
        caller.wait_ended().await;
        // The call's frame counts are flushed when its media task ends, which on a busy
        // machine can be just after the call task has counted the call as ended.
        loop {
            let stats = harness.engine.stats();
            if stats.calls_ended >= 1 && stats.active_calls == 0 && stats.frames_in > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (status, metrics) = get(addr, "/metrics").await;
        assert_eq!(status, 200);
        for name in [
            "voicebot_calls_total",
            "voicebot_frames_in_total",
            "voicebot_frames_out_total",
            "voicebot_pbx_requests_total",
        ] {
            assert!(
                total(&metrics, name) > 0.0,
                "{name} missing or zero in:\n{metrics}"
            );
        }
        assert!(metrics.contains("voicebot_pbx_request_duration_seconds"));
    })
    .await;
}
