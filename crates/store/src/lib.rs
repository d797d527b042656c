//! Recordings in S3-compatible object storage.
//!
//! This crate owns the upload of finished recordings: an [`UploaderBuilder`] names the
//! store (`s3://bucket/prefix`, endpoint, region and credentials from the standard
//! `AWS_*` environment variables) and the recordings folder, and its
//! [`UploaderHandle`] takes recordings once they are final
//! ([`submit`](UploaderHandle::submit)). Each goes up with the metadata JSON beside it
//! (`name.json` for `name.wav`), is read back and compared (size and SHA-256), and only
//! then is the local file removed (or kept, with
//! [`keep_local`](UploaderBuilder::keep_local)). Failures keep the file and retry with
//! backoff; at start the folder is scanned and what an earlier run left is repaired
//! ([`voicebot_media::repair_wav`]) and uploaded.
//!
//! It depends on `media` only (for the WAV repair) and never on the engine: the
//! composition root tells it which recordings are being written and which are final,
//! so a call never waits for an upload.
//!
//! ```no_run
//! use voicebot_store::{StoreUrl, UploaderBuilder};
//!
//! # async fn run() -> Result<(), voicebot_store::StoreError> {
//! let url = StoreUrl::parse("s3://calls/voicemail")?;
//! let uploads = UploaderBuilder::new(url, "/var/lib/voicebot/recordings").start()?;
//! uploads.submit("/var/lib/voicebot/recordings/800/+15550100-7.wav");
//! uploads.stop(std::time::Duration::from_secs(10)).await;
//! # Ok(())
//! # }
//! ```

mod client;
mod error;
mod location;
pub mod metrics;
mod scan;
mod upload;
mod uploader;

pub use crate::error::{StoreError, UploadError};
pub use crate::location::StoreUrl;
pub use crate::uploader::{UploaderBuilder, UploaderHandle};
