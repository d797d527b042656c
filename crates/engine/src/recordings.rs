//! [`RecordingSink`]: who is told about a call's recordings, and when they are final.
//!
//! A recording's file is closed by the writer when its media task finishes it, but it
//! is not final then: the `record` verb may still trim it, and the bot may read it
//! (transcription) or write beside it (the recorder bot's metadata JSON) until it
//! returns. So a call's recordings are handed over once the call is over, its bot has
//! finished, its media task has ended and the writer has closed every file it was
//! given before (a flush through the writer's queue).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::engine::Shared;
use crate::writer::WriterCommand;

/// Told about the recordings of every call, e.g. to upload them to object storage
/// ([`EngineBuilder::recording_sink`](crate::EngineBuilder::recording_sink)). Both
/// methods are called on the engine's tasks and must return at once (hand the work to
/// a task of your own): a call never waits for a sink.
pub trait RecordingSink: Send + Sync + fmt::Debug + 'static {
    /// A call starts writing a recording at `path` (absolute): it is not final until
    /// [`finished`](Self::finished) names it.
    fn opened(&self, path: &Path);

    /// The call that wrote `paths` is over: its bot has finished and every file is
    /// closed. Files that never came to be (the call ended first) may be named too.
    fn finished(&self, paths: Vec<PathBuf>);
}

/// The recordings one call started, in order.
#[derive(Debug, Default)]
pub(crate) struct CallRecordings {
    paths: Mutex<Vec<PathBuf>>,
}

impl CallRecordings {
    /// Notes a recording about to be opened at `path`.
    pub(crate) fn started(&self, shared: &Shared, path: &Path) {
        let Some(sink) = &shared.settings.recording_sink else {
            return;
        };
        sink.opened(path);
        self.paths
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(path.to_owned());
    }

    /// Hands the call's recordings to the sink once its media task has ended and the
    /// writer has closed them, on a task of the engine's tracker (the call task does
    /// not wait).
    pub(crate) fn hand_over(&self, shared: &Arc<Shared>, media: Option<JoinHandle<()>>) {
        let paths = std::mem::take(&mut *self.paths.lock().unwrap_or_else(PoisonError::into_inner));
        let Some(sink) = shared.settings.recording_sink.clone() else {
            return;
        };
        if paths.is_empty() {
            return;
        }
        let writer = shared.writer.clone();
        let task = async move {
            // The media task sends its last `Finish` commands before it ends.
            if let Some(media) = media {
                let _ = media.await;
            }
            // The writer works in order: once it answers, everything sent before is
            // closed. A writer already stopped closed every file before it went.
            let (done, flushed) = oneshot::channel();
            if writer.send(WriterCommand::Flush { done }).is_ok() {
                let _ = flushed.await;
            }
            sink.finished(paths);
        };
        shared.tracker.spawn(task.in_current_span());
    }
}
