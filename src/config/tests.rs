use std::path::Path;

use super::*;

const GOOD: &str = r#"
recordings = "rec"

[pbx]
url = "https://pbx.example.com:5001"
client_id = "assistant"

[limits]
max_calls = 4
bot_grace = "10m"

[route_points."800"]
bot = "ivr-menu"

[route_points."800".config]
greeting = "hello.wav"
"#;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("voicebot.toml"), text)
}

#[test]
fn a_good_file_parses_with_defaults() {
    let config = parse(GOOD).unwrap();
    assert_eq!(config.pbx().client_secret_env, DEFAULT_SECRET_ENV);
    assert_eq!(*config.limits.max_calls.get_ref(), 4);
    assert_eq!(config.limits.bot_grace, Duration::from_secs(600));
    assert_eq!(config.limits.shutdown_timeout, Duration::from_secs(10));
    assert_eq!(config.route_points["800"].bot.get_ref(), "ivr-menu");
    let table = config.route_points["800"].config.as_ref().unwrap();
    assert_eq!(table.get_ref()["greeting"].as_str(), Some("hello.wav"));
}

#[test]
fn a_type_error_names_the_file_line_and_key() {
    let error = parse(&GOOD.replace("bot = \"ivr-menu\"", "bot = 5")).unwrap_err();
    assert_eq!(error.key, "route_points.\"800\".bot");
    assert_eq!(error.position.map(|p| p.0), Some(13));
    let text = error.to_string();
    assert!(text.starts_with("voicebot.toml:13:"), "{text}");
}

#[test]
fn an_unknown_key_is_an_error_naming_it() {
    let error = parse(&GOOD.replace("max_calls = 4", "max_cals = 4")).unwrap_err();
    assert_eq!(error.key, "limits.max_cals");
    assert!(error.message.contains("unknown field"), "{error}");
    let error = parse(&format!("colour = 1\n{GOOD}")).unwrap_err();
    assert_eq!(error.key, "colour");
}

#[test]
fn a_bad_duration_is_named() {
    let error = parse(&GOOD.replace("\"10m\"", "\"soon\"")).unwrap_err();
    assert_eq!(error.key, "limits.bot_grace");
}

#[test]
fn a_secret_in_the_file_is_refused() {
    let error = parse(&GOOD.replace(
        "client_id = \"assistant\"",
        "client_id = \"assistant\"\nclient_secret = \"x\"",
    ))
    .unwrap_err();
    assert_eq!(error.key, "pbx.client_secret");
    assert!(!error.to_string().contains("\"x\""), "{error}");
}

#[test]
fn semantic_checks_name_their_key() {
    let error = parse(&GOOD.replace("https://pbx.example.com:5001", "ftp://x")).unwrap_err();
    assert_eq!(error.key, "pbx.url");
    let error = parse(&GOOD.replace("max_calls = 4", "max_calls = 0")).unwrap_err();
    assert_eq!(error.key, "limits.max_calls");
    let error =
        parse("[pbx]\nurl = \"http://a\"\nclient_id = \"1\"\n[route_points]\n").unwrap_err();
    assert_eq!(error.key, "route_points");
    let error = parse("[pbx]\nurl = \"http://a\"\n").unwrap_err();
    assert!(error.message.contains("client_id"), "{error}");
}

#[test]
fn syntax_errors_have_a_position() {
    let error = parse("[pbx\nurl = 1").unwrap_err();
    assert_eq!(error.position.map(|p| p.0), Some(1));
}

#[test]
fn busy_fallback_needs_a_destination() {
    let error = parse(&GOOD.replace("max_calls = 4", "max_calls = 4\nwhen_busy = \"fallback\""))
        .unwrap_err();
    assert_eq!(error.key, "limits.when_busy");
    let error = parse(&GOOD.replace("max_calls = 4", "when_busy = \"panic\"")).unwrap_err();
    assert_eq!(error.key, "limits.when_busy");
}

#[test]
fn adopted_calls_to_the_fallback_need_a_destination() {
    let config = GOOD.replace(
        "max_calls = 4",
        "max_calls = 4\nadopted_calls = \"fallback\"",
    );
    let error = parse(&config).unwrap_err();
    assert_eq!(error.key, "limits.adopted_calls");
    assert!(error.message.contains("[fallback]"), "{}", error.message);
    let error = parse(&GOOD.replace("max_calls = 4", "adopted_calls = \"later\"")).unwrap_err();
    assert_eq!(error.key, "limits.adopted_calls");
}

#[test]
fn relative_paths_resolve_against_the_file() {
    let config = Config::parse(Path::new("conf/voicebot.toml"), GOOD).unwrap();
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(config.recordings_dir(), cwd.join("conf/rec"));
    assert_eq!(config.prompts_dir(), cwd.join("conf"));
}

#[test]
fn a_file_in_the_working_directory_gives_absolute_folders() {
    // `-c voicebot.toml`, as the README shows it: a bot joining its own path to the
    // recordings folder must get an absolute path, which the engine keeps as it is
    // (a relative one was joined twice: recordings/recordings/...).
    let config = Config::parse(Path::new("voicebot.toml"), GOOD).unwrap();
    let cwd = std::env::current_dir().unwrap();
    assert!(config.recordings_dir().is_absolute());
    assert_eq!(config.recordings_dir(), cwd.join("rec"));
    assert_eq!(config.prompts_dir(), cwd);
}

