//! [`WebhookError`]: why a webhook call went to the fallback.

/// A webhook request or answer failed; the call goes to the engine's fallback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The server could not be reached, timed out or kept failing (5xx, 429) through
    /// every retry.
    #[error("webhook {url}: {reason} (gave up after {attempts} attempts)")]
    Unreachable {
        /// Where the request went.
        url: String,
        /// The last failure.
        reason: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The server answered with a status that is not retried (4xx, a redirect).
    #[error("webhook {url}: {detail}")]
    Refused {
        /// Where the request went.
        url: String,
        /// The status and what the server said.
        detail: String,
    },
    /// The answer is not a valid list of verbs.
    #[error("webhook {url}: bad answer: {what}")]
    BadAnswer {
        /// Where the answer came from.
        url: String,
        /// What is wrong with it.
        what: String,
    },
    /// A verb could not be carried out as given (contradictory settings, a URL that
    /// does not resolve).
    #[error("webhook {url}: verb {index} ({verb}): {what}")]
    BadVerb {
        /// Where the verb came from.
        url: String,
        /// Its position in the answer.
        index: usize,
        /// Its name.
        verb: &'static str,
        /// What is wrong.
        what: String,
    },
    /// The call made more requests than `max_requests` (a redirect loop, say).
    #[error("webhook: more than {limit} requests in one call (a redirect loop?)")]
    TooManyRequests {
        /// The limit.
        limit: u32,
    },
}
