//! The recorder on the test kit's fake call, and its configuration checks.

use std::path::{Path, PathBuf};
use std::time::Duration;

use test_case::test_case;
use voicebot_bot::BotRegistry;
use voicebot_testkit::{Entry, FakeCall};

use super::*;

/// A call whose recording lasts `length` and ends by `end` (a `Hangup` end also ends
/// the call, as a real hang-up does).
fn fake_call(length: Duration, end: RecordEnd) -> FakeCall {
    FakeCall::builder().recording(length, end).start()
}

/// The recorder of the documented example, recording under `dir`.
fn recorder(dir: &Path) -> Recorder {
    let config: Config = toml::from_str(include_str!("../example.toml")).unwrap();
    Recorder::new(config, &BotContext::new().with_recordings_dir(dir)).unwrap()
}

fn metadata_of(journal_dir: &Path) -> Vec<Metadata> {
    let mut found = Vec::new();
    for entry in walk(journal_dir) {
        if entry.extension().is_some_and(|ext| ext == "json") {
            found.push(serde_json::from_slice(&std::fs::read(entry).unwrap()).unwrap());
        }
    }
    found
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        match path.is_dir() {
            true => files.extend(walk(&path)),
            false => files.push(path),
        }
    }
    files
}

#[tokio::test(start_paused = true)]
async fn greets_records_saves_metadata_thanks_and_hangs_up() {
    let dir = tempfile::tempdir().unwrap();
    let bot = recorder(dir.path());
    let hash = Digit::new('#').unwrap();
    let fake = fake_call(Duration::from_secs(7), RecordEnd::Terminator(hash));
    bot.handle(fake.call()).await.unwrap();
    let journal = fake.journal();
    assert_eq!(journal.len(), 4, "{journal:?}");
    assert_eq!(journal[0], "play samples/prompts/message.wav");
    assert!(
        matches!(
            &journal[1],
            Entry::Record { beep: true, max_length, silence_timeout: Some(silence), terminators, .. }
                if *max_length == Duration::from_secs(120)
                    && *silence == Duration::from_secs(5)
                    && terminators == &[hash]
        ),
        "{journal:?}"
    );
    assert_eq!(journal[2], "play samples/prompts/saved.wav");
    assert_eq!(journal[3], "hangup");
    let [metadata] = metadata_of(dir.path()).try_into().unwrap();
    assert_eq!(metadata.ended_by, "terminator");
    assert_eq!(metadata.terminator.as_deref(), Some("#"));
    assert_eq!(metadata.duration_ms, 7_000);
    assert!(
        metadata.path.starts_with(dir.path().join("voicemail/800")),
        "{metadata:?}"
    );
    let name = metadata
        .path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with("+15550100-7-"), "{name}");
}

#[tokio::test(start_paused = true)]
async fn a_hang_up_mid_message_still_writes_the_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let bot = recorder(dir.path());
    let fake = fake_call(Duration::from_secs(3), RecordEnd::Hangup);
    bot.handle(fake.call()).await.unwrap();
    let [metadata] = metadata_of(dir.path()).try_into().unwrap();
    assert_eq!(metadata.ended_by, "hangup");
    assert_eq!(metadata.duration_ms, 3_000);
    // No "saved" prompt and no drop for a caller who is gone.
    assert_eq!(fake.journal().len(), 2, "{:?}", fake.journal());
}

#[tokio::test(start_paused = true)]
async fn zero_silence_timeout_means_none_and_beep_can_be_off() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        beep: false,
        silence_timeout: Duration::ZERO,
        ..Config::default()
    };
    let bot = Recorder::new(config, &BotContext::new().with_recordings_dir(dir.path())).unwrap();
    let fake = fake_call(Duration::from_secs(1), RecordEnd::MaxLength);
    bot.handle(fake.call()).await.unwrap();
    let journal = fake.journal();
    assert_eq!(journal.len(), 2, "{journal:?}");
    assert!(
        matches!(
            &journal[0],
            Entry::Record { beep: false, silence_timeout: None, max_length, .. }
                if *max_length == Duration::from_secs(120)
        ),
        "{journal:?}"
    );
    assert_eq!(journal[1], "hangup");
}

#[tokio::test(start_paused = true)]
async fn a_hang_up_during_the_greeting_is_a_normal_end_without_files() {
    let dir = tempfile::tempdir().unwrap();
    let bot = recorder(dir.path());
    let fake = FakeCall::new();
    let call = fake.call();
    let handling = tokio::spawn(async move { bot.handle(call).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    fake.hang_up();
    assert!(handling.await.unwrap().unwrap_err().is_hangup());
    assert_eq!(fake.journal(), ["play samples/prompts/message.wav"]);
    assert!(walk(dir.path()).is_empty());
}

#[test_case("max_length = '0s'", "max_length")]
#[test_case("finish_on = '#x'", "finish_on")]
#[test_case("path = 'msg.json'", "path")]
#[test_case("path = '.wav'", "path")]
#[test_case("greting = 'hi.wav'", "greting"; "misspelt key")]
fn bad_settings_name_their_key(line: &str, key: &str) {
    let mut registry = BotRegistry::new();
    crate::register(&mut registry);
    let config: toml::Value = toml::from_str(line).unwrap();
    let error = registry.build(NAME, config).err().unwrap();
    assert_eq!(error.key.as_deref(), Some(key), "{error}");
}

#[test]
fn the_documented_example_and_an_empty_table_both_build() {
    let mut registry = BotRegistry::new();
    crate::register(&mut registry);
    let example: toml::Value = toml::from_str(include_str!("../example.toml")).unwrap();
    assert!(registry.build(NAME, example).is_ok());
    let empty = toml::Value::Table(toml::Table::new());
    assert!(registry.build(NAME, empty).is_ok());
    let bot = Recorder::new(
        Config::default(),
        &BotContext::new().with_recordings_dir("/var/vm"),
    )
    .unwrap();
    assert_eq!(
        bot.path_template(),
        "/var/vm/voicemail/{dn}/{callid}-{legid}-{unix}.wav"
    );
}
