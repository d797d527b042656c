//! One upload attempt of one file: hash it, put it, read it back and compare.
//!
//! The object carries the file's SHA-256 in its metadata (`x-amz-meta-sha256`). It is
//! verified by reading it back in full and hashing what the store returns: the size
//! and the hash must both match the local file. An ETag is not used for this: it is
//! an MD5 only for single-part, unencrypted uploads, and S3-compatible servers differ.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use futures::StreamExt;
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use object_store::{Attribute, Attributes, ObjectStore, ObjectStoreExt};
use ring::digest::{Context, SHA256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::UploadError;

/// The metadata key holding the hex SHA-256 of the object's bytes.
pub(crate) const SHA256_METADATA: &str = "sha256";

/// Bytes read from the file per step.
const CHUNK_BYTES: usize = 256 * 1024;

/// What a local file was when it was hashed, to tell whether it changed since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub(crate) len: u64,
    pub(crate) modified: Option<SystemTime>,
}

impl Snapshot {
    /// The file's size and modification time now; `None` when it is gone.
    pub(crate) async fn of(path: &Path) -> Result<Option<Self>, UploadError> {
        match tokio::fs::metadata(path).await {
            Ok(meta) => Ok(Some(Self {
                len: meta.len(),
                modified: meta.modified().ok(),
            })),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(read_error(path, source)),
        }
    }
}

/// A file uploaded and verified.
#[derive(Debug, Clone)]
pub(crate) struct Uploaded {
    /// `s3://bucket/key`.
    pub(crate) url: String,
    /// The file as it was hashed.
    pub(crate) snapshot: Snapshot,
    pub(crate) bytes: u64,
}

/// Uploads `file` to `key` and verifies the object; `None` when the file is gone.
pub(crate) async fn upload_file(
    store: &Arc<dyn ObjectStore>,
    file: &Path,
    key: &str,
    url: String,
) -> Result<Option<Uploaded>, UploadError> {
    let Some(snapshot) = Snapshot::of(file).await? else {
        return Ok(None);
    };
    let Some((sha256, len)) = hash_file(file).await? else {
        return Ok(None);
    };
    let location = ObjectPath::from(key);
    let store_error = |source| UploadError::Store {
        url: url.clone(),
        source,
    };
    let mut attributes = Attributes::new();
    attributes.insert(Attribute::ContentType, content_type(file).into());
    attributes.insert(
        Attribute::Metadata(SHA256_METADATA.into()),
        sha256.clone().into(),
    );
    // Small files go up in one PUT, large ones as a multipart upload, streamed from
    // the file so a long recording is never held in memory whole.
    let mut writer =
        BufWriter::new(Arc::clone(store), location.clone()).with_attributes(attributes);
    let sent = send_file(file, &url, &mut writer).await;
    let sent = match sent {
        Ok(sent) => writer
            .shutdown()
            .await
            .map(|()| sent)
            .map_err(|error| UploadError::Store {
                url: url.clone(),
                source: object_store::Error::Generic {
                    store: "S3",
                    source: Box::new(error),
                },
            }),
        Err(error) => {
            let _ = writer.abort().await;
            Err(error)
        }
    }?;
    if sent != len {
        return Err(UploadError::Mismatch {
            url,
            why: format!("the file changed while it was sent ({len} bytes hashed, {sent} sent)"),
        });
    }
    verify(store, &location, len, &sha256)
        .await
        .map_err(|error| match error {
            Verify::Store(source) => store_error(source),
            Verify::Mismatch(why) => UploadError::Mismatch {
                url: url.clone(),
                why,
            },
        })?;
    Ok(Some(Uploaded {
        url,
        snapshot,
        bytes: len,
    }))
}

enum Verify {
    Store(object_store::Error),
    Mismatch(String),
}

/// Reads the object back: its size, its stored hash and the hash of its bytes must
/// all match.
async fn verify(
    store: &Arc<dyn ObjectStore>,
    location: &ObjectPath,
    len: u64,
    sha256: &str,
) -> Result<(), Verify> {
    let got = store.get(location).await.map_err(Verify::Store)?;
    if got.meta.size != len {
        return Err(Verify::Mismatch(format!(
            "{} bytes stored, {len} in the file",
            got.meta.size
        )));
    }
    let stored = got
        .attributes
        .get(&Attribute::Metadata(SHA256_METADATA.into()))
        .map(|value| value.as_ref().to_owned());
    if stored.as_deref() != Some(sha256) {
        return Err(Verify::Mismatch(format!(
            "stored sha256 {stored:?}, the file's is {sha256}"
        )));
    }
    let mut context = Context::new(&SHA256);
    let mut read = 0u64;
    let mut body = got.into_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(Verify::Store)?;
        read += chunk.len() as u64;
        context.update(&chunk);
    }
    let read_back = hex(context.finish().as_ref());
    if read != len || read_back != sha256 {
        return Err(Verify::Mismatch(format!(
            "read back {read} bytes with sha256 {read_back}; the file has {len} bytes, {sha256}"
        )));
    }
    Ok(())
}

/// Streams the file into `writer`; the bytes sent.
async fn send_file(file: &Path, url: &str, writer: &mut BufWriter) -> Result<u64, UploadError> {
    let mut input = tokio::fs::File::open(file)
        .await
        .map_err(|source| read_error(file, source))?;
    let mut sent = 0u64;
    loop {
        let mut buffer = vec![0u8; CHUNK_BYTES];
        let n = input
            .read(&mut buffer)
            .await
            .map_err(|source| read_error(file, source))?;
        if n == 0 {
            return Ok(sent);
        }
        buffer.truncate(n);
        sent += n as u64;
        writer
            .put(Bytes::from(buffer))
            .await
            .map_err(|source| UploadError::Store {
                url: url.to_owned(),
                source,
            })?;
    }
}

/// The hex SHA-256 and length of the file; `None` when it is gone.
async fn hash_file(file: &Path) -> Result<Option<(String, u64)>, UploadError> {
    let mut input = match tokio::fs::File::open(file).await {
        Ok(input) => input,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(read_error(file, source)),
    };
    let mut context = Context::new(&SHA256);
    let mut buffer = vec![0u8; CHUNK_BYTES];
    let mut len = 0u64;
    loop {
        let n = input
            .read(&mut buffer)
            .await
            .map_err(|source| read_error(file, source))?;
        if n == 0 {
            return Ok(Some((hex(context.finish().as_ref()), len)));
        }
        len += n as u64;
        context.update(&buffer[..n]);
    }
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("wav") => "audio/wav",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_error(path: &Path, source: std::io::Error) -> UploadError {
    UploadError::Read {
        path: path.to_owned(),
        source,
    }
}
