//! `voicebot sim` as a process: fault flags make `voicebot doctor` fail at the step
//! the fault breaks; `--tls` serves a doctor that trusts the printed CA file; a
//! failing scripted caller is reported and the simulator serves on until SIGTERM;
//! a callers file prints a live count and a summary; the control API answers plain
//! HTTP.

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
    banner: String,
    /// Lines printed after the banner.
    output: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
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
        let banner_ok = banner.contains("fault:")
            || !args
                .iter()
                .any(|a| a.starts_with("--fail") || a.starts_with("--refuse"));
        assert!(banner_ok, "the banner lists the faults: {banner}");
        // Keep the pipe drained so the simulator never blocks on stdout.
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let collected = output.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                collected.lock().unwrap().push(line);
            }
        });
        Self {
            child,
            url: url.expect("the banner has the base URL"),
            secret: secret.expect("the banner has the secret"),
            banner,
            output,
        }
    }

    /// The banner's value after `label:`.
    fn banner_value(&self, label: &str) -> String {
        let line = self
            .banner
            .lines()
            .find(|line| line.contains(label))
            .unwrap_or_else(|| panic!("{label} in {}", self.banner));
        line.split_once(label).unwrap().1.trim().to_owned()
    }

    /// Waits until a printed line contains `needle`; returns all output so far.
    async fn wait_for(&self, needle: &str) -> String {
        loop {
            let output = self.output.lock().unwrap().join("\n");
            if output.contains(needle) {
                return output;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_tls_serves_a_doctor_that_trusts_the_printed_ca_file() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let ca_out = dir.path().join("ca.pem");
        let ca_arg = ca_out.display().to_string();
        let sim = SimProcess::start(&["--tls", "--ca-out", &ca_arg]).await;
        assert!(sim.url.starts_with("https://127.0.0.1:"), "{}", sim.url);
        assert!(
            sim.banner_value("fingerprint:").starts_with("SHA-256 "),
            "{}",
            sim.banner
        );
        assert!(
            sim.banner_value("CA file:").starts_with(&ca_arg),
            "{}",
            sim.banner
        );
        let args = ["doctor", "--url", &sim.url, "--client-id", "800"];
        let env = [
            ("VOICEBOT_CLIENT_SECRET", sim.secret.as_str()),
            ("VOICEBOT_CA_FILE", ca_arg.as_str()),
        ];
        let output = voicebot(&args, &env).await;
        assert_eq!(
            code(&output),
            0,
            "{}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        );
        // Without the CA the PBX cannot be trusted: exit 3 (unreachable: TLS).
        let output = voicebot(&args, &env[..1]).await;
        assert_ne!(code(&output), 0, "{}", text(&output.stdout));
        sim.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_scripted_caller_is_reported_and_only_sigterm_stops_the_sim() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        // Nobody answers on the route point's behalf here: pressing needs a
        // connected call, so a ringing caller's script fails at once.
        let script = dir.path().join("press.toml");
        std::fs::write(&script, "steps = [ { press = \"1\" } ]").unwrap();
        let script_arg = script.display().to_string();
        let sim = SimProcess::start(&[
            "--inbound",
            "ringing",
            "--call-in",
            "+15550199",
            "--script",
            &script_arg,
            "--call-delay",
            "0",
        ])
        .await;
        let output = sim.wait_for("script failed").await;
        assert!(output.contains("the simulator goes on"), "{output}");
        // Still serving: a doctor run passes its checks against it.
        let output = doctor(&sim).await;
        assert_eq!(code(&output), 0, "{}", text(&output.stdout));
        let pid = sim.child.id().unwrap().to_string();
        let kill = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(kill.success());
        let mut sim = sim;
        let status = tokio::time::timeout(Duration::from_secs(30), sim.child.wait())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.code(), Some(0), "SIGTERM stops it cleanly");
        assert!(sim.wait_for("stopping").await.contains("stopping"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_file_prints_a_live_count_and_a_summary_and_the_control_api_answers() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let callers = dir.path().join("callers.toml");
        std::fs::write(
            &callers,
            r#"
            [[group]]
            name = "quick"
            count = 3
            every = "100ms"
            from = "+1555020{n}"
            steps = [ { press_random = "12" }, { wait = "200ms" }, "hang_up" ]
            "#,
        )
        .unwrap();
        let callers_arg = callers.display().to_string();
        let sim = SimProcess::start(&["--callers", &callers_arg, "--extension", "100=busy"]).await;
        assert!(sim.banner_value("extensions:").contains("100 (busy)"), "{}", sim.banner);
        let output = sim.wait_for("callers summary:").await;
        assert!(output.contains("callers: placed"), "a live count: {output}");
        assert!(output.contains("placed:    3/3"), "{output}");
        assert!(output.contains("answered:  3"), "{output}");
        assert!(output.contains("pressed:   3 keys"), "{output}");
        assert!(output.contains("3  HungUp"), "{output}");

        // The control API, with a plain HTTP/1.1 request on a TCP socket.
        let addr = sim.url.trim_start_matches("http://").to_owned();
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let body = r#"{"from": "+15550300", "steps": [{"wait": "50ms"}, "hang_up"]}"#;
        let request = format!(
            "POST /sim/calls HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 201"), "{response}");
        assert!(response.contains("\"from\":\"+15550300\""), "{response}");
        sim.stop().await;
    })
    .await;
}

#[tokio::test]
async fn bad_product_flags_are_usage_errors() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let bad_callers = dir.path().join("callers.toml");
        std::fs::write(&bad_callers, "[[group]]\ncount = 0\n").unwrap();
        let bad_callers = bad_callers.display().to_string();
        for (args, needle) in [
            (vec!["sim", "--extension", "100=dance"], "dance"),
            (vec!["sim", "--route-failure-status", "302"], "302"),
            (vec!["sim", "--after-route", "later"], "later"),
            (
                vec!["sim", "--callers", &bad_callers, "--listen", "127.0.0.1:0"],
                "count",
            ),
            (
                vec![
                    "sim",
                    "--cert",
                    "/nonexistent.pem",
                    "--key",
                    "/nonexistent.key",
                    "--listen",
                    "127.0.0.1:0",
                ],
                "nonexistent.pem",
            ),
        ] {
            let output = voicebot(&args, &[]).await;
            assert_eq!(code(&output), 2, "{args:?}: {}", text(&output.stderr));
            assert!(
                text(&output.stderr).contains(needle),
                "{args:?}: {}",
                text(&output.stderr)
            );
        }
    })
    .await;
}
