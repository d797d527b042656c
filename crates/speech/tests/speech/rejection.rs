//! Spoken menus that reject: off-menu speech (48 phrases, 6 voices, half with noise, telephone
//! band) should come back as no choice, menu phrases alone must still be heard, and menu
//! phrases inside 24 carrier sentences should be found. Each set is one call through one
//! session, phrases a pause apart. Prints the table the speech crate's docs quote (run with
//! `--nocapture`); asserts the measured levels.

use std::time::Instant;

use voicebot_speech::{Grammar, PocketSphinx, Recognition, Recognizer, SessionOptions};

use super::{
    pocketsphinx::menu_grammar,
    support::{Part, call, feed_all},
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

/// The final results of one call in which the caller says every fixture of `names` in turn,
/// each after a pause: for each fixture, the results that overlap its span.
async fn finals(
    recognizer: &PocketSphinx,
    grammar: &Grammar,
    names: &[String],
) -> Vec<Vec<Recognition>> {
    let options = SessionOptions::new()
        .grammar(grammar.clone())
        .partial_results(false)
        .queue_frames(100_000)
        .finish_timeout(std::time::Duration::from_secs(240));
    let mut session = recognizer.start(options).await.unwrap();
    let mut parts = vec![Part::Silence(300)];
    for name in names {
        parts.push(Part::Speech(name));
        parts.push(Part::Silence(900));
    }
    let (frames, spans) = call(&parts);
    feed_all(session.as_mut(), &frames);
    let results = session.finish().await.unwrap();
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

/// The choice the results name (the first that names one), with its confidence.
fn chosen(grammar: &Grammar, results: &[Recognition]) -> Option<(String, Option<f32>)> {
    results
        .iter()
        .find_map(|r| grammar.choice(r))
        .map(|c| (c.phrase, c.confidence))
}

#[tokio::test]
async fn off_menu_speech_is_rejected_and_menu_words_are_found_in_sentences() {
    tokio::time::timeout(std::time::Duration::from_secs(300), async {
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
        let names: Vec<String> = in_grammar.iter().map(|(name, _, _)| name.clone()).collect();
        let heard_all = finals(&recognizer, &menu, &names).await;
        for ((_, _, text), results) in in_grammar.iter().zip(heard_all) {
            let choice = chosen(&menu, &results);
            let heard: Vec<&str> = results.iter().map(|r| r.text.as_str()).collect();
            println!("| menu | {text} | {} | {choice:?} |", heard.join(" / "));
            // Grammar searches give no confidence (their posterior is 1.0 for anything).
            assert!(
                results.iter().all(|r| r.confidence.is_none()),
                "{results:?}"
            );
            right += usize::from(choice.is_some_and(|(phrase, _)| &phrase == text));
        }
        let mut accepted = 0;
        let offmenu = list("offmenu.txt");
        let names: Vec<String> = offmenu
            .iter()
            .map(|l| format!("offmenu/{}", l[0]))
            .collect();
        let heard_all = finals(&recognizer, &menu, &names).await;
        for (line, results) in offmenu.iter().zip(heard_all) {
            let choice = chosen(&menu, &results);
            let heard: Vec<&str> = results.iter().map(|r| r.text.as_str()).collect();
            println!(
                "| off-menu {} {} | {} | {} | {choice:?} |",
                line[1],
                line[2],
                line[3],
                heard.join(" / ")
            );
            accepted += usize::from(choice.is_some());
        }
        let mut found = 0;
        let sentences = list("sentences.txt");
        let names: Vec<String> = sentences
            .iter()
            .map(|l| format!("sentences/{}", l[0]))
            .collect();
        let heard_all = finals(&recognizer, &menu, &names).await;
        for (line, results) in sentences.iter().zip(heard_all) {
            let choice = chosen(&menu, &results);
            let heard: Vec<&str> = results.iter().map(|r| r.text.as_str()).collect();
            println!(
                "| sentence {} {} | {} | {} | {choice:?} |",
                line[1],
                line[2],
                line[4],
                heard.join(" / ")
            );
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
        // Measured (docs/rejection.md): 9 of 10 menu phrases, 8 of 48 off-menu phrases taken
        // for a choice (17%; 46 of 48 before the fillers), 14 of 24 sentences (4 before). The
        // same every run, whatever runs beside this test: each utterance is dithered with its
        // own generator. The bounds leave one phrase of room (for a rebuilt C library, not
        // for chance). Issue #15 asks for at most 10% and at least 80%: PocketSphinx with this
        // model does not get there (the held-out sets of `benches/rejection.rs` say why).
        assert!(right >= 8, "menu phrases heard fell to {right}");
        assert!(accepted <= 9, "off-menu false accepts rose to {accepted}");
        assert!(
            found >= 13,
            "menu phrases found in sentences fell to {found}"
        );
    })
    .await
    .expect("the rejection test exceeded its time limit");
}
