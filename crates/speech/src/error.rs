//! Errors: [`ConfigError`] for settings rejected before any audio flows, [`SpeechError`] for
//! everything that goes wrong while a session runs.

use std::{io, path::PathBuf, sync::Arc, time::Duration};

/// The result type of this crate.
pub type Result<T, E = SpeechError> = std::result::Result<T, E>;

/// A setting or grammar was rejected when a recogniser or session was built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A grammar had no phrases, or a phrase had no words.
    #[error("the grammar has no phrases")]
    EmptyGrammar,
    /// A phrase holds characters a grammar cannot carry (only letters, digits, `'` and spaces).
    #[error("phrase {phrase:?} holds characters other than letters, digits, ' and spaces")]
    InvalidPhrase {
        /// The rejected phrase.
        phrase: String,
    },
    /// A numeric setting is out of range.
    #[error("{setting} {reason}")]
    OutOfRange {
        /// The setting's name.
        setting: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A model file or directory does not exist.
    #[error("model file {path} not found")]
    ModelNotFound {
        /// The missing path.
        path: PathBuf,
    },
    /// The telephone adaptation was made for Debian's en-us acoustic model, and the configured
    /// acoustic model is another one.
    #[error(
        "the telephone adaptation fits Debian's en-us model only, not the acoustic model at \
         {model}; turn it off for other models"
    )]
    AdaptationMismatch {
        /// The configured acoustic model directory.
        model: PathBuf,
    },
    /// The embedded model files could not be written where PocketSphinx can read them.
    #[error("cannot write the telephone adaptation to {path}: {reason}")]
    ModelUnwritable {
        /// The directory it was written to.
        path: PathBuf,
        /// The I/O error.
        reason: String,
    },
    /// The recogniser cannot use this grammar (e.g. the decoder rejected the JSGF, or a word is
    /// not in its dictionary).
    #[error("grammar rejected: {reason}")]
    GrammarRejected {
        /// Why.
        reason: String,
    },
    /// The WebSocket URL is not a `ws://` or `wss://` URL.
    #[error("invalid recogniser URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The external command's program name is empty.
    #[error("the recogniser command is empty")]
    EmptyCommand,
    /// An environment variable a setting names (e.g. the API key's) is not set.
    #[error("environment variable {variable} is not set")]
    MissingEnv {
        /// The variable's name.
        variable: String,
    },
    /// A command's arguments lack the placeholder it needs.
    #[error("no argument holds {placeholder}, so the program would not know which file to read")]
    MissingPlaceholder {
        /// The placeholder, e.g. `{wav}`.
        placeholder: &'static str,
    },
}

/// A recognition session failed to start or to run.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SpeechError {
    /// Settings or grammar rejected.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The recogniser program could not be started or talked to.
    #[error("recogniser I/O: {0}")]
    Io(#[source] Arc<io::Error>),
    /// The WebSocket connection to the recogniser could not be made or broke.
    #[error("recogniser connection: {0}")]
    Connection(#[source] Arc<tokio_tungstenite::tungstenite::Error>),
    /// The recogniser said something this crate does not understand.
    #[error("recogniser protocol: {reason}")]
    Protocol {
        /// What was wrong.
        reason: String,
    },
    /// The decoder library failed (PocketSphinx returned an error code).
    #[error("decoder: {operation} failed")]
    Decoder {
        /// The failing call.
        operation: &'static str,
    },
    /// The session's worker has ended; no more audio is accepted.
    #[error("the recognition session has ended")]
    Closed,
    /// A transcription server answered with an error status.
    #[error("the transcription server answered {status}: {body}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The start of its answer (at most 512 bytes).
        body: String,
    },
    /// A transcription server could not be reached, or did not answer in time.
    #[error("the transcription server is unreachable: {reason}")]
    Unreachable {
        /// Why.
        reason: String,
    },
    /// A transcription program exited with an error.
    #[error("the transcription program failed (exit status {status:?}): {stderr}")]
    ProgramFailed {
        /// Its exit status (`None` when killed by a signal).
        status: Option<i32>,
        /// The start of its stderr (at most 512 bytes).
        stderr: String,
    },
    /// `finish` gave up waiting for the recogniser's last results.
    #[error("the recogniser did not finish within {waited:?}")]
    Stalled {
        /// How long `finish` waited.
        waited: Duration,
    },
}

impl From<io::Error> for SpeechError {
    fn from(error: io::Error) -> Self {
        Self::Io(Arc::new(error))
    }
}

impl From<tokio_tungstenite::tungstenite::Error> for SpeechError {
    fn from(error: tokio_tungstenite::tungstenite::Error) -> Self {
        Self::Connection(Arc::new(error))
    }
}

impl SpeechError {
    /// Whether this is a configuration error (fixing settings, not retrying, helps).
    #[must_use]
    pub fn is_config(&self) -> bool {
        matches!(self, Self::Config(_))
    }
}
