//! `voicebot run` with several PBXs in one process (issue #18, item 4): each `[[pbx]]`
//! has its own credentials, route points and engine; a PBX that goes down mid-call
//! never affects the calls of another; records, `/metrics` and `/health` name the PBX.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use voicebot_sim::{Sim, SimConfig};

use crate::cli::{within, write_config};
use crate::run_process::{free_port, http_get, wait_stream_opened};

/// A `[[pbx]]` table named `name` for `sim`, its secret in `secret_env`, whose route
/// point 800 has the `route_point` table's lines.
fn pbx_table(name: &str, sim: &Sim, secret_env: &str, route_point: &str) -> String {
    format!(
        r#"
[[pbx]]
name = "{name}"
url = "http://{addr}"
client_id = "800"
client_secret_env = "{secret_env}"

[pbx.route_points."800"]
{route_point}
"#,
        addr = sim.local_addr(),
    )
}

/// Starts `voicebot run -c path` with `secrets` in its environment; its stderr is
/// read as it comes (so a full pipe never blocks its logging) and is the task's
/// result once the process has exited.
fn run(path: &str, secrets: &[(&str, &str)]) -> (Child, JoinHandle<String>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_voicebot"));
    command
        .args(["run", "-c", path])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in secrets {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("voicebot run starts");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let log = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    (child, log)
}

/// Polls `/health` until `wanted` holds; returns the body.
async fn health_until(
    addr: SocketAddr,
    wanted: impl Fn(u16, &serde_json::Value) -> bool,
) -> String {
    loop {
        if let Some((status, body)) = http_get(addr, "/health").await
            && let Ok(json) = serde_json::from_str::<serde_json::Value>(&body)
            && wanted(status, &json)
        {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The call records of the file so far.
fn records(file: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

async fn record_of(file: &std::path::Path, caller: &str) -> serde_json::Value {
    loop {
        if let Some(record) = records(file)
            .into_iter()
            .find(|record| record["caller"] == caller)
        {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pbx_going_down_leaves_the_calls_of_the_other_untouched() {
    within(async {
        // Two PBXs with different API clients and secrets; both use route point 800,
        // each for a different bot.
        let east = Sim::start().await.unwrap();
        let west = Sim::start_with(SimConfig {
            client_secret: "west-secret".to_owned(),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let metrics = free_port();
        let settings = format!(
            r#"
metrics = "127.0.0.1:{metrics}"

[limits]
shutdown_timeout = "2s"

[call_records]
file = "cdr.jsonl"
"#,
        ) + &pbx_table("east", &east, "VOICEBOT_CLIENT_SECRET", "bot = \"echo\"")
            + &pbx_table(
                "west",
                &west,
                "WEST_SECRET",
                "bot = \"recorder\"\nconfig = { beep = false, finish_on = \"#\" }",
            );
        let path = write_config(dir.path(), &settings);
        let secrets = [
            ("VOICEBOT_CLIENT_SECRET", east.client_secret()),
            ("WEST_SECRET", "west-secret"),
        ];
        let (mut child, log) = run(&path, &secrets);
        let addr = SocketAddr::from(([127, 0, 0, 1], metrics));
        let body = health_until(addr, |status, json| status == 200 && json["status"] == "ok").await;
        let health: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(health["pbxs"]["east"]["status"], "ok", "{body}");
        assert_eq!(health["pbxs"]["west"]["status"], "ok", "{body}");

        // A call on each PBX.
        let on_east = east.call_in("+15550101").await.unwrap();
        let on_west = west.call_in("+15550202").await.unwrap();
        on_east.wait_connected().await.unwrap();
        on_west.wait_connected().await.unwrap();
        wait_stream_opened(&east, on_east.participant_id().0).await;
        wait_stream_opened(&west, on_west.participant_id().0).await;

        // West goes down with its call in progress.
        west.shutdown().await;
        let body = health_until(addr, |status, json| {
            status == 200 && json["status"] == "partial"
        })
        .await;
        let health: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(health["pbxs"]["east"]["status"], "ok", "{body}");
        assert_eq!(health["pbxs"]["west"]["pbx_connected"], false, "{body}");

        // East's call goes on as if nothing happened: its keys arrive and it ends
        // normally; a new call is answered too.
        on_east.press("12").await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        on_east.hang_up().await.unwrap();
        let file = dir.path().join("cdr.jsonl");
        let record = record_of(&file, "+15550101").await;
        assert_eq!(record["pbx"], "east", "{record}");
        assert_eq!(record["bot"], "echo", "{record}");
        assert_eq!(record["digits"], "12", "{record}");
        assert_eq!(record["outcome"], "hangup", "{record}");

        let next = east.call_in("+15550103").await.unwrap();
        next.wait_connected().await.unwrap();
        wait_stream_opened(&east, next.participant_id().0).await;
        next.hang_up().await.unwrap();
        let record = record_of(&file, "+15550103").await;
        assert_eq!(record["pbx"], "east", "{record}");

        // Every engine series carries its PBX.
        let (_, metrics) = http_get(addr, "/metrics").await.unwrap();
        let series = |name: &str, pbx: &str| {
            metrics.lines().any(|line| {
                line.starts_with(&format!("{name}{{")) && line.contains(&format!("pbx=\"{pbx}\""))
            })
        };
        assert!(series("voicebot_calls_total", "east"), "{metrics}");
        // West's call is still held (its PBX may come back), counted as its own.
        assert!(
            metrics.contains("voicebot_active_calls{pbx=\"west\"} 1"),
            "{metrics}"
        );
        assert!(
            metrics.contains("voicebot_active_calls{pbx=\"east\"} 0"),
            "{metrics}"
        );
        assert!(
            metrics
                .lines()
                .filter(|line| line.starts_with("voicebot_pbx_requests_total{"))
                .all(|line| line.contains("pbx=\"east\"") || line.contains("pbx=\"west\"")),
            "{metrics}"
        );

        // SIGTERM stops both engines. East's stops cleanly; west's call cannot be
        // handed over while its PBX is down, which the exit status reports (1),
        // naming that PBX alone.
        let pid = child.id().unwrap().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().await;
        assert!(killed.unwrap().success());
        let status = child.wait().await.unwrap();
        let stderr = log.await.unwrap();
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("running the engine of PBX west"),
            "{stderr}"
        );
        assert!(!stderr.contains("PBX east"), "{stderr}");

        // West's call, cut off from its PBX, was ended by the shutdown at the latest;
        // its record names its PBX and bot, with the recording it had started.
        let record = record_of(&file, "+15550202").await;
        assert_eq!(record["pbx"], "west", "{record}");
        assert_eq!(record["bot"], "recorder", "{record}");
        assert!(
            record["recordings"]
                .as_array()
                .is_some_and(|list| !list.is_empty()),
            "{record}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pbx_refusing_its_credentials_does_not_stop_the_others() {
    within(async {
        let good = Sim::start().await.unwrap();
        let refusing = Sim::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let metrics = free_port();
        let settings = format!(
            r#"
metrics = "127.0.0.1:{metrics}"

"#,
        ) + &pbx_table("good", &good, "VOICEBOT_CLIENT_SECRET", "bot = \"echo\"")
            + &pbx_table("refusing", &refusing, "WRONG_SECRET", "bot = \"echo\"");
        let path = write_config(dir.path(), &settings);
        let secrets = [
            ("VOICEBOT_CLIENT_SECRET", good.client_secret()),
            ("WRONG_SECRET", "not-the-secret"),
        ];
        let (mut child, _log) = run(&path, &secrets);
        let addr = SocketAddr::from(([127, 0, 0, 1], metrics));
        let body = health_until(addr, |_, json| json["pbxs"]["good"]["status"] == "ok").await;
        let health: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(health["status"], "partial", "{body}");
        assert_eq!(health["pbxs"]["refusing"]["pbx_connected"], false, "{body}");

        let caller = good.call_in("+15550301").await.unwrap();
        caller.wait_connected().await.unwrap();
        wait_stream_opened(&good, caller.participant_id().0).await;
        assert!(child.try_wait().unwrap().is_none(), "voicebot run exited");
        child.kill().await.unwrap();
    })
    .await;
}
