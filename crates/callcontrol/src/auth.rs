//! Client-credentials tokens: [`Secret`], [`AccessToken`] and the shared
//! [`TokenProvider`].
//!
//! 3CX may keep only one live token per API client and revoke the previous one when a
//! new one is issued (reference §2.4), so the provider never has two token requests in
//! flight: the fetch runs while holding the provider's lock, and every concurrent
//! caller waits on that lock and then takes the token it produced. The XAPI client must
//! share the same provider (clone it from [`crate::Client::token_provider`]) for the
//! same reason.

mod lifetime;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;
use voicebot_model::{TokenError, TokenResponse};

pub(crate) use lifetime::PbxVersion;
pub use lifetime::{AUTO_MINUTES_THRESHOLD, ExpiresInUnit};

use crate::error::{CallControlError, Result, truncate_body};

/// The API client's secret (the "API key"). `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(Arc::from(secret.into()))
    }

    /// The secret itself, for the token request only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

/// A bearer token with its timing. `Debug` never shows the token.
#[derive(Clone)]
pub struct AccessToken {
    value: Arc<str>,
    generation: u64,
    lifetime: Duration,
    refresh_at: Instant,
    expires_at: Instant,
}

impl AccessToken {
    /// The token text, for an `Authorization: Bearer` header. Never log it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// The `Authorization` header value.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.value)
    }

    /// How long the PBX said the token lives.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// When the provider will fetch a new one instead of handing this out.
    pub fn refresh_at(&self) -> Instant {
        self.refresh_at
    }

    /// When the token stops being valid.
    pub fn expires_at(&self) -> Instant {
        self.expires_at
    }

    /// Which token this is: 1 for the first one issued to this provider, then 2, ...
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"<redacted>")
            .field("generation", &self.generation)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// Fetches, caches and refreshes the client-credentials token. Cheap to clone; clones
/// share one cache and one lock.
#[derive(Clone)]
pub struct TokenProvider {
    inner: Arc<ProviderInner>,
}

struct ProviderInner {
    http: reqwest::Client,
    token_url: Url,
    client_id: String,
    secret: Secret,
    unit: ExpiresInUnit,
    refresh_fraction: f64,
    timeout: Duration,
    /// The `pbx` label of the token request counter.
    pbx_label: Arc<str>,
    // Held across the token request on purpose: this is the single flight.
    current: Mutex<Option<AccessToken>>,
    generation: AtomicU64,
    version: std::sync::Mutex<Option<String>>,
    // The last few token values, for `redact`: a std lock, never held across await.
    recent: std::sync::Mutex<std::collections::VecDeque<Arc<str>>>,
}

/// How many recent tokens `redact` removes from text (the current one, and the ones
/// before it that a PBX may still echo).
const REDACT_RECENT_TOKENS: usize = 4;

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("token_url", &self.inner.token_url.as_str())
            .field("client_id", &self.inner.client_id)
            .field("secret", &self.inner.secret)
            .field("unit", &self.inner.unit)
            .finish()
    }
}

impl TokenProvider {
    /// A provider for `POST {base_url}/connect/token`, refreshing at 80% of each
    /// token's lifetime, with a 10 s request timeout.
    ///
    /// # Errors
    /// [`CallControlError::Decode`] when `base_url` cannot take the token path.
    pub fn new(
        http: reqwest::Client,
        base_url: &Url,
        client_id: impl Into<String>,
        secret: Secret,
    ) -> Result<Self> {
        let token_url =
            base_url
                .join("/connect/token")
                .map_err(|error| CallControlError::Decode {
                    what: "base URL".to_owned(),
                    body: error.to_string(),
                })?;
        Ok(Self {
            inner: Arc::new(ProviderInner {
                http,
                token_url,
                client_id: client_id.into(),
                secret,
                unit: ExpiresInUnit::Auto,
                refresh_fraction: 0.8,
                timeout: Duration::from_secs(10),
                pbx_label: Arc::from(crate::builder::DEFAULT_PBX_LABEL),
                current: Mutex::new(None),
                generation: AtomicU64::new(0),
                version: std::sync::Mutex::new(None),
                recent: std::sync::Mutex::new(std::collections::VecDeque::new()),
            }),
        })
    }

