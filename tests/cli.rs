//! The `voicebot` command run as a process: exit codes, error messages, `convert`
//! round trips, `token`/`doctor`/`state` against a simulator started in this process,
//! and the demo end to end.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use voicebot_sim::{Sim, SimConfig};

/// A process gets this long (the demo takes ~12 s in a debug build).
const PROCESS_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `voicebot ARGS` with `env` set (and `VOICEBOT_*` and `RUST_LOG` cleared, so
/// the developer's environment cannot change the result).
pub(crate) async fn voicebot(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_voicebot"));
    command
        .args(args)
        .env_remove("VOICEBOT_CLIENT_SECRET")
        .env_remove("VOICEBOT_URL")
        .env_remove("VOICEBOT_CLIENT_ID")
        .env_remove("RUST_LOG")
        .kill_on_drop(true);
    for (key, value) in env {
        command.env(key, value);
    }
    tokio::time::timeout(PROCESS_TIMEOUT, command.output())
        .await
        .expect("voicebot finished in time")
        .expect("voicebot could be started")
}

/// Runs a whole process-driven test under a timeout (a few processes, each with
/// [`PROCESS_TIMEOUT`], plus a simulator).
pub(crate) async fn within<F: std::future::Future>(body: F) -> F::Output {
    voicebot_testkit::within(Duration::from_secs(240), body).await
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(crate) fn code(output: &Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

const CONFIG: &str = r#"
[pbx]
url = "http://127.0.0.1:5001"
client_id = "800"

[route_points."800"]
bot = "recorder"

[route_points."800".config]
max_length = "30s"
"#;

pub(crate) fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("voicebot.toml");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

async fn check(config: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), config);
    voicebot(&["run", "-c", &path, "--check"], &[]).await
}

#[tokio::test]
async fn a_good_config_passes_the_check() {
    let output = check(CONFIG).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("800 → recorder"));
}

#[tokio::test]
async fn a_bad_value_exits_2_naming_the_file_line_and_key() {
    let output = check(&CONFIG.replace("bot = \"recorder\"", "bot = 5")).await;
    assert_eq!(code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("voicebot.toml:7:"), "{stderr}");
    assert!(stderr.contains("route_points.\"800\".bot"), "{stderr}");
    assert!(stderr.contains("expected a string"), "{stderr}");
}

#[tokio::test]
async fn an_unknown_key_exits_2_naming_it() {
    let output = check(&CONFIG.replace("client_id", "client_idd")).await;
    assert_eq!(code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("pbx.client_idd"), "{stderr}");
    assert!(stderr.contains("unknown field"), "{stderr}");
}

#[tokio::test]
async fn bot_problems_exit_2_naming_the_route_point_and_key() {
    let output = check(&CONFIG.replace("bot = \"recorder\"", "bot = \"recordr\"")).await;
    assert_eq!(code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("route_points.\"800\".bot"), "{stderr}");
    assert!(
        stderr.contains("ivr-menu"),
        "lists the known bots: {stderr}"
    );

    let output = check(&CONFIG.replace("max_length", "max_lenght")).await;
    assert_eq!(code(&output), 2);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("route_points.\"800\".config.max_lenght"),
        "{stderr}"
    );
    assert!(stderr.contains("voicebot.toml:10:"), "{stderr}");
}

#[tokio::test]
async fn a_missing_secret_exits_2_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(dir.path(), CONFIG);
    let output = voicebot(&["run", "-c", &path], &[]).await;
    assert_eq!(code(&output), 2);
    assert!(text(&output.stderr).contains("VOICEBOT_CLIENT_SECRET"));
}

/// Writes a 16 kHz mono WAV of a two-tone signal.
fn write_16k_wav(path: &Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..16_000 {
        let t = f64::from(n) / 16_000.0;
        let value = 8000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()
            + 4000.0 * (2.0 * std::f64::consts::PI * 1250.0 * t).sin();
        writer.write_sample(value as i16).unwrap();
    }
    writer.finalize().unwrap();
}

fn read_wav(path: &Path) -> (hound::WavSpec, Vec<i16>) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    let samples = reader.samples::<i16>().map(Result::unwrap).collect();
    (spec, samples)
}

