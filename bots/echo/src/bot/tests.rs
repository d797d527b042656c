//! The echo against the engine's end of a call channel: frames in, frames out.

use std::time::Duration;

use test_case::test_case;
use voicebot_bot::message::{CallEndpoint, CallMessage, ChannelCapacity, call_channel};
use voicebot_bot::{AudioOut, BotRegistry, CallInfo, Direction, Frame, PlayOutcome};
use voicebot_model::Participant;

use super::*;

fn numbered(n: i16) -> Frame {
    Frame::from_samples([n; Frame::SAMPLES])
}

fn call() -> (Call, CallEndpoint) {
    let info = CallInfo::new(&Participant::default(), Direction::Inbound);
    call_channel(info, ChannelCapacity::default())
}

fn echo(delay_ms: u64, max_secs: u64) -> Echo {
    Echo::new(Config {
        intro: None,
        delay: Duration::from_millis(delay_ms),
        max_duration: Duration::from_secs(max_secs),
    })
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn plays_what_the_caller_said_a_few_frames_later() {
    let (call, mut endpoint) = call();
    let bot = tokio::spawn(async move { echo(100, 60).handle(call).await });
    // Let the bot subscribe to the caller's audio before speaking.
    tokio::time::sleep(Duration::from_millis(1)).await;
    let mut heard = Vec::new();
    for n in 1..=20 {
        endpoint.audio_in.send(numbered(n)).unwrap();
        tokio::time::sleep(Frame::DURATION).await;
        while let Ok(AudioOut::Frame(frame)) = endpoint.audio_out.try_recv() {
            heard.push((n, frame));
        }
    }
    // 100 ms is 5 frames: frame 1 comes back as frame 6 arrives, in order, intact.
    assert_eq!(heard.len(), 15);
    assert_eq!(heard[0], (6, numbered(1)));
    assert_eq!(heard[14], (20, numbered(15)));
    // The caller hangs up: the engine drops its end, the audio stream ends.
    drop(endpoint);
    bot.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn plays_the_intro_first_and_hangs_up_after_the_maximum_duration() {
    let (call, mut endpoint) = call();
    let bot = Echo::new(Config {
        intro: Some("intro.wav".into()),
        ..Config::default()
    })
    .unwrap();
    let started = tokio::time::Instant::now();
    let bot = tokio::spawn(async move { bot.handle(call).await });
    let Some(CallMessage::Play { request, reply }) = endpoint.messages.recv().await else {
        panic!("the intro comes first");
    };
    assert_eq!(request.prompt, "intro.wav".into());
    reply.send(Ok(PlayOutcome::Finished)).unwrap();
    let Some(CallMessage::Action { action, reply, .. }) = endpoint.messages.recv().await else {
        panic!("then the hang-up");
    };
    assert_eq!(action.to_string(), "drop");
    assert_eq!(started.elapsed(), Duration::from_secs(60));
    reply.send(Ok(())).unwrap();
    bot.await.unwrap().unwrap();
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
