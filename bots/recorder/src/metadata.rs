//! [`Metadata`]: the JSON file written beside each recording.

use std::io;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use voicebot_bot::{CallInfo, RecordEnd, Recording};

/// What is known about a voicemail, written as `<name>.json` beside `<name>.wav`.
///
/// ```json
/// {
///   "caller_number": "+15550100", "caller_name": "Alice", "called_dn": "800",
///   "call_id": 7, "start": "2025-12-15T09:00:00Z", "duration_ms": 12340,
///   "ended_by": "terminator", "terminator": "#", "path": "voicemail/800/+15550100-7-1765789200.wav",
///   "gaps": [{ "at_ms": 4200, "len_ms": 1300 }]
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The caller's number as the PBX reported it.
    pub caller_number: String,
    /// The caller's display name; may be empty.
    pub caller_name: String,
    /// The DN the caller reached (our route point).
    pub called_dn: String,
    /// The PBX call id.
    pub call_id: i64,
    /// When recording started, RFC 3339 in UTC.
    pub start: String,
    /// Length of the audio in the WAV, in milliseconds.
    pub duration_ms: u64,
    /// Why the recording ended: `max_length`, `silence`, `terminator` or `hangup`.
    pub ended_by: String,
    /// The key that ended it, when `ended_by` is `terminator`.
    pub terminator: Option<String>,
    /// The WAV file.
    pub path: PathBuf,
    /// Where the caller's audio was lost in transit and the file holds silence
    /// instead (the PBX's stream was cut or stalled and was reopened).
    #[serde(default)]
    pub gaps: Vec<GapMetadata>,
}

/// A gap in a recording, in milliseconds from its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapMetadata {
    /// Where the gap starts.
    pub at_ms: u64,
    /// How long it lasts.
    pub len_ms: u64,
}

impl Metadata {
    /// The metadata of `recording`, made on the call `info`, started at `start`.
    pub fn new(info: &CallInfo, start: Timestamp, recording: &Recording) -> Self {
        let (ended_by, terminator) = match recording.ended_by {
            RecordEnd::MaxLength => ("max_length", None),
            RecordEnd::Silence => ("silence", None),
            RecordEnd::Terminator(key) => ("terminator", Some(key.to_string())),
            RecordEnd::Hangup => ("hangup", None),
            // RecordEnd is non-exhaustive; a newer reason is still worth a record.
            _ => ("other", None),
        };
        Self {
            caller_number: info.caller_number().to_owned(),
            caller_name: info.caller_name().to_owned(),
            called_dn: info.called_dn().to_string(),
            call_id: info.call_id(),
            start: start.to_string(),
            duration_ms: millis(recording.duration),
            ended_by: ended_by.to_owned(),
            terminator,
            path: recording.path.clone(),
            gaps: recording
                .gaps
                .iter()
                .map(|gap| GapMetadata {
                    at_ms: millis(gap.at),
                    len_ms: millis(gap.len),
                })
                .collect(),
        }
    }

    /// Where the metadata of the WAV at `wav` goes: the same name, `.json`.
    pub fn path_for(wav: &Path) -> PathBuf {
        wav.with_extension("json")
    }

    /// Writes the metadata beside its WAV (blocking I/O on tokio's blocking pool).
    ///
    /// # Errors
    /// The I/O error when the file cannot be written.
    pub async fn write(&self) -> io::Result<PathBuf> {
        let path = Self::path_for(&self.path);
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        let target = path.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&target, json)
        })
        .await
        .map_err(io::Error::other)??;
        Ok(path)
    }
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use test_case::test_case;
    use voicebot_bot::Digit;

    use super::*;

    /// Alice (+15550100) calling route point 800, call 7.
    fn info() -> voicebot_bot::CallInfo {
        voicebot_testkit::FakeCall::builder().info()
    }

    fn recording(ended_by: RecordEnd) -> Recording {
        Recording {
            path: PathBuf::from("vm/800/a.wav"),
            duration: Duration::from_millis(12_340),
            ended_by,
            gaps: Vec::new(),
        }
    }

    #[test_case(RecordEnd::MaxLength, "max_length", None)]
    #[test_case(RecordEnd::Silence, "silence", None)]
    #[test_case(RecordEnd::Terminator(Digit::new('#').unwrap()), "terminator", Some("#"))]
    #[test_case(RecordEnd::Hangup, "hangup", None)]
    fn records_why_it_ended(end: RecordEnd, ended_by: &str, terminator: Option<&str>) {
        let start = "2025-12-15T09:00:00Z".parse().unwrap();
        let metadata = Metadata::new(&info(), start, &recording(end));
        assert_eq!(metadata.ended_by, ended_by);
        assert_eq!(metadata.terminator.as_deref(), terminator);
        assert_eq!(metadata.duration_ms, 12_340);
        assert_eq!(metadata.start, "2025-12-15T09:00:00Z");
        assert_eq!(
            (
                metadata.caller_number.as_str(),
                metadata.caller_name.as_str()
            ),
            ("+15550100", "Alice")
        );
        assert_eq!((metadata.called_dn.as_str(), metadata.call_id), ("800", 7));
    }

    #[tokio::test]
    async fn is_written_beside_the_wav_as_json() {
        let dir = tempfile::tempdir().unwrap();
        let mut metadata = Metadata::new(
            &info(),
            Timestamp::UNIX_EPOCH,
            &recording(RecordEnd::Hangup),
        );
        metadata.path = dir.path().join("new/folder/msg.wav");
        let written = metadata.write().await.unwrap();
        assert_eq!(written, dir.path().join("new/folder/msg.json"));
        let read: Metadata = serde_json::from_slice(&std::fs::read(&written).unwrap()).unwrap();
        assert_eq!(read, metadata);
        let raw: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&written).unwrap()).unwrap();
        assert_eq!(raw["start"], "1970-01-01T00:00:00Z");
        assert_eq!(raw["ended_by"], "hangup");
    }
}
