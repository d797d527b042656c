//! JSON result messages, shared by the external command (one per line) and the Vosk WebSocket
//! protocol (one per text message).
//!
//! Accepted shapes (unknown fields are ignored):
//!
//! ```text
//! {"text": "sales", "final": true, "start": 1.2, "end": 2.0, "confidence": 0.9}   our format
//! {"text": "one two", "final": false}                                           a partial
//! {"partial": "one tw"}                                                         Vosk partial
//! {"text": "one two", "result": [{"word": "one", "start": 0.5, "end": 0.8, "conf": 1.0}, ...]}
//! ```
//!
//! `final` defaults to `true` when `text` is present (Vosk's final results carry no flag).
//! Times are seconds from the start of the audio the recogniser was sent; the session adds the
//! call time at which that audio began. Missing times come from the words, else from the audio
//! position. `confidence` defaults to the mean of the words' `conf`. Empty texts are skipped:
//! Vosk reports every pause as `{"text": ""}`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde::Deserialize;

use crate::recognition::{Recognition, Word, normalize, seconds};

#[derive(Debug, Deserialize)]
struct Message {
    text: Option<String>,
    partial: Option<String>,
    #[serde(rename = "final")]
    is_final: Option<bool>,
    start: Option<f64>,
    end: Option<f64>,
    confidence: Option<f64>,
    #[serde(alias = "words")]
    result: Option<Vec<WordMessage>>,
}

#[derive(Debug, Deserialize)]
struct WordMessage {
    word: String,
    start: Option<f64>,
    end: Option<f64>,
    #[serde(alias = "confidence")]
    conf: Option<f64>,
}

/// Where the recogniser's audio sits in the call, shared between the task that writes audio
/// and the one that reads results.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timeline {
    inner: Arc<TimelineInner>,
}

#[derive(Debug, Default)]
struct TimelineInner {
    /// Call time (µs) of the first frame the current recogniser instance was sent.
    origin_us: AtomicU64,
    /// Call time (µs) of the end of the last frame sent.
    heard_until_us: AtomicU64,
    /// Call time (µs) of the end of the last final result.
    last_final_us: AtomicU64,
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl Timeline {
    /// A new recogniser instance starts hearing at `origin`.
    pub(crate) fn restart_at(&self, origin: Duration) {
        self.inner
            .origin_us
            .store(micros(origin), Ordering::Relaxed);
        self.inner
            .last_final_us
            .fetch_max(micros(origin), Ordering::Relaxed);
    }

    /// Audio up to `until` has been sent.
    pub(crate) fn heard(&self, until: Duration) {
        self.inner
            .heard_until_us
            .store(micros(until), Ordering::Relaxed);
    }

    fn origin(&self) -> Duration {
        Duration::from_micros(self.inner.origin_us.load(Ordering::Relaxed))
    }

    /// Parses one message; `None` for empty or unknown messages (logged at debug).
    pub(crate) fn parse(&self, json: &str) -> Option<Recognition> {
        let message: Message = match serde_json::from_str(json) {
            Ok(message) => message,
            Err(error) => {
                tracing::debug!(%error, line = json, "ignoring a recogniser message");
                return None;
            }
        };
        let (text, is_final) = match (message.text, message.partial) {
            (Some(text), _) => (text, message.is_final.unwrap_or(true)),
            (None, Some(partial)) => (partial, false),
            (None, None) => return None,
        };
        let text = normalize(&text);
        if text.is_empty() {
            return None;
        }
        let origin = self.origin();
        let at = |s: f64| origin.saturating_add(seconds(s));
        let words: Vec<Word> = message
            .result
            .unwrap_or_default()
            .into_iter()
            .map(|w| Word {
                text: normalize(&w.word),
                start: w.start.map_or(origin, at),
                end: w.end.map_or(origin, at),
                confidence: w.conf.map(unit),
            })
            .collect();
        let heard_until = Duration::from_micros(self.inner.heard_until_us.load(Ordering::Relaxed));
        let last_final = Duration::from_micros(self.inner.last_final_us.load(Ordering::Relaxed));
        let start = message
            .start
            .map(at)
            .or_else(|| words.first().map(|w| w.start))
            .unwrap_or(last_final);
        let end = message
            .end
            .map(at)
            .or_else(|| words.last().map(|w| w.end))
            .unwrap_or(heard_until)
            .max(start);
        let word_confidences: Vec<f32> = words.iter().filter_map(|w| w.confidence).collect();
        let confidence = message.confidence.map(unit).or_else(|| {
            (!word_confidences.is_empty())
                .then(|| word_confidences.iter().sum::<f32>() / word_confidences.len() as f32)
        });
        if is_final {
            self.inner
                .last_final_us
                .fetch_max(micros(end), Ordering::Relaxed);
        }
        Some(Recognition {
            text,
            is_final,
            start,
            end,
            confidence,
            words,
        })
    }
}

/// Clamps a confidence to 0..=1 (NaN becomes 0).
fn unit(value: f64) -> f32 {
    match value.is_nan() {
        true => 0.0,
        false => value.clamp(0.0, 1.0) as f32,
    }
}

#[cfg(test)]
mod tests;
