//! Where bearer tokens come from.
//!
//! XAPI and Call Control share one token per API client (3CX keeps only one active
//! token per client, so two independent token caches would revoke each other's
//! tokens). [`TokenSource`] is the small seam the XAPI client needs; it is implemented
//! for the Call Control client's token provider so both APIs use the same cache.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use voicebot_callcontrol::auth::{AccessToken, TokenProvider};

/// A bearer token as sent in `Authorization: Bearer …`. `Debug` never shows it.
#[derive(Clone)]
pub struct BearerToken {
    secret: Arc<str>,
    /// The Call Control provider's token, so `invalidate` can hand it back.
    origin: Option<AccessToken>,
}

impl BearerToken {
    /// Wraps the raw token text (for token sources other than [`TokenProvider`]).
    #[must_use]
    pub fn new(secret: impl Into<String>) -> Self {
        Self {
            secret: Arc::from(secret.into()),
            origin: None,
        }
    }

    /// The raw token text, for the `Authorization` header only.
    #[must_use]
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

impl From<AccessToken> for BearerToken {
    fn from(token: AccessToken) -> Self {
        Self {
            secret: Arc::from(token.expose()),
            origin: Some(token),
        }
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<redacted>)")
    }
}

/// Error type of a [`TokenSource`]: anything, shared so [`crate::Error`] stays `Clone`.
pub type TokenSourceError = Arc<dyn std::error::Error + Send + Sync>;

/// Supplies (cached) bearer tokens and drops one the PBX refused.
#[async_trait]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot supply XAPI bearer tokens",
    note = "use the Call Control token provider so both APIs share one token"
)]
pub trait TokenSource: Send + Sync + fmt::Debug + 'static {
    /// A valid token, fetching a new one when none is cached or it expired.
    ///
    /// # Errors
    ///
    /// When the token endpoint cannot be reached or refuses the credentials.
    async fn token(&self) -> Result<BearerToken, TokenSourceError>;

    /// Forgets `token` after the PBX answered 401 with it, so the next
    /// [`token`](Self::token) fetches a fresh one. A token already replaced is ignored.
    async fn invalidate(&self, token: &BearerToken);

    /// `text` (a PBX body quoted in an error) without the secret or any token,
    /// cut short. The default removes what is shaped like a token.
    fn redact(&self, text: &str) -> String {
        voicebot_callcontrol::redact_text(text)
    }
}

/// The Call Control client's provider: one cache, one token for both APIs.
#[async_trait]
impl TokenSource for TokenProvider {
    async fn token(&self) -> Result<BearerToken, TokenSourceError> {
        match TokenProvider::token(self).await {
            Ok(token) => Ok(BearerToken::from(token)),
            Err(error) => Err(Arc::new(error)),
        }
    }

    async fn invalidate(&self, token: &BearerToken) {
        if let Some(origin) = &token.origin {
            TokenProvider::invalidate(self, origin).await;
        }
    }

    fn redact(&self, text: &str) -> String {
        TokenProvider::redact(self, text)
    }
}
