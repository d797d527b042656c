//! Building the bot from configuration: the documented example, and every kind of
//! configuration that parses but makes no sense.

use std::sync::Arc;

use jiff::Timestamp;
use test_case::test_case;
use voicebot_bot::{BotConfigError, BotContext, BotRegistry, bot_fn};

use super::*;

const MAIN: &str = r#"
[nodes.main]
prompt = "welcome.wav"
[nodes.main.options]
"1" = { action = "menu", node = "sales" }
[nodes.sales]
prompt = "sales.wav"
"#;

/// A context whose registry has this bot plus stand-ins for `echo` and `recorder`.
fn context() -> BotContext {
    let mut registry = BotRegistry::new();
    register(&mut registry);
    for name in ["echo", "recorder"] {
        registry.register_fn(name, |_config| {
            Ok(Arc::new(bot_fn(|_call| async { Ok(()) })) as Arc<dyn voicebot_bot::Bot>)
        });
    }
    BotContext::new().with_registry(Arc::new(registry))
}

fn build(text: &str) -> Result<(), BotConfigError> {
    let config: toml::Value = toml::from_str(text).expect("test TOML parses");
    context().build_bot(NAME, config).map(drop)
}

#[test]
fn the_documented_example_builds() {
    build(include_str!("example.toml")).unwrap();
}

#[test]
fn a_minimal_menu_builds_with_defaults() {
    let config: Config = toml::from_str(MAIN).unwrap();
    assert_eq!(config.start, "main");
    assert_eq!(config.tries, 3);
    assert_eq!(config.timeout, std::time::Duration::from_secs(5));
    assert_eq!(config.on_failure, Action::Hangup { prompt: None });
    build(MAIN).unwrap();
}

#[test_case("start = 'lobby'", "start"; "start node missing")]
#[test_case("repeat_key = '1'", "nodes.main.options.1"; "option key is the repeat key")]
#[test_case("back_key = '1'", "nodes.main.options.1"; "option key is the back key")]
#[test_case("repeat_key = '*'\nback_key = '*'", "back_key"; "repeat and back share a key")]
#[test_case("repeat_key = 'x'", "repeat_key"; "repeat key is no DTMF key")]
#[test_case("tries = 0", "tries"; "no tries")]
#[test_case("colour = 'blue'", "colour"; "unknown key")]
#[test_case("on_failure = { action = 'menu', node = 'main' }", "on_failure"; "failure loops into a menu")]
#[test_case("on_failure = { action = 'bot', name = 'nope' }", "on_failure"; "failure bot unknown")]
#[test_case("on_failure = { action = 'transfer', to = ' ' }", "on_failure"; "empty destination")]
fn top_level_mistakes_name_their_key(line: &str, key: &str) {
    let error = build(&format!("{line}\n{MAIN}")).unwrap_err();
    assert_eq!(error.bot, NAME);
    assert_eq!(error.key.as_deref(), Some(key), "{error}");
}

#[test_case(r#""2" = { action = "menu", node = "nowhere" }"#, "nodes.main.options.2"; "option to a missing node")]
#[test_case(r#""2x" = { action = "hangup" }"#, "nodes.main.options.2x"; "option key is not digits")]
#[test_case(r#""" = { action = "hangup" }"#, "nodes.main.options."; "empty option key")]
#[test_case(r#""2" = { action = "bot", name = "nope" }"#, "nodes.main.options.2"; "another bot that does not exist")]
#[test_case(r#""2" = { action = "transfer" }"#, "to"; "transfer without destination")]
#[test_case(r#""2" = { action = "transfer", to = "1", prompt = "x" }"#, "prompt"; "unknown field in an action")]
#[test_case(r#""2" = { action = "dance" }"#, "nodes.main.options.2.action"; "unknown action")]
fn option_mistakes_name_their_key(option: &str, key: &str) {
    let text = MAIN.replace("[nodes.sales]", &format!("{option}\n[nodes.sales]"));
    let error = build(&text).unwrap_err();
    assert!(
        error
            .key
            .as_deref()
            .is_some_and(|found| found.contains(key)),
        "{error}"
    );
}

#[test]
fn a_bad_duration_is_refused() {
    // The registry takes keys from serde's messages, which do not name the key
    // of a bad value, so only the value is asserted here.
    let error = build(&format!("timeout = 'soon'\n{MAIN}")).unwrap_err();
    assert!(error.message.contains("soon"), "{error}");
}

#[test]
fn a_digit_used_twice_is_refused_by_the_parser() {
    let text = MAIN.replace(
        "[nodes.sales]",
        "\"1\" = { action = \"hangup\" }\n[nodes.sales]",
    );
    assert!(toml::from_str::<toml::Value>(&text).is_err());
}

