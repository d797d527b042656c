//! Errors of the dispatch crate.

/// Why a [`gather`](crate::gather()) stopped without a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatherError<E> {
    /// The digit queue closed: the call ended.
    #[error("the call's digit queue closed")]
    Closed,
    /// The prompter failed to play a prompt.
    #[error("a gather prompt failed")]
    Prompt(#[source] E),
}

/// Why [`DispatchHandle`](crate::DispatchHandle) could not reach the dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the dispatcher has stopped")]
pub struct DispatcherGone;
