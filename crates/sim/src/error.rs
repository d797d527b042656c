//! [`SimError`]: what can go wrong starting or driving the simulator.

use voicebot_model::DigitError;

use crate::CallEnd;

/// Errors of the simulator API (never of a request: requests get HTTP answers).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The listening socket could not be bound.
    #[error("cannot listen: {0}")]
    Bind(#[from] std::io::Error),
    /// The call ended before the step could be carried out.
    #[error("the call has ended: {0:?}")]
    CallEnded(CallEnd),
    /// The step needs a connected call.
    #[error("the call is not connected")]
    NotConnected,
    /// The dialled number is not a DN of the simulated PBX.
    #[error("unknown destination {0:?}")]
    UnknownDestination(String),
    /// A key that is not a DTMF digit.
    #[error(transparent)]
    Digit(#[from] DigitError),
    /// A WAV file could not be read.
    #[error("cannot read WAV {path}: {reason}")]
    Wav {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A scenario file is invalid.
    #[error("invalid script: {0}")]
    Script(String),
    /// The TLS identity could not be made or read.
    #[error("TLS: {0}")]
    Tls(String),
    /// A callers file or configuration file is invalid.
    #[error("{0}")]
    Config(String),
    /// The simulator was shut down or restarted.
    #[error("the simulator has stopped")]
    Stopped,
}

/// Result alias of this crate.
pub type Result<T, E = SimError> = std::result::Result<T, E>;
