//! [`Speaker`]: text in, 8 kHz prompts out, sentence by sentence and cached.

use std::fmt;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use voicebot_media::{Prompt, resample_to_8k};

use super::cache::TtsCache;
use super::error::TtsError;
use super::sentences::split_sentences;
use super::{SynthesizedAudio, Synthesizer};

/// Sentences synthesised ahead of the one playing.
const SENTENCES_AHEAD: usize = 2;

/// The front of a [`Synthesizer`] that calls use: splits text into sentences, synthesises them
/// in order on a task of its own, resamples each to 8 kHz and keeps it in the optional disk
/// [`TtsCache`]. Cheap to clone; clones share the engine and the cache.
#[derive(Clone)]
pub struct Speaker {
    engine: Arc<dyn Synthesizer>,
    cache: Option<TtsCache>,
}

impl Speaker {
    /// A speaker for `engine`, without a cache.
    pub fn new(engine: impl Synthesizer + 'static) -> Self {
        Self::from_arc(Arc::new(engine))
    }

    /// A speaker for a shared engine, without a cache.
    pub fn from_arc(engine: Arc<dyn Synthesizer>) -> Self {
        Self {
            engine,
            cache: None,
        }
    }

    /// Keeps synthesised sentences in `cache`.
    #[must_use]
    pub fn with_cache(mut self, cache: TtsCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The engine.
    #[must_use]
    pub fn engine(&self) -> &Arc<dyn Synthesizer> {
        &self.engine
    }

    /// The cache, if there is one.
    #[must_use]
    pub fn cache(&self) -> Option<&TtsCache> {
        self.cache.as_ref()
    }

    /// Starts speaking `text`: sentences come out of the returned stream in order as soon as
    /// each is ready, while the next ones are being synthesised (two ahead at most).
    ///
    /// # Cancellation
    /// Dropping the stream stops the synthesis (a running engine program is killed).
    pub fn speak(&self, text: &str, voice: Option<&str>) -> SpeechStream {
        let sentences = split_sentences(text);
        let (sender, receiver) = mpsc::channel(SENTENCES_AHEAD);
        if sentences.is_empty() {
            // An empty text is an error the first `next` reports.
            let _ = sender.try_send(Err(TtsError::EmptyText));
            return SpeechStream {
                sentences: receiver,
                producer: None,
            };
        }
        let speaker = self.clone();
        let voice = voice.map(str::to_owned);
        let producer = tokio::spawn(async move {
            for sentence in sentences {
                let audio = speaker.sentence(&sentence, voice.as_deref()).await;
                let failed = audio.is_err();
                // The stream was dropped, or the text cannot be spoken to the end: stop.
                if sender.send(audio).await.is_err() || failed {
                    return;
                }
            }
        });
        SpeechStream {
            sentences: receiver,
            producer: Some(producer.abort_handle()),
        }
    }

    /// Synthesises all of `text` and returns it as one prompt (for prompts that loop, or
    /// files).
    ///
    /// # Errors
    /// [`TtsError::EmptyText`] for a text with nothing to say, else the first sentence's error.
    pub async fn synthesize(&self, text: &str, voice: Option<&str>) -> Result<Prompt, TtsError> {
        let mut stream = self.speak(text, voice);
        let mut samples: Vec<i16> = Vec::new();
        while let Some(sentence) = stream.next().await {
            samples.extend_from_slice(sentence?.samples());
        }
        Prompt::from_samples(samples).map_err(|_| TtsError::EmptyText)
    }

    /// One sentence (or any piece of text) as 8 kHz audio: from the cache, else from the engine
    /// (then cached).
    ///
    /// # Errors
    /// The engine's [`TtsError`], or [`TtsError::NotAudio`] when its answer does not decode.
    pub async fn sentence(&self, text: &str, voice: Option<&str>) -> Result<Prompt, TtsError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TtsError::EmptyText);
        }
        let voice = voice.or(self.engine.default_voice());
        let key = format!(
            "{}\n{}\n{text}",
            self.engine.identity(),
            voice.unwrap_or_default()
        );
        if let Some(cache) = &self.cache {
            let (cache, key) = (cache.clone(), key.clone());
            if let Ok(Some(prompt)) = tokio::task::spawn_blocking(move || cache.get(&key)).await {
                return Ok(prompt);
            }
        }
        let audio = self.engine.synthesize(text, voice).await?;
        let prompt = to_8k(audio)?;
        if let Some(cache) = &self.cache {
            let (cache, stored) = (cache.clone(), prompt.clone());
            // The caller need not wait for the disk; a failed write only costs a later miss.
            let _ = tokio::task::spawn_blocking(move || cache.put(&key, &stored)).await;
        }
        Ok(prompt)
    }

    /// Synthesises one short word with the default voice, bypassing the cache: whether the
    /// engine works as configured (the program exists, the voice exists, the server answers).
    ///
    /// # Errors
    /// The engine's [`TtsError`].
    pub async fn check(&self) -> Result<(), TtsError> {
        let voice = self.engine.default_voice();
        let audio = self.engine.synthesize("Check.", voice).await?;
        to_8k(audio).map(drop)
    }
}

