//! [`transcribe_recording`]: a recording, channel by channel, through a [`Transcriber`], with
//! retries.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use super::Transcriber;
use crate::{
    error::{Result, SpeechError},
    recognition::Recognition,
};

/// How failed transcriptions are retried: `tries` in all, waiting `first_delay` before the
/// second, doubling up to `max_delay`. Only failures that may pass are retried (the engine
/// unreachable or timing out, a 5xx, 408 or 429 answer, a failed program); a refused request
/// (other 4xx), an unreadable answer or a missing file fails at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (at least 1).
    pub tries: u32,
    /// The wait before the first retry.
    pub first_delay: Duration,
    /// The longest wait between retries.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 5 tries, waiting 1 s, 2 s, 4 s, 8 s.
    fn default() -> Self {
        Self {
            tries: 5,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// The transcript of one channel of a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelTranscript {
    /// The channel, from 0 (in a stereo call recording, 0 is the caller and 1 the bot).
    pub channel: u16,
    /// Its utterances in time order, timed from the start of the recording.
    pub results: Vec<Recognition>,
}

/// Transcribes the WAV recording at `wav`: a mono file as it is, each channel of a multichannel
/// file as a mono file of its own (written beside the system's temporary files and removed
/// afterwards). Each transcription is retried by `retry`. The recording itself is only read.
///
/// # Errors
/// [`SpeechError::Io`] if the recording cannot be read or split; the transcriber's last error
/// once the retries are spent (or at once when retrying cannot help).
///
/// # Cancellation
/// Dropping the future stops the transcription; temporary channel files are removed.
pub async fn transcribe_recording(
    transcriber: &dyn Transcriber,
    wav: &Path,
    retry: &RetryPolicy,
) -> Result<Vec<ChannelTranscript>> {
    let source = wav.to_path_buf();
    let channels = tokio::task::spawn_blocking(move || split(&source))
        .await
        .map_err(|_| SpeechError::Closed)??;
    let mut transcripts = Vec::new();
    for (channel, file) in channels.files().iter().enumerate() {
        let results = with_retries(transcriber, file, retry).await?;
        transcripts.push(ChannelTranscript {
            channel: u16::try_from(channel).unwrap_or(u16::MAX),
            results,
        });
    }
    Ok(transcripts)
}

/// Whether retrying `error` may help.
#[must_use]
pub(crate) fn is_retryable(error: &SpeechError) -> bool {
    match error {
        SpeechError::Unreachable { .. }
        | SpeechError::ProgramFailed { .. }
        | SpeechError::Stalled { .. } => true,
        SpeechError::Rejected { status, .. } => *status >= 500 || *status == 408 || *status == 429,
        _ => false,
    }
}

async fn with_retries(
    transcriber: &dyn Transcriber,
    file: &Path,
    retry: &RetryPolicy,
) -> Result<Vec<Recognition>> {
    let mut delay = retry.first_delay;
    let mut attempt = 1;
    loop {
        match transcriber.transcribe(file).await {
            Ok(results) => return Ok(results),
            Err(error) if attempt < retry.tries.max(1) && is_retryable(&error) => {
                tracing::warn!(%error, attempt, file = %file.display(), ?delay, "transcription failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(retry.max_delay);
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

/// The files to transcribe: the recording, or its channels written out one by one.
enum Channels {
    Mono(PathBuf),
    /// Temporary files, removed on drop.
    Split(Vec<PathBuf>),
}

impl Channels {
    fn files(&self) -> &[PathBuf] {
        match self {
            Self::Mono(path) => std::slice::from_ref(path),
            Self::Split(paths) => paths,
        }
    }
}

impl Drop for Channels {
    fn drop(&mut self) {
        if let Self::Split(paths) = self {
            for path in paths {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

fn split(wav: &Path) -> Result<Channels> {
    let invalid = |error: hound::Error| {
        SpeechError::from(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {error}", wav.display()),
        ))
    };
    let reader = hound::WavReader::open(wav).map_err(invalid)?;
    let spec = reader.spec();
    if spec.channels <= 1 {
        return Ok(Channels::Mono(wav.to_path_buf()));
    }
    if spec.sample_format != hound::SampleFormat::Int || spec.bits_per_sample != 16 {
        return Err(invalid(hound::Error::Unsupported));
    }
    let count = usize::from(spec.channels);
    let stem = wav
        .file_stem()
        .map_or_else(|| "recording".into(), |s| s.to_string_lossy().into_owned());
    let unique = crate::staging::unique_suffix();
    let paths: Vec<PathBuf> = (0..count)
        .map(|c| std::env::temp_dir().join(format!("voicebot-{stem}-{unique}-ch{c}.wav")))
        .collect();
    // Owned from here, so a failure below removes what was written.
    let channels = Channels::Split(paths.clone());
    let mono = hound::WavSpec {
        channels: 1,
        ..spec
    };
    let mut writers = paths
        .iter()
        .map(|p| hound::WavWriter::create(p, mono))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(invalid)?;
    for (index, sample) in reader.into_samples::<i16>().enumerate() {
        let sample = sample.map_err(invalid)?;
        if let Some(writer) = writers.get_mut(index % count) {
            writer.write_sample(sample).map_err(invalid)?;
        }
    }
    for writer in writers {
        writer.finalize().map_err(invalid)?;
    }
    Ok(channels)
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Mutex,
        atomic::{AtomicU32, Ordering},
    };

    use async_trait::async_trait;

    use super::*;

    /// Reads the file it is given (so a removed temporary file fails) and answers with its
    /// first sample's value, after `failures` failures of `status`.
    #[derive(Debug)]
    struct Flaky {
        failures: AtomicU32,
        status: u16,
        seen: Mutex<Vec<i16>>,
    }

    #[async_trait]
    impl Transcriber for Flaky {
        async fn transcribe(&self, wav: &Path) -> Result<Vec<Recognition>> {
            if self.failures.load(Ordering::SeqCst) > 0 {
                self.failures.fetch_sub(1, Ordering::SeqCst);
                return Err(SpeechError::Rejected {
                    status: self.status,
                    body: "busy".into(),
                });
            }
            let first = hound::WavReader::open(wav)
                .unwrap()
                .into_samples::<i16>()
                .next()
                .unwrap()
                .unwrap();
            self.seen.lock().unwrap().push(first);
            Ok(vec![Recognition {
                text: format!("sample {first}"),
                is_final: true,
                start: Duration::ZERO,
                end: Duration::from_secs(1),
                confidence: None,
                words: Vec::new(),
            }])
        }
    }

    /// A stereo recording named `stem`: tests run at once use stems of their own, since
    /// the channel files in the shared temporary folder are named after it.
    fn stereo(dir: &Path, stem: &str) -> PathBuf {
        let path = dir.join(format!("{stem}.wav"));
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        for _ in 0..800 {
            writer.write_sample(11i16).unwrap();
            writer.write_sample(22i16).unwrap();
        }
        writer.finalize().unwrap();
        path
    }

    #[tokio::test(start_paused = true)]
    async fn stereo_is_split_per_channel_and_5xx_is_retried_with_backoff() {
        let dir = tempfile::tempdir().unwrap();
        let wav = stereo(dir.path(), "split-and-retried");
        let flaky = Flaky {
            failures: AtomicU32::new(2),
            status: 503,
            seen: Mutex::default(),
        };
        let started = tokio::time::Instant::now();
        let transcripts = transcribe_recording(&flaky, &wav, &RetryPolicy::default())
            .await
            .unwrap();
        assert_eq!(transcripts.len(), 2);
        assert_eq!(transcripts[0].results[0].text, "sample 11");
        assert_eq!(transcripts[1].channel, 1);
        assert_eq!(transcripts[1].results[0].text, "sample 22");
        // Two failures: waited 1 s, then 2 s (the paused clock moves only by the sleeps).
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        assert!(wav.exists(), "the recording is kept");
        let leftovers = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name().to_string_lossy().starts_with(&format!(
                    "voicebot-split-and-retried-{}",
                    std::process::id()
                ))
            })
            .count();
        assert_eq!(leftovers, 0, "channel files are removed");
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_request_is_not_retried_and_retries_end() {
        let dir = tempfile::tempdir().unwrap();
        let wav = stereo(dir.path(), "refused");
        let refused = Flaky {
            failures: AtomicU32::new(1),
            status: 400,
            seen: Mutex::default(),
        };
        let error = transcribe_recording(&refused, &wav, &RetryPolicy::default())
            .await
            .unwrap_err();
        assert!(matches!(error, SpeechError::Rejected { status: 400, .. }));
        let down = Flaky {
            failures: AtomicU32::new(100),
            status: 500,
            seen: Mutex::default(),
        };
        let policy = RetryPolicy {
            tries: 3,
            ..RetryPolicy::default()
        };
        assert!(transcribe_recording(&down, &wav, &policy).await.is_err());
        assert_eq!(
            down.failures.load(Ordering::SeqCst),
            97,
            "three tries, no more"
        );
        let missing = transcribe_recording(&down, &dir.path().join("nope.wav"), &policy).await;
        assert!(matches!(missing, Err(SpeechError::Io(_))));
    }
}
