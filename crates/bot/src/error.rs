//! Errors: [`CallError`] for verbs, [`BotError`] for what a bot returns, and
//! [`BotConfigError`] for building bots from configuration.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// A shareable error source (so that [`CallError`] is `Clone`).
pub type ErrorSource = Arc<dyn Error + Send + Sync>;

/// Result of a call verb.
pub type CallResult<T> = Result<T, CallError>;

/// Why a call verb failed. Timeouts and barge-in are outcomes, never errors.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The caller hung up (or the PBX removed the call). Expected: bots usually
    /// just return it, and the engine logs it at debug level.
    #[error("the caller hung up")]
    Hangup,
    /// We already ended our part (hung up, transferred, routed away).
    #[error("the call has ended on our side")]
    Ended,
    /// The PBX refused the request.
    #[error("the PBX refused the request ({status}): {reason}")]
    Rejected {
        /// HTTP status of the refusal.
        status: u16,
        /// The PBX's reason text (`reasontext`), or the status's meaning.
        reason: String,
    },
    /// The PBX could not be reached.
    #[error("connection to the PBX failed")]
    Connection(#[source] ErrorSource),
    /// Audio could not be played, heard or recorded.
    #[error("call media failed")]
    Media(#[source] ErrorSource),
    /// The engine is shutting down.
    #[error("the engine is shutting down")]
    Shutdown,
    /// The verb's settings are contradictory (e.g. `min_digits` above `max_digits`).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl CallError {
    /// Whether the caller hung up: a normal end of a call, not a failure.
    pub fn is_hangup(&self) -> bool {
        matches!(self, Self::Hangup)
    }

    /// A [`CallError::Connection`] from any error.
    pub fn connection(source: impl Error + Send + Sync + 'static) -> Self {
        Self::Connection(Arc::new(source))
    }

    /// A [`CallError::Media`] from any error.
    pub fn media(source: impl Error + Send + Sync + 'static) -> Self {
        Self::Media(Arc::new(source))
    }
}

/// What a bot's `handle` returns on failure: any error, boxed.
///
/// `?` converts every `Error + Send + Sync + 'static` into it, so bots can mix
/// [`CallError`]s with their own errors. It does not implement `Error` itself (that
/// would collide with the blanket conversion).
pub struct BotError {
    inner: Box<dyn Error + Send + Sync>,
}

impl BotError {
    /// An error from a message, for failures that have no error type.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self {
            inner: Box::new(Message(message.to_string())),
        }
    }

    /// Whether this is a [`CallError::Hangup`]: the engine treats it as a normal end.
    pub fn is_hangup(&self) -> bool {
        self.call_error().is_some_and(CallError::is_hangup)
    }

    /// The [`CallError`] inside, if that is what it is.
    pub fn call_error(&self) -> Option<&CallError> {
        self.inner.downcast_ref()
    }

    /// The boxed error.
    pub fn into_inner(self) -> Box<dyn Error + Send + Sync> {
        self.inner
    }
}

impl<E> From<E> for BotError
where
    E: Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        Self {
            inner: Box::new(error),
        }
    }
}

impl fmt::Debug for BotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl fmt::Display for BotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)?;
        let mut source = self.inner.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error for Message {}

/// A bot could not be built from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bot `{bot}`{}: {message}", key.as_ref().map(|key| format!(", key `{key}`")).unwrap_or_default())]
pub struct BotConfigError {
    /// The bot's registered name.
    pub bot: String,
    /// The configuration key at fault, when known.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl BotConfigError {
    /// An error about `bot`, naming `key` if given.
    pub fn new(bot: impl Into<String>, key: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            bot: bot.into(),
            key: key.map(str::to_owned),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_errors_wrap_call_errors_and_others() {
        fn fails() -> Result<(), BotError> {
            Err(CallError::Hangup)?
        }
        assert!(fails().unwrap_err().is_hangup());
        let io: BotError = std::io::Error::other("disk full").into();
        assert!(!io.is_hangup());
        assert_eq!(io.to_string(), "disk full");
        assert_eq!(BotError::msg("no menu").to_string(), "no menu");
    }

    #[test]
    fn call_errors_are_cloneable_and_keep_their_source() {
        let error = CallError::media(std::io::Error::other("device gone"));
        let copy = error.clone();
        assert_eq!(copy.source().unwrap().to_string(), "device gone");
        assert!(!copy.is_hangup());
    }

    #[test]
    fn config_errors_name_bot_and_key() {
        let error = BotConfigError::new("menu", Some("greeting"), "missing");
        assert_eq!(error.to_string(), "bot `menu`, key `greeting`: missing");
        let error = BotConfigError::new("menu", None, "unknown bot");
        assert_eq!(error.to_string(), "bot `menu`: unknown bot");
    }
}
