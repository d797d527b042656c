//! [`XapiClient`]: base URL, shared token source, and the request/response plumbing
//! every entity module uses.

mod request;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;
use url::Url;

use crate::auth::TokenSource;
use crate::defs::PbxVersion;
use crate::error::BuildError;
use crate::{Departments, Parkings, Users};

/// Entities fetched per request when paging through a collection.
pub const DEFAULT_PAGE_SIZE: u64 = 100;

/// A client of `https://{pbx}/xapi/v1`. Cheap to clone; clones share the connection
/// pool, the token source and the cached PBX version.
#[derive(Debug, Clone)]
pub struct XapiClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    /// Always ends in `/xapi/v1/`, so entity paths are joined by simple concatenation.
    base: String,
    tokens: Arc<dyn TokenSource>,
    page_size: u64,
    version: OnceCell<PbxVersion>,
}

/// Settings for an [`XapiClient`].
#[derive(Debug)]
#[must_use]
pub struct XapiClientBuilder {
    base_url: String,
    tokens: Arc<dyn TokenSource>,
    http: Option<reqwest::Client>,
    tls: Option<voicebot_callcontrol::TlsConfig>,
    page_size: u64,
    timeout: Duration,
}

impl XapiClient {
    /// Starts a builder for the PBX at `base_url` (e.g. `https://pbx.example.com:5001`),
    /// taking tokens from `tokens`.
    pub fn builder(base_url: impl Into<String>, tokens: Arc<dyn TokenSource>) -> XapiClientBuilder {
        XapiClientBuilder {
            base_url: base_url.into(),
            tokens,
            http: None,
            tls: None,
            page_size: DEFAULT_PAGE_SIZE,
            timeout: Duration::from_secs(30),
        }
    }

    /// User operations (`/Users`).
    #[must_use]
    pub fn users(&self) -> Users<'_> {
        Users::new(self)
    }

    /// Department operations (`/Groups`).
    #[must_use]
    pub fn departments(&self) -> Departments<'_> {
        Departments::new(self)
    }

    /// Shared-parking operations (`/Parkings`).
    #[must_use]
    pub fn parkings(&self) -> Parkings<'_> {
        Parkings::new(self)
    }

    /// The page size used by the paged `list` streams.
    #[must_use]
    pub fn page_size(&self) -> u64 {
        self.inner.page_size
    }

    pub(crate) fn version_cell(&self) -> &OnceCell<PbxVersion> {
        &self.inner.version
    }
}

impl XapiClientBuilder {
    /// Uses an existing `reqwest::Client` (e.g. the Call Control client's pool). Build
    /// it from [`voicebot_callcontrol::TlsConfig::http_client_builder`], which never
    /// follows redirects; a client that follows them would carry the token away.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// TLS settings when this builder creates the HTTP client (default: the system's
    /// roots). Pass the Call Control client's, so both APIs trust the same roots.
    pub fn tls(mut self, tls: voicebot_callcontrol::TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Entities per request when listing (1..=1000; default 100).
    pub fn page_size(mut self, page_size: u64) -> Self {
        self.page_size = page_size.clamp(1, 1000);
        self
    }

    /// Timeout of one request when this builder creates the HTTP client (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`BuildError::InvalidUrl`] if the URL is not absolute `http(s)`;
    /// [`BuildError::Http`] if the HTTP client cannot be created (for example when no
    /// rustls crypto provider was installed).
    pub fn build(self) -> Result<XapiClient, BuildError> {
        let base = xapi_base(&self.base_url)?;
        let http = match self.http {
            Some(http) => http,
            // Never follows a redirect (the token would go with it), and uses the
            // same roots as the Call Control client.
            None => {
                let tls = match self.tls {
                    Some(tls) => tls,
                    None => voicebot_callcontrol::TlsConfig::system()
                        .map_err(|error| BuildError::Tls(error.to_string()))?,
                };
                tls.http_client_builder().timeout(self.timeout).build()?
            }
        };
        Ok(XapiClient {
            inner: Arc::new(Inner {
                http,
                base,
                tokens: self.tokens,
                page_size: self.page_size,
                version: OnceCell::new(),
            }),
        })
    }
}

/// `https://pbx:5001` or `https://pbx:5001/xapi/v1` → `https://pbx:5001/xapi/v1/`.
fn xapi_base(raw: &str) -> Result<String, BuildError> {
    let invalid = |reason: &str| BuildError::InvalidUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(raw).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("scheme must be http or https"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    let path = url.path().trim_end_matches('/');
    let path = path.strip_suffix("/xapi/v1").unwrap_or(path);
    let mut base = url.clone();
    base.set_path(&format!("{path}/xapi/v1/"));
    Ok(base.to_string())
}

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::xapi_base;

    #[test_case("https://pbx.example.com", "https://pbx.example.com/xapi/v1/" ; "host only")]
    #[test_case("https://pbx:5001/", "https://pbx:5001/xapi/v1/" ; "port and slash")]
    #[test_case("http://127.0.0.1:80/xapi/v1", "http://127.0.0.1/xapi/v1/" ; "already xapi")]
    #[test_case("http://h/prefix/", "http://h/prefix/xapi/v1/" ; "prefix kept")]
    fn base_urls(raw: &str, expected: &str) {
        assert_eq!(xapi_base(raw).expect("valid"), expected);
    }

    #[test_case("ftp://h" ; "scheme")]
    #[test_case("not a url" ; "garbage")]
    #[test_case("http://h/?a=b" ; "query")]
    fn bad_urls(raw: &str) {
        assert!(xapi_base(raw).is_err());
    }
}
