//! `voicebot run` as a process started before the PBX is up (issue #11, item 6): it
//! waits, says so on `/health`, and connects once the PBX listens; with
//! `--exit-on-connect-failure` it exits instead.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use voicebot_sim::{JournalKind, Sim, SimConfig};

use crate::cli::{code, text, voicebot, within, write_config};
use crate::run_process::{free_port, http_get, wait_stream_opened};

/// `GET /health`: the status and the body, or `None` while nothing listens yet.
async fn health(addr: SocketAddr) -> Option<(u16, String)> {
    http_get(addr, "/health").await
}

/// Polls `/health` until `wanted` holds for its body; returns that body.
async fn health_until(addr: SocketAddr, wanted: impl Fn(u16, &str) -> bool) -> String {
    loop {
        if let Some((status, body)) = health(addr).await
            && wanted(status, &body)
        {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn config(pbx: u16, metrics: u16) -> String {
    format!(
        r#"
metrics = "127.0.0.1:{metrics}"

[pbx]
url = "http://127.0.0.1:{pbx}"
client_id = "800"

[route_points."800"]
bot = "echo"
"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_started_before_the_pbx_connects_once_it_is_up() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let (pbx, metrics) = (free_port(), free_port());
        let path = write_config(dir.path(), &config(pbx, metrics));
        let mut child = Command::new(env!("CARGO_BIN_EXE_voicebot"))
            .args(["run", "-c", &path])
            .env("VOICEBOT_CLIENT_SECRET", SimConfig::default().client_secret)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("voicebot run starts");
        let log = Arc::new(Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let written = Arc::clone(&log);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let mut log = written.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });

        // Nothing listens on the PBX port: the process stays up and says why.
        let addr = SocketAddr::from(([127, 0, 0, 1], metrics));
        let connecting = health_until(addr, |status, body| {
            status == 503 && body.contains(r#""status":"connecting""#)
        })
        .await;
        assert!(
            connecting.contains(r#""pbx_connected":false"#),
            "{connecting}"
        );
        // Two failed attempts in a row, each logged: it is retrying, not stuck.
        health_until(addr, |_, body| {
            body.contains(r#""connect_attempts":2"#) || body.contains(r#""connect_attempts":3"#)
        })
        .await;
        assert!(child.try_wait().unwrap().is_none(), "voicebot run exited");

        let sim = Sim::bind(
            SimConfig::default(),
            SocketAddr::from(([127, 0, 0, 1], pbx)),
        )
        .await
        .expect("the simulator binds the PBX port");
        let ok = health_until(addr, |status, _| status == 200).await;
        assert!(ok.contains(r#""status":"ok""#), "{ok}");

        // It serves calls: the echo bot opens the caller's audio.
        let caller = sim.call_in("+15550501").await.unwrap();
        caller.wait_connected().await.unwrap();
        wait_stream_opened(&sim, caller.participant_id().0).await;
        let log = log.lock().unwrap().clone();
        let retries = log
            .lines()
            .filter(|line| line.contains("cannot connect to the PBX yet; retrying"))
            .count();
        assert!(retries >= 2, "{log}");
        child.kill().await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn run_with_exit_on_connect_failure_exits_3_when_the_pbx_is_down() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), &config(free_port(), free_port()));
        let secret = SimConfig::default().client_secret;
        let output = voicebot(
            &["run", "-c", &path, "--exit-on-connect-failure"],
            &[("VOICEBOT_CLIENT_SECRET", &secret)],
        )
        .await;
        assert_eq!(code(&output), 3, "{}", text(&output.stderr));
    })
    .await;
}

#[tokio::test]
async fn run_refused_credentials_exit_4_at_once_rather_than_retry() {
    within(async {
        let sim = Sim::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let port = sim.local_addr().port();
        let path = write_config(dir.path(), &config(port, free_port()));
        let output = voicebot(
            &["run", "-c", &path],
            &[("VOICEBOT_CLIENT_SECRET", "not-the-secret")],
        )
        .await;
        assert_eq!(code(&output), 4, "{}", text(&output.stderr));
        // One token request, refused: no retry loop on a configuration error.
        let refused = sim
            .journal()
            .into_iter()
            .filter(|entry| matches!(entry.kind, JournalKind::TokenRefused { .. }))
            .count();
        assert_eq!(refused, 1);
    })
    .await;
}

/// The first `count` lines `voicebot run` writes on stderr while it waits for a PBX
/// that is down (it logs each attempt), with `extra` arguments.
async fn first_log_lines(extra: &[&str], count: usize) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), &config(free_port(), free_port()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_voicebot"))
        .args(["run", "-c", &path])
        .args(extra)
        .env("VOICEBOT_CLIENT_SECRET", SimConfig::default().client_secret)
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("voicebot run starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut read = Vec::new();
    while read.len() < count {
        match lines.next_line().await.unwrap() {
            Some(line) => read.push(line),
            None => break,
        }
    }
    child.kill().await.unwrap();
    read
}

#[tokio::test]
async fn logs_to_a_pipe_have_no_colour_and_json_lines_parse() {
    within(async {
        let lines = first_log_lines(&[], 2).await;
        let text = lines.join("\n");
        assert!(text.contains("WARN"), "run logs its retries: {text}");
        assert!(!text.contains('\u{1b}'), "colour codes in a pipe: {text:?}");

        let lines = first_log_lines(&["--log-format", "json"], 2).await;
        assert_eq!(lines.len(), 2, "{lines:?}");
        for line in lines {
            let value: serde_json::Value = serde_json::from_str(&line)
                .unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
            assert!(
                value["level"].is_string() && value["message"].is_string(),
                "{line}"
            );
            assert!(value["timestamp"].is_string(), "{line}");
        }
    })
    .await;
}

/// What the call record webhook received: `(timestamp, signature, body)` of each
/// accepted POST, after refusing the first with a 500.
#[derive(Clone, Default)]
struct Received {
    posts: Arc<Mutex<Vec<(String, String, String)>>>,
    refused: Arc<Mutex<u32>>,
}

async fn record_webhook() -> (SocketAddr, Received) {
    use axum::http::{HeaderMap, StatusCode};
    let received = Received::default();
    let state = received.clone();
    let app = axum::Router::new().route(
        "/cdr",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let state = state.clone();
            async move {
                let mut refused = state.refused.lock().unwrap();
                if *refused == 0 {
                    *refused += 1;
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                state.posts.lock().unwrap().push((
                    header("x-voicebot-timestamp"),
                    header("x-voicebot-signature"),
                    body,
                ));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, received)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_leaves_a_record_in_the_file_and_at_the_webhook() {
    within(async {
        let sim = Sim::start().await.unwrap();
        let (webhook, received) = record_webhook().await;
        let dir = tempfile::tempdir().unwrap();
        let metrics = free_port();
        let settings = format!(
            "{}\n[call_records]\nfile = \"records/cdr.jsonl\"\nwebhook = \"http://{webhook}/cdr\"\n",
            config(sim.local_addr().port(), metrics)
        );
        let path = write_config(dir.path(), &settings);
        let mut child = Command::new(env!("CARGO_BIN_EXE_voicebot"))
            .args(["run", "-c", &path])
            .env("VOICEBOT_CLIENT_SECRET", sim.client_secret())
            .env("VOICEBOT_CDR_SECRET", "cdr-secret")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("voicebot run starts");
        let addr = SocketAddr::from(([127, 0, 0, 1], metrics));
        health_until(addr, |status, _| status == 200).await;

        // A call whose audio streams are cut halfway: its record is whole anyway.
        let caller = sim.call_in("+15550777").await.unwrap();
        caller.wait_connected().await.unwrap();
        wait_stream_opened(&sim, caller.participant_id().0).await;
        caller.press("42").await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        sim.faults().cut_audio_streams();
        tokio::time::sleep(Duration::from_millis(300)).await;
        caller.press("#").await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        caller.hang_up().await.unwrap();

        let file = dir.path().join("records/cdr.jsonl");
        let line = loop {
            if let Ok(text) = std::fs::read_to_string(&file)
                && let Some(line) = text.lines().next()
            {
                break line.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let record: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(record["caller"], "+15550777", "{line}");
        assert_eq!(record["route_point"], "800", "{line}");
        assert_eq!(record["bot"], "echo", "{line}");
        assert_eq!(record["outcome"], "hangup", "{line}");
        assert_eq!(record["digits"], "42#", "{line}");
        assert_eq!(record["pbx_call_id"], caller.callid(), "{line}");
        assert_eq!(record["pbx"], "default", "{line}");
        assert!(record["answered_at"].is_string(), "{line}");
        let id = record["id"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 36, "a UUID: {id}");

        // The webhook refused the first POST; the retry carries the same record, signed.
        let (timestamp, signature, body) = loop {
            if let Some(post) = received.posts.lock().unwrap().first().cloned() {
                break post;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(*received.refused.lock().unwrap(), 1);
        let posted: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(posted["id"], id.as_str());
        let signer = voicebot_webhook::sign::Signer::new(b"cdr-secret");
        assert_eq!(
            signature,
            signer.sign(timestamp.parse().unwrap(), body.as_bytes())
        );

        // SIGTERM: a clean stop.
        let pid = child.id().unwrap().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().await;
        assert!(killed.unwrap().success());
        let status = child.wait().await.unwrap();
        assert_eq!(status.code(), Some(0));

        // `voicebot calls` reads it back.
        let output = voicebot(&["calls", "-c", &path, "--since", "1h", "--json"], &[]).await;
        assert_eq!(code(&output), 0, "{}", text(&output.stderr));
        let listed = text(&output.stdout);
        assert_eq!(listed.lines().count(), 1, "{listed}");
        assert!(listed.contains(&id), "{listed}");
        let output = voicebot(&["calls", "-c", &path], &[]).await;
        let table = text(&output.stdout);
        assert!(table.contains("+15550777") && table.contains("echo"), "{table}");
        assert!(table.contains("1 call(s)"), "{table}");
    })
    .await;
}
