//! The menu state machine, driven key by key.

use voicebot_bot::PromptSource;

use test_case::test_case;

use super::*;
use crate::testutil::menu;

const TREE: &str = r#"
tries = 2
invalid_prompt = "invalid.wav"
timeout_prompt = "timeout.wav"
unavailable_prompt = "unavailable.wav"
repeat_key = "9"
back_key = "*"
on_failure = { action = "transfer", to = "100" }

[nodes.main]
prompt = "welcome.wav"
[nodes.main.options]
"1" = { action = "menu", node = "sales" }
"2" = { action = "transfer", to = "200" }
"3" = { action = "bot", name = "echo" }

[nodes.sales]
prompt = "sales.wav"
tries = 3
[nodes.sales.options]
"1" = { action = "route_to", to = "201" }
"2" = { action = "menu", node = "orders" }
"0" = { action = "hangup" }

[nodes.orders]
prompt = "orders.wav"
"#;

/// Feeds `inputs` from the start and describes each step as text.
fn walk(inputs: &[Input<'_>]) -> Vec<String> {
    let menu = menu(TREE);
    let (mut navigator, first) = Navigator::start(&menu, "main");
    let mut steps = vec![describe(&first)];
    for input in inputs {
        steps.push(describe(&navigator.input(*input)));
    }
    steps
}

fn describe(step: &Step<'_>) -> String {
    match step {
        Step::Ask { node, notice: None } => format!("ask {}", node.id),
        Step::Ask {
            node,
            notice: Some(notice),
        } => format!("{notice} then ask {}", node.id),
        Step::Run(choice) => format!("run {choice:?}"),
    }
}

use Input::{Keys, Timeout, Unavailable};

#[test_case(&[Keys("2")], "run Transfer(200)"; "a direct option")]
#[test_case(&[Keys("1"), Keys("1")], "run RouteTo(201)"; "an option in a sub-menu")]
#[test_case(&[Keys("1"), Keys("2")], "ask orders"; "two levels down")]
#[test_case(&[Keys("3")], "run Bot(echo)"; "another bot")]
#[test_case(&[Keys("1"), Keys("0")], "run Hangup"; "hang up")]
#[test_case(&[Keys("1"), Keys("*")], "ask main"; "back returns to the parent")]
#[test_case(&[Keys("1"), Keys("2"), Keys("*"), Keys("*")], "ask main"; "back twice climbs two levels")]
#[test_case(&[Keys("*")], "ask main"; "back at the start repeats it")]
#[test_case(&[Keys("1"), Keys("9")], "ask sales"; "repeat replays the current node")]
#[test_case(&[Keys("7")], "invalid.wav then ask main"; "an unknown key")]
#[test_case(&[Keys("")], "invalid.wav then ask main"; "only a terminator")]
#[test_case(&[Timeout], "timeout.wav then ask main"; "silence")]
#[test_case(&[Unavailable], "unavailable.wav then ask main"; "a refused transfer")]
#[test_case(&[Keys("7"), Timeout], "run Transfer(100)"; "two failures of any kind use up the tries")]
fn the_last_step(inputs: &[Input<'_>], expected: &str) {
    assert_eq!(walk(inputs).last().unwrap(), expected);
}

#[test]
fn repeat_and_back_do_not_count_as_tries() {
    let steps = walk(&[Keys("7"), Keys("9"), Keys("*"), Keys("8")]);
    assert_eq!(steps.last().unwrap(), "run Transfer(100)");
    let steps = walk(&[Keys("9"), Keys("9"), Keys("9"), Keys("8")]);
    assert_eq!(steps.last().unwrap(), "invalid.wav then ask main");
}

#[test]
fn a_sub_menu_starts_with_fresh_tries_and_its_own_limit() {
    // Main allows 2 tries, sales overrides it with 3; one failure in main is forgotten.
    let steps = walk(&[Keys("7"), Keys("1"), Timeout, Timeout, Timeout]);
    assert_eq!(
        steps,
        [
            "ask main",
            "invalid.wav then ask main",
            "ask sales",
            "timeout.wav then ask sales",
            "timeout.wav then ask sales",
            "run Transfer(100)",
        ]
    );
}

#[test]
fn going_back_resets_the_tries_too() {
    let steps = walk(&[Keys("1"), Keys("7"), Keys("7"), Keys("*"), Keys("7")]);
    assert_eq!(steps[3], "invalid.wav then ask sales");
    assert_eq!(steps[4], "ask main");
    assert_eq!(steps[5], "invalid.wav then ask main");
}

#[test]
fn nodes_inherit_prompts_and_digits_from_the_menu() {
    let menu = menu(TREE);
    let orders = menu.node("orders");
    assert_eq!(
        orders.invalid_prompt.as_ref(),
        Some(&PromptSource::file("invalid.wav"))
    );
    assert_eq!(orders.tries, 2);
    assert_eq!(orders.max_digits, 1);
    let (navigator, _) = Navigator::start(&menu, "sales");
    assert_eq!(navigator.current().id, "sales");
}
