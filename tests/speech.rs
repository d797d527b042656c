//! Speech: gathers that take spoken choices, the ivr-menu's press-or-say, the
//! transcriber bot and `voicebot transcribe`, with real recognition of espeak-ng
//! fixtures (`tests/fixtures/speech/`, made by `make-fixtures.sh`).
//!
//! Default builds recognise with the test recogniser program of `voicebot-speech`
//! (an energy segmenter behind `CommandRecognizer`, which names the grammar's first
//! phrase); with `--features pocketsphinx` the same tests run on PocketSphinx in
//! grammar mode, on words it recognises today (support, billing, operator).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use voicebot_bot::speech::{CommandRecognizer, RestartPolicy};
use voicebot_bot::{BotContext, BotRegistry, CallError, GatherEnd, Grammar, Recognizer, bot_fn};
use voicebot_sim::{Caller, SimConfig};

use crate::support::{Harness, report, sawtooth, timeout};

mod webhook;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/speech/{name}.wav"))
}

/// The test recogniser program of `voicebot-speech`, compiled once per run.
fn energy_program() -> &'static Path {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("speech_energy_recognizer");
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("crates/speech/tests/support/energy_recognizer.rs");
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let status = Command::new(rustc)
            .args(["--edition", "2021", "-O", "-o"])
            .arg(&out)
            .arg(&source)
            .status()
            .expect("rustc runs");
        assert!(status.success(), "the test recogniser compiles");
        out
    })
}

fn quick_restarts() -> RestartPolicy {
    RestartPolicy {
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        stall_timeout: Duration::from_millis(300),
    }
}

/// The test recogniser program with extra arguments (faults).
fn energy(args: &[&str]) -> Arc<dyn Recognizer> {
    let recognizer = CommandRecognizer::builder(energy_program())
        .args(args)
        .restart_policy(quick_restarts())
        .build()
        .expect("the command recogniser builds");
    Arc::new(recognizer)
}

/// The recogniser these tests run on.
fn recognizer() -> Arc<dyn Recognizer> {
    #[cfg(feature = "pocketsphinx")]
    {
        Arc::new(voicebot_bot::speech::PocketSphinx::new().expect("the en-us model is installed"))
    }
    #[cfg(not(feature = "pocketsphinx"))]
    {
        energy(&[])
    }
}

