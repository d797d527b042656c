//! Configuration checks, and the announcement played on the test kit's fake call.

use std::sync::Arc;
use std::time::Duration;

use test_case::test_case;
use voicebot_bot::{BargeIn, Bot, BotContext, BotRegistry, CallError, PromptSource};
use voicebot_testkit::{Entry, FakeCall};

use super::*;

fn registry() -> BotRegistry {
    let mut registry = BotRegistry::new();
    register(&mut registry);
    registry
}

#[test]
fn the_documented_example_parses_and_needs_a_dialer() {
    let example: toml::Value = toml::from_str(include_str!("example.toml")).unwrap();
    let error = registry().build(NAME, example.clone()).err().unwrap();
    assert_eq!(error.key.as_deref(), Some("outbound"));
    let config: Config = example.try_into().unwrap();
    assert_eq!(config.repeat, Repeat::Times(2));
    let outbound = config.outbound.unwrap();
    assert_eq!(outbound.retry_on.len(), 2);
    assert_eq!(outbound.retry_delay, Duration::from_secs(300));
}

#[test_case("prompts = []", "prompts"; "no prompts")]
#[test_case("prompts = ['a.wav']\nrepeat = 0", "repeat"; "zero repeats")]
#[test_case("prompts = ['a.wav']\nthen = { action = 'transfer', to = '' }", "then.to"; "empty transfer")]
#[test_case("prompts = ['a.wav']\n[outbound]\nfrom = '800'\nnumbers = []", "outbound.numbers"; "no numbers")]
#[test_case("prompts = ['a.wav']\n[outbound]\nfrom = '800'\nnumbers = ['1', '1']", "outbound.numbers"; "number twice")]
#[test_case("prompts = ['a.wav']\n[outbound]\nfrom = ''\nnumbers = ['1']", "outbound.from"; "no route point")]
#[test_case("prompts = ['a.wav']\n[outbound]\nfrom = '800'\nnumbers = ['1']\nconcurrency = 0", "outbound.concurrency"; "no concurrency")]
#[test_case("prompts = ['a.wav']\nvolume = 3", "volume"; "unknown key")]
#[test_case("repeat = 2", "prompts"; "missing prompts")]
fn nonsense_is_refused_naming_the_key(text: &str, key: &str) {
    let config: toml::Value = toml::from_str(text).unwrap();
    // A context with a dialer, so that only the configuration is at fault.
    let context = BotContext::new().with_dialer(Arc::new(Unreachable));
    let error = registry().build_with(NAME, config, &context).err().unwrap();
    assert_eq!(error.key.as_deref(), Some(key), "{error}");
}

/// A dialer for building bots; never dials.
struct Unreachable;

#[voicebot_bot::async_trait]
impl voicebot_bot::Dialer for Unreachable {
    async fn dial(
        &self,
        _request: voicebot_bot::DialRequest,
    ) -> Result<voicebot_bot::DialOutcome, CallError> {
        Err(CallError::Shutdown)
    }
}

#[test]
fn with_a_dialer_the_outbound_example_builds() {
    let example: toml::Value = toml::from_str(include_str!("example.toml")).unwrap();
    let context = BotContext::new().with_dialer(Arc::new(Unreachable));
    assert!(registry().build_with(NAME, example, &context).is_ok());
}

#[test]
fn repeat_takes_a_count_or_forever_only() {
    let parse = |text: &str| toml::from_str::<Config>(&format!("prompts = ['a.wav']\n{text}"));
    assert_eq!(parse("repeat = 'forever'").unwrap().repeat, Repeat::Forever);
    assert_eq!(parse("").unwrap().repeat, Repeat::Times(1));
    let error = parse("repeat = 'often'").unwrap_err();
    assert!(error.to_string().contains("often"), "{error}");
}

/// Runs `config` on a fake call whose prompts take 1 s each and whose caller hangs
/// up after `hang_up_after` (if given); transfers to "busy" are refused. Returns what
/// the bot did.
async fn play(config: &str, hang_up_after: Option<Duration>) -> (Result<(), String>, Vec<Entry>) {
    let config: Config = toml::from_str(config).unwrap();
    let bot = Announcement::from_context(config, &BotContext::new()).unwrap();
    let fake = FakeCall::builder().refuse("busy").start();
    let call = fake.call();
    let handling = tokio::spawn(async move { bot.handle(call).await });
    if let Some(after) = hang_up_after {
        tokio::time::sleep(after).await;
        fake.hang_up();
    }
    let result = handling.await.unwrap().map_err(|error| error.to_string());
    fake.settle().await;
    let journal = fake.journal();
    for entry in &journal {
        if let Entry::Play {
            prompt: PromptSource::File(_),
            barge_in,
            ..
        } = entry
        {
            assert_eq!(
                *barge_in,
                BargeIn::NONE,
                "announcements are not interruptible"
            );
        }
    }
    (result, journal)
}

#[tokio::test(start_paused = true)]
async fn plays_every_prompt_each_round_with_pauses_then_hangs_up() {
    let config = "prompts = ['a.wav', 'b.wav']\nrepeat = 2\npause = '2s'";
    let (result, journal) = play(config, None).await;
    result.unwrap();
    assert_eq!(
        journal,
        [
            "play a.wav",
            "play b.wav",
            "play silence 2s",
            "play a.wav",
            "play b.wav",
            "hangup"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn transfers_afterwards_and_hangs_up_when_the_transfer_is_refused() {
    let (result, journal) = play(
        "prompts = ['a.wav']\nthen = { action = 'transfer', to = '100' }",
        None,
    )
    .await;
    result.unwrap();
    // The engine's ringback is asked for while the transfer rings.
    assert_eq!(
        journal,
        [
            "play a.wav",
            "transfer 100",
            "play ringback forever",
            "stop"
        ]
    );
    let (result, journal) = play(
        "prompts = ['a.wav']\nthen = { action = 'transfer', to = 'busy' }",
        None,
    )
    .await;
    result.unwrap();
    assert_eq!(
        journal,
        [
            "play a.wav",
            "transfer busy",
            "play ringback forever",
            "stop",
            "hangup"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn forever_plays_until_the_caller_hangs_up() {
    // Prompts take 1 s each: the ninth is playing when the caller hangs up.
    let after = Duration::from_millis(8_500);
    let (result, journal) = play("prompts = ['a.wav']\nrepeat = 'forever'", Some(after)).await;
    assert_eq!(result.unwrap_err(), "the caller hung up");
    assert_eq!(journal.len(), 9, "{journal:?}");
    assert!(journal.iter().all(|entry| *entry == "play a.wav"));
}
