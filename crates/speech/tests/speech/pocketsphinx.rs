//! The built-in PocketSphinx recogniser on espeak-ng speech (feature `pocketsphinx`).

use std::time::Duration;

use voicebot_speech::{
    ConfigError, Grammar, PocketSphinx, Recognizer, SessionOptions, SpeechError,
};

use super::support::{Part, call, edit_distance, feed_all, limited, near, phrases};

/// The menu grammar of the tests: menu words and names.
pub(crate) fn menu_grammar() -> Grammar {
    let menu: Vec<String> = phrases()
        .into_iter()
        .filter(|(_, kind, _)| kind != "digits")
        .map(|(_, _, text)| text)
        .collect();
    Grammar::choices(menu).unwrap()
}

/// The time limit of tests that decode every phrase, each in a session of its own: longer than
/// [`limited`]'s, for a busy two-core machine (the limit catches hangs, not slowness).
async fn decoding_many<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(240), future)
        .await
        .expect("the test exceeded its time limit")
}

async fn recognise(grammar: Grammar, parts: &[Part<'_>]) -> Vec<voicebot_speech::Recognition> {
    let recognizer = PocketSphinx::new().unwrap();
    // The finish wait is long because the decoder shares two cores with the rest of the
    // test run: a menu decode (fillers, wide beams) took over 5 s to flush on a busy machine.
    let options = SessionOptions::new()
        .grammar(grammar)
        .queue_frames(10_000)
        .finish_timeout(Duration::from_secs(60));
    let mut session = recognizer.start(options).await.unwrap();
    let (frames, _) = call(parts);
    feed_all(session.as_mut(), &frames);
    session.finish().await.unwrap()
}

#[tokio::test]
async fn grammar_mode_hears_every_menu_word_and_most_names() {
    decoding_many(async {
        let grammar = menu_grammar();
        let mut right = Vec::new();
        for (name, _, text) in phrases()
            .into_iter()
            .filter(|(_, kind, _)| kind != "digits")
        {
            let finals = recognise(
                grammar.clone(),
                &[Part::Silence(300), Part::Speech(&name), Part::Silence(600)],
            )
            .await;
            println!("menu alone: {name}: {:?}", finals.first().map(|r| &r.text));
            assert!(finals.len() <= 1, "{name}: {finals:?}");
            // Whatever is heard is one of the grammar's choices, or an empty no-match.
            if let Some(result) = finals.first() {
                let Some(choice) = grammar.choice(result) else {
                    assert!(result.text.is_empty(), "{name}: {result:?}");
                    continue;
                };
                // The grammar search gives no posterior (it would say 1.0 for anything).
                assert_eq!(choice.confidence, None, "{name}: {result:?}");
                if choice.phrase == text {
                    right.push(name);
                }
            }
        }
        // Measured with the telephone adaptation: every menu word but "yes", and the names but
        // "john smith". Said alone in a call of their own, both are a no-match since menus
        // reject with fillers (docs/rejection.md).
        for must in ["sales", "support", "billing", "operator", "agent", "no"] {
            assert!(
                right.iter().any(|n| n == must),
                "{must} not heard; right: {right:?}"
            );
        }
        let names = right.iter().filter(|n| n.starts_with("name_")).count();
        assert!(names >= 2, "{names} of 3 names heard; right: {right:?}");
    })
    .await;
}

/// Decoding is repeatable: sessions decoding the same call at the same time (each dithering
/// with its own generator) agree on every result, word and word time, with each other and
/// with the same call decoded alone. PocketSphinx's own dither drew from one generator per
/// process, which such sessions shared.
#[tokio::test]
async fn sessions_decoding_at_the_same_time_agree_with_one_decoding_alone() {
    decoding_many(async {
        let parts = [
            Part::Silence(300),
            Part::Speech("no"),
            Part::Silence(900),
            Part::Speech("operator"),
            Part::Silence(900),
            Part::Speech("digits_641"),
            Part::Silence(600),
        ];
        let alone = recognise(menu_grammar(), &parts).await;
        let together =
            futures::future::join_all((0..3).map(|_| recognise(menu_grammar(), &parts))).await;
        assert!(!alone.is_empty());
        for results in together {
            assert_eq!(results, alone);
        }
    })
    .await;
}

#[tokio::test]
async fn digits_grammar_returns_digit_strings() {
    decoding_many(async {
        let (mut said, mut errors, mut exact) = (0, 0, Vec::new());
        for (name, _, text) in phrases()
            .into_iter()
            .filter(|(_, kind, _)| kind == "digits")
        {
            let finals = recognise(
                Grammar::digits(1, 8).unwrap(),
                &[Part::Silence(300), Part::Speech(&name), Part::Silence(600)],
            )
            .await;
            let expected = voicebot_speech::words_to_digits(&text).unwrap();
            // The grammar holds: only digit strings come back.
            assert_eq!(finals.len(), 1, "{name}: {finals:?}");
            let heard = finals[0].digits().expect("digits");
            println!("digits: {name}: heard {heard}");
            said += expected.len();
            errors += edit_distance(
                &expected.chars().collect::<Vec<_>>(),
                &heard.chars().collect::<Vec<_>>(),
            );
            if heard == expected {
                exact.push(name);
            }
        }
        // Measured: 1234, 55501, 2024 and 641 exact; "nine eight seven" is heard as "nine
        // eight nine one eight" (3 digit errors of 19). One string of room.
        assert!(exact.len() >= 3, "exact: {exact:?}");
        assert!(
            errors <= 4,
            "{errors} digit errors in {said}; exact: {exact:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn one_call_several_utterances_in_order_with_call_times() {
    limited(async {
        let grammar = Grammar::jsgf(
            "#JSGF V1.0; grammar call; public <any> = sales | support | <digit>+; \
             <digit> = one | two | three | four | five | six | seven | eight | nine | zero | oh;",
        )
        .unwrap();
        let recognizer = PocketSphinx::new().unwrap();
        let offset = Duration::from_secs(60);
        let options = SessionOptions::new()
            .grammar(grammar)
            .call_offset(offset)
            .queue_frames(10_000);
        let mut session = recognizer.start(options).await.unwrap();
        let (frames, spans) = call(&[
            Part::Silence(500),
            Part::Speech("support"),
            Part::Silence(1_200),
            Part::Speech("digits_1234"),
            Part::Silence(800),
        ]);
        feed_all(session.as_mut(), &frames);
        let mut results = Vec::new();
        while results
            .iter()
            .filter(|r: &&voicebot_speech::Recognition| r.is_final)
            .count()
            < 2
        {
            results.push(session.results().recv().await.expect("results"));
        }
        assert!(session.finish().await.unwrap().is_empty());
        assert!(
            results.iter().any(|r| !r.is_final),
            "partials while speaking"
        );
        let finals: Vec<_> = results.into_iter().filter(|r| r.is_final).collect();
        assert_eq!(finals.len(), 2, "{finals:?}");
        for (result, (start, end)) in finals.iter().zip(&spans) {
            let slack = Duration::from_millis(200);
            assert!(
                near(result.start, offset + *start, slack),
                "{result:?} vs {start:?}"
            );
            assert!(
                near(result.end, offset + *end, slack),
                "{result:?} vs {end:?}"
            );
            assert!(!result.words.is_empty());
        }
    })
    .await;
}

#[tokio::test]
async fn silence_gives_nothing_and_unknown_words_are_rejected() {
    limited(async {
        let finals = recognise(menu_grammar(), &[Part::Silence(3_000)]).await;
        assert!(finals.is_empty(), "{finals:?}");
        let recognizer = PocketSphinx::new().unwrap();
        let options = SessionOptions::new().grammar(Grammar::choices(["xqzzyv"]).unwrap());
        let error = recognizer.start(options).await.err().expect("unknown word");
        assert!(
            matches!(
                error,
                SpeechError::Config(ConfigError::GrammarRejected { .. })
            ),
            "{error:?}"
        );
        let missing = PocketSphinx::builder().model_dir("/nonexistent").build();
        assert!(matches!(missing, Err(ConfigError::ModelNotFound { .. })));
    })
    .await;
}

#[tokio::test]
async fn a_decoder_that_falls_behind_drops_frames_without_blocking_feed() {
    limited(async {
        let recognizer = PocketSphinx::new().unwrap();
        let options = SessionOptions::new()
            .grammar(menu_grammar())
            .queue_frames(20);
        let mut session = recognizer.start(options).await.unwrap();
        let parts: Vec<Part<'_>> = (0..10)
            .flat_map(|_| [Part::Speech("agent"), Part::Silence(200)])
            .collect();
        let (frames, _) = call(&parts);
        feed_all(session.as_mut(), &frames);
        // Frames were dropped: `feed` handed them over without waiting for the decoder
        // (a feed that waited would have lost none).
        let stats = session.stats();
        session.finish().await.unwrap();
        assert!(stats.frames_dropped > 0, "{stats:?}");
    })
    .await;
}