#[test]
fn answer_defaults_to_auto_and_takes_bot() {
    let config = parse(GOOD).unwrap();
    assert_eq!(config.route_points["800"].answer, Answer::Auto);
    let config =
        parse(&GOOD.replace("bot = \"ivr-menu\"", "bot = \"ivr-menu\"\nanswer = \"bot\"")).unwrap();
    assert_eq!(config.route_points["800"].answer, Answer::Bot);
    let error = parse(&GOOD.replace(
        "bot = \"ivr-menu\"",
        "bot = \"ivr-menu\"\nanswer = \"never\"",
    ))
    .unwrap_err();
    assert_eq!(error.key, "route_points.\"800\".answer");
    assert_eq!(error.position.map(|p| p.0), Some(14));
}

#[test]
fn a_ringback_must_be_a_file_named_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("voicebot.toml");
    let text = format!("{GOOD}\n[media]\nringback = \"ring.wav\"\n");
    let error = Config::parse(&file, &text).unwrap_err();
    assert_eq!(error.key, "media.ringback");
    assert!(error.message.contains("ring.wav"), "{error}");
    assert!(error.position.is_some());
    std::fs::write(dir.path().join("ring.wav"), b"").unwrap();
    let config = Config::parse(&file, &text).unwrap();
    assert_eq!(config.ringback_path(), Some(dir.path().join("ring.wav")));
}

#[test]
fn audio_limits_default_to_ten_minutes_and_a_64_mib_cache() {
    let config = parse(GOOD).unwrap();
    assert_eq!(config.media.max_prompt, Duration::from_secs(600));
    assert_eq!(
        config.audio_limits().max_duration(),
        Duration::from_secs(600)
    );
    assert_eq!(config.media.prompt_cache_bytes, 64 * 1024 * 1024);
    let text = GOOD.replace(
        "[pbx]",
        "[media]\nmax_prompt = \"90s\"\nprompt_cache_bytes = 1000000\n\n[pbx]",
    );
    let config = parse(&text).unwrap();
    assert_eq!(
        config.audio_limits().max_duration(),
        Duration::from_secs(90)
    );
    assert_eq!(config.media.prompt_cache_bytes, 1_000_000);
}

#[test]
fn a_max_prompt_out_of_range_is_named() {
    for value in ["0s", "2days"] {
        let text = GOOD.replace(
            "[pbx]",
            &format!("[media]\nmax_prompt = \"{value}\"\n\n[pbx]"),
        );
        let error = parse(&text).unwrap_err();
        assert_eq!(error.key, "media.max_prompt", "{value}");
        assert!(error.message.contains("between 1s and 24h"), "{error}");
    }
    let text = GOOD.replace("[pbx]", "[media]\nprompt_cache_bytes = -1\n\n[pbx]");
    assert_eq!(parse(&text).unwrap_err().key, "media.prompt_cache_bytes");
}

#[test]
fn the_media_ticks_and_call_threads_are_read_and_checked() {
    let config = parse(&format!(
        "{GOOD}\n[media]\ntick = \"60ms\"\nread_tick = \"20ms\"\ncall_threads = 3\n"
    ))
    .unwrap();
    assert_eq!(config.media.tick, Duration::from_millis(60));
    assert_eq!(config.media.read_tick, Duration::from_millis(20));
    assert_eq!(config.media.call_threads, Some(3));
    let config = parse(GOOD).unwrap();
    assert_eq!(config.media.tick, Duration::from_millis(20));
    assert_eq!(config.media.read_tick, Duration::from_millis(40));
    assert_eq!(
        config.media.call_threads, None,
        "one per core, decided at launch"
    );
    for tick in ["30ms", "80ms", "40500us"] {
        let error = parse(&format!("{GOOD}\n[media]\ntick = \"{tick}\"\n")).unwrap_err();
        assert_eq!(error.key, "media.tick", "{tick}");
        assert!(error.message.contains("20ms, 40ms or 60ms"), "{error}");
        let error = parse(&format!("{GOOD}\n[media]\nread_tick = \"{tick}\"\n")).unwrap_err();
        assert_eq!(error.key, "media.read_tick", "{tick}");
    }
    let error = parse(&format!("{GOOD}\n[media]\ncall_threads = 1000\n")).unwrap_err();
    assert_eq!(error.key, "media.call_threads");
    let config = parse(&format!("{GOOD}\n[media]\ncall_thread_nice = -10\n")).unwrap();
    assert_eq!(config.media.call_thread_nice, Some(-10));
    for bad in [
        "call_thread_nice = -21",
        "call_thread_nice = 20",
        "call_threads = 0\ncall_thread_nice = -5",
    ] {
        let error = parse(&format!("{GOOD}\n[media]\n{bad}\n")).unwrap_err();
        assert_eq!(error.key, "media.call_thread_nice", "{bad}");
    }
}
