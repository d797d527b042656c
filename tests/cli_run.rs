//! `voicebot run` as a process started before the PBX is up (issue #11, item 6): it
//! waits, says so on `/health`, and connects once the PBX listens; with
//! `--exit-on-connect-failure` it exits instead.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use voicebot_sim::{JournalKind, Sim, SimConfig};

use crate::cli::{code, text, voicebot, within, write_config};

/// A port nothing listens on right now (bound, then released).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// `GET /health` on a fresh connection: the status and the body, or `None` while
/// nothing listens yet.
async fn health(addr: SocketAddr) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
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
        let stream = format!(
            "/callcontrol/800/participants/{}/stream",
            caller.participant_id()
        );
        loop {
            let opened = sim.journal().into_iter().any(|entry| {
                matches!(entry.kind, JournalKind::Http { method, path, .. }
                    if method == "GET" && path == stream)
            });
            if opened {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
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