/// Converts an engine's answer to an 8 kHz prompt with the media crate's loader and resampler.
fn to_8k(audio: SynthesizedAudio) -> Result<Prompt, TtsError> {
    let not_audio = |reason: String| TtsError::NotAudio { reason };
    match audio {
        SynthesizedAudio::Wav(bytes) => {
            Prompt::from_wav_bytes(&bytes).map_err(|error| not_audio(error.to_string()))
        }
        SynthesizedAudio::Pcm { samples, rate } => {
            let floats: Vec<f32> = samples
                .iter()
                .map(|&sample| f32::from(sample) / 32_768.0)
                .collect();
            let resampled = resample_to_8k(&floats, rate)
                .map_err(|error| not_audio(format!("cannot resample from {rate} Hz: {error}")))?;
            Prompt::from_samples(resampled).map_err(|_| not_audio("no samples".to_owned()))
        }
    }
}

impl fmt::Debug for Speaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Speaker")
            .field("engine", &self.engine)
            .field("cache", &self.cache.as_ref().map(TtsCache::dir))
            .finish()
    }
}

/// The sentences of one [`Speaker::speak`], as 8 kHz prompts in order. Ends after the last
/// sentence, or after the first error.
#[derive(Debug)]
pub struct SpeechStream {
    sentences: mpsc::Receiver<Result<Prompt, TtsError>>,
    producer: Option<AbortHandle>,
}

impl SpeechStream {
    /// The next sentence's audio; `None` once everything was said.
    ///
    /// # Errors
    /// The sentence's [`TtsError`]; nothing follows it.
    pub async fn next(&mut self) -> Option<Result<Prompt, TtsError>> {
        self.sentences.recv().await
    }
}

impl Drop for SpeechStream {
    fn drop(&mut self) {
        if let Some(producer) = &self.producer {
            producer.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_trait::async_trait;

    use super::*;

    /// A synthesiser that says every text as one 100 ms tone per word, at 16 kHz, and counts
    /// its calls; "fail" makes it fail.
    #[derive(Debug, Default)]
    struct Tones {
        calls: AtomicUsize,
    }

    #[async_trait]
    impl Synthesizer for Tones {
        fn identity(&self) -> String {
            "tones".to_owned()
        }

        fn default_voice(&self) -> Option<&str> {
            None
        }

        async fn synthesize(
            &self,
            text: &str,
            _: Option<&str>,
        ) -> Result<SynthesizedAudio, TtsError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if text.contains("fail") {
                return Err(TtsError::NotAudio {
                    reason: "asked to fail".to_owned(),
                });
            }
            let words = text.split_whitespace().count();
            Ok(SynthesizedAudio::Pcm {
                samples: (0..words * 1_600)
                    .map(|n| ((n % 16) as i16 - 8) * 1_000)
                    .collect(),
                rate: 16_000,
            })
        }
    }

    #[tokio::test]
    async fn sentences_come_out_in_order_at_8_khz() {
        let speaker = Speaker::new(Tones::default());
        let mut stream = speaker.speak("One two. Three four five! Six", None);
        let lengths: Vec<usize> = [
            stream.next().await,
            stream.next().await,
            stream.next().await,
        ]
        .into_iter()
        .map(|sentence| sentence.unwrap().unwrap().len_samples())
        .collect();
        // 100 ms per word at 8 kHz.
        assert_eq!(lengths, [1_600, 2_400, 800]);
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn a_failing_sentence_ends_the_stream_with_its_error() {
        let speaker = Speaker::new(Tones::default());
        let mut stream = speaker.speak("Fine. Then fail. Never said.", None);
        assert!(stream.next().await.unwrap().is_ok());
        assert!(matches!(
            stream.next().await,
            Some(Err(TtsError::NotAudio { .. }))
        ));
        assert!(stream.next().await.is_none());
        assert_eq!(
            speaker.synthesize("  ", None).await.unwrap_err(),
            TtsError::EmptyText
        );
    }

    #[tokio::test]
    async fn the_cache_answers_the_second_time() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Arc::new(Tones::default());
        let speaker = Speaker::from_arc(Arc::clone(&engine) as Arc<dyn Synthesizer>)
            .with_cache(TtsCache::open(dir.path(), 1 << 20).unwrap());
        let first = speaker
            .synthesize("Hello there. Goodbye.", None)
            .await
            .unwrap();
        assert_eq!(engine.calls.load(Ordering::SeqCst), 2);
        let again = speaker
            .synthesize("Hello there. Goodbye.", None)
            .await
            .unwrap();
        assert_eq!(
            engine.calls.load(Ordering::SeqCst),
            2,
            "both sentences cached"
        );
        assert_eq!(first, again);
        // Another voice is another entry.
        speaker
            .synthesize("Hello there.", Some("other"))
            .await
            .unwrap();
        assert_eq!(engine.calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn espeak_ng_through_the_speaker_is_speech_at_8_khz() {
        let speaker = Speaker::new(super::super::Espeak::builder().build().unwrap());
        speaker.check().await.unwrap();
        let prompt = speaker
            .synthesize("Press one for sales.", None)
            .await
            .unwrap();
        // About a second of speech; espeak-ng at 175 words per minute.
        let seconds = prompt.duration().as_secs_f64();
        assert!((0.7..4.0).contains(&seconds), "{seconds} s");
        let loud = prompt.samples().iter().filter(|s| s.abs() > 1_000).count();
        assert!(loud > 1_000, "not silence: {loud} loud samples");
    }
}
