//! Errors of the engine: [`BuildError`] when the settings do not fit together,
//! [`EngineError`] when a running engine cannot go on.

use std::io;
use std::sync::Arc;

/// Result of the engine's runtime operations.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// The settings given to [`EngineBuilder`](crate::EngineBuilder) do not make an engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No [`Client`](voicebot_callcontrol::Client) was given.
    #[error("the engine needs a Call Control client (`.client(..)`)")]
    MissingClient,
    /// No route point with a bot was given.
    #[error("the engine needs at least one route point with a bot (`.route_point(..)`)")]
    NoRoutePoint,
    /// The same route point was given twice.
    #[error("route point {0} was given twice")]
    DuplicateRoutePoint(String),
    /// A setting is out of range.
    #[error("{setting}: {reason}")]
    OutOfRange {
        /// Which setting.
        setting: &'static str,
        /// Why it is refused.
        reason: String,
    },
}

/// Why [`Engine::run`](crate::Engine::run) stopped with an error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The metrics and health listener could not be bound.
    #[error("cannot listen for metrics on {addr}")]
    MetricsListener {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: Arc<io::Error>,
    },
    /// The PBX event stream ended while the engine was running (the client was shut down).
    #[error("the PBX event stream ended")]
    EventsEnded,
    /// Calls were still running when the shutdown deadline passed; they were aborted.
    #[error("{0} call(s) did not finish before the shutdown deadline and were aborted")]
    ShutdownTimedOut(usize),
}
