//! The recording writer: one blocking task for all calls' WAV files.
//!
//! Media tasks never touch files. They send [`WriterCommand`]s (frames are `Copy`, so
//! a command allocates nothing) down one bounded channel to a task on tokio's blocking
//! pool, which owns every open [`Recorder`]. A recording is finished (header fixed,
//! file closed) when its call's media task says so, including on hang-up and shutdown;
//! the summary goes back on the recording's own `oneshot`.

use std::collections::HashMap;
use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot};
use voicebot_bot::RecordEnd;
use voicebot_media::{Channels, Frame, RecorderBuilder, RecorderError, RecordingSummary};

/// Commands queued before a media task waits (about 40 s of one call's audio).
pub(crate) const WRITER_QUEUE: usize = 2048;

/// The outcome of a recording, sent when its file is closed.
pub(crate) type RecordingDone =
    oneshot::Sender<Result<(RecordingSummary, RecordEnd), RecorderError>>;

/// One request to the writer.
#[derive(Debug)]
pub(crate) enum WriterCommand {
    /// Create the file.
    Open {
        id: u64,
        path: PathBuf,
        channels: Channels,
    },
    /// Append the first `len` samples of `frame` from the caller.
    Caller { id: u64, frame: Frame, len: u16 },
    /// Append a frame sent to the caller (stereo recordings).
    Bot { id: u64, frame: Frame },
    /// Close the file and report.
    Finish {
        id: u64,
        end: RecordEnd,
        done: RecordingDone,
    },
    /// Close every open file and stop (the engine has stopped).
    Stop,
}

/// Runs the writer until [`WriterCommand::Stop`] or every sender is gone. Blocking: run it on the blocking pool.
pub(crate) fn run(mut commands: mpsc::Receiver<WriterCommand>) {
    let mut open: HashMap<u64, Result<voicebot_media::Recorder, RecorderError>> = HashMap::new();
    while let Some(command) = commands.blocking_recv() {
        match command {
            WriterCommand::Stop => break,
            WriterCommand::Open { id, path, channels } => {
                if let Some(parent) = path.parent()
                    && !parent.as_os_str().is_empty()
                {
                    let _ = std::fs::create_dir_all(parent);
                }
                open.insert(id, RecorderBuilder::new(path).channels(channels).create());
            }
            WriterCommand::Caller { id, frame, len } => {
                if let Some(recorder) = open.get_mut(&id) {
                    write(recorder, |r| {
                        r.write_caller(&frame.as_samples()[..usize::from(len)])
                    });
                }
            }
            WriterCommand::Bot { id, frame } => {
                if let Some(recorder) = open.get_mut(&id) {
                    write(recorder, |r| r.write_bot(frame.as_samples()));
                }
            }
            WriterCommand::Finish { id, end, done } => {
                let outcome = match open.remove(&id) {
                    Some(Ok(recorder)) => recorder.finish().map(|summary| (summary, end)),
                    Some(Err(error)) => Err(error),
                    None => continue,
                };
                if let Err(error) = &outcome {
                    tracing::warn!(%error, "recording failed");
                    metrics::counter!(crate::metrics::RECORDER_ERRORS).increment(1);
                }
                let _ = done.send(outcome);
            }
        }
    }
    // The engine is gone: close what is still open so every file is valid.
    for recorder in open.into_values().flatten() {
        let _ = recorder.finish();
    }
}

/// Applies a write; the first error poisons the recording (it is reported on finish).
fn write(
    recorder: &mut Result<voicebot_media::Recorder, RecorderError>,
    apply: impl FnOnce(&mut voicebot_media::Recorder) -> Result<(), RecorderError>,
) {
    if let Ok(active) = recorder
        && let Err(error) = apply(active)
    {
        *recorder = Err(error);
    }
}
