//! The bots of `bots/` run by the engine against the simulator: menus with invalid
//! input and timeouts, an outbound announcement list, voicemail files, and echo.
//!
//! Prompts are short WAVs of one constant sample value each, written per test, so
//! the order of prompts the caller heard can be read off the audio.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use voicebot_announcement::{Campaign, Outcome};
use voicebot_bot::{Bot, BotContext, BotRegistry};
use voicebot_ivr_menu::{FixedClock, IvrMenu};
use voicebot_recorder::Metadata;
use voicebot_sim::{CallEnd, Caller, FarEnd, FarEnds, JournalKind, SimConfig};

use crate::support::{Harness, constant_prompt, find, timeout};

const PROMPT: Duration = Duration::from_millis(300);

/// The prompts heard, in order: runs of equal samples collapsed to one value each.
fn prompts_heard(caller: &Caller) -> Vec<i16> {
    let mut values: Vec<i16> = caller.heard().audio();
    values.retain(|sample| *sample != 0);
    values.dedup();
    values
}

/// A registry with the four bots, in a context that records under `dir`.
fn context(dir: &Path) -> BotContext {
    let mut registry = BotRegistry::new();
    voicebot_ivr_menu::register(&mut registry);
    voicebot_announcement::register(&mut registry);
    voicebot_recorder::register(&mut registry);
    voicebot_echo::register(&mut registry);
    BotContext::new()
        .with_recordings_dir(dir)
        .with_registry(Arc::new(registry))
}

fn build(dir: &Path, name: &str, config: &str) -> Arc<dyn Bot> {
    let config: toml::Value = toml::from_str(config).expect("test config parses");
    context(dir)
        .build_bot(name, config)
        .expect("the bot builds")
}

fn menu_config(dir: &Path) -> String {
    let [main, sales, invalid, silence, goodbye, closed] =
        [1000, 2000, 3000, 4000, 5000, 6000].map(|value| constant_prompt(dir, value));
    format!(
        r#"
        timeout = "1s"
        tries = 3
        invalid_prompt = {invalid:?}
        timeout_prompt = {silence:?}
        repeat_key = "9"
        back_key = "*"
        on_failure = {{ action = "hangup", prompt = {goodbye:?} }}
        [hours]
        time_zone = "Europe/Berlin"
        open = "main"
        closed = "closed"
        week = {{ mon = ["09:00-17:00"] }}
        [nodes.main]
        prompt = {main:?}
        options = {{ "1" = {{ action = "menu", node = "sales" }}, "2" = {{ action = "transfer", to = "200" }} }}
        [nodes.sales]
        prompt = {sales:?}
        options = {{ "1" = {{ action = "transfer", to = "201" }} }}
        [nodes.closed]
        prompt = {closed:?}
        tries = 1
        "#
    )
}

/// A menu whose office hours are fixed at `now`.
fn menu_at(dir: &Path, now: &str) -> Arc<dyn Bot> {
    let config = toml::from_str(&menu_config(dir)).expect("menu config parses");
    let clock = FixedClock(now.parse().expect("a timestamp"));
    Arc::new(
        IvrMenu::new(config, &context(dir))
            .expect("the menu builds")
            .with_clock(Arc::new(clock)),
    )
}