#[test_case("time_zone = 'Nowhere/Town'", "hours.time_zone"; "bad time zone")]
#[test_case("open = 'day'", "hours.open"; "open node missing")]
#[test_case("closed = 'night'", "hours.closed"; "closed node missing")]
#[test_case("holidays = ['someday']", "hours.holidays"; "bad holiday")]
fn office_hours_mistakes_name_their_key(line: &str, key: &str) {
    let mut hours = toml::Table::new();
    for (name, value) in [("time_zone", "UTC"), ("open", "main"), ("closed", "sales")] {
        hours.insert(name.to_owned(), value.into());
    }
    let changed: toml::Table = toml::from_str(line).unwrap();
    hours.extend(changed);
    let mut config: toml::Table = toml::from_str(MAIN).unwrap();
    config.insert("hours".to_owned(), hours.into());
    let error = context()
        .build_bot(NAME, config.into())
        .map(drop)
        .unwrap_err();
    assert_eq!(error.key.as_deref(), Some(key), "{error}");
}

#[test]
fn office_hours_pick_the_start_node_from_the_injected_clock() {
    let config: Config = toml::from_str(include_str!("example.toml")).unwrap();
    let at = |time: &str| {
        let clock = FixedClock(time.parse::<Timestamp>().unwrap());
        IvrMenu::new(config.clone(), &context())
            .unwrap()
            .with_clock(Arc::new(clock))
    };
    // Berlin is UTC+1 in winter: Monday 2025-12-15 10:00 local is open.
    assert_eq!(at("2025-12-15T09:00:00Z").start_node(), "main");
    // Monday 12:30 local is the lunch break.
    assert_eq!(at("2025-12-15T11:30:00Z").start_node(), "closed");
    // Christmas is a Thursday, but a holiday.
    assert_eq!(at("2025-12-25T09:00:00Z").start_node(), "closed");
    assert_eq!(
        at("2025-12-20T09:00:00Z").start_node(),
        "closed",
        "saturday"
    );
}

/// `context()` with a recogniser (a program never started: building needs none).
fn speech_context() -> BotContext {
    let recognizer = voicebot_bot::speech::CommandRecognizer::builder("unused-asr")
        .build()
        .unwrap();
    context().with_recognizer(Arc::new(recognizer))
}

const SAY: &str = r#"
[nodes.main]
prompt = "welcome.wav"
[nodes.main.options]
"1" = { action = "transfer", to = "201", say = ["billing", "Accounts"] }
"2" = { action = "transfer", to = "202" }
"#;

fn say_menu(extra: &str, context: &BotContext) -> Result<menu::Menu, BotConfigError> {
    let text = SAY.replace(
        "[nodes.main.options]",
        &format!("{extra}\n[nodes.main.options]"),
    );
    menu::Menu::new(toml::from_str(&text).unwrap(), context)
}

#[test]
fn options_and_the_node_map_both_give_words() {
    let menu = say_menu(r#"say = { "support" = "2" }"#, &speech_context()).unwrap();
    let (grammar, keys) = menu.node("main").say.as_ref().unwrap();
    assert_eq!(
        grammar.phrases().unwrap(),
        ["support", "billing", "accounts"]
    );
    assert_eq!(keys, &["2", "1", "1"]);
}

#[test_case("", None, "nodes.main.options.1.say"; "no recogniser")]
#[test_case(r#"say = { "sales" = "7" }"#, Some(()), "nodes.main.say.sales"; "map to an unknown option")]
#[test_case(r#"say = { "billing" = "2" }"#, Some(()), "nodes.main.options.1.say"; "word in both forms")]
#[test_case(r#"say = { "ACCOUNTS" = "1" }"#, Some(()), "nodes.main.options.1.say"; "same word in another case")]
fn say_mistakes_name_their_key(extra: &str, recognizer: Option<()>, key: &str) {
    let context = match recognizer {
        Some(()) => speech_context(),
        None => context(),
    };
    let error = say_menu(extra, &context).unwrap_err();
    assert_eq!(error.key.as_deref(), Some(key), "{error}");
}

#[test]
fn a_word_twice_in_one_option_or_unsayable_is_refused() {
    for words in [r#"["billing", "billing"]"#, r#"["bill!"]"#, r#"[""]"#] {
        let text = SAY.replace(r#"["billing", "Accounts"]"#, words);
        let error = menu::Menu::new(toml::from_str(&text).unwrap(), &speech_context()).unwrap_err();
        assert_eq!(
            error.key.as_deref(),
            Some("nodes.main.options.1.say"),
            "{error}"
        );
    }
}

#[test]
fn the_commented_say_example_builds_with_a_recogniser() {
    let example = include_str!("example.toml");
    let plain = "\"0\" = { action = \"transfer\", to = \"100\" }          # blind transfer to the operator\n";
    assert!(
        example.contains(plain),
        "the example's operator option moved"
    );
    let text = example.replace(plain, "").replace("#   \"0\"", "\"0\"");
    let menu = menu::Menu::new(toml::from_str(&text).unwrap(), &speech_context()).unwrap();
    let (grammar, keys) = menu.node("main").say.as_ref().unwrap();
    assert_eq!(grammar.phrases().unwrap(), ["operator", "agent"]);
    assert_eq!(keys, &["0", "0"]);
}
