use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;

use super::*;

fn line(text: &str) -> TranscriptLine {
    TranscriptLine {
        call_id: 7,
        engine_call_id: None,
        start: 0.5,
        end: 1.0,
        text: text.to_owned(),
        confidence: Some(0.9),
        is_final: true,
        channel: None,
    }
}

/// A server that answers 500 to the first `failures` POSTs, then 200; counts all.
async fn server(
    failures: usize,
) -> (
    SocketAddr,
    Arc<AtomicUsize>,
    Arc<std::sync::Mutex<Vec<String>>>,
) {
    let hits = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (count, seen) = (Arc::clone(&hits), Arc::clone(&bodies));
    let app = Router::new().route(
        "/hook",
        post(move |body: String| async move {
            let n = count.fetch_add(1, Ordering::SeqCst);
            if n < failures {
                return StatusCode::INTERNAL_SERVER_ERROR;
            }
            seen.lock().expect("not poisoned").push(body);
            StatusCode::OK
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, hits, bodies)
}

async fn limited<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .expect("the test finished in time")
}

#[tokio::test]
async fn one_post_per_result_and_a_500_is_retried() {
    limited(async {
        let (addr, hits, bodies) = server(1).await;
        let (webhook, worker) =
            Webhook::new(&WebhookConfig::new(format!("http://{addr}/hook"))).unwrap();
        let stats = Arc::clone(webhook.stats());
        assert!(webhook.post(line("support")));
        assert!(webhook.post(line("billing")));
        drop(webhook);
        worker.run().await;
        assert_eq!(hits.load(Ordering::SeqCst), 3, "one retry after the 500");
        let bodies = bodies.lock().unwrap().clone();
        assert_eq!(bodies.len(), 2);
        let first: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
        assert_eq!(
            (first["text"].as_str(), first["final"].as_bool()),
            (Some("support"), Some(true))
        );
        assert_eq!(stats.delivered.load(Ordering::SeqCst), 2);
        assert_eq!(stats.retried.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn a_hanging_server_never_blocks_posting_and_a_full_queue_drops() {
    limited(async {
        // Accepts connections and never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let config = WebhookConfig {
            queue: 2,
            retries: 0,
            timeout: Duration::from_millis(300),
            ..WebhookConfig::new(format!("http://{addr}/hook"))
        };
        let (webhook, worker) = Webhook::new(&config).unwrap();
        let running = tokio::spawn(worker.run());
        // `post` is synchronous: it queues or refuses, it cannot wait for the server.
        let queued = (0..10)
            .filter(|n| webhook.post(line(&n.to_string())))
            .count();
        assert!(queued <= 3, "the queue is bounded: {queued}");
        assert_eq!(
            webhook.stats().dropped.load(Ordering::SeqCst),
            10 - queued as u64
        );
        let stats = Arc::clone(webhook.stats());
        drop(webhook);
        running.await.unwrap();
        assert_eq!(
            stats.failed.load(Ordering::SeqCst),
            queued as u64,
            "timed out, given up"
        );
    })
    .await;
}

#[test]
fn only_http_urls() {
    assert!(Webhook::new(&WebhookConfig::new("ftp://x/")).is_err());
    assert!(Webhook::new(&WebhookConfig::new("not a url")).is_err());
}
