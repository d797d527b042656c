//! `my-menu` end to end (the simulator, an engine and the bot, with scripted callers)
//! and on a fake call, with the test kit.

use std::time::Duration;

use custom_bot::{Config, MyMenu};
use voicebot::bot::Bot;
use voicebot_testkit::{CallEnd, FakeCall, TestPbx};

/// The menu with 1 s timeouts and two tries; prompts named as the test kit writes them.
fn menu() -> MyMenu {
    let config: Config = toml::from_str(
        r#"
        greeting = "welcome.wav"
        invalid = "invalid.wav"
        goodbye = "goodbye.wav"
        tries = 2
        timeout_seconds = 1
        choices = { "1" = "100", "2" = "200" }
        "#,
    )
    .expect("the test configuration parses");
    MyMenu::from_config(config).expect("the test configuration is sound")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_are_transferred_by_their_key_or_told_goodbye() {
    let pbx = TestPbx::builder()
        .prompts(["welcome", "invalid", "goodbye"])
        .start(menu())
        .await;
    // Two callers at once on the one simulator.
    let alice = pbx.call_in("+15550100").await;
    let bob = pbx.call_in("+15550199").await;

    alice.wait_for_prompt("welcome").await;
    alice.press("7").await.unwrap();
    alice.wait_for_prompt("invalid").await;
    alice.wait_for_prompt("welcome").await;
    alice.press("2").await.unwrap();
    assert_eq!(
        alice.wait_end().await,
        CallEnd::TransferredTo("200".to_owned())
    );
    assert_eq!(alice.heard_prompts(), ["welcome", "invalid", "welcome"]);
    assert_eq!(alice.pressed(), "72");

    // Bob says nothing: two tries, then goodbye, and the engine hangs up.
    assert_eq!(bob.wait_end().await, CallEnd::Dropped);
    assert_eq!(bob.heard_prompts(), ["welcome", "welcome", "goodbye"]);
}

#[tokio::test(start_paused = true)]
async fn a_key_during_the_greeting_transfers_at_once() {
    let fake = FakeCall::new();
    let call = fake.call();
    let bot = tokio::spawn(async move { menu().handle(call).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    fake.press("1");
    bot.await.unwrap().unwrap();
    assert_eq!(
        fake.journal()[..3],
        ["gather", "play welcome.wav", "transfer 100"]
    );
}

#[test]
fn settings_that_make_no_sense_are_refused_naming_the_key() {
    let refused = |choices: &str| {
        let config: Config = toml::from_str(&format!(
            "greeting = 'a.wav'\ninvalid = 'b.wav'\ngoodbye = 'c.wav'\nchoices = {choices}"
        ))
        .unwrap();
        MyMenu::from_config(config).unwrap_err().key
    };
    assert_eq!(refused("{ x = '100' }").as_deref(), Some("choices.x"));
    assert_eq!(refused("{ 1 = ' ' }").as_deref(), Some("choices.1"));
    assert_eq!(refused("{}").as_deref(), Some("choices"));
}
