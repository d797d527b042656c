//! Nothing secret in any output (issue #12): `run`, `doctor`, `token` (without
//! `--show`) and `call` under `RUST_LOG=trace`, dependencies' trace included, against
//! the simulator. Neither the client secret nor any token the simulator issued may
//! appear in stdout or stderr.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::Command;
use voicebot_sim::{JournalKind, Sim, SimConfig};

use crate::cli::{text, within, write_config};

/// A secret long and odd enough that finding it cannot be a coincidence.
const SECRET: &str = "s3cr3t-Zq8Wv2Kx9Lm4Np7Rt1";

fn config(port: u16) -> String {
    format!(
        r#"
[pbx]
url = "http://127.0.0.1:{port}"
client_id = "800"

[route_points."800"]
bot = "echo"
"#
    )
}

/// Runs `voicebot args` at trace level with the secret in its environment and
/// returns stdout and stderr together.
async fn traced(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_voicebot"))
        .args(args)
        .env("VOICEBOT_CLIENT_SECRET", SECRET)
        .env("RUST_LOG", "trace")
        .env_remove("VOICEBOT_URL")
        .env_remove("VOICEBOT_CLIENT_ID")
        .kill_on_drop(true)
        .output()
        .await
        .expect("voicebot runs");
    format!("{}{}", text(&output.stdout), text(&output.stderr))
}

/// `voicebot run` at trace level until it has answered one call, then stopped.
async fn traced_run(path: &str, sim: &Sim) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voicebot"))
        .args(["run", "-c", path])
        .env("VOICEBOT_CLIENT_SECRET", SECRET)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("voicebot run starts");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = tokio::spawn(async move {
        let mut text = Vec::new();
        let _ = stdout.read_to_end(&mut text).await;
        text
    });
    let err = tokio::spawn(async move {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text).await;
        text
    });
    // The engine answers a call (REST, the event socket and an audio stream all ran).
    let caller = sim.call_in("+15550601").await.unwrap();
    caller.wait_connected().await.unwrap();
    let stream = format!(
        "/callcontrol/800/participants/{}/stream",
        caller.participant_id()
    );
    while !sim.journal().into_iter().any(|entry| {
        matches!(&entry.kind, JournalKind::Http { method, path, .. }
            if method == "GET" && *path == stream)
    }) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    caller.hang_up().await.ok();
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let out = out.await.unwrap();
    let err = err.await.unwrap();
    format!("{}{}", text(&out), text(&err))
}

fn assert_clean(command: &str, output: &str, tokens: &[String]) {
    assert!(
        output.len() > 1000,
        "{command} printed almost nothing at trace level: {output}"
    );
    assert!(!output.contains(SECRET), "{command} printed the secret");
    for token in tokens {
        assert!(
            !output.contains(token.as_str()),
            "{command} printed an issued token"
        );
        // A token's last part (a JWT's signature) alone is enough to misuse it.
        let tail = &token[token.len() - 16..];
        assert!(!output.contains(tail), "{command} printed part of a token");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_prints_the_secret_or_a_token_at_trace_level() {
    within(async {
        let sim = Sim::start_with(SimConfig {
            client_secret: SECRET.to_owned(),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), &config(sim.local_addr().port()));
        let url = sim.base_url();
        let mut outputs = vec![
            ("token", traced(&["token", "-c", &path]).await),
            ("doctor", traced(&["doctor", "-c", &path]).await),
            (
                "call",
                traced(&[
                    "call",
                    "--url",
                    &url,
                    "--client-id",
                    "800",
                    "--to",
                    "100",
                    "--ring",
                    "1s",
                ])
                .await,
            ),
        ];
        outputs.push(("run", traced_run(&path, &sim).await));
        let tokens = sim.issued_tokens();
        // Each command got at least one token, so there was something to leak.
        assert!(tokens.len() >= outputs.len(), "{tokens:?}");
        for (command, output) in &outputs {
            assert_clean(command, output, &tokens);
        }
        // The trace really was on: the WebSocket handshake of `run` was traced up to
        // (not including) its request.
        let run = &outputs[3].1;
        assert!(run.contains("TRACE"), "run logged no trace lines");
    })
    .await;
}
