//! The transcription pipeline shared by the bot and `voicebot transcribe`: frames in,
//! results out to the [`Sinks`], until the frames end or `stop` resolves.

use std::future::Future;

use futures::{Stream, StreamExt};
use voicebot_bot::speech::SessionStats;
use voicebot_bot::{Frame, RecognitionSession, SpeechError};

use crate::line::TranscriptLine;
use crate::sinks::Sinks;

/// What a transcription produced.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Final results written.
    pub finals: usize,
    /// Partial results seen (written only when enabled).
    pub partials: usize,
    /// The session's counters (frames fed, dropped, lost; restarts).
    pub stats: SessionStats,
    /// Why the recogniser ended early or did not finish, if it did.
    pub error: Option<SpeechError>,
}

/// Feeds `frames` to `session` and writes its results to `sinks` as they come, until
/// `frames` ends or `stop` resolves; then finishes the session (bounded by its finish
/// timeout) and writes the last results. Results keep the session's times: start it
/// with [`SessionOptions::call_offset`](voicebot_bot::SessionOptions::call_offset) set
/// to the call time of the first frame for call-relative times (zero for a file).
///
/// # Cancellation
/// Dropping the future drops the session (its recogniser is stopped); lines already
/// written stay.
pub async fn transcribe<S, F>(
    mut session: Box<dyn RecognitionSession>,
    mut frames: S,
    call_id: i64,
    sinks: &mut Sinks,
    stop: F,
) -> Summary
where
    S: Stream<Item = Frame> + Unpin,
    F: Future<Output = ()>,
{
    let mut summary = Summary::default();
    let mut results_open = true;
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            result = session.results().recv(), if results_open => match result {
                Some(result) => write(&mut summary, sinks, call_id, &result).await,
                None => results_open = false,
            },
            frame = frames.next() => match frame {
                // `feed` only queues, so a slow recogniser never slows the frames.
                Some(frame) => if let Err(error) = session.feed(&frame) {
                    tracing::warn!(%error, "the recogniser ended; transcription stops, the call goes on");
                    summary.error = Some(error);
                    break;
                },
                None => break,
            },
        }
    }
    summary.stats = session.stats();
    match session.finish().await {
        Ok(last) => {
            for result in &last {
                write(&mut summary, sinks, call_id, result).await;
            }
        }
        Err(error) => {
            tracing::warn!(%error, "the recogniser's last results were lost");
            summary.error.get_or_insert(error);
        }
    }
    summary
}

async fn write(
    summary: &mut Summary,
    sinks: &mut Sinks,
    call_id: i64,
    result: &voicebot_bot::Recognition,
) {
    match result.is_final {
        true if result.text.trim().is_empty() => return,
        true => summary.finals += 1,
        false => summary.partials += 1,
    }
    sinks.write(&TranscriptLine::new(call_id, result)).await;
}
