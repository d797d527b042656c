//! [`StoreError`]: why an uploader cannot be built; [`UploadError`]: why one upload
//! attempt failed (it is retried).

use std::path::PathBuf;
use std::sync::Arc;

/// Why a store URL or the object storage client is refused (construction, before any
/// upload).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store is not an `s3://bucket[/prefix]` URL.
    #[error("{url:?} is not a store URL: {why} (expected s3://bucket or s3://bucket/prefix)")]
    BadUrl {
        /// The text given.
        url: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// An option of the S3 client (from the environment or set by name) is not valid.
    #[error("S3 option {name}: {why}")]
    BadOption {
        /// The option, e.g. `AWS_ENDPOINT_URL`.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// The S3 client could not be built from its options.
    #[error("the S3 client for {url} cannot be built: {source}")]
    Client {
        /// The store URL.
        url: String,
        /// What the client library said.
        source: Arc<object_store::Error>,
    },
}

/// Why one attempt to upload a recording failed; the file stays and the attempt is
/// retried after a backoff.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// The local file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The object store refused or could not be reached.
    #[error("{url}: {source}")]
    Store {
        /// The object's URL.
        url: String,
        /// What the client library said.
        source: object_store::Error,
    },
    /// The object read back does not match the local file.
    #[error("{url}: verification failed: {why}")]
    Mismatch {
        /// The object's URL.
        url: String,
        /// What differs.
        why: String,
    },
}
