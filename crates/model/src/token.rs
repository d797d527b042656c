//! `POST /connect/token` response and error bodies.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Successful token response. `expires_in` is seconds on 3CX 20.0.9 and later and
/// minutes before; the client decides which (see `voicebot-callcontrol`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime, in seconds or (older PBXs) minutes.
    pub expires_in: u64,
    /// The bearer token. Never logged: `Debug` redacts it.
    pub access_token: String,
    /// Always `null`: client credentials have no refresh grant.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Error body of the token endpoint (HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TokenError {
    /// Short code, e.g. `unauthorized`.
    #[serde(default)]
    pub error: String,
    /// Human-readable description.
    #[serde(default)]
    pub error_description: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let token = TokenResponse {
            token_type: "Bearer".into(),
            expires_in: 60,
            access_token: "secret-token-value".into(),
            refresh_token: None,
        };
        assert!(!format!("{token:?}").contains("secret-token-value"));
    }
}
