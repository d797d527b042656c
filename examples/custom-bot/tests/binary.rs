//! The `custom-bot` binary as a user runs it: `run --check` on the sample and on broken
//! configurations, and `run` against a simulator answering a call with `my-menu`.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::Command;
use voicebot_testkit::sim::JournalKind;
use voicebot_testkit::{CallEnd, Sim, SimConfig};

/// A process-driven test gets this long.
const LIMIT: Duration = Duration::from_secs(60);

fn custom_bot() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_custom-bot"));
    command
        .env_remove("RUST_LOG")
        .env_remove("VOICEBOT_CLIENT_SECRET")
        .kill_on_drop(true);
    command
}

async fn check(config: &Path) -> Output {
    let output = custom_bot()
        .args(["run", "--check", "-c"])
        .arg(config)
        .output();
    tokio::time::timeout(LIMIT, output)
        .await
        .expect("the check finished in time")
        .expect("custom-bot starts")
}

fn sample() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("voicebot.toml"))
        .expect("the sample configuration")
}

#[tokio::test]
async fn the_sample_configuration_checks_with_the_custom_bot() {
    let output = check(&Path::new(env!("CARGO_MANIFEST_DIR")).join("voicebot.toml")).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(stdout.contains("800 → my-menu"), "{stdout}");
}

#[tokio::test]
async fn a_broken_custom_table_is_refused_at_startup_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    for (broken, key) in [
        (sample().replace("tries = 3", "trys = 3"), "config.trys"),
        (
            sample().replace(r#""2" = "200""#, r#""x" = "200""#),
            "config.choices.x",
        ),
        (
            sample().replace("timeout_seconds = 5", "timeout_seconds = \"soon\""),
            "config.timeout_seconds",
        ),
    ] {
        let path = dir.path().join("voicebot.toml");
        std::fs::write(&path, &broken).unwrap();
        let output = check(&path).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!(r#"route_points."800".{key}"#)),
            "{stderr}"
        );
        assert!(
            stderr.contains("voicebot.toml:"),
            "the file and line are named: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_answers_a_call_on_the_simulator_with_the_custom_bot() {
    tokio::time::timeout(LIMIT, async {
        let sim = Sim::start().await.expect("the simulator starts");
        let dir = tempfile::tempdir().unwrap();
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/prompts");
        let config = sample()
            .replace("https://pbx.example.com:5001", &sim.base_url())
            .replace("../../samples/prompts", &samples.to_string_lossy());
        let path = dir.path().join("voicebot.toml");
        std::fs::write(&path, config).unwrap();
        let _running = custom_bot()
            .args(["run", "-c"])
            .arg(&path)
            .env("VOICEBOT_CLIENT_SECRET", SimConfig::default().client_secret)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("custom-bot starts");
        // Connected once its event socket is open.
        while !sim
            .journal()
            .iter()
            .any(|entry| matches!(entry.kind, JournalKind::WsConnected { .. }))
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let caller = sim.call_in("+15550100").await.unwrap();
        caller.wait_connected().await.unwrap();
        caller.wait_heard(Duration::from_millis(500)).await.unwrap();
        caller.press("2").await.unwrap();
        assert_eq!(
            caller.wait_ended().await,
            CallEnd::TransferredTo("200".to_owned())
        );
    })
    .await
    .expect("the call went through in time");
}
