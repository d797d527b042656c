//! Recognition accuracy of PocketSphinx on the spoken phrases, grammar and free-form, and the
//! CPU cost per call-second. Prints a table (run with `--nocapture`); asserts lower bounds.

use std::time::{Duration, Instant};

use voicebot_speech::{Grammar, PocketSphinx, Recognition, Recognizer, SessionOptions};

use super::{
    pocketsphinx::menu_grammar,
    support::{Part, call, edit_distance, feed_all, phrases},
};

/// Word errors of `heard` against `expected`.
fn word_errors(expected: &str, heard: &str) -> usize {
    let words = |text: &str| {
        text.split_whitespace()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    edit_distance(&words(expected), &words(heard))
}

/// Decodes one phrase in its own session; returns its finals and the decode time.
async fn decode(
    recognizer: &PocketSphinx,
    grammar: Option<Grammar>,
    name: &str,
) -> (Vec<Recognition>, Duration) {
    // The finish wait is long because CI shares its two cores: the result, not the time,
    // is what is tested here (the time is printed).
    let mut options = SessionOptions::new()
        .partial_results(false)
        .queue_frames(10_000)
        .finish_timeout(Duration::from_secs(120));
    if let Some(grammar) = grammar {
        options = options.grammar(grammar);
    }
    let mut session = recognizer.start(options).await.unwrap();
    let (frames, _) = call(&[Part::Silence(300), Part::Speech(name), Part::Silence(600)]);
    let began = Instant::now();
    feed_all(session.as_mut(), &frames);
    let finals: Vec<Recognition> = session.finish().await.unwrap();
    (finals, began.elapsed())
}

fn text(finals: &[Recognition]) -> String {
    let texts: Vec<&str> = finals
        .iter()
        .map(|r| r.text.as_str())
        .filter(|t| !t.is_empty())
        .collect();
    texts.join(" / ")
}

/// Phrases grammar mode gets exactly right on the 8 kHz fixtures with the telephone
/// adaptation, as measured (the same every run). The others: "nine eight seven" (heard "nine
/// eight nine one eight"), and since menus reject with fillers (issue #15) "yes" and "john
/// smith", both a no-match when said alone in a call of their own. Before the adaptation took
/// in two more speakers, "no" and "six four one" were missed and "yes" was heard.
const EXACT_IN_GRAMMAR_MODE: [&str; 12] = [
    "sales",
    "support",
    "billing",
    "operator",
    "agent",
    "no",
    "digits_1234",
    "digits_55501",
    "digits_2024",
    "digits_641",
    "name_mary",
    "name_david",
];

/// Grammar-mode word accuracy over the phrases with `recognizer`.
async fn grammar_accuracy(recognizer: &PocketSphinx) -> f64 {
    let (menu, digits) = (menu_grammar(), Grammar::digits(1, 8).unwrap());
    let (mut words, mut errors) = (0, 0);
    for (name, kind, said) in phrases() {
        let grammar = if kind == "digits" { &digits } else { &menu };
        let (finals, _) = decode(recognizer, Some(grammar.clone()), &name).await;
        words += said.split_whitespace().count();
        errors += word_errors(&said, &text(&finals));
    }
    1.0 - errors as f64 / words as f64
}

#[tokio::test]
async fn the_telephone_adaptation_is_what_makes_grammar_mode_accurate() {
    long(async {
        let plain = PocketSphinx::builder()
            .telephone_adaptation(false)
            .build()
            .unwrap();
        let adapted = PocketSphinx::new().unwrap();
        let (before, after) = (
            grammar_accuracy(&plain).await,
            grammar_accuracy(&adapted).await,
        );
        println!("grammar word accuracy: Debian's model {before:.3}, adapted {after:.3}");
        // Measured: 0.429 and 0.829 before menus rejected with fillers; now 0.371 and 0.886, the
        // same every run (dither and insertion penalty the same in both).
        assert!(after >= before + 0.2, "{before:.3} -> {after:.3}");
    })
    .await;
}

#[tokio::test]
async fn accuracy_and_cpu_cost_per_call_second() {
    long(async {
        let recognizer = PocketSphinx::new().unwrap();
        let menu = menu_grammar();
        let digits = Grammar::digits(1, 8).unwrap();
        let (mut words, mut grammar_errors, mut free_errors) = (0, 0, 0);
        let (mut audio, mut grammar_busy, mut free_busy) =
            (Duration::ZERO, Duration::ZERO, Duration::ZERO);
        let mut exact = Vec::new();
        println!("| phrase | grammar mode | errors | free-form | errors |");
        println!("|---|---|---|---|---|");
        for (name, kind, said) in phrases() {
            let grammar = match kind.as_str() {
                "digits" => digits.clone(),
                _ => menu.clone(),
            };
            let (restricted, spent) = decode(&recognizer, Some(grammar.clone()), &name).await;
            grammar_busy += spent;
            let (free, spent) = decode(&recognizer, None, &name).await;
            free_busy += spent;
            // Grammar mode returns only what the grammar allows (or, in a menu, an empty
            // no-match), without a made-up confidence; free-form results carry the lattice
            // posterior.
            for result in &restricted {
                assert!(
                    grammar.accepts(result) || result.text.is_empty(),
                    "{name}: {result:?}"
                );
                assert_eq!(result.confidence, None, "{name}: {result:?}");
                assert!(result.words.iter().all(|w| w.confidence.is_none()));
            }
            for result in &free {
                let confidence = result.confidence.expect("free-form confidence");
                assert!((0.0..=1.0).contains(&confidence), "{result:?}");
            }
            let (restricted, free) = (text(&restricted), text(&free));
            let (g, f) = (word_errors(&said, &restricted), word_errors(&said, &free));
            words += said.split_whitespace().count();
            grammar_errors += g;
            free_errors += f;
            if restricted == said {
                exact.push(name.clone());
            }
            let (frames, _) = call(&[Part::Silence(300), Part::Speech(&name), Part::Silence(600)]);
            audio += voicebot_media::Frame::DURATION * frames.len() as u32;
            println!("| {said} | {restricted} | {g} | {free} | {f} |");
        }
        let accuracy = |errors: usize| 1.0 - errors as f64 / words as f64;
        println!(
            "word accuracy over {words} words: grammar {:.1}%, free-form {:.1}%",
            100.0 * accuracy(grammar_errors),
            100.0 * accuracy(free_errors)
        );
        let cost = |busy: Duration| busy.as_secs_f64() / audio.as_secs_f64();
        println!(
            "CPU-seconds per call-second ({audio:?} of audio, wall time of feed and finish): \
             grammar {:.3}, free-form {:.3}",
            cost(grammar_busy),
            cost(free_busy)
        );
        println!("exact in grammar mode: {exact:?}");
        for must in EXACT_IN_GRAMMAR_MODE {
            assert!(
                exact.iter().any(|n| n == must),
                "{must} no longer recognised exactly; exact: {exact:?}"
            );
        }
        // Measured 82.9% (29 of 35 words) before menus rejected with fillers, 80.0% (28) after
        // ("no" alone became a no-match), 88.6% (31) since the adaptation took in two more
        // speakers. Decoding is repeatable, so one word of room is for a rebuilt C library.
        assert!(
            accuracy(grammar_errors) >= 0.85,
            "grammar accuracy fell: {:.3}",
            accuracy(grammar_errors)
        );
        // The cost is printed, not asserted: it is wall time, which a busy CI machine
        // stretches. `cargo bench --bench speech --features pocketsphinx` measures it.
    })
    .await;
}

/// These tests decode every phrase several times: a limit of their own, long enough for a
/// busy two-core machine.
async fn long<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(300), future)
        .await
        .expect("the accuracy test exceeded its time limit")
}