/// Says `words` (fixture names) into the call, with silence around each.
async fn say(caller: &Caller, words: &[&str]) {
    for word in words {
        caller.send_silence(Duration::from_millis(400)).await;
        caller
            .send_wav(&fixture(word))
            .await
            .expect("the fixture reads");
    }
    caller.send_silence(Duration::from_millis(900)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gather_returns_the_spoken_choice_and_still_takes_digits() {
    timeout(async {
        let (results, mut result) = report();
        let bot = bot_fn(move |call| {
            let results = results.clone();
            async move {
                // Listed first: the test recogniser program names the first phrase.
                let menu = Grammar::choices(["support", "sales", "billing"])?;
                for _ in 0..2 {
                    let answer = call
                        .gather()
                        .max_digits(1)
                        .timeout(Duration::from_secs(6))
                        .speech(menu.clone())
                        .await?;
                    let _ = results.send(answer);
                }
                Ok(())
            }
        });
        let harness = Harness::start_with(
            SimConfig::default(),
            |builder| builder.recognizer(recognizer()),
            Arc::new(bot),
        )
        .await;
        let caller = harness.sim.call_in("+15550201").await.unwrap();
        caller.wait_connected().await.unwrap();
        say(&caller, &["support"]).await;
        let spoken = result.recv().await.expect("the first gather ends");
        let heard = spoken.heard().expect("a spoken choice");
        assert_eq!((heard.phrase.as_str(), heard.index), ("support", 0));
        assert_eq!(spoken.ended_by(), GatherEnd::Speech);
        assert!(spoken.as_str().is_empty() && !spoken.is_empty());
        caller.press("2").await.unwrap();
        let typed = result.recv().await.expect("the second gather ends");
        assert_eq!((typed.as_str(), typed.heard()), ("2", None));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spoken_choice_is_timed_from_the_start_of_the_call_not_of_the_gather() {
    timeout(async {
        let (played, mut prompt_over) = report();
        let (results, mut result) = report();
        let bot = bot_fn(move |call| {
            let (played, results) = (played.clone(), results.clone());
            async move {
                // A second of prompt first: the gather, and its recognition session,
                // start about 1 s into the call.
                call.play(sawtooth(50)).await?;
                let _ = played.send(());
                let menu = Grammar::choices(["support", "sales"])?;
                let answer = call
                    .gather()
                    .max_digits(1)
                    .timeout(Duration::from_secs(6))
                    .speech(menu)
                    .await?;
                let _ = results.send(answer);
                Ok(())
            }
        });
        // Timing, not recognition, is under test: the energy recogniser hears any
        // word, where PocketSphinx's filler search may take a word whose audio a busy
        // machine delivered with gaps for a no-match.
        let harness = Harness::start_with(
            SimConfig::default(),
            |builder| builder.recognizer(energy(&[])),
            Arc::new(bot),
        )
        .await;
        let caller = harness.sim.call_in("+15550205").await.unwrap();
        caller.wait_connected().await.unwrap();
        prompt_over.recv().await.expect("the prompt plays");
        say(&caller, &["support"]).await;
        let spoken = result.recv().await.expect("the gather ends");
        let heard = spoken
            .heard()
            .unwrap_or_else(|| panic!("a spoken choice, got {spoken:?}"));
        // The word starts about 0.4 s into the gather: relative to the gather that
        // would be well under a second.
        assert!(heard.start >= Duration::from_secs(1), "{heard:?}");
        assert!(heard.end > heard.start, "{heard:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gather_with_speech_and_no_recogniser_is_an_invalid_request() {
    timeout(async {
        let (results, mut result) = report();
        let bot = bot_fn(move |call| {
            let results = results.clone();
            async move {
                let menu = Grammar::choices(["support"])?;
                let _ = results.send(call.gather().speech(menu).await);
                Ok(())
            }
        });
        let harness = Harness::start(bot).await;
        let _caller = harness.sim.call_in("+15550202").await.unwrap();
        let outcome = result.recv().await.expect("the gather ends");
        match outcome {
            Err(CallError::InvalidRequest(message)) => assert!(message.contains("recogniser")),
            other => panic!("expected InvalidRequest, got {other:?}"),
        }
    })
    .await;
}

fn context(dir: &Path, recognizer: Option<Arc<dyn Recognizer>>) -> BotContext {
    let mut registry = BotRegistry::new();
    voicebot_ivr_menu::register(&mut registry);
    voicebot_transcriber::register(&mut registry);
    let context = BotContext::new()
        .with_recordings_dir(dir)
        .with_registry(Arc::new(registry));
    match recognizer {
        Some(recognizer) => context.with_recognizer(recognizer),
        None => context,
    }
}

const PRESS_OR_SAY: &str = r#"
    timeout = "6s"
    tries = 1
    [nodes.main]
    prompt = "none.wav"
    options = { "1" = { action = "transfer", to = "201" }, "2" = { action = "transfer", to = "202" } }
    say = { "billing" = "1", "support" = "2" }
"#;

/// Writes a prompt of `length` (a flat, non-silent 8 kHz signal) to `path`.
fn write_prompt(path: &Path, length: Duration) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for _ in 0..length.as_millis() * 8 {
        writer.write_sample(500i16).unwrap();
    }
    writer.finalize().unwrap();
}

fn menu_config(dir: &Path) -> toml::Value {
    let prompt = dir.join("menu.wav");
    write_prompt(&prompt, Duration::from_millis(200));
    let text = PRESS_OR_SAY.replace("none.wav", &prompt.to_string_lossy());
    toml::from_str(&text).unwrap()
}

#[test]
fn press_or_say_without_a_recogniser_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let error = context(dir.path(), None)
        .build_bot("ivr-menu", menu_config(dir.path()))
        .err()
        .expect("no recogniser");
    assert_eq!(error.key.as_deref(), Some("nodes.main.say"));
    let error = context(dir.path(), None)
        .build_bot("transcriber", toml::Value::Table(toml::Table::new()))
        .err()
        .expect("no recogniser");
    assert!(error.message.contains("recogniser"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ivr_menu_takes_the_option_of_a_spoken_word() {
    timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let recognizer = recognizer();
        let bot = context(dir.path(), Some(Arc::clone(&recognizer)))
            .build_bot("ivr-menu", menu_config(dir.path()))
            .expect("the menu builds");
        let harness =
            Harness::start_with(SimConfig::default(), |b| b.recognizer(recognizer), bot).await;
        let caller = harness.sim.call_in("+15550203").await.unwrap();
        caller.wait_connected().await.unwrap();
        // "billing" is option 1 (and the first phrase, which the test program names).
        say(&caller, &["billing"]).await;
        let actions = harness.wait_actions(1).await;
        for _ in 0..300 {
            if !harness.actions().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let actions = match actions.is_empty() {
            true => harness.actions(),
            false => actions,
        };
        assert_eq!(
            actions.first(),
            Some(&("transferto".to_owned(), Some("201".to_owned())))
        );
    })
    .await;
}

/// Runs the transcriber on one call in which the caller says `words`, then hangs up;
/// returns the recording's and the JSONL's paths and the audio sent.
async fn transcribe_call(
    recognizer: Arc<dyn Recognizer>,
    words: &[&str],
) -> (tempfile::TempDir, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let config: toml::Value =
        toml::from_str(r#"grammar = ["support", "billing", "operator"]"#).unwrap();
    let bot = context(dir.path(), Some(recognizer))
        .build_bot("transcriber", config)
        .expect("the transcriber builds");
    let recordings = dir.path().to_owned();
    let harness = Harness::start_with(
        SimConfig::default(),
        |b| {
            b.recordings_dir(&recordings)
                .bot_grace(Duration::from_secs(5))
        },
        bot,
    )
    .await;
    let caller = harness.sim.call_in("+15550204").await.unwrap();
    caller.wait_connected().await.unwrap();
    say(&caller, words).await;
    caller.wait_sent().await;
    // The call's length in the simulator's media time, which a busy machine does not
    // stretch as it does wall time.
    let sent = caller.media_time();
    caller.hang_up().await.unwrap();
    // The bot writes the last results and the engine finalises the file.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    (dir, sent)
}

fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect()
}

fn one(mut paths: Vec<PathBuf>) -> PathBuf {
    assert_eq!(paths.len(), 1, "{paths:?}");
    paths.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcriber_writes_final_results_in_time_order_beside_the_recording() {
    timeout(async {
        let (dir, sent) = transcribe_call(recognizer(), &["support", "operator"]).await;
        let recording = one(files(dir.path(), "wav"));
        let transcript = recording.with_extension("jsonl");
        let text = std::fs::read_to_string(&transcript).expect("the JSONL is beside the recording");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        let reader = hound::WavReader::open(&recording).unwrap();
        let length = reader.duration() as f64 / 8000.0;
        assert!(
            (length - sent.as_secs_f64()).abs() < 0.6,
            "{length} vs {sent:?}"
        );
        let mut last_end = 0.0;
        for line in &lines {
            assert_eq!(line["final"], true);
            let (start, end) = (
                line["start"].as_f64().unwrap(),
                line["end"].as_f64().unwrap(),
            );
            assert!(
                start >= last_end && end > start && end <= length + 0.1,
                "{text}"
            );
            last_end = end;
        }
        // The first word starts about 400 ms into the call (without a notice, the
        // transcription starts with the call).
        assert!(
            (lines[0]["start"].as_f64().unwrap() - 0.4).abs() < 0.3,
            "{text}"
        );
        #[cfg(feature = "pocketsphinx")]
        assert_eq!(
            (lines[0]["text"].as_str(), lines[1]["text"].as_str()),
            (Some("support"), Some("operator"))
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcriber_times_results_from_the_start_of_the_call_not_of_the_transcription() {
    timeout(async {
        let dir = tempfile::tempdir().unwrap();
        // The notice plays before transcription (and recording) start, so the
        // recognition session begins about 1.5 s into the call.
        let notice_length = Duration::from_millis(1500);
        let notice = dir.path().join("notice.wav");
        write_prompt(&notice, notice_length);
        let mut config = toml::Table::new();
        config.insert("notice".into(), notice.to_string_lossy().as_ref().into());
        config.insert(
            "grammar".into(),
            toml::Value::Array(vec!["support".into(), "billing".into()]),
        );
        let bot = context(dir.path(), Some(recognizer()))
            .build_bot("transcriber", toml::Value::Table(config))
            .expect("the transcriber builds");
        let recordings = dir.path().to_owned();
        let harness = Harness::start_with(
            SimConfig::default(),
            |b| {
                b.recordings_dir(&recordings)
                    .bot_grace(Duration::from_secs(5))
            },
            bot,
        )
        .await;
        let caller = harness.sim.call_in("+15550206").await.unwrap();
        caller.wait_connected().await.unwrap();
        // The engine's call clock starts when it opens the call's audio, after this.
        let connected = tokio::time::Instant::now();
        caller.wait_heard(notice_length).await.unwrap();
        // Nothing was queued before, so the word starts 400 ms of silence after this.
        let speaking = connected.elapsed();
        say(&caller, &["support"]).await;
        caller.wait_sent().await;
        caller.hang_up().await.unwrap();
        // The bot has written its last line once the engine has let go of the call.
        while harness.engine.stats().active_calls > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let transcript = one(files(dir.path(), "jsonl"));
        let text = std::fs::read_to_string(&transcript).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        let (start, end) = (
            lines[0]["start"].as_f64().unwrap(),
            lines[0]["end"].as_f64().unwrap(),
        );
        // Timed from the start of the transcription, the word would start about
        // 0.4 s in; from the start of the call, after the whole notice.
        assert!(start >= notice_length.as_secs_f64(), "{text}");
        let word_at = speaking.as_secs_f64() + 0.4;
        assert!(
            start <= word_at + 0.6,
            "{text}: the word started at {word_at:.2}"
        );
        assert!(end > start, "{text}");
        #[cfg(feature = "pocketsphinx")]
        assert_eq!(lines[0]["text"], "support");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_or_stalling_recogniser_loses_neither_the_call_nor_the_recording() {
    timeout(async {
        // Both faults at once: each call has a simulator and an engine of its own.
        let calls = ["--crash-after-ms", "--stall-after-ms"].map(|fault| async move {
            let words = ["support", "operator", "billing"];
            (
                fault,
                transcribe_call(energy(&[fault, "600"]), &words).await,
            )
        });
        for (fault, (dir, sent)) in futures::future::join_all(calls).await {
            let recording = one(files(dir.path(), "wav"));
            let reader = hound::WavReader::open(&recording).unwrap();
            let length = reader.duration() as f64 / 8000.0;
            assert!(
                (length - sent.as_secs_f64()).abs() < 0.6,
                "{fault}: {length} vs {sent:?}"
            );
            assert!(recording.with_extension("jsonl").exists(), "{fault}");
        }
    })
    .await;
}

#[test]
fn voicebot_transcribe_prints_results_of_a_file_timed_from_its_start() {
    // The word one second into the file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("padded.wav");
    let mut reader = hound::WavReader::open(fixture("support")).unwrap();
    let mut writer = hound::WavWriter::create(&file, reader.spec()).unwrap();
    let lead = reader.spec().sample_rate * u32::from(reader.spec().channels);
    for _ in 0..lead {
        writer.write_sample(0i16).unwrap();
    }
    for sample in reader.samples::<i16>() {
        writer.write_sample(sample.unwrap()).unwrap();
    }
    writer.finalize().unwrap();
    let spec = match cfg!(feature = "pocketsphinx") {
        true => "pocketsphinx".to_owned(),
        false => energy_program().to_string_lossy().into_owned(),
    };
    let output = Command::new(env!("CARGO_BIN_EXE_voicebot"))
        .args([
            "transcribe",
            "--json",
            "--grammar",
            "support,billing,operator",
            "--recognizer",
        ])
        .arg(&spec)
        .arg(&file)
        .output()
        .expect("voicebot runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert_eq!(lines[0]["text"], "support");
    // Seconds from the start of the file: no call offset.
    let (start, end) = (
        lines[0]["start"].as_f64().unwrap(),
        lines[0]["end"].as_f64().unwrap(),
    );
    assert!((start - 1.0).abs() < 0.3, "{stdout}");
    assert!(end > start + 0.3, "{stdout}");
}

/// Issue #15: speech off the grammar ends a speech gather as a no-match carrying what was
/// heard, also when the caller's audio stream is cut (and reopened) mid-gather and stalls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_15_off_grammar_speech_is_a_no_match_across_a_cut_and_a_stalled_stream() {
    timeout(async {
        let (results, mut result) = report();
        let bot = bot_fn(move |call| {
            let results = results.clone();
            async move {
                let menu = Grammar::choices(["support", "sales"])?;
                for _ in 0..2 {
                    let answer = call
                        .gather()
                        .max_digits(1)
                        .timeout(Duration::from_secs(8))
                        .speech(menu.clone())
                        .min_confidence(0.5)
                        .await?;
                    let _ = results.send(answer);
                }
                Ok(())
            }
        });
        // The test program hears every utterance as "opening hours".
        let harness = Harness::start_with(
            SimConfig::default(),
            |builder| builder.recognizer(energy(&["--label", "opening hours"])),
            Arc::new(bot),
        )
        .await;
        let caller = harness.sim.call_in("+15550215").await.unwrap();
        caller.wait_connected().await.unwrap();
        caller.send_silence(Duration::from_millis(300)).await;
        harness.sim.faults().cut_audio_streams();
        say(&caller, &["support"]).await;
        let off = result.recv().await.expect("the first gather ends");
        assert_eq!(off.ended_by(), GatherEnd::NoMatch);
        assert!(off.is_empty() && off.heard().is_none());
        assert_eq!(
            off.unmatched().map(|r| r.text.as_str()),
            Some("opening hours")
        );
        // A stalled stream while the caller speaks, then typed input still works.
        harness.sim.faults().stall_audio_streams(true);
        say(&caller, &["support"]).await;
        harness.sim.faults().stall_audio_streams(false);
        caller.press("2").await.unwrap();
        let typed = result.recv().await.expect("the second gather ends");
        match typed.ended_by() {
            // The stall hid the speech: the key decides.
            GatherEnd::MaxDigits => assert_eq!(typed.as_str(), "2"),
            // Speech got through after the stall: still a no-match, never a choice.
            other => assert_eq!(other, GatherEnd::NoMatch, "{typed:?}"),
        }
    })
    .await;
}

/// Issue #15: the ivr-menu treats speech off the menu like an invalid key and asks again,
/// instead of taking an option.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_15_ivr_menu_asks_again_after_speech_off_the_menu() {
    timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let recognizer = energy(&["--label", "cancel my account"]);
        let mut config = menu_config(dir.path());
        config
            .as_table_mut()
            .unwrap()
            .insert("tries".to_owned(), toml::Value::Integer(2));
        let bot = context(dir.path(), Some(Arc::clone(&recognizer)))
            .build_bot("ivr-menu", config)
            .expect("the menu builds");
        let harness =
            Harness::start_with(SimConfig::default(), |b| b.recognizer(recognizer), bot).await;
        let caller = harness.sim.call_in("+15550216").await.unwrap();
        caller.wait_connected().await.unwrap();
        say(&caller, &["billing"]).await;
        // Heard "cancel my account": no option taken, the menu asks again.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(harness.actions().is_empty(), "{:?}", harness.actions());
        caller.press("2").await.unwrap();
        let actions = harness.wait_actions(1).await;
        assert_eq!(
            actions.first(),
            Some(&("transferto".to_owned(), Some("202".to_owned())))
        );
    })
    .await;
}

/// Issue #15: the transcriber with `engine = "batch"` records the call, then sends the
/// recording to the transcription engine (here a program given `{wav}`, failing once), and
/// writes its lines with the call's id beside the kept recording.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_15_batch_transcription_of_the_recording_after_the_call() {
    timeout(async {
        let dir = tempfile::tempdir().unwrap();
        let once = dir.path().join("failed-once");
        // Fails the first run (exit 1), then answers verbose_json naming the file's size.
        let script = format!(
            r#"test -f "$1" || exit 2
               if [ ! -e "{once}" ]; then touch "{once}"; echo busy >&2; exit 1; fi
               echo '{{"segments":[{{"start":0.4,"end":1.2,"text":" Hello there."}}]}}'"#,
            once = once.display()
        );
        let transcriber = voicebot_bot::speech::CommandTranscriber::builder("sh")
            .args(["-c", script.as_str(), "sh", "{wav}"])
            .build()
            .unwrap();
        let retry = voicebot_bot::speech::RetryPolicy {
            tries: 3,
            first_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(100),
        };
        let mut registry = BotRegistry::new();
        voicebot_transcriber::register(&mut registry);
        let context = BotContext::new()
            .with_recordings_dir(dir.path())
            .with_registry(Arc::new(registry))
            .with_transcriber(Arc::new(transcriber), retry);
        let config: toml::Value = toml::from_str(r#"engine = "batch""#).unwrap();
        let bot = context.build_bot("transcriber", config).expect("it builds");
        let recordings = dir.path().to_owned();
        let harness =
            Harness::start_with(SimConfig::default(), |b| b.recordings_dir(&recordings), bot).await;
        let caller = harness.sim.call_in("+15550217").await.unwrap();
        caller.wait_connected().await.unwrap();
        say(&caller, &["support"]).await;
        caller.wait_sent().await;
        caller.hang_up().await.unwrap();
        let mut lines = Vec::new();
        for _ in 0..500 {
            let jsonl = files(dir.path(), "jsonl");
            let pending = files(dir.path(), "pending");
            if let (Some(path), true) = (jsonl.first(), pending.is_empty()) {
                lines = std::fs::read_to_string(path)
                    .unwrap()
                    .lines()
                    .map(str::to_owned)
                    .collect();
                if !lines.is_empty() {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(line["text"], "hello there");
        assert_eq!(line["start"], 0.4);
        assert!(line["call_id"].as_i64().is_some_and(|id| id > 0), "{line}");
        assert!(once.exists(), "the first run failed and was retried");
        assert_eq!(files(dir.path(), "wav").len(), 1, "the recording is kept");
    })
    .await;
}

#[test]
fn batch_transcription_without_an_engine_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let config: toml::Value = toml::from_str(r#"engine = "batch""#).unwrap();
    let error = context(dir.path(), None)
        .build_bot("transcriber", config)
        .err()
        .expect("no transcription engine");
    assert_eq!(error.key.as_deref(), Some("engine"));
    assert!(error.message.contains("[transcription]"), "{error}");
}
