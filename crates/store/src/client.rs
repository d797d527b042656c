//! The S3 client: options from the standard `AWS_*` environment variables (endpoint,
//! region, credentials, `AWS_ALLOW_HTTP`), overridable by name.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::{ClientConfigKey, ObjectStore, RetryConfig};

use crate::error::StoreError;
use crate::location::StoreUrl;

/// Builds the client of `url`'s bucket from the environment, then `options` (names as
/// the environment spells them, e.g. `AWS_ENDPOINT_URL`).
pub(crate) fn build(
    url: &StoreUrl,
    options: &[(String, String)],
) -> Result<Arc<dyn ObjectStore>, StoreError> {
    // reqwest is built without a provider of its own: rustls uses ring, process-wide.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(url.bucket());
    for (name, value) in options {
        let key: AmazonS3ConfigKey =
            name.to_ascii_lowercase()
                .parse()
                .map_err(|_| StoreError::BadOption {
                    name: name.clone(),
                    why: "not an S3 option".to_owned(),
                })?;
        builder = builder.with_config(key, value);
    }
    let endpoint = builder.get_config_value(&AmazonS3ConfigKey::Endpoint);
    let allow_http = builder
        .get_config_value(&AmazonS3ConfigKey::Client(ClientConfigKey::AllowHttp))
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    if let Some(endpoint) = &endpoint {
        if endpoint.starts_with("http://") && !allow_http {
            return Err(StoreError::BadOption {
                name: "AWS_ENDPOINT_URL".to_owned(),
                why: format!(
                    "{endpoint} is plain HTTP: set AWS_ALLOW_HTTP=true to allow it \
                     (for a local endpoint only)"
                ),
            });
        }
        if !endpoint.starts_with("http://") && !endpoint.starts_with("https://") {
            return Err(StoreError::BadOption {
                name: "AWS_ENDPOINT_URL".to_owned(),
                why: format!("{endpoint:?} is not an http(s) URL"),
            });
        }
        // A custom endpoint (MinIO, Ceph, a local server) names buckets in the path.
        builder = builder.with_virtual_hosted_style_request(false);
    }
    // Our own retries, with a longer backoff, keep the file until the store is back;
    // the client's are for a dropped connection within one attempt.
    let retry = RetryConfig {
        max_retries: 2,
        retry_timeout: Duration::from_secs(30),
        ..RetryConfig::default()
    };
    let store = builder
        .with_retry(retry)
        .build()
        .map_err(|source| StoreError::Client {
            url: url.to_string(),
            source: Arc::new(source),
        })?;
    Ok(Arc::new(store))
}
