//! The uploader's metric names (the `metrics` facade; exported by the engine's
//! `/metrics` endpoint when one is configured).

/// Counter: recordings uploaded and verified (`result="done"`), and upload attempts
/// that failed and will be retried (`result="failed"`).
pub const UPLOADS: &str = "voicebot_recording_uploads_total";
/// Gauge: recordings waiting for their upload (queued, in flight or retrying).
pub const PENDING: &str = "voicebot_recording_uploads_pending";
/// Counter: bytes uploaded and verified (recordings and their metadata).
pub const UPLOADED_BYTES: &str = "voicebot_recording_uploaded_bytes_total";

/// Registers the help text of every metric above.
pub fn describe() {
    metrics::describe_counter!(
        UPLOADS,
        "Recordings uploaded and verified (result=done) and failed upload attempts, retried (result=failed)"
    );
    metrics::describe_gauge!(
        PENDING,
        "Recordings waiting for their upload to object storage"
    );
    metrics::describe_counter!(
        UPLOADED_BYTES,
        metrics::Unit::Bytes,
        "Bytes of recordings and metadata uploaded and verified"
    );
}