    /// Sets how `expires_in` is read (see [`ExpiresInUnit`]). Call before sharing.
    #[must_use]
    pub fn with_expires_in_unit(mut self, unit: ExpiresInUnit) -> Self {
        self.configure(|inner| inner.unit = unit);
        self
    }

    /// Sets the fraction of a token's lifetime after which it is refreshed
    /// (clamped to 0.1–1.0). Call before sharing.
    #[must_use]
    pub fn with_refresh_fraction(mut self, fraction: f64) -> Self {
        self.configure(|inner| inner.refresh_fraction = fraction.clamp(0.1, 1.0));
        self
    }

    /// Sets the token request timeout. Call before sharing.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.configure(|inner| inner.timeout = timeout);
        self
    }

    /// Sets the `pbx` label of the token request counter. Call before sharing.
    #[must_use]
    pub fn with_pbx_label(mut self, label: Arc<str>) -> Self {
        self.configure(|inner| inner.pbx_label = label);
        self
    }

    fn configure(&mut self, change: impl FnOnce(&mut ProviderInner)) {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => change(inner),
            None => tracing::warn!("TokenProvider settings changed after it was shared; ignored"),
        }
    }

    /// A valid token: the cached one while it is before its refresh point, else a new
    /// one. Only one token request runs at a time; concurrent callers wait for it.
    ///
    /// # Errors
    /// [`CallControlError::Auth`] when the PBX refuses the credentials;
    /// `Transport`/`Timeout`/`Server`/`Decode` when the token request fails and no
    /// still-valid token is cached.
    pub async fn token(&self) -> Result<AccessToken> {
        let mut current = self.inner.current.lock().await;
        let now = Instant::now();
        if let Some(token) = current.as_ref().filter(|token| now < token.refresh_at) {
            return Ok(token.clone());
        }
        match self.fetch().await {
            Ok(token) => {
                *current = Some(token.clone());
                Ok(token)
            }
            Err(error) => match current.as_ref().filter(|token| now < token.expires_at) {
                // An early refresh failed but the old token still works: keep using it.
                Some(token) if !error.is_auth() => {
                    tracing::warn!(%error, "token refresh failed; using the cached token until it expires");
                    Ok(token.clone())
                }
                _ => Err(error),
            },
        }
    }

    /// Drops `token` from the cache if it is still the cached one, so the next
    /// [`TokenProvider::token`] fetches a new one. Called after a 401; a token that was
    /// already replaced is left alone, so concurrent 401s refresh only once.
    pub async fn invalidate(&self, token: &AccessToken) {
        let mut current = self.inner.current.lock().await;
        if current
            .as_ref()
            .is_some_and(|cached| cached.generation == token.generation)
        {
            tracing::debug!(generation = token.generation, "token invalidated");
            *current = None;
        }
    }

    /// `text` fit for an error message or a log line: the client secret and the
    /// recent tokens replaced by `<redacted>`, then anything shaped like a bearer
    /// token or a JWT, cut at 512 bytes. Every PBX body quoted in an error goes
    /// through this, since a PBX (or something posing as one) may echo a secret.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_owned();
        let secret = self.inner.secret.expose();
        // A secret of one or two characters would blank out ordinary words; real
        // API keys are long.
        if secret.len() >= 3 {
            text = text.replace(secret, "<redacted>");
        }
        for token in lock_recent(&self.inner.recent).iter() {
            if !token.is_empty() {
                text = text.replace(&**token, "<redacted>");
            }
        }
        truncate_body(&text)
    }

    /// The PBX version from the last `X-3CX-Version` header seen, if any.
    pub fn pbx_version(&self) -> Option<String> {
        lock_version(&self.inner.version).clone()
    }

    /// Records the `X-3CX-Version` header of any PBX response.
    pub(crate) fn note_version(&self, headers: &reqwest::header::HeaderMap) {
        if let Some(version) = headers
            .get("x-3cx-version")
            .and_then(|value| value.to_str().ok())
        {
            let mut stored = lock_version(&self.inner.version);
            if stored.as_deref() != Some(version) {
                *stored = Some(version.to_owned());
            }
        }
    }

    async fn fetch(&self) -> Result<AccessToken> {
        let inner = &self.inner;
        let started = Instant::now();
        let form = [
            ("client_id", inner.client_id.as_str()),
            ("client_secret", inner.secret.expose()),
            ("grant_type", "client_credentials"),
        ];
        let response = inner
            .http
            .post(inner.token_url.clone())
            .form(&form)
            .timeout(inner.timeout)
            .send()
            .await
            .map_err(|error| {
                CallControlError::from_reqwest("requesting a token", error, Some(inner.timeout))
            })?;
        let status = response.status().as_u16();
        self.note_version(response.headers());
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        tracing::debug!(
            method = "POST",
            path = "/connect/token",
            status,
            latency_ms = started.elapsed().as_millis() as u64,
            "pbx request"
        );
        metrics::counter!(
            "voicebot_pbx_token_requests_total",
            "pbx" => Arc::clone(&inner.pbx_label),
            "status" => status.to_string()
        )
        .increment(1);
        let body = response.text().await.map_err(|error| {
            CallControlError::from_reqwest("reading the token response", error, Some(inner.timeout))
        })?;
        if (300..400).contains(&status) {
            return Err(CallControlError::Redirect {
                method: "POST".to_owned(),
                path: "/connect/token".to_owned(),
                status,
                location: crate::error::location_host(
                    inner.token_url.as_str(),
                    location.as_deref(),
                ),
            });
        }
        if !(200..300).contains(&status) {
            return Err(token_refusal(status, &self.redact(&body)));
        }
        let parsed: TokenResponse =
            serde_json::from_str(&body).map_err(|error| CallControlError::Decode {
                what: format!("token response ({error})"),
                // The body holds the token: never keep it.
                body: "<redacted>".to_owned(),
            })?;
        let version = self.pbx_version().as_deref().and_then(PbxVersion::parse);
        let lifetime =
            lifetime::token_lifetime(&parsed.access_token, parsed.expires_in, inner.unit, version);
        let generation = inner.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let value: Arc<str> = Arc::from(parsed.access_token);
        {
            let mut recent = lock_recent(&inner.recent);
            recent.push_front(Arc::clone(&value));
            recent.truncate(REDACT_RECENT_TOKENS);
        }
        let now = Instant::now();
        tracing::debug!(
            generation,
            ?lifetime,
            expires_in = parsed.expires_in,
            "token issued"
        );
        Ok(AccessToken {
            value,
            generation,
            lifetime,
            refresh_at: now + lifetime.mul_f64(inner.refresh_fraction),
            expires_at: now + lifetime,
        })
    }
}

