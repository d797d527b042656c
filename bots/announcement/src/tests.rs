//! Configuration checks, and the announcement played on a fake call task.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use test_case::test_case;
use voicebot_bot::message::{CallMessage, ChannelCapacity, call_channel};
use voicebot_bot::{
    Bot, BotContext, BotRegistry, CallError, CallInfo, Direction, PlayOutcome, PromptSource,
};
use voicebot_model::Participant;

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

/// Runs `config` on a fake call whose prompts take 1 s each and which hangs up
/// after `hang_up_after` prompts; transfers to "busy" are refused. Returns what
/// the bot did.
async fn play(config: &str, hang_up_after: usize) -> (Result<(), String>, Vec<String>) {
    let config: Config = toml::from_str(config).unwrap();
    let bot = Announcement::from_context(config, &BotContext::new()).unwrap();
    let info = CallInfo::new(&Participant::default(), Direction::Inbound);
    let (call, mut endpoint) = call_channel(info, ChannelCapacity::default());
    let journal = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&journal);
    tokio::spawn(async move {
        let mut prompts = 0;
        while let Some(message) = endpoint.messages.recv().await {
            match message {
                CallMessage::Play { request, reply } => {
                    assert!(
                        !request.barge_in.digits,
                        "announcements are not interruptible"
                    );
                    let entry = match request.prompt {
                        PromptSource::Silence(pause) => format!("pause {pause:?}"),
                        PromptSource::File(path) => path.display().to_string(),
                        other => format!("{other:?}"),
                    };
                    log.lock().unwrap().push(entry);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    prompts += 1;
                    if prompts == hang_up_after {
                        endpoint.end(CallError::Hangup);
                        return;
                    }
                    let _ = reply.send(Ok(PlayOutcome::Finished));
                }
                CallMessage::Action {
                    action,
                    request,
                    reply,
                } => {
                    let to = request.destination.unwrap_or_default();
                    log.lock()
                        .unwrap()
                        .push(format!("{action} {to}").trim().to_owned());
                    let _ = reply.send(match to.as_str() {
                        "busy" => Err(CallError::Rejected {
                            status: 400,
                            reason: "busy".to_owned(),
                        }),
                        _ => Ok(()),
                    });
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    });
    let result = bot.handle(call).await.map_err(|error| error.to_string());
    let journal = journal.lock().unwrap().clone();
    (result, journal)
}

#[tokio::test(start_paused = true)]
async fn plays_every_prompt_each_round_with_pauses_then_hangs_up() {
    let config = "prompts = ['a.wav', 'b.wav']\nrepeat = 2\npause = '2s'";
    let (result, journal) = play(config, usize::MAX).await;
    result.unwrap();
    assert_eq!(
        journal,
        ["a.wav", "b.wav", "pause 2s", "a.wav", "b.wav", "drop"]
    );
}

#[tokio::test(start_paused = true)]
async fn transfers_afterwards_and_hangs_up_when_the_transfer_is_refused() {
    let (result, journal) = play(
        "prompts = ['a.wav']\nthen = { action = 'transfer', to = '100' }",
        usize::MAX,
    )
    .await;
    result.unwrap();
    // The engine's ringback is asked for while the transfer rings.
    assert_eq!(journal, ["a.wav", "transferto 100", "Ringback"]);
    let (result, journal) = play(
        "prompts = ['a.wav']\nthen = { action = 'transfer', to = 'busy' }",
        usize::MAX,
    )
    .await;
    result.unwrap();
    assert_eq!(journal, ["a.wav", "transferto busy", "Ringback", "drop"]);
}

#[tokio::test(start_paused = true)]
async fn forever_plays_until_the_caller_hangs_up() {
    let (result, journal) = play("prompts = ['a.wav']\nrepeat = 'forever'", 9).await;
    assert_eq!(result.unwrap_err(), "the caller hung up");
    assert_eq!(journal.len(), 9);
    assert!(journal.iter().all(|entry| entry == "a.wav"));
}
