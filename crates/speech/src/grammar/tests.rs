use std::time::Duration;

use super::*;

fn heard(text: &str) -> Recognition {
    Recognition {
        text: text.to_owned(),
        is_final: true,
        start: Duration::ZERO,
        end: Duration::from_secs(1),
        confidence: Some(0.8),
        words: Vec::new(),
    }
}

#[test]
fn choices_make_jsgf_alternatives() {
    let grammar = Grammar::choices(["Sales", "support", "speak to  an agent"]).unwrap();
    assert_eq!(
        grammar.to_jsgf(),
        "#JSGF V1.0;\ngrammar choices;\npublic <choice> = ( sales ) | ( support ) | \
         ( speak to an agent );\n"
    );
    assert_eq!(
        grammar.phrases().unwrap(),
        ["sales", "support", "speak to an agent"]
    );
}

#[test]
fn choices_reject_jsgf_operators_and_empty_phrases() {
    assert_eq!(
        Grammar::choices(["sales | support"]),
        Err(ConfigError::InvalidPhrase {
            phrase: "sales | support".to_owned()
        })
    );
    assert!(Grammar::choices(["<x>"]).is_err());
    assert_eq!(Grammar::choices(["  "]), Err(ConfigError::EmptyGrammar));
    assert_eq!(
        Grammar::choices(Vec::<String>::new()),
        Err(ConfigError::EmptyGrammar)
    );
}

#[test]
fn choice_finds_exact_then_longest_contained_phrase() {
    let grammar = Grammar::choices(["sales", "support", "sales support"]).unwrap();
    let exact = grammar.choice(&heard("Support")).unwrap();
    assert_eq!((exact.index, exact.phrase.as_str()), (1, "support"));
    assert_eq!(exact.confidence, Some(0.8));
    let longest = grammar.choice(&heard("uh sales support please")).unwrap();
    assert_eq!(longest.index, 2);
    // Whole words only: "wholesales" does not name "sales".
    assert_eq!(grammar.choice(&heard("wholesales")), None);
    assert!(!grammar.accepts(&heard("billing")));
    assert_eq!(Grammar::digits(1, 4).unwrap().choice(&heard("one")), None);
}

#[test]
fn digits_grammar_bounds_the_count() {
    let grammar = Grammar::digits(2, 4).unwrap();
    let jsgf = grammar.to_jsgf();
    assert!(jsgf.contains("public <digits> = <digit> <digit> [ <digit> [ <digit> ] ];"));
    assert!(jsgf.contains("<digit> = zero | one |"));
    assert!(grammar.accepts(&heard("one two three")));
    assert!(!grammar.accepts(&heard("one")));
    assert!(!grammar.accepts(&heard("one two three four five")));
    assert_eq!(grammar.phrases().unwrap().len(), 11);
}

#[test]
fn digits_grammar_rejects_bad_bounds() {
    assert!(Grammar::digits(0, 3).is_err());
    assert!(Grammar::digits(4, 3).is_err());
    assert!(Grammar::digits(1, MAX_DIGITS + 1).is_err());
    assert!(Grammar::digits(MAX_DIGITS, MAX_DIGITS).is_ok());
}

#[test]
fn hand_written_jsgf_passes_through() {
    let source = "#JSGF V1.0; grammar g; public <g> = yes | no;";
    let grammar = Grammar::jsgf(source).unwrap();
    assert_eq!(grammar.to_jsgf(), source);
    assert_eq!(grammar.phrases(), None);
    assert!(grammar.accepts(&heard("yes")));
    assert!(!grammar.accepts(&heard(" ")));
    assert_eq!(Grammar::jsgf(" "), Err(ConfigError::EmptyGrammar));
}

#[test]
fn a_choice_keeps_the_call_times_of_the_result_that_named_it() {
    let menu = Grammar::choices(["sales", "support"]).unwrap();
    let mut result = heard("support please");
    (result.start, result.end) = (Duration::from_millis(1300), Duration::from_millis(1900));
    let choice = menu.choice(&result).unwrap();
    assert_eq!(
        (choice.start, choice.end),
        (Duration::from_millis(1300), Duration::from_millis(1900))
    );
}
