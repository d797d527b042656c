use std::time::Duration;

use super::*;

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

#[test]
fn our_line_format_with_times_and_confidence() {
    let timeline = Timeline::default();
    timeline.restart_at(ms(10_000));
    let r = timeline
        .parse(r#"{"text": "Sales", "final": true, "start": 1.2, "end": 2.0, "confidence": 0.9}"#)
        .unwrap();
    assert_eq!(r.text, "sales");
    assert!(r.is_final);
    assert_eq!((r.start, r.end), (ms(11_200), ms(12_000)));
    assert_eq!(r.confidence, Some(0.9));
}

#[test]
fn vosk_final_takes_times_and_confidence_from_words() {
    let timeline = Timeline::default();
    let r = timeline
        .parse(
            r#"{"result": [{"conf": 1.0, "end": 0.8, "start": 0.5, "word": "one"},
                          {"conf": 0.5, "end": 1.4, "start": 0.9, "word": "two"}],
                "text": "one two"}"#,
        )
        .unwrap();
    assert!(r.is_final);
    assert_eq!((r.start, r.end), (ms(500), ms(1_400)));
    assert_eq!(r.confidence, Some(0.75));
    assert_eq!(r.words.len(), 2);
    assert_eq!(r.words[1].text, "two");
    assert_eq!(r.words[1].confidence, Some(0.5));
}

#[test]
fn partials_without_times_span_from_the_last_final_to_the_audio_heard() {
    let timeline = Timeline::default();
    timeline.heard(ms(3_000));
    timeline
        .parse(r#"{"text": "yes", "start": 0.5, "end": 1.0}"#)
        .unwrap();
    let partial = timeline.parse(r#"{"partial": "one tw"}"#).unwrap();
    assert!(!partial.is_final);
    assert_eq!((partial.start, partial.end), (ms(1_000), ms(3_000)));
    assert_eq!(partial.confidence, None);
    let flagged = timeline
        .parse(r#"{"text": "one", "final": false}"#)
        .unwrap();
    assert!(!flagged.is_final);
}

#[test]
fn empty_broken_and_hostile_messages_are_skipped_or_clamped() {
    let timeline = Timeline::default();
    assert_eq!(timeline.parse(r#"{"text": ""}"#), None);
    assert_eq!(timeline.parse(r#"{"partial": "  "}"#), None);
    assert_eq!(timeline.parse("not json"), None);
    assert_eq!(timeline.parse(r#"{"other": 1}"#), None);
    assert_eq!(timeline.parse("[1,2]"), None);
    let r = timeline
        .parse(r#"{"text": "x", "start": -5, "end": 1e308, "confidence": 7}"#)
        .unwrap();
    assert_eq!(r.start, Duration::ZERO);
    assert_eq!(r.end, Duration::MAX);
    assert_eq!(r.confidence, Some(1.0));
}
