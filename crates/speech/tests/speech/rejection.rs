//! Spoken menus that reject: off-menu speech (48 phrases, 6 voices, half with noise, telephone
//! band) must come back as no choice, menu phrases alone must still be heard, and menu phrases
//! inside 24 carrier sentences must be found. Prints the table the speech crate's docs quote
//! (run with `--nocapture`); asserts the targets.

use std::time::Instant;

use voicebot_speech::{Grammar, PocketSphinx, Recognition, Recognizer, SessionOptions};

use super::{
    pocketsphinx::menu_grammar,
    support::{Part, call, feed_all, limited},
};

/// `name|voice|noise|…|text` lines of a fixture list.
fn list(file: &str) -> Vec<Vec<String>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(file);
    std::fs::read_to_string(path)
        .expect("the list exists")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect()
}

/// The final results of one fixture, said after 300 ms of silence.
async fn finals(recognizer: &PocketSphinx, grammar: &Grammar, name: &str) -> Vec<Recognition> {
    let options = SessionOptions::new()
        .grammar(grammar.clone())
        .partial_results(false)
        .queue_frames(10_000);
    let mut session = recognizer.start(options).await.unwrap();
    let (frames, _) = call(&[Part::Silence(300), Part::Speech(name), Part::Silence(600)]);
    feed_all(session.as_mut(), &frames);
    session.finish().await.unwrap()
}

/// The choice the results name (the first that names one), with its confidence.
fn chosen(grammar: &Grammar, results: &[Recognition]) -> Option<(String, Option<f32>)> {
    results
        .iter()
        .find_map(|r| grammar.choice(r))
        .map(|c| (c.phrase, c.confidence))
}

#[tokio::test]
async fn off_menu_speech_is_rejected_and_menu_words_are_found_in_sentences() {
    limited(async {
        let recognizer = PocketSphinx::new().unwrap();
        let menu = menu_grammar();
        let began = Instant::now();
        println!("| set | phrase | heard | choice | confidence |");
        println!("|---|---|---|---|---|");
        let mut right = 0;
        let in_grammar = super::support::phrases()
            .into_iter()
            .filter(|(_, kind, _)| kind != "digits")
            .collect::<Vec<_>>();
        for (name, _, text) in &in_grammar {
            let results = finals(&recognizer, &menu, name).await;
            let choice = chosen(&menu, &results);
            let heard: Vec<&str> = results.iter().map(|r| r.text.as_str()).collect();
            println!("| menu | {text} | {} | {choice:?} |", heard.join(" / "));
            if let Some((_, confidence)) = &choice {
                assert!(confidence.is_some_and(|c| (0.0..=1.0).contains(&c)), "{results:?}");
            }
            right += usize::from(choice.is_some_and(|(phrase, _)| &phrase == text));
        }
        let mut accepted = 0;
        let offmenu = list("offmenu.txt");
        for line in &offmenu {
            let results = finals(&recognizer, &menu, &format!("offmenu/{}", line[0])).await;
            let choice = chosen(&menu, &results);
            let heard: Vec<&str> = results.iter().map(|r| r.text.as_str()).collect();
            println!("| off-menu {} {} | {} | {} | {choice:?} |", line[1], line[2], line[3], heard.join(" / "));
            accepted += usize::from(choice.is_some());
        }
        let mut found = 0;
        let sentences = list("sentences.txt");
        for line in &sentences {
            let results = finals(&recognizer, &menu, &format!("sentences/{}", line[0])).await;
            let choice = chosen(&menu, &results);
            let heard: Vec<&str> = results.iter().map(|r| r.text.as_str()).collect();
            println!("| sentence {} {} | {} | {} | {choice:?} |", line[1], line[2], line[4], heard.join(" / "));
            found += usize::from(choice.is_some_and(|(phrase, _)| phrase == line[3]));
        }
        let rate = |n: usize, of: usize| 100.0 * n as f64 / of as f64;
        println!(
            "menu phrases heard {right}/{} ({:.0}%), off-menu accepted {accepted}/{} ({:.0}%), \
             in sentences found {found}/{} ({:.0}%), in {:?}",
            in_grammar.len(),
            rate(right, in_grammar.len()),
            offmenu.len(),
            rate(accepted, offmenu.len()),
            sentences.len(),
            rate(found, sentences.len()),
            began.elapsed()
        );
        assert!(offmenu.len() >= 40 && sentences.len() >= 20);
        assert!(rate(accepted, offmenu.len()) <= 10.0, "off-menu false accepts {accepted}");
        assert!(rate(right, in_grammar.len()) >= 80.0, "menu phrases heard {right}");
        assert!(rate(found, sentences.len()) >= 80.0, "in sentences found {found}");
    })
    .await;
}
