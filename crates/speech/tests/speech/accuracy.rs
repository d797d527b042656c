//! Recognition accuracy of PocketSphinx on the spoken phrases, grammar and free-form, and the
//! CPU cost per call-second. Prints a table (run with `--nocapture`); asserts lower bounds.

use std::time::{Duration, Instant};

use voicebot_speech::{Grammar, PocketSphinx, Recognition, Recognizer, SessionOptions};

use super::{
    pocketsphinx::menu_grammar,
    support::{Part, call, feed_all, limited, phrases},
};

/// Word-level edit distance.
fn word_errors(expected: &str, heard: &str) -> usize {
    let (a, b): (Vec<&str>, Vec<&str>) = (
        expected.split_whitespace().collect(),
        heard.split_whitespace().collect(),
    );
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, wa) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, wb) in b.iter().enumerate() {
            let cost = usize::from(wa != wb);
            let next = (prev + cost).min(row[j] + 1).min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Decodes one phrase in its own session; returns the text and the decode time.
async fn decode(
    recognizer: &PocketSphinx,
    grammar: Option<Grammar>,
    name: &str,
) -> (String, Duration) {
    let mut options = SessionOptions::new()
        .partial_results(false)
        .queue_frames(10_000);
    if let Some(grammar) = grammar {
        options = options.grammar(grammar);
    }
    let mut session = recognizer.start(options).await.unwrap();
    let (frames, _) = call(&[Part::Silence(300), Part::Speech(name), Part::Silence(600)]);
    let began = Instant::now();
    feed_all(session.as_mut(), &frames);
    let finals: Vec<Recognition> = session.finish().await.unwrap();
    let text: Vec<String> = finals.into_iter().map(|r| r.text).collect();
    (text.join(" "), began.elapsed())
}

#[tokio::test]
async fn accuracy_and_cpu_cost_per_call_second() {
    limited(async {
        let recognizer = PocketSphinx::new().unwrap();
        let menu = menu_grammar();
        let digits = Grammar::digits(1, 8).unwrap();
        let (mut words, mut grammar_errors, mut free_errors) = (0, 0, 0);
        let (mut audio, mut busy) = (Duration::ZERO, Duration::ZERO);
        println!("| phrase | grammar mode | free-form |");
        println!("|---|---|---|");
        for (name, kind, text) in phrases() {
            let grammar = match kind.as_str() {
                "digits" => digits.clone(),
                _ => menu.clone(),
            };
            let (restricted, spent) = decode(&recognizer, Some(grammar), &name).await;
            let (free, _) = decode(&recognizer, None, &name).await;
            words += text.split_whitespace().count();
            grammar_errors += word_errors(&text, &restricted);
            free_errors += word_errors(&text, &free);
            let (frames, _) = call(&[Part::Silence(300), Part::Speech(&name), Part::Silence(600)]);
            audio += voicebot_media::Frame::DURATION * frames.len() as u32;
            busy += spent;
            println!("| {text} | {restricted} | {free} |");
        }
        let accuracy = |errors: usize| 1.0 - errors as f64 / words as f64;
        println!(
            "word accuracy over {words} words: grammar {:.1}%, free-form {:.1}%",
            100.0 * accuracy(grammar_errors),
            100.0 * accuracy(free_errors)
        );
        let cost = busy.as_secs_f64() / audio.as_secs_f64();
        println!(
            "grammar mode: {cost:.3} CPU-seconds per call-second ({audio:?} of audio in {busy:?})"
        );
        assert!(
            accuracy(grammar_errors) >= 0.5,
            "grammar accuracy collapsed"
        );
        assert!(cost < 1.0, "slower than real time: {cost}");
    })
    .await;
}
