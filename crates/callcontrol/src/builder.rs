//! [`ClientBuilder`]: every knob of the client, with defaults that suit a real PBX.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use url::Url;

use crate::auth::{ExpiresInUnit, Secret, TokenProvider};
use crate::client::{Client, Core};
use crate::error::BuildError;
use crate::retry::RetryPolicy;
use crate::tls::TlsConfig;

/// The `pbx` label of a client's metrics when no name is given.
pub const DEFAULT_PBX_LABEL: &str = "default";

/// Settings read by the running client.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) request_timeout: Duration,
    pub(crate) get_retry: RetryPolicy,
    pub(crate) drop_retry: RetryPolicy,
    pub(crate) unnamed_ring: Duration,
    pub(crate) ping_interval: Duration,
    pub(crate) dead_after_pings: u32,
    pub(crate) reconnect_initial: Duration,
    pub(crate) reconnect_max: Duration,
    pub(crate) healthy_after: Duration,
    pub(crate) audio_open_timeout: Duration,
    pub(crate) audio_open_initial: Duration,
    pub(crate) audio_open_max: Duration,
    pub(crate) audio_idle_timeout: Option<Duration>,
    pub(crate) event_buffer: usize,
    /// The `pbx` label of this client's metrics.
    pub(crate) pbx_label: Arc<str>,
    /// TCP/TLS connect timeout, for the connections made outside `reqwest`.
    pub(crate) connect_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            get_retry: RetryPolicy::default(),
            drop_retry: RetryPolicy {
                max_attempts: 5,
                initial_delay: Duration::from_millis(200),
                max_delay: Duration::from_secs(2),
            },
            unnamed_ring: Duration::from_secs(60),
            ping_interval: Duration::from_secs(5),
            dead_after_pings: 3,
            reconnect_initial: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
            healthy_after: Duration::from_secs(3),
            audio_open_timeout: Duration::from_secs(10),
            audio_open_initial: Duration::from_millis(50),
            audio_open_max: Duration::from_millis(500),
            audio_idle_timeout: None,
            connect_timeout: Duration::from_secs(5),
            event_buffer: 1024,
            pbx_label: Arc::from(DEFAULT_PBX_LABEL),
        }
    }
}

/// Builds a [`Client`]. Created by [`Client::builder`]; setters consume and return
/// the builder.
#[derive(Debug)]
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    credentials: Option<(String, Secret)>,
    expires_in_unit: ExpiresInUnit,
    refresh_fraction: f64,
    connect_timeout: Duration,
    cancel: Option<CancellationToken>,
    tls: Option<TlsConfig>,
    settings: Settings,
}

