//! The full measurement of spoken-menu rejection (`docs/rejection.md`): the built-in
//! PocketSphinx recogniser with the menu grammar of the tests, on the sets its settings were
//! tuned on and on the held-out sets (other voices, speeds and texts, telephone band).
//!
//! Run with `cargo bench -p voicebot-speech --features pocketsphinx --bench rejection`; it
//! prints one table row per set, and with `VOICEBOT_REJECTION_DETAIL=1` what was heard for
//! every phrase. Each set is one call through one session, phrases a pause apart, as in
//! `tests/speech/rejection.rs` (which runs the tuning sets quickly and asserts their levels).
#![allow(clippy::print_stdout, missing_docs)]

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use voicebot_media::Frame;
use voicebot_speech::{Grammar, PocketSphinx, Recognition, Recognizer, SessionOptions};

/// The menu of the tests: menu words and names.
const MENU: [&str; 10] = [
    "sales",
    "support",
    "billing",
    "operator",
    "speak to an agent",
    "yes",
    "no",
    "john smith",
    "mary johnson",
    "david miller",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `field|field|…` lines of a fixture list.
fn list(file: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(fixtures().join(file))
        .expect("the fixture list exists")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect()
}

fn samples(name: &str) -> Vec<i16> {
    let mut reader =
        hound::WavReader::open(fixtures().join(format!("{name}.wav"))).expect("the fixture exists");
    reader.samples::<i16>().map_while(Result::ok).collect()
}

/// One spoken phrase of a set: its fixture, and the menu phrase it holds (None: off-menu).
struct Item {
    fixture: String,
    want: Option<String>,
    label: String,
}

/// The final results overlapping each item, from one call in which the caller says every
/// item in turn, each after a pause.
async fn finals(
    recognizer: &PocketSphinx,
    grammar: &Grammar,
    items: &[Item],
) -> Vec<Vec<Recognition>> {
    let options = SessionOptions::new()
        .grammar(grammar.clone())
        .partial_results(false)
        .queue_frames(200_000)
        .results_capacity(10_000)
        .finish_timeout(Duration::from_secs(600));
    let mut session = recognizer.start(options).await.expect("session starts");
    let mut audio = vec![0i16; 300 * 8];
    let mut spans = Vec::new();
    let at = |n: usize| Duration::from_micros(n as u64 * 125);
    for item in items {
        let start = audio.len();
        audio.extend(samples(&item.fixture));
        spans.push((at(start), at(audio.len())));
        audio.extend(std::iter::repeat_n(0, 900 * 8));
    }
    for frame in audio.chunks(Frame::SAMPLES).map(Frame::from_slice_padded) {
        session.feed(&frame).expect("feed accepts frames");
    }
    let results = session.finish().await.expect("the session finishes");
    spans
        .iter()
        .map(|(start, end)| {
            results
                .iter()
                .filter(|r| r.start < *end && r.end > *start)
                .cloned()
                .collect()
        })
        .collect()
}

fn menu_items(file: &str, dir: &str, name: usize, phrase: usize, label: &[usize]) -> Vec<Item> {
    list(file)
        .into_iter()
        .map(|l| Item {
            fixture: format!("{dir}{}", l[name]),
            want: Some(l[phrase].clone()),
            label: label
                .iter()
                .map(|i| l[*i].as_str())
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect()
}

fn offmenu_items(file: &str, dir: &str, label: &[usize]) -> Vec<Item> {
    list(file)
        .into_iter()
        .map(|l| Item {
            fixture: format!("{dir}{}", l[0]),
            want: None,
            label: label
                .iter()
                .map(|i| l[*i].as_str())
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let recognizer = PocketSphinx::new().expect("pocketsphinx-en-us is installed");
    let grammar = Grammar::choices(MENU).expect("grammar");
    let detail = std::env::var_os("VOICEBOT_REJECTION_DETAIL").is_some();
    let in_grammar: Vec<Vec<String>> = list("phrases.txt")
        .into_iter()
        .filter(|l| l[1] != "digits")
        .collect();
    let tuning_menu: Vec<Item> = in_grammar
        .iter()
        .map(|l| Item {
            fixture: l[0].clone(),
            want: Some(l[2].clone()),
            label: "en-us".into(),
        })
        .collect();
    let sets: Vec<(&str, Vec<Item>)> = vec![
        ("tuning: menu phrases alone (1 voice)", tuning_menu),
        (
            "tuning: off-menu (6 voices)",
            offmenu_items("offmenu.txt", "offmenu/", &[1, 2]),
        ),
        (
            "tuning: menu phrase in a sentence (6 voices)",
            menu_items("sentences.txt", "sentences/", 0, 3, &[1, 2]),
        ),
        (
            "held out: menu phrases alone (8 voices, 3 speeds)",
            menu_items("heldout-menu.txt", "heldout/menu/", 0, 4, &[1, 2, 3]),
        ),
        (
            "held out: off-menu (8 voices, 3 speeds)",
            offmenu_items("heldout-offmenu.txt", "heldout/offmenu/", &[1, 2, 3]),
        ),
        (
            "held out: menu phrase in a sentence (8 voices, 3 speeds)",
            menu_items(
                "heldout-sentences.txt",
                "heldout/sentences/",
                0,
                4,
                &[1, 2, 3],
            ),
        ),
    ];
    println!("| set | right | rate |");
    println!("|---|---|---|");
    for (name, items) in sets {
        let began = Instant::now();
        let heard = runtime.block_on(finals(&recognizer, &grammar, &items));
        let mut right = 0;
        for (item, results) in items.iter().zip(&heard) {
            let choice = results
                .iter()
                .find_map(|r| grammar.choice(r))
                .map(|c| c.phrase);
            let ok = match &item.want {
                Some(want) => choice.as_ref() == Some(want),
                None => choice.is_none(),
            };
            right += usize::from(ok);
            if detail {
                let texts: Vec<&str> = results.iter().map(|r| r.text.as_str()).collect();
                println!(
                    "  {} [{}] want {:?} heard {:?} -> {choice:?} {}",
                    item.fixture,
                    item.label,
                    item.want,
                    texts.join(" / "),
                    if ok { "ok" } else { "WRONG" }
                );
            }
        }
        let n = items.len();
        let (shown, of) = match name.contains("off-menu") {
            // For off-menu sets the number that matters is the false accepts.
            true => (n - right, "accepted"),
            false => (right, "right"),
        };
        println!(
            "| {name} | {shown}/{n} {of} | {:.0}% | ({:.1} s)",
            100.0 * shown as f64 / n as f64,
            began.elapsed().as_secs_f64()
        );
    }
}
