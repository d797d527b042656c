//! The `verbose_json` answer of the OpenAI-compatible transcription API, turned into
//! [`Recognition`]s: one per segment, with the words that fall inside it.

use serde::Deserialize;

use crate::{
    error::{Result, SpeechError},
    recognition::{Recognition, Word, normalize, seconds},
};

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    text: String,
    #[serde(default)]
    duration: Option<f64>,
    #[serde(default)]
    segments: Vec<SegmentJson>,
    #[serde(default)]
    words: Vec<WordJson>,
}

#[derive(Debug, Deserialize)]
struct SegmentJson {
    start: f64,
    end: f64,
    text: String,
    /// Whisper's mean log probability of the segment's tokens.
    #[serde(default)]
    avg_logprob: Option<f64>,
    /// Words, as some servers (whisper.cpp) nest them in segments.
    #[serde(default)]
    words: Vec<WordJson>,
}

#[derive(Debug, Deserialize)]
struct WordJson {
    word: String,
    start: f64,
    end: f64,
    #[serde(default)]
    probability: Option<f64>,
}

/// Parses a `verbose_json` (or plain `json`: `{"text": ...}`) answer.
///
/// # Errors
/// [`SpeechError::Protocol`] for anything else.
pub(crate) fn parse(body: &str) -> Result<Vec<Recognition>> {
    let answer: Answer = serde_json::from_str(body).map_err(|error| SpeechError::Protocol {
        reason: format!("the transcription is not the API's JSON: {error}"),
    })?;
    let top_words: Vec<Word> = answer.words.iter().filter_map(word).collect();
    let mut results: Vec<Recognition> = answer
        .segments
        .iter()
        .filter_map(|segment| {
            let text = normalize(&segment.text);
            if text.is_empty() {
                return None;
            }
            let (start, end) = (seconds(segment.start), seconds(segment.end));
            let mut words: Vec<Word> = segment.words.iter().filter_map(word).collect();
            if words.is_empty() {
                words = top_words
                    .iter()
                    .filter(|w| w.start >= start && w.end <= end)
                    .cloned()
                    .collect();
            }
            Some(Recognition {
                text,
                is_final: true,
                start,
                end,
                // exp(mean log probability): the geometric mean of the token probabilities.
                confidence: segment.avg_logprob.map(|p| p.exp().clamp(0.0, 1.0) as f32),
                words,
            })
        })
        .collect();
    // An answer without segments (`json`, or a server that gives words only) is one result.
    let text = normalize(&answer.text);
    if results.is_empty() && !text.is_empty() {
        let end = top_words
            .last()
            .map(|w| w.end)
            .or(answer.duration.map(seconds))
            .unwrap_or_default();
        results.push(Recognition {
            text,
            is_final: true,
            start: top_words.first().map(|w| w.start).unwrap_or_default(),
            end,
            confidence: None,
            words: top_words,
        });
    }
    Ok(results)
}

fn word(json: &WordJson) -> Option<Word> {
    let text = normalize(&json.word);
    (!text.is_empty()).then(|| Word {
        text,
        start: seconds(json.start),
        end: seconds(json.end),
        confidence: json.probability.map(|p| p.clamp(0.0, 1.0) as f32),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn segments_carry_their_words_from_the_top_level_list() {
        let body = r#"{"task":"transcribe","language":"english","duration":3.0,
            "text":" Support, please. Thanks!",
            "segments":[{"id":0,"start":0.0,"end":1.5,"text":" Support, please.","avg_logprob":-0.1},
                        {"id":1,"start":1.5,"end":3.0,"text":" Thanks!"}],
            "words":[{"word":"Support","start":0.2,"end":0.8},{"word":"please","start":0.9,"end":1.4},
                     {"word":"Thanks","start":1.6,"end":2.2}]}"#;
        let results = parse(body).unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].text, "support please");
        assert_eq!(results[0].words.len(), 2);
        assert_eq!(results[0].words[1].start, Duration::from_millis(900));
        assert!((results[0].confidence.unwrap() - 0.905).abs() < 0.01);
        assert_eq!(results[1].words[0].text, "thanks");
        assert_eq!(results[1].confidence, None);
    }

    #[test]
    fn plain_json_is_one_result_and_garbage_is_a_protocol_error() {
        let results = parse(r#"{"text":"hello there"}"#).unwrap();
        assert_eq!(results[0].text, "hello there");
        assert!(parse(r#"{"text":""}"#).unwrap().is_empty());
        assert!(matches!(
            parse("<html>oops</html>"),
            Err(SpeechError::Protocol { .. })
        ));
        // Negative or NaN-like times never panic.
        let odd = parse(r#"{"segments":[{"start":-1,"end":1e300,"text":"x"}]}"#).unwrap();
        assert_eq!(odd[0].start, Duration::ZERO);
    }
}
