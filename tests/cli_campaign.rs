//! `voicebot campaign` as a process against a simulator started in this process, whose
//! far ends answer, are busy, or ring without answering.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use voicebot_sim::{FarEnd, FarEnds, Sim, SimConfig};

use crate::cli::{code, text, voicebot, write_config};

const ANSWERS: &str = "5550001";
const BUSY: &str = "5550002";
const NO_ANSWER: &str = "5550003";

fn sim_config() -> SimConfig {
    SimConfig {
        far_ends: FarEnds::default()
            .with(ANSWERS, FarEnd::answer_after(Duration::from_millis(200)))
            .with(BUSY, FarEnd::Busy)
            .with(
                NO_ANSWER,
                FarEnd::NoAnswer {
                    after: Duration::from_secs(30),
                },
            ),
        ..SimConfig::default()
    }
}

/// Half a second of a 440 Hz tone, 8 kHz mono.
fn write_prompt(path: &Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..4000 {
        let t = f64::from(n) / 8000.0;
        writer
            .write_sample((6000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
}

fn config(url: &str) -> String {
    format!(
        r#"
[pbx]
url = "{url}"
client_id = "800"

[limits]
shutdown_timeout = "3s"

[route_points."800"]
bot = "announcement"

[route_points."800".config]
prompts = ["hello.wav"]

[route_points."800".config.outbound]
from = "800"
numbers = ["{BUSY}"]
concurrency = 3
ring_timeout = "1s"
results_dir = "campaign"
"#
    )
}

/// `number → outcome` from a results.csv, checking the header and one row per number.
fn outcomes(csv: &Path) -> BTreeMap<String, String> {
    let rows = std::fs::read_to_string(csv).unwrap();
    let mut lines = rows.lines();
    assert_eq!(
        lines.next(),
        Some("number,outcome,attempts,reason,talk_time_ms")
    );
    let mut outcomes = BTreeMap::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let previous = outcomes.insert(cells[0].to_owned(), cells[1].to_owned());
        assert!(previous.is_none(), "one row per number: {rows}");
    }
    outcomes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_dials_every_number_and_writes_its_outcomes() {
    let sim = Sim::start_with(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_prompt(&dir.path().join("hello.wav"));
    let path = write_config(dir.path(), &config(&sim.base_url()));
    let numbers = dir.path().join("numbers.txt");
    std::fs::write(
        &numbers,
        format!("# customers\n{ANSWERS}\n\n{BUSY}   # the shop\n{NO_ANSWER}\n"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let env = [("VOICEBOT_CLIENT_SECRET", sim.client_secret())];
    let args = [
        "campaign",
        "-c",
        &path,
        "--route-point",
        "800",
        "--numbers",
        numbers.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let output = voicebot(&args, &env).await;
    let stdout = text(&output.stdout);
    assert_eq!(code(&output), 0, "{stdout}\n{}", text(&output.stderr));
    for expected in [
        "calling 5550001",
        "Summary",
        "Answered",
        "No answer",
        "results.csv",
    ] {
        assert!(stdout.contains(expected), "{expected:?} in {stdout}");
    }
    assert_eq!(
        outcomes(&out.join("results.csv")),
        BTreeMap::from([
            (ANSWERS.to_owned(), "answered".to_owned()),
            (BUSY.to_owned(), "busy".to_owned()),
            (NO_ANSWER.to_owned(), "no_answer".to_owned()),
        ])
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(json.as_array().map(Vec::len), Some(3), "{json}");
    assert!(json[0]["talk_time_ms"].as_u64().unwrap() >= 400, "{json}");
    // The answered far end heard the announcement.
    let heard = sim
        .outbound_calls()
        .into_iter()
        .map(|call| call.heard().audio_duration())
        .max()
        .unwrap_or_default();
    assert!(heard >= Duration::from_millis(400), "heard {heard:?}");

    // Without --numbers the configured list is dialled; --json prints the summary and
    // the results land in results_dir, next to the configuration file.
    let output = voicebot(
        &["campaign", "-c", &path, "--route-point", "800", "--json"],
        &env,
    )
    .await;
    assert_eq!(code(&output), 0, "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["summary"]["busy"], 1, "{report}");
    assert_eq!(report["summary"]["total"], 1, "{report}");
    assert_eq!(report["results"][0]["number"], BUSY);
    let csv = dir.path().join("campaign/results.csv");
    assert_eq!(outcomes(&csv).len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_route_point_without_an_outbound_table_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    write_prompt(&dir.path().join("hello.wav"));
    let text_config = config("http://127.0.0.1:1");
    let without = text_config
        .split("[route_points.\"800\".config.outbound]")
        .next()
        .unwrap();
    let path = write_config(dir.path(), without);
    let env = [("VOICEBOT_CLIENT_SECRET", "x")];
    let output = voicebot(&["campaign", "-c", &path, "--route-point", "800"], &env).await;
    assert_eq!(code(&output), 2);
    assert!(
        text(&output.stderr).contains("config.outbound"),
        "{}",
        text(&output.stderr)
    );

    let path = write_config(dir.path(), &text_config);
    let output = voicebot(&["campaign", "-c", &path, "--route-point", "801"], &env).await;
    assert_eq!(code(&output), 2);
    assert!(text(&output.stderr).contains("no route point \"801\""));

    let numbers = dir.path().join("numbers.csv");
    std::fs::write(&numbers, "name,phone\nAda,5550001\n").unwrap();
    let args = [
        "campaign",
        "-c",
        &path,
        "--route-point",
        "800",
        "--numbers",
        numbers.to_str().unwrap(),
    ];
    let output = voicebot(&args, &env).await;
    assert_eq!(code(&output), 2);
    assert!(
        text(&output.stderr).contains("numbers.csv:1:"),
        "{}",
        text(&output.stderr)
    );
}