impl ClientBuilder {
    pub(crate) fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            credentials: None,
            expires_in_unit: ExpiresInUnit::Auto,
            refresh_fraction: 0.8,
            connect_timeout: Duration::from_secs(5),
            cancel: None,
            tls: None,
            settings: Settings::default(),
        }
    }

    /// The API client's id (also its route point DN) and secret (the API key).
    pub fn credentials(mut self, client_id: impl Into<String>, secret: impl Into<Secret>) -> Self {
        self.credentials = Some((client_id.into(), secret.into()));
        self
    }

    /// How to read the token's `expires_in` when it is not a JWT (default
    /// [`ExpiresInUnit::Auto`]; see that type for the rule).
    pub fn expires_in_unit(mut self, unit: ExpiresInUnit) -> Self {
        self.expires_in_unit = unit;
        self
    }

    /// Fraction of a token's lifetime after which it is refreshed (default 0.8).
    pub fn token_refresh_fraction(mut self, fraction: f64) -> Self {
        self.refresh_fraction = fraction;
        self
    }

    /// Timeout of each REST request, including reading its body (default 10 s).
    /// Audio streams are exempt after their response headers arrive.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.settings.request_timeout = timeout;
        self
    }

    /// TCP/TLS connect timeout (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Retry policy of GET requests (default: 3 attempts, 200 ms → 2 s).
    pub fn get_retry(mut self, policy: RetryPolicy) -> Self {
        self.settings.get_retry = policy;
        self
    }

    /// Retry policy of `drop` (default: 5 attempts, 200 ms → 2 s). Dropping a leg
    /// twice leaves it dropped, so a `drop` the PBX answered with 5xx, or did not
    /// answer in time, is sent again; a 404 means the leg is already gone.
    pub fn drop_retry(mut self, policy: RetryPolicy) -> Self {
        self.settings.drop_retry = policy;
        self
    }

    /// How long a `routeto`/`transferto` that names no `timeout` is assumed to ring
    /// (default 60 s). Such requests are answered only when the attempt ends, so their
    /// HTTP deadline is the ring time plus the request timeout, never the request
    /// timeout alone.
    pub fn unnamed_ring_timeout(mut self, ring: Duration) -> Self {
        self.settings.unnamed_ring = ring;
        self
    }

    /// Interval of WebSocket pings (default 5 s, as 3CX's own client).
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.settings.ping_interval = interval;
        self
    }

    /// A socket silent (no pong, no frame) for this many ping intervals is dead
    /// (default 3).
    pub fn dead_after_pings(mut self, intervals: u32) -> Self {
        self.settings.dead_after_pings = intervals;
        self
    }

    /// Reconnect delays of the event socket: doubling from `initial` to `max`,
    /// jittered (default 0.5 s → 30 s).
    pub fn reconnect_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.settings.reconnect_initial = initial;
        self.settings.reconnect_max = max;
        self
    }

    /// How long an event socket must stay up before its reconnect backoff starts
    /// again from the initial delay (default 3 s). A PBX that accepts the socket
    /// and closes it at once is then retried with growing delays, not in a loop,
    /// while a socket that carried events for a few seconds before it was lost is
    /// reconnected at once (events lost while it is down are lost for good).
    pub fn reconnect_healthy_after(mut self, healthy: Duration) -> Self {
        self.settings.healthy_after = healthy;
        self
    }

    /// The TLS settings of every connection (REST, token, audio, event socket):
    /// default [`TlsConfig::system`]. Use [`TlsConfig::with_ca_file`] for a PBX
    /// behind a private CA.
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// How long [`Client::audio_from`] keeps retrying 404/424 while the leg connects
    /// (default 10 s; delays 50 ms → 500 ms).
    pub fn audio_open_timeout(mut self, timeout: Duration) -> Self {
        self.settings.audio_open_timeout = timeout;
        self
    }

    /// Ends an [`crate::AudioIn`] with a `Timeout` error when it delivers nothing for
    /// `timeout`, since a PBX may keep a dead stream open (default: off). A live
    /// stream carries audio, silence included, every 20 ms.
    pub fn audio_idle_timeout(mut self, timeout: Duration) -> Self {
        self.settings.audio_idle_timeout = Some(timeout).filter(|t| !t.is_zero());
        self
    }

    /// The PBX's name in this client's metrics (the `pbx` label; default
    /// [`DEFAULT_PBX_LABEL`]), so a process serving several PBXs tells them apart.
    pub fn pbx_name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.settings.pbx_label = name.into();
        self
    }

    /// How many events each [`crate::EventStream`] may hold unread before the event
    /// task waits for it (default 1024). Events are never dropped.
    pub fn event_buffer(mut self, events: usize) -> Self {
        self.settings.event_buffer = events;
        self
    }

    /// Stops the client's background tasks when `token` is cancelled (a child token
    /// is used, so the client's own shutdown does not cancel the parent).
    pub fn cancellation(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Builds the client. Installs rustls' ring provider as the process default if
    /// none is installed yet, so every binary and test gets TLS without set-up.
    ///
    /// # Errors
    /// [`BuildError`] for a bad base URL, missing credentials, a zero interval or
    /// buffer, or an HTTP client that cannot be built.
    pub fn build(self) -> Result<Client, BuildError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = parse_base(&self.base_url)?;
        let (client_id, secret) = self.credentials.ok_or(BuildError::MissingCredentials)?;
        let mut settings = self.settings;
        settings.connect_timeout = self.connect_timeout;
        for (name, zero) in [
            ("ping_interval", settings.ping_interval.is_zero()),
            ("request_timeout", settings.request_timeout.is_zero()),
            ("dead_after_pings", settings.dead_after_pings == 0),
            ("event_buffer", settings.event_buffer == 0),
            (
                "get_retry.max_attempts",
                settings.get_retry.max_attempts == 0,
            ),
            (
                "drop_retry.max_attempts",
                settings.drop_retry.max_attempts == 0,
            ),
        ] {
            if zero {
                return Err(BuildError::Setting {
                    name,
                    reason: "must not be zero".to_owned(),
                });
            }
        }
        if !(0.1..=1.0).contains(&self.refresh_fraction) {
            return Err(BuildError::Setting {
                name: "token_refresh_fraction",
                reason: format!("{} is not within 0.1..=1.0", self.refresh_fraction),
            });
        }
        let tls = match self.tls {
            Some(tls) => tls,
            None => TlsConfig::system().map_err(|error| BuildError::Http(error.to_string()))?,
        };
        // No client-wide timeout: audio streams live as long as the call. REST
        // requests set their own.
        let http = tls
            .http_client_builder()
            .connect_timeout(self.connect_timeout)
            .tcp_nodelay(true)
            .user_agent(concat!("voicebot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| BuildError::Http(error.to_string()))?;
        let tokens = TokenProvider::new(http.clone(), &base, client_id.clone(), secret)
            .map_err(|error| BuildError::BaseUrl {
                url: crate::error::redact_url(&self.base_url),
                reason: error.to_string(),
            })?
            .with_expires_in_unit(self.expires_in_unit)
            .with_refresh_fraction(self.refresh_fraction)
            .with_timeout(settings.request_timeout)
            .with_pbx_label(Arc::clone(&settings.pbx_label));
        let ws_url = websocket_url(&base);
        let core = Core::new(http, tls, base, ws_url, client_id, tokens, settings);
        let cancel = match self.cancel {
            Some(parent) => parent.child_token(),
            None => CancellationToken::new(),
        };
        Ok(Client::from_core(core, cancel))
    }
}

fn parse_base(text: &str) -> Result<Url, BuildError> {
    let fail = |reason: &str| BuildError::BaseUrl {
        url: crate::error::redact_url(text),
        reason: reason.to_owned(),
    };
    let url = Url::parse(text.trim()).map_err(|error| fail(&error.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(fail("scheme must be https or http"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(fail("has no host"));
    }
    Ok(url)
}

/// `wss://host:port/callcontrol/ws` for an `https` base, `ws://…` for `http`.
fn websocket_url(base: &Url) -> Url {
    let mut url = base.clone();
    let scheme = match base.scheme() {
        "http" => "ws",
        _ => "wss",
    };
    // Both schemes are "special" in the URL standard, so switching between them works.
    let _ = url.set_scheme(scheme);
    url.set_path("/callcontrol/ws");
    url.set_query(None);
    url.set_fragment(None);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_scheme_follows_the_base() {
        let https = parse_base("https://pbx.example.com:5001").unwrap();
        assert_eq!(
            websocket_url(&https).as_str(),
            "wss://pbx.example.com:5001/callcontrol/ws"
        );
        let http = parse_base("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            websocket_url(&http).as_str(),
            "ws://127.0.0.1:8080/callcontrol/ws"
        );
    }

    #[test]
    fn bad_bases_are_refused() {
        assert!(parse_base("ftp://x").is_err());
        assert!(parse_base("not a url").is_err());
        assert!(parse_base("https://pbx.example.com").is_ok());
    }

    #[test]
    fn missing_credentials_and_zero_settings_are_refused() {
        assert!(matches!(
            Client::builder("http://127.0.0.1:1").build(),
            Err(BuildError::MissingCredentials)
        ));
        let zero = Client::builder("http://127.0.0.1:1")
            .credentials("app", Secret::new("s"))
            .ping_interval(Duration::ZERO)
            .build();
        assert!(matches!(
            zero,
            Err(BuildError::Setting {
                name: "ping_interval",
                ..
            })
        ));
    }
}
