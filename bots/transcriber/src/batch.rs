//! Batch transcription of a finished recording: the recording goes to the configured
//! [`Transcriber`] (a Whisper-class server or program), channel by channel, and the results go
//! to the sinks as transcript lines with the call's id.
//!
//! **The recording is never lost.** It is written by the engine's `record` before any of this
//! starts, and only read here. While a transcription is outstanding a marker file sits beside
//! it (`<recording>.pending`); it is removed once every line is written, and on a final failure
//! it keeps the error, so a failed transcription is visible on disk and can be redone with
//! `voicebot transcribe`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use voicebot_bot::speech::{RetryPolicy, Transcriber, transcribe_recording};

use crate::line::TranscriptLine;
use crate::sinks::Sinks;

/// What a batch transcription wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchSummary {
    /// Lines written (one per utterance and channel).
    pub lines: usize,
    /// Channels transcribed.
    pub channels: usize,
}

/// The marker beside `recording` while its transcription is outstanding or failed.
pub fn pending_marker(recording: &Path) -> PathBuf {
    let mut name = recording.as_os_str().to_owned();
    name.push(".pending");
    PathBuf::from(name)
}

/// Transcribes `recording` with `transcriber` (retried by `retry`) and writes every result to
/// `sinks` as a line of call `call_id`, channels in order, with their channel numbers when the
/// recording has more than one.
///
/// # Errors
/// The transcriber's last error once the retries are spent; the marker then holds it.
pub async fn transcribe_file(
    transcriber: &Arc<dyn Transcriber>,
    retry: &RetryPolicy,
    recording: &Path,
    call_id: i64,
    sinks: &mut Sinks,
) -> Result<BatchSummary, voicebot_bot::SpeechError> {
    let marker = pending_marker(recording);
    if let Err(error) = tokio::fs::write(&marker, b"transcription queued\n").await {
        tracing::warn!(%error, path = %marker.display(), "cannot write the pending marker");
    }
    let transcripts = match transcribe_recording(transcriber.as_ref(), recording, retry).await {
        Ok(transcripts) => transcripts,
        Err(error) => {
            tracing::warn!(%error, recording = %recording.display(), "transcription failed; the recording is kept");
            let _ = tokio::fs::write(&marker, format!("transcription failed: {error}\n")).await;
            return Err(error);
        }
    };
    let multichannel = transcripts.len() > 1;
    let mut summary = BatchSummary {
        channels: transcripts.len(),
        ..BatchSummary::default()
    };
    for transcript in &transcripts {
        for result in &transcript.results {
            let mut line = TranscriptLine::new(call_id, result);
            if multichannel {
                line.channel = Some(transcript.channel);
            }
            sinks.write(&line).await;
            summary.lines += 1;
        }
    }
    let _ = tokio::fs::remove_file(&marker).await;
    Ok(summary)
}
