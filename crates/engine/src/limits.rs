//! Call limits: [`BusyTreatment`] for calls beyond `max_calls`, and the admission
//! semaphore (mini-redis caps its connections the same way).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use voicebot_bot::PromptSource;

/// What happens to a call that arrives when the engine is at `max_calls` (or shutting
/// down).
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum BusyTreatment {
    /// Drop the call at once.
    #[default]
    Drop,
    /// Send the call elsewhere: `divert` while it rings, `transferto` once connected
    /// (route-point calls usually arrive connected).
    Divert(String),
    /// Play a prompt (not interruptible), then drop. The prompt's media does not count
    /// against the limit: it is short and ends by itself.
    PlayThenDrop(PromptSource),
}

impl BusyTreatment {
    /// The label used in metrics and events.
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::Drop => "drop",
            Self::Divert(_) => "divert",
            Self::PlayThenDrop(_) => "busy_prompt",
        }
    }
}

/// What happens to calls that were already connected to a route point when the
/// engine connected for the first time: calls of an engine that was killed or
/// crashed, whose bots died with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AdoptedCalls {
    /// Start their bots again, from the beginning.
    #[default]
    Restart,
    /// Send them to the fallback destination (which must be set).
    Fallback,
}

/// Admission control: one permit per running call.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    permits: Arc<Semaphore>,
}

impl Limits {
    pub(crate) fn new(max_calls: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max_calls)),
        }
    }

    /// A permit if the engine is below its limit; it is released when the call ends.
    pub(crate) fn try_admit(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.permits).try_acquire_owned().ok()
    }
}
