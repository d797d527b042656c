//! The simulator as users run it (issue #17): `voicebot run` against a simulator
//! serving HTTPS/WSS with its own CA, and `voicebot call --from 101 --to 800`
//! talking to a running bot. Both are whole calls through voicebot's own client
//! over real sockets: token, event socket, streams, prompt, digit.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use voicebot_sim::{CallEnd, JournalKind, Sim, SimConfig, SimTls};

use crate::cli::{code, text, voicebot, within, write_config};

/// One second of a sawtooth at 8 kHz.
fn prompt(path: &Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..8000 {
        writer
            .write_sample(((n % 40) * 500 - 10_000) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
}

/// An ivr-menu on route point 800 of `url`: "1" transfers to 100, "2" hangs up.
fn menu_config(dir: &Path, url: &str, extra: &str) -> String {
    prompt(&dir.join("menu.wav"));
    write_config(
        dir,
        &format!(
            r#"
{extra}
[pbx]
url = "{url}"
client_id = "800"

[route_points."800"]
bot = "ivr-menu"

[route_points."800".config]
timeout = "20s"

[route_points."800".config.nodes.main]
prompt = "menu.wav"
options."1" = {{ action = "transfer", to = "100" }}
options."2" = {{ action = "hangup" }}
"#
        ),
    )
}

/// `voicebot run -c CONFIG` as a process, killed when dropped.
fn run(config: &str, env: &[(&str, &str)]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_voicebot"));
    command
        .args(["run", "-c", config])
        .env("VOICEBOT_CLIENT_SECRET", SimConfig::default().client_secret)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().expect("voicebot run starts")
}

/// Waits until the engine's event socket is up.
async fn engine_connected(sim: &Sim) {
    while !sim
        .journal()
        .iter()
        .any(|entry| matches!(entry.kind, JournalKind::WsConnected { .. }))
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn answering_extension() -> SimConfig {
    SimConfig {
        extensions: vec![
            voicebot_sim::ExtensionSpec::new("100").answering("answer:200ms".parse().unwrap()),
            voicebot_sim::ExtensionSpec::new("101"),
        ],
        ..SimConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_call_runs_over_https_and_wss_with_the_sims_ca_file() {
    within(async {
        let tls = SimTls::self_signed(&[]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("sim-ca.pem");
        tls.write_ca(&ca_file).unwrap();
        let sim = Sim::start_tls(answering_extension(), tls).await.unwrap();
        assert!(sim.base_url().starts_with("https://"));
        // The client trusts the simulator's CA through `pbx.ca_file`.
        let config = menu_config(dir.path(), &sim.base_url(), "");
        let config_text = std::fs::read_to_string(&config).unwrap().replace(
            "client_id = \"800\"",
            &format!(
                "client_id = \"800\"\nca_file = {:?}",
                ca_file.display().to_string()
            ),
        );
        std::fs::write(&config, config_text).unwrap();
        let _engine = run(&config, &[]);
        engine_connected(&sim).await;

        let caller = sim.call_in("+15550170").await.unwrap();
        caller.wait_heard(Duration::from_millis(500)).await.unwrap();
        caller.press("1").await.unwrap();
        assert_eq!(
            caller.wait_ended().await,
            CallEnd::TransferredTo("100".into())
        );
        let journal = sim.journal();
        let streamed = journal
            .iter()
            .any(|entry| matches!(entry.kind, JournalKind::StreamOpened { .. }));
        assert!(streamed, "the prompt came over an https audio stream");
        // The transfer completed: the call is on extension 100, connected.
        let on_100 = sim
            .snapshot()
            .into_iter()
            .find(|dn| dn.dn.as_str() == "100")
            .unwrap();
        assert!(on_100.participants.iter().any(|p| p.is_connected()));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voicebot_call_from_an_extension_talks_to_a_running_bot() {
    within(async {
        let sim = Sim::start_with(answering_extension()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        // `voicebot call` presses keys as in-band tones: the engine listens for them.
        let config = menu_config(dir.path(), &sim.base_url(), "[media]\ninband_dtmf = true\n");
        let _engine = run(&config, &[]);
        engine_connected(&sim).await;

        let heard = dir.path().join("heard.wav");
        let heard_arg = heard.display().to_string();
        let output = voicebot(
            &[
                "call",
                "--url",
                &sim.base_url(),
                "--client-id",
                "800",
                "--from",
                "101",
                "--to",
                "800",
                "--press",
                "2@1500ms",
                "--listen",
                "10s",
                "--save",
                &heard_arg,
                "--json",
            ],
            &[(
                "VOICEBOT_CLIENT_SECRET",
                &SimConfig::default().client_secret,
            )],
        )
        .await;
        let stdout = text(&output.stdout);
        assert_eq!(code(&output), 0, "{stdout}\n{}", text(&output.stderr));
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        // The bot heard "2" and hung up well before the 10 s of listening were over.
        assert_eq!(report["far_end_hung_up"], true, "{report}");
        assert!(report["heard_secs"].as_f64().unwrap() >= 0.5, "{report}");
        let journal = sim.journal();
        let started = journal.iter().find_map(|entry| match &entry.kind {
            JournalKind::CallStarted { callid, from, to } if from == "101" && to == "800" => {
                Some(*callid)
            }
            _ => None,
        });
        let callid = started.expect("the call from 101 reached the route point");
        let dropped = journal.iter().any(|entry| {
            matches!(
                &entry.kind,
                JournalKind::Action { dn, action, callid: Some(id), status: 200, .. }
                    if dn.as_str() == "800" && action == "drop" && *id == callid
            )
        });
        assert!(dropped, "the bot dropped its leg after the digit");
        assert!(std::fs::metadata(&heard).unwrap().len() > 44);
    })
    .await;
}