#[tokio::test]
async fn convert_resamples_like_the_engine_and_round_trips_raw_pcm() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in16k.wav");
    write_16k_wav(&input);
    let wav = dir.path().join("out8k.wav");
    let pcm = dir.path().join("out.pcm");
    let back = dir.path().join("back.wav");
    let path = |p: &Path| p.to_string_lossy().into_owned();

    let output = voicebot(&["convert", &path(&input), &path(&wav)], &[]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let (spec, converted) = read_wav(&wav);
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16)
    );
    let engine = voicebot_media::Prompt::load(&input).unwrap();
    assert_eq!(
        converted,
        engine.samples(),
        "same samples the engine would play"
    );

    let output = voicebot(&["convert", &path(&wav), &path(&pcm)], &[]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert_eq!(
        std::fs::metadata(&pcm).unwrap().len(),
        converted.len() as u64 * 2
    );
    let output = voicebot(&["convert", &path(&pcm), &path(&back)], &[]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert_eq!(read_wav(&back).1, converted, "wav → pcm → wav is exact");

    // Refusals are usage errors.
    let output = voicebot(&["convert", &path(&input), &path(&back)], &[]).await;
    assert_eq!(code(&output), 2, "an existing output needs --force");
    let output = voicebot(&["convert", &path(&input), "out.mp3"], &[]).await;
    assert_eq!(code(&output), 2);
    let output = voicebot(
        &["convert", "missing.wav", &path(&dir.path().join("x.wav"))],
        &[],
    )
    .await;
    assert_eq!(code(&output), 2);
    assert!(text(&output.stderr).contains("missing.wav"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_exits_0_with_the_right_secret_4_with_a_wrong_one_3_unreachable() {
    let sim = Sim::start().await.unwrap();
    let url = sim.base_url();
    let args = ["token", "--url", url.as_str(), "--client-id", "800"];
    let output = voicebot(&args, &[("VOICEBOT_CLIENT_SECRET", sim.client_secret())]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("token issued"));

    let output = voicebot(&args, &[("VOICEBOT_CLIENT_SECRET", "wrong")]).await;
    assert_eq!(code(&output), 4, "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("API key"));

    let unreachable = ["token", "--url", "http://127.0.0.1:1", "--client-id", "800"];
    let output = voicebot(&unreachable, &[("VOICEBOT_CLIENT_SECRET", "x")]).await;
    assert_eq!(code(&output), 3, "{}", text(&output.stderr));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_on_a_healthy_sim_and_names_the_websocket_step_when_refused() {
    let sim = Sim::start_with(SimConfig::default()).await.unwrap();
    let url = sim.base_url();
    let env = [("VOICEBOT_CLIENT_SECRET", sim.client_secret())];
    let args = [
        "doctor",
        "--url",
        url.as_str(),
        "--client-id",
        "800",
        "--extension",
        "101",
    ];
    let output = voicebot(&args, &env).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stdout));

    sim.faults().refuse_websockets(1000);
    let output = voicebot(&args, &env).await;
    assert_eq!(code(&output), 5, "{}", text(&output.stdout));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("✗ 7. event WebSocket opens"), "{stdout}");
    assert!(text(&output.stderr).contains("step 7 failed"));

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let output = voicebot(&json_args, &env).await;
    assert_eq!(code(&output), 5);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["failed_step"]["number"], 7);
    assert_eq!(report["ok"], false);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_the_token_step_on_a_wrong_secret() {
    let sim = Sim::start().await.unwrap();
    let url = sim.base_url();
    let args = ["doctor", "--url", url.as_str(), "--client-id", "800"];
    let output = voicebot(&args, &[("VOICEBOT_CLIENT_SECRET", "wrong")]).await;
    assert_eq!(code(&output), 5);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("✗ 2. token"), "{stdout}");
    assert!(stdout.contains("copied in full"), "{stdout}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_lists_the_route_point_as_json() {
    let sim = Sim::start().await.unwrap();
    let url = sim.base_url();
    let args = [
        "state",
        "--url",
        url.as_str(),
        "--client-id",
        "800",
        "--json",
    ];
    let output = voicebot(&args, &[("VOICEBOT_CLIENT_SECRET", sim.client_secret())]).await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let dns: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = dns
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|dn| dn["dn"].as_str())
        .collect();
    assert!(
        names.contains(&"800") && names.contains(&"101"),
        "{names:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_demo_completes_and_reports_its_recordings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_string_lossy().into_owned();
    let output = voicebot(&["demo", "--out", &out], &[]).await;
    let stdout = text(&output.stdout);
    assert_eq!(code(&output), 0, "{stdout}\n{}", text(&output.stderr));
    assert!(stdout.contains("Summary"), "{stdout}");
    // It names the file it runs: the copy under --out, not the sample.
    let copy = dir.path().join("demo.toml");
    assert!(
        stdout.contains(&format!("running {}", copy.display())),
        "{stdout}"
    );
    assert!(stdout.contains("transferred to 200"), "{stdout}");
    assert!(stdout.contains("transferred to 100"), "{stdout}");
    let recordings = stdout
        .split("Recordings in")
        .nth(1)
        .expect("the summary lists the recordings");
    assert!(recordings.contains(".wav"), "{stdout}");
    assert!(
        recordings.contains(&out),
        "recordings are under --out: {stdout}"
    );
}
