//! Id newtypes: a DN number, a participant id and a device id are never confused.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A directory number: an extension, route point, queue... Not necessarily numeric:
/// an API client's route point is named after its client id (e.g. `assistant`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Dn(String);

impl Dn {
    /// Wraps a DN number.
    pub fn new(dn: impl Into<String>) -> Self {
        Self(dn.into())
    }

    /// The DN as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Dn {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl From<String> for Dn {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// A participant id: unique within its DN, used in `/participants/{id}` paths.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct ParticipantId(pub i64);

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An opaque device id such as `sip:209@127.0.0.1:5483`. It must be percent-encoded
/// when used in a path; [`DeviceId::path_segment`] does that.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct DeviceId(String);

impl DeviceId {
    /// Wraps a device id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as the PBX wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id percent-encoded for use as one path segment (as `encodeURIComponent` does).
    pub fn path_segment(&self) -> String {
        crate::encode_segment(&self.0)
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for DeviceId {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}
