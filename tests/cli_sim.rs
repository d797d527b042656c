//! `voicebot sim` fault flags, as processes: a simulator started with a fault makes
//! `voicebot doctor` fail at the step the fault breaks.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::cli::{code, text, voicebot, within};

/// A `voicebot sim` process on a free port, killed when dropped.
struct SimProcess {
    child: Child,
    url: String,
    secret: String,
}

impl SimProcess {
    /// Starts `voicebot sim --listen 127.0.0.1:0 ARGS` and reads the banner.
    async fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_voicebot"))
            .args(["sim", "--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("voicebot sim starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut url, mut secret) = (None, None);
        let mut banner = String::new();
        let read = async {
            while let Some(line) = lines.next_line().await.unwrap() {
                banner.push_str(&line);
                banner.push('\n');
                let value = || line.split_once(':').unwrap().1.trim().to_owned();
                if line.contains("base URL:") {
                    url = Some(value());
                } else if line.contains("client secret:") {
                    secret = Some(value());
                } else if line.contains("Ctrl-C stops it") {
                    break;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .expect("the simulator printed its banner");
        let banner_ok = banner.contains("fault:") || args.is_empty();
        assert!(banner_ok, "the banner lists the faults: {banner}");
        // Keep the pipe drained so the simulator never blocks on stdout.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            child,
            url: url.expect("the banner has the base URL"),
            secret: secret.expect("the banner has the secret"),
        }
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

async fn doctor(sim: &SimProcess) -> std::process::Output {
    let args = ["doctor", "--url", &sim.url, "--client-id", "800"];
    voicebot(&args, &[("VOICEBOT_CLIENT_SECRET", &sim.secret)]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_fails_at_the_websocket_step_when_the_sim_refuses_websockets() {
    within(async {
        let sim = SimProcess::start(&["--refuse-websockets"]).await;
        let output = doctor(&sim).await;
        let stdout = text(&output.stdout);
        assert_eq!(code(&output), 5, "{stdout}\n{}", text(&output.stderr));
        assert!(stdout.contains("✓ 2. token"), "{stdout}");
        assert!(stdout.contains("✗ 7. event WebSocket opens"), "{stdout}");
        // The refusal itself is reported, at the first attempt.
        assert!(stdout.contains("503"), "{stdout}");
        assert!(text(&output.stderr).contains("step 7 failed"));
        // Refused every time, not just once: a second run fails the same way.
        assert_eq!(code(&doctor(&sim).await), 5);
        sim.stop().await;

        let healthy = SimProcess::start(&[]).await;
        let output = doctor(&healthy).await;
        assert_eq!(code(&output), 0, "{}", text(&output.stdout));
        healthy.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_token_endpoint_fails_the_token_step_once_only_with_x1() {
    within(async {
        let sim = SimProcess::start(&["--fail", "/connect/token=503x1"]).await;
        let output = doctor(&sim).await;
        let stdout = text(&output.stdout);
        assert_eq!(code(&output), 5, "{stdout}");
        assert!(stdout.contains("✗ 2. token"), "{stdout}");
        // The failure was used up: the next run gets past the token.
        let output = doctor(&sim).await;
        assert_eq!(code(&output), 0, "{}", text(&output.stdout));
        sim.stop().await;
    })
    .await;
}

#[tokio::test]
async fn bad_fault_flags_are_usage_errors() {
    within(async {
        for args in [
            ["sim", "--fail", "/callcontrol=abc"],
            ["sim", "--token-lifetime", "0"],
            ["sim", "--expires-in-unit", "hours"],
        ] {
            let output = voicebot(&args, &[]).await;
            assert_eq!(code(&output), 2, "{args:?}");
        }
    })
    .await;
}
