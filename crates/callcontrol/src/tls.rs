//! One TLS configuration for every connection to the PBX: the REST calls, the token
//! request, the audio streams and the event socket all check certificates against
//! the same roots (the system's, plus an optional CA file), so a PBX behind a private
//! CA either works everywhere or nowhere. Redirects are never followed.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Why a TLS configuration could not be made.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The CA file could not be read or holds no PEM certificate.
    #[error("CA file {}: {reason}", path.display())]
    CaFile {
        /// The file as given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// rustls refused the roots or the protocol settings.
    #[error("TLS set-up: {0}")]
    Setup(String),
}

/// The TLS settings shared by every connection a client makes. Cheap to clone.
#[derive(Clone)]
pub struct TlsConfig {
    config: Arc<ClientConfig>,
    ca_file: Option<PathBuf>,
    roots: usize,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca_file", &self.ca_file)
            .field("roots", &self.roots)
            .finish()
    }
}

impl TlsConfig {
    /// Trusts the system's root certificates (Mozilla's bundled roots when the
    /// system has none).
    ///
    /// # Errors
    /// [`TlsError::Setup`] when rustls refuses the configuration.
    pub fn system() -> Result<Self, TlsError> {
        Self::build(None)
    }

    /// Trusts the system's roots and every certificate in the PEM file `path`
    /// (a private CA, or the self-signed certificate of a test PBX).
    ///
    /// # Errors
    /// [`TlsError::CaFile`] when the file cannot be read or holds no certificate.
    pub fn with_ca_file(path: impl AsRef<Path>) -> Result<Self, TlsError> {
        Self::build(Some(path.as_ref()))
    }

    fn build(ca_file: Option<&Path>) -> Result<Self, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        // Unreadable system certificates are skipped: one bad file in
        // /etc/ssl/certs must not stop every connection.
        let native = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(native.certs);
        if roots.is_empty() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        if let Some(path) = ca_file {
            for cert in read_ca_file(path)? {
                roots.add(cert).map_err(|error| TlsError::CaFile {
                    path: path.to_owned(),
                    reason: format!("not a usable CA certificate: {error}"),
                })?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| TlsError::Setup(error.to_string()))?
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
            ca_file: ca_file.map(Path::to_owned),
            roots: roots.len(),
        })
    }

    /// The CA file this configuration trusts besides the system roots, if any.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// The rustls configuration, for a connection made outside `reqwest` (the event
    /// socket).
    pub fn rustls(&self) -> Arc<ClientConfig> {
        Arc::clone(&self.config)
    }

    /// A `reqwest` builder on this configuration that never follows a redirect: a
    /// `3xx` comes back as the answer, and the caller turns it into an error. A
    /// followed redirect would send the credentials or the token to whatever host
    /// the `Location` names.
    pub fn http_client_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .tls_backend_preconfigured(ClientConfig::clone(&self.config))
            .redirect(reqwest::redirect::Policy::none())
    }
}

fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let fail = |reason: String| TlsError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|error| fail(error.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| fail(format!("not PEM: {error}")))?;
    if certs.is_empty() {
        return Err(fail("holds no PEM certificate".to_owned()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_ca_file_is_named() {
        let missing = TlsConfig::with_ca_file("/nonexistent/ca.pem").unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("CA file /nonexistent/ca.pem: "),
            "{missing}"
        );
        let dir = std::env::temp_dir().join(format!("voicebot-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let error = TlsConfig::with_ca_file(&empty).unwrap_err();
        assert!(
            error.to_string().contains("holds no PEM certificate"),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_system_configuration_has_roots() {
        let tls = TlsConfig::system().unwrap();
        assert!(tls.roots > 0);
        assert!(tls.ca_file().is_none());
    }
}
