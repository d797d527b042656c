//! The echo on the test kit's fake call: frames in, frames out.

use std::time::Duration;

use test_case::test_case;
use voicebot_bot::{BotRegistry, Frame, SinkItem};
use voicebot_testkit::FakeCall;

use super::*;

fn numbered(n: i16) -> Frame {
    Frame::from_samples([n; Frame::SAMPLES])
}

fn echo(delay_ms: u64, max_secs: u64) -> Echo {
    Echo::new(Config {
        intro: None,
        delay: Duration::from_millis(delay_ms),
        max_duration: Duration::from_secs(max_secs),
    })
    .unwrap()
}

/// The frames the caller heard back, by number.
fn heard(fake: &FakeCall) -> Vec<i16> {
    fake.played_audio()
        .iter()
        .filter_map(|item| match item {
            SinkItem::Frame(frame) => Some(frame.as_samples()[0]),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn plays_what_the_caller_said_a_few_frames_later() {
    let fake = FakeCall::new();
    let call = fake.call();
    let bot = tokio::spawn(async move { echo(100, 60).handle(call).await });
    // Let the bot subscribe to the caller's audio before speaking.
    tokio::time::sleep(Duration::from_millis(1)).await;
    let mut heard_after = Vec::new();
    for n in 1..=20 {
        fake.send_audio(numbered(n));
        tokio::time::sleep(Frame::DURATION).await;
        heard_after.push(heard(&fake).len());
    }
    // 100 ms is 5 frames: frame 1 comes back as frame 6 arrives, then one a frame.
    assert_eq!(heard_after[..6], [0, 0, 0, 0, 0, 1]);
    assert_eq!(
        heard(&fake),
        (1..=15).collect::<Vec<_>>(),
        "in order, intact"
    );
    // The caller hangs up: the audio stream ends, and so does the bot.
    fake.hang_up();
    bot.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn plays_the_intro_first_and_hangs_up_after_the_maximum_duration() {
    let fake = FakeCall::new();
    let bot = Echo::new(Config {
        intro: Some("intro.wav".into()),
        ..Config::default()
    })
    .unwrap();
    let started = tokio::time::Instant::now();
    bot.handle(fake.call()).await.unwrap();
    assert_eq!(fake.journal(), ["play intro.wav", "hangup"]);
    assert_eq!(started.elapsed(), Duration::from_secs(60));
}

#[test_case("max_duration = '0s'"; "no time at all")]
#[test_case("delay = '2s'\nmax_duration = '1s'"; "delay beyond the end")]
fn settings_that_never_echo_are_refused(text: &str) {
    let mut registry = BotRegistry::new();
    crate::register(&mut registry);
    let error = registry
        .build(NAME, toml::from_str(text).unwrap())
        .err()
        .unwrap();
    assert_eq!(error.key.as_deref(), Some("max_duration"));
}

#[test]
fn the_documented_example_builds_with_its_values() {
    let config: Config = toml::from_str(include_str!("../example.toml")).unwrap();
    assert_eq!(config.delay, Duration::from_millis(500));
    assert_eq!(config.max_duration, Duration::from_secs(60));
    assert_eq!(
        config,
        Config {
            intro: config.intro.clone(),
            ..Config::default()
        }
    );
    let mut registry = BotRegistry::new();
    crate::register(&mut registry);
    let example = toml::from_str(include_str!("../example.toml")).unwrap();
    assert!(registry.build(NAME, example).is_ok());
    assert!(
        registry
            .build(NAME, toml::Value::Table(toml::Table::new()))
            .is_ok()
    );
}