fn lock_version(
    version: &std::sync::Mutex<Option<String>>,
) -> std::sync::MutexGuard<'_, Option<String>> {
    // A poisoned lock only means another thread panicked mid-write of a String.
    version
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn lock_recent(
    recent: &std::sync::Mutex<std::collections::VecDeque<Arc<str>>>,
) -> std::sync::MutexGuard<'_, std::collections::VecDeque<Arc<str>>> {
    recent
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Maps a non-success answer of the token endpoint (`body` already redacted).
fn token_refusal(status: u16, body: &str) -> CallControlError {
    match status {
        500..=599 => CallControlError::Server(crate::error::Rejection {
            status,
            method: "POST".to_owned(),
            path: "/connect/token".to_owned(),
            reasontext: None,
            body: body.to_owned(),
        }),
        _ => {
            let parsed: TokenError = serde_json::from_str(body).unwrap_or_default();
            let error = match parsed.error.is_empty() {
                true => format!("HTTP {status}"),
                false => parsed.error,
            };
            CallControlError::Auth {
                status,
                error,
                description: parsed.error_description,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "<redacted>");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn token_refusals_keep_the_oauth_fields() {
        let error = token_refusal(
            401,
            r#"{"error":"unauthorized","error_description":"The request requires valid user authentication."}"#,
        );
        assert!(error.is_auth());
        assert_eq!(error.status(), Some(401));
        assert_eq!(
            error.reasontext(),
            Some("The request requires valid user authentication.")
        );
        let error = token_refusal(400, "garbage");
        assert!(error.to_string().contains("HTTP 400"));
        assert!(token_refusal(503, "").is_transient());
    }
}
