//! [`SimTls`]: HTTPS and WSS for the simulator, as a PBX serves them. 3CX's own sample
//! client only speaks `wss://` (reference §11.1), so a simulator without TLS cannot
//! stand in for a PBX there.
//!
//! Either a fresh private CA and a certificate it signs for the loopback names
//! ([`SimTls::self_signed`]; the CA goes to a file a client trusts, e.g. voicebot's
//! `pbx.ca_file`), or a certificate and key of your own ([`SimTls::from_pem_files`]).
//! rustls on ring only.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::SimError;

/// A TLS handshake that takes longer than this is given up (a client that connects
/// and says nothing must not hold a task forever).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The simulator's TLS identity. Cheap to clone.
#[derive(Clone)]
pub struct SimTls {
    config: Arc<rustls::ServerConfig>,
    ca_pem: Option<String>,
    fingerprint: String,
}

impl fmt::Debug for SimTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimTls")
            .field("fingerprint", &self.fingerprint)
            .field("self_signed", &self.ca_pem.is_some())
            .finish()
    }
}

impl SimTls {
    /// A new private CA and a server certificate it signs for `names` (IP addresses
    /// or host names; `127.0.0.1`, `::1` and `localhost` are always included).
    ///
    /// # Errors
    /// [`SimError::Tls`] when a name is not usable in a certificate.
    pub fn self_signed(names: &[String]) -> Result<Self, SimError> {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        let fail =
            |error: rcgen::Error| SimError::Tls(format!("generating a certificate: {error}"));
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "voicebot sim CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(fail)?)
            .map_err(fail)?;
        let mut all: Vec<String> = ["127.0.0.1", "::1", "localhost"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        for name in names {
            if !all.contains(name) {
                all.push(name.clone());
            }
        }
        let server_key = KeyPair::generate().map_err(fail)?;
        let mut params = CertificateParams::new(all).map_err(fail)?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "voicebot sim");
        let server = params.signed_by(&server_key, &ca).map_err(fail)?;
        let chain = vec![server.der().clone(), ca.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let mut tls = Self::from_parts(chain, key)?;
        tls.ca_pem = Some(ca.pem());
        Ok(tls)
    }

    /// Your own certificate chain and private key, both PEM.
    ///
    /// # Errors
    /// [`SimError::Tls`] naming the file that cannot be read or holds no
    /// certificate or key, or a key that does not fit the certificate.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, SimError> {
        let read = |path: &Path| {
            std::fs::read(path)
                .map_err(|error| SimError::Tls(format!("{}: {error}", path.display())))
        };
        let cert_pem = read(cert)?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|error| SimError::Tls(format!("{}: {error}", cert.display())))?;
        if chain.is_empty() {
            return Err(SimError::Tls(format!(
                "{}: no PEM certificate in it",
                cert.display()
            )));
        }
        let key_pem = read(key)?;
        let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|error| {
            SimError::Tls(format!(
                "{}: no usable PEM private key: {error}",
                key.display()
            ))
        })?;
        Self::from_parts(chain, key_der)
    }

    fn from_parts(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, SimError> {
        let fingerprint = chain
            .first()
            .map(|leaf| fingerprint(leaf))
            .unwrap_or_default();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| SimError::Tls(error.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|error| SimError::Tls(format!("certificate and key: {error}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
            ca_pem: None,
            fingerprint,
        })
    }

    /// The CA certificate (PEM) a client must trust, for a self-signed identity.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// SHA-256 fingerprint of the server certificate, `AB:CD:…`.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Writes the CA certificate to `path` (nothing to write for your own
    /// certificate: returns `false`).
    ///
    /// # Errors
    /// [`SimError::Tls`] when the file cannot be written.
    pub fn write_ca(&self, path: &Path) -> Result<bool, SimError> {
        let Some(pem) = &self.ca_pem else {
            return Ok(false);
        };
        std::fs::write(path, pem)
            .map_err(|error| SimError::Tls(format!("writing {}: {error}", path.display())))?;
        Ok(true)
    }
}

fn fingerprint(der: &CertificateDer<'_>) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der.as_ref());
    digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Serves `router` over TLS on `listener` until `shutdown`: one task per connection,
/// HTTP/1.1 with upgrades (the event WebSocket).
pub(crate) async fn serve(
    listener: TcpListener,
    tls: SimTls,
    router: axum::Router,
    shutdown: CancellationToken,
) {
    let acceptor = TlsAcceptor::from(tls.config);
    while let Some((socket, peer)) = crate::serve::accept(&listener, &shutdown).await {
        let acceptor = acceptor.clone();
        let router = router.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await;
            let stream = match handshake {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::info!(%peer, %error, "sim TLS handshake failed");
                    return;
                }
                Err(_) => return,
            };
            crate::serve::http(stream, router, shutdown).await;
        });
    }
}
