//! Errors of the dispatch crate.

/// Why [`DispatchHandle`](crate::DispatchHandle) could not reach the dispatcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the dispatcher has stopped")]
pub struct DispatcherGone;
