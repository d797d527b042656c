//! Answers the parser accepts, and the errors it names for those it refuses.

use test_case::test_case;

use super::*;

#[test]
fn a_menu_answer_parses_with_every_gather_setting() {
    let answer = br##"[
        {"verb": "play", "prompt": "welcome.wav", "loops": 2, "barge_in": "none"},
        {"verb": "gather", "prompt": "menu.wav", "invalid_prompt": {"tone": 400, "duration": "200ms"},
         "min_digits": 1, "max_digits": 4, "timeout": "5s", "inter_digit_timeout": "2s",
         "finish_on": "#*", "terminator_required": false, "tries": 3, "barge_in": "any",
         "pattern": "[1-3]+", "speech": {"choices": ["sales", "support"]}, "speech_timeout": "1s",
         "action": "/menu"},
        {"verb": "pause", "length": "1s"},
        {"verb": "hangup"}
    ]"##;
    let verbs = parse_answer(answer).unwrap();
    let names: Vec<&str> = verbs.iter().map(Verb::name).collect();
    assert_eq!(names, ["play", "gather", "pause", "hangup"]);
    let Verb::Gather(gather) = &verbs[1] else {
        panic!("not a gather");
    };
    assert_eq!(gather.max_digits, Some(4));
    assert_eq!(gather.timeout, Some(Duration::from_secs(5)));
    assert_eq!(gather.action.as_deref(), Some("/menu"));
    assert_eq!(
        gather.invalid_prompt.as_ref().map(Prompt::source),
        Some(PromptSource::Tone {
            hz: 400,
            second_hz: None,
            duration: Duration::from_millis(200)
        })
    );
}

#[test]
fn every_other_verb_parses() {
    let answer = br#"[
        {"verb": "say", "text": "hello"},
        {"verb": "record", "max_length": "30s", "silence_timeout": "0s", "channels": "stereo", "action": "/vm"},
        {"verb": "transfer", "to": "100"},
        {"verb": "route_to", "to": "200", "prompt": {"silence": "1s"}, "timeout": "20s"},
        {"verb": "divert", "to": "300", "reason": "NoAnswer"},
        {"verb": "attach_data", "data": {"crm": "42"}},
        {"verb": "redirect", "url": "/next"},
        {"verb": "stream", "url": "wss://agent.example/media", "protocol": "raw",
         "parameters": {"From": "{caller}"}, "on_disconnect": {"route_to": "100"},
         "on_connect_failure": "continue", "on_silence": "fallback", "silence_timeout": "10s"}
    ]"#;
    let verbs = parse_answer(answer).unwrap();
    assert_eq!(verbs.len(), 8);
    let Verb::Stream(stream) = &verbs[7] else {
        panic!("not a stream");
    };
    assert_eq!(
        stream.on_disconnect,
        Some(EndAction::RouteTo("100".to_owned()))
    );
    assert_eq!(stream.protocol, Some(Protocol::Raw));
}

#[test_case(br#"{"verb": "hangup"}"#, "expected a JSON array of verbs"; "not an array")]
#[test_case(b"[{\"verb\": \"hangup\"", "not JSON"; "truncated")]
#[test_case(br#"[{"verb": "dance"}]"#, "verb 0: unknown verb \"dance\""; "unknown verb")]
#[test_case(br#"[{"prompt": "a.wav"}]"#, "verb 0: has no \"verb\" field"; "no verb name")]
#[test_case(br#"[{"verb": "hangup"}, {"verb": "gather", "max_digit": 3}]"#, "verb 1: gather: max_digit: unknown field `max_digit`"; "misspelt field")]
#[test_case(br#"[{"verb": "gather", "tries": "three"}]"#, "verb 0: gather: tries: invalid type"; "mistyped field")]
#[test_case(br#"[{"verb": "play", "prompt": "../../etc/passwd"}]"#, "must be a relative path"; "path escapes")]
#[test_case(br#"[{"verb": "play", "prompt": "/etc/passwd"}]"#, "must be a relative path"; "absolute path")]
#[test_case(br#"[{"verb": "play"}]"#, "verb 0: play: missing field `prompt`"; "missing field")]
#[test_case(br#"[{"verb": "gather", "pattern": "(["}]"#, "verb 0: gather: pattern:"; "bad regex")]
#[test_case(br#"[{"verb": "stream", "url": "http://agent"}]"#, "not a ws:// or wss:// URL"; "stream over http")]
#[test_case(br#"[{"verb": "pause", "length": "2h"}]"#, "longer than the 10 minutes"; "pause too long")]
#[test_case(br#"[{"verb": "hangup", "now": true}]"#, "verb 0: hangup: now: unknown field `now`"; "field on hangup")]
fn bad_answers_name_what_is_wrong(body: &[u8], expected: &str) {
    let error = parse_answer(body).unwrap_err();
    assert!(error.0.contains(expected), "{error}");
}

#[test]
fn a_huge_bad_answer_is_quoted_short() {
    let body = format!("{{\"x\": \"{}\"}}", "y".repeat(10_000));
    let error = parse_answer(body.as_bytes()).unwrap_err();
    assert!(error.0.len() < 700, "{}", error.0.len());
}

/// `docs/webhook.schema.json` describes what the parser accepts: the same verbs, and
/// for each verb the same fields.
#[test]
fn the_schema_file_names_every_verb_and_field_the_parser_knows() {
    let schema: Value =
        serde_json::from_str(include_str!("../../../../docs/webhook.schema.json")).unwrap();
    let verbs = schema["$defs"]["Verb"]["oneOf"].as_array().unwrap();
    let mut names = Vec::new();
    for verb in verbs {
        let properties = verb["properties"].as_object().unwrap();
        let name = properties["verb"]["const"].as_str().unwrap().to_owned();
        // An object with every field the schema lists parses, apart from values: so an
        // "unknown field" error means the schema names a field the parser does not know.
        for field in properties.keys().filter(|field| *field != "verb") {
            let body = format!(r#"[{{"verb": "{name}", "{field}": null}}]"#);
            if let Err(error) = parse_answer(body.as_bytes()) {
                assert!(
                    !error.0.contains("unknown field"),
                    "{name}.{field}: {error}"
                );
            }
        }
        names.push(name);
    }
    let parsed = names.iter().map(|name| {
        let body = format!(r#"[{{"verb": "{name}"}}]"#);
        parse_answer(body.as_bytes()).map_err(|error| error.0)
    });
    for (name, result) in names.iter().zip(parsed) {
        if let Err(error) = result {
            assert!(!error.contains("unknown verb"), "{name}: {error}");
        }
    }
    assert_eq!(names.len(), 12, "{names:?}");
}