/// Waits until the caller has heard `prompts` whole prompts in total.
async fn heard_prompts(caller: &Caller, prompts: u32) {
    caller
        .wait_heard(PROMPT * prompts)
        .await
        .expect("the call is still up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn menu_handles_invalid_keys_silence_sub_menus_and_back_then_transfers() {
    timeout(async {
        let dir = tempfile::tempdir().unwrap();
        // A Monday, 10:00 in Berlin: open.
        let bot = menu_at(dir.path(), "2025-12-15T09:00:00Z");
        let harness = Harness::start_with(SimConfig::default(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550301").await.unwrap();
        heard_prompts(&caller, 1).await;
        caller.press("7").await.unwrap(); // not an option: invalid, then main again
        heard_prompts(&caller, 3).await;
        // Silence for the 1 s timeout: the timeout prompt, then main again.
        heard_prompts(&caller, 5).await;
        caller.press("1").await.unwrap(); // the sales sub-menu
        heard_prompts(&caller, 6).await;
        caller.press("*").await.unwrap(); // back to main
        heard_prompts(&caller, 7).await;
        caller.press("2").await.unwrap();
        caller.wait_ended().await;
        // The menu's prompts, then the ringback while the transfer rang.
        let heard = prompts_heard(&caller);
        assert_eq!(heard[..7], [1000, 3000, 1000, 4000, 1000, 2000, 1000]);
        assert!(heard.len() > 7, "no ringback during the transfer");
        let actions = harness.wait_action("transferto").await;
        assert!(
            actions.contains(&("transferto".to_owned(), Some("200".to_owned()))),
            "{actions:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_office_hours_the_closed_node_answers_and_silence_ends_the_call() {
    timeout(async {
        let dir = tempfile::tempdir().unwrap();
        // A Sunday: closed. The closed node allows one try; then goodbye, hang up.
        let bot = menu_at(dir.path(), "2025-12-14T10:00:00Z");
        let harness = Harness::start_with(SimConfig::default(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550302").await.unwrap();
        assert_eq!(caller.wait_ended().await, CallEnd::Dropped);
        // The last failed try goes straight to `on_failure`: no timeout prompt.
        assert_eq!(prompts_heard(&caller), [6000, 5000]);
        // Every action comes before the engine's final drop: once it is journaled,
        // a transfer would be too.
        let actions = harness.wait_action("drop").await;
        assert!(
            !actions.iter().any(|(action, _)| action == "transferto"),
            "{actions:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbound_list_reports_answered_busy_and_no_answer_with_retries() {
    timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let far_ends = FarEnds::default()
            .with("301", FarEnd::answer_after(Duration::from_millis(200)))
            .with("302", FarEnd::Busy)
            // Rings on; our ring timeout ends the attempt.
            .with("303", FarEnd::NoAnswer {
                after: Duration::from_secs(30),
            });
        let sim = SimConfig {
            far_ends,
            ..SimConfig::default()
        };
        let announcement = constant_prompt(dir.path(), 1000);
        let results = dir.path().join("results");
        let config = format!(
            r#"
            prompts = [{announcement:?}]
            [outbound]
            from = "ROUTE_POINT"
            numbers = ["301", "302", "303"]
            concurrency = 2
            retries = 1
            retry_delay = "200ms"
            ring_timeout = "1s"
            results_dir = {results:?}
            "#
        );
        let inbound = build(
            dir.path(),
            "announcement",
            &format!("prompts = [{announcement:?}]"),
        );
        let harness = Harness::start_with(sim, |b| b, inbound).await;
        let config = config.replace("ROUTE_POINT", harness.sim.route_point().as_str());
        let config = toml::from_str(&config).unwrap();
        let campaign = Campaign::with_dialer(config, harness.engine.dialer()).unwrap();
        let report = campaign.run().await;
        let summary: Vec<_> = report
            .results
            .iter()
            .map(|result| (result.number.as_str(), result.outcome, result.attempts))
            .collect();
        assert_eq!(
            summary,
            [
                ("301", Outcome::Answered, 1),
                ("302", Outcome::Busy, 2),
                ("303", Outcome::NoAnswer, 2),
            ],
            "{report:?}"
        );
        assert!(report.results[0].talk_time_ms >= 250, "{report:?}");
        let makecalls = harness
            .sim
            .journal()
            .into_iter()
            .filter(|entry| matches!(entry.kind, JournalKind::MakeCall { .. }))
            .count();
        assert_eq!(makecalls, 5);
        let [csv, _json] = campaign.write_report(&report).await.unwrap();
        let rows = std::fs::read_to_string(csv).unwrap();
        assert_eq!(rows.lines().count(), 4, "{rows}");
        assert!(rows.contains("302,busy,2,"), "{rows}");
    })
    .await;
}

fn voicemails(dir: &Path) -> Vec<Metadata> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                found.push(serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap());
            }
        }
    }
    found
}

/// 8 kHz samples of a sawtooth, never zero.
fn speech(samples: usize) -> Vec<i16> {
    (0..samples)
        .map(|n| 500 + i16::try_from((n * 53) % 6000).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voicemail_writes_a_wav_and_its_metadata() {
    timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let greeting = constant_prompt(dir.path(), 1000);
        let saved = constant_prompt(dir.path(), 2000);
        let recordings = dir.path().join("rec");
        let config =
            format!("greeting = {greeting:?}\nsaved_prompt = {saved:?}\nsilence_timeout = '5s'");
        let bot = build(&recordings, "recorder", &config);
        let harness = Harness::start_with(SimConfig::default(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550303").await.unwrap();
        heard_prompts(&caller, 1).await;
        // The beep, then the recording's silence.
        caller
            .wait_silence(Duration::from_millis(200))
            .await
            .unwrap();
        caller.send_pcm(&speech(8_000)).await;
        caller.wait_sent().await;
        caller.press("#").await.unwrap();
        assert_eq!(caller.wait_ended().await, CallEnd::Dropped);
        let [metadata] = voicemails(&recordings).try_into().expect("one voicemail");
        assert_eq!(metadata.ended_by, "terminator");
        assert_eq!(metadata.caller_number, "+15550303");
        assert_eq!(metadata.called_dn, harness.sim.route_point().as_str());
        assert!(metadata.duration_ms >= 500, "{metadata:?}");
        let wav = hound::WavReader::open(&metadata.path).expect("the WAV is there");
        let loud = wav
            .into_samples::<i16>()
            .filter(|sample| sample.as_ref().is_ok_and(|s| *s != 0))
            .count();
        assert!(loud >= 4_000, "only {loud} samples of speech recorded");
        // The caller heard the "saved" prompt after the message.
        assert_eq!(prompts_heard(&caller).last(), Some(&2000));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voicemail_metadata_is_written_when_the_caller_hangs_up_mid_message() {
    timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let recordings = dir.path().join("rec");
        let bot = build(
            &recordings,
            "recorder",
            "beep = false\nsilence_timeout = '0s'",
        );
        let harness = Harness::start_with(SimConfig::default(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550304").await.unwrap();
        caller.wait_connected().await.unwrap();
        caller.send_pcm(&speech(4_000)).await;
        caller.wait_sent().await;
        caller.hang_up().await.unwrap();
        let mut found = Vec::new();
        for _ in 0..100 {
            found = voicemails(&recordings);
            if !found.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let [metadata] = found.try_into().expect("one voicemail");
        assert_eq!(metadata.ended_by, "hangup");
        assert!(metadata.path.exists());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_returns_what_the_caller_said() {
    timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let bot = build(dir.path(), "echo", "delay = '100ms'\nmax_duration = '10s'");
        let harness = Harness::start_with(SimConfig::default(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550305").await.unwrap();
        caller.wait_connected().await.unwrap();
        // Give the bot a moment to listen before speaking.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let said = speech(8_000);
        caller.send_pcm(&said).await;
        caller.wait_sent().await;
        // The echo runs 100 ms behind; allow for the engine's and the PBX's buffers.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let heard = caller.heard().audio();
        // A stretch from the middle of what was said came back sample for sample.
        assert!(
            find(&heard, &said[4_000..4_800]).is_some(),
            "heard {} samples, none matching",
            heard.len()
        );
        caller.hang_up().await.unwrap();
        drop(harness);
    })
    .await;
}
