//! [`TtsError`]: why a piece of text could not be turned into speech.

use std::time::Duration;

use crate::error::ConfigError;

/// A synthesis failed. Configuration mistakes found when an engine is built are
/// [`TtsError::Config`]; everything else happens per request and costs that prompt only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TtsError {
    /// A setting was rejected when the engine was built.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The speech server's URL is not an `http(s)://` URL, or the HTTP client cannot be built.
    #[error("invalid speech server URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was rejected.
        reason: String,
    },
    /// There was nothing to say (empty or only whitespace).
    #[error("the text to speak is empty")]
    EmptyText,
    /// The engine's program could not be started.
    #[error("cannot start {program:?}: {reason}")]
    Spawn {
        /// The program.
        program: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The engine's program failed.
    #[error("{program:?} failed ({status}): {stderr}")]
    Program {
        /// The program.
        program: String,
        /// Its exit status.
        status: String,
        /// The start of what it wrote on stderr.
        stderr: String,
    },
    /// The engine took longer than allowed for one request.
    #[error("the speech engine gave no answer within {waited:?}")]
    Timeout {
        /// How long it was given.
        waited: Duration,
    },
    /// The server could not be reached or the connection broke.
    #[error("speech server connection: {reason}")]
    Connection {
        /// What went wrong (never carries the API key).
        reason: String,
    },
    /// The server answered with an error status.
    #[error("the speech server answered {status}: {body}")]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The start of the response body (at most 512 bytes).
        body: String,
    },
    /// The engine's answer is not audio this crate can read.
    #[error("the speech engine's answer is not usable audio: {reason}")]
    NotAudio {
        /// Why.
        reason: String,
    },
    /// The engine's answer is larger than allowed.
    #[error("the speech engine's answer exceeds {limit_bytes} bytes")]
    TooLarge {
        /// The limit.
        limit_bytes: usize,
    },
}

impl TtsError {
    /// Whether this is a configuration error (fixing settings, not retrying, helps).
    #[must_use]
    pub fn is_config(&self) -> bool {
        matches!(self, Self::Config(_))
    }
}

/// Cuts `text` to at most `max_bytes` bytes on a character boundary, marking the cut.
pub(crate) fn truncate(text: &str, max_bytes: usize) -> String {
    let text = text.trim();
    if text.len() <= max_bytes {
        return text.to_owned();
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate(" short ", 512), "short");
        let long = "é".repeat(300);
        let cut = truncate(&long, 511);
        assert!(cut.ends_with('…'));
        assert!(cut.len() <= 511 + '…'.len_utf8());
        assert_eq!(cut.chars().filter(|c| *c == 'é').count(), 255);
    }
}
