//! Entity paths: the `entity` of a WebSocket event, and the REST paths built from ids.

use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::{DeviceId, Dn, ParticipantId};

/// What `encodeURIComponent` leaves alone: alphanumerics and `-_.!~*'()`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Percent-encodes `text` as one path segment, leaving what `encodeURIComponent`
/// leaves alone (3CX's own client encodes DNs, device ids and actions that way).
pub fn encode_segment(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// A call-control entity, parsed from a path such as `/callcontrol/800/participants/12`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EntityPath {
    /// `/callcontrol/{dn}`
    Dn(Dn),
    /// `/callcontrol/{dn}/devices/{deviceid}` (the id percent-decoded)
    Device {
        /// Owning DN.
        dn: Dn,
        /// The device.
        device: DeviceId,
    },
    /// `/callcontrol/{dn}/participants/{id}`
    Participant {
        /// Owning DN.
        dn: Dn,
        /// The participant.
        id: ParticipantId,
    },
}

impl EntityPath {
    /// The DN the entity belongs to.
    pub fn dn(&self) -> &Dn {
        match self {
            Self::Dn(dn) | Self::Device { dn, .. } | Self::Participant { dn, .. } => dn,
        }
    }
}

impl fmt::Display for EntityPath {
    /// The REST path, with the DN and device id percent-encoded.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dn(dn) => write!(f, "/callcontrol/{}", encode_segment(dn.as_str())),
            Self::Device { dn, device } => write!(
                f,
                "/callcontrol/{}/devices/{}",
                encode_segment(dn.as_str()),
                device.path_segment()
            ),
            Self::Participant { dn, id } => write!(
                f,
                "/callcontrol/{}/participants/{id}",
                encode_segment(dn.as_str())
            ),
        }
    }
}

/// Why a path is not an entity path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entity path {path:?}: {reason}")]
pub struct EntityPathError {
    /// The path as given.
    pub path: String,
    /// What is wrong with it.
    pub reason: EntityPathErrorReason,
}

/// What is wrong with an entity path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntityPathErrorReason {
    /// It does not start with `/callcontrol/`.
    #[error("does not start with /callcontrol/")]
    NotCallControl,
    /// The DN segment is missing or empty.
    #[error("has no DN")]
    MissingDn,
    /// The collection is neither `participants` nor `devices`.
    #[error("unknown collection {0:?} (expected participants or devices)")]
    UnknownCollection(String),
    /// The collection has no id after it.
    #[error("has no id after {0:?}")]
    MissingId(String),
    /// The participant id is not an integer.
    #[error("participant id {0:?} is not an integer")]
    BadParticipantId(String),
    /// Something follows the id.
    #[error("has extra segments after the id")]
    TrailingSegments,
    /// A segment is not valid percent-encoded UTF-8.
    #[error("segment {0:?} is not valid percent-encoded UTF-8")]
    BadEncoding(String),
}

impl FromStr for EntityPath {
    type Err = EntityPathError;

    fn from_str(path: &str) -> Result<Self, Self::Err> {
        let fail = |reason| EntityPathError {
            path: path.to_owned(),
            reason,
        };
        let rest = path
            .strip_prefix("/callcontrol/")
            .ok_or_else(|| fail(EntityPathErrorReason::NotCallControl))?;
        let mut segments = rest.trim_end_matches('/').split('/');
        let decode = |segment: &str| {
            percent_decode_str(segment)
                .decode_utf8()
                .map(|text| text.into_owned())
                .map_err(|_| fail(EntityPathErrorReason::BadEncoding(segment.to_owned())))
        };
        let dn = match segments.next() {
            Some(dn) if !dn.is_empty() => Dn::new(decode(dn)?),
            _ => return Err(fail(EntityPathErrorReason::MissingDn)),
        };
        let Some(collection) = segments.next() else {
            return Ok(Self::Dn(dn));
        };
        let id = segments
            .next()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| fail(EntityPathErrorReason::MissingId(collection.to_owned())))?;
        if segments.next().is_some() {
            return Err(fail(EntityPathErrorReason::TrailingSegments));
        }
        match collection {
            "participants" => {
                let id = id
                    .parse()
                    .map_err(|_| fail(EntityPathErrorReason::BadParticipantId(id.to_owned())))?;
                Ok(Self::Participant {
                    dn,
                    id: ParticipantId(id),
                })
            }
            "devices" => Ok(Self::Device {
                dn,
                device: DeviceId::new(decode(id)?),
            }),
            other => Err(fail(EntityPathErrorReason::UnknownCollection(
                other.to_owned(),
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::*;

    #[test_case("/callcontrol/800/participants/12", EntityPath::Participant { dn: "800".into(), id: ParticipantId(12) } ; "participant")]
    #[test_case("/callcontrol/assistant", EntityPath::Dn("assistant".into()) ; "dn level")]
    #[test_case("/callcontrol/209/devices/sip%3A209%40127.0.0.1%3A5483", EntityPath::Device { dn: "209".into(), device: "sip:209@127.0.0.1:5483".into() } ; "device decoded")]
    fn parses(path: &str, expected: EntityPath) {
        assert_eq!(path.parse::<EntityPath>().unwrap(), expected);
    }

    #[test_case("/xapi/v1/Users", EntityPathErrorReason::NotCallControl ; "other api")]
    #[test_case("/callcontrol/", EntityPathErrorReason::MissingDn ; "no dn")]
    #[test_case("/callcontrol/800/calls/3", EntityPathErrorReason::UnknownCollection("calls".into()) ; "unknown collection")]
    #[test_case("/callcontrol/800/participants/x1", EntityPathErrorReason::BadParticipantId("x1".into()) ; "bad id")]
    #[test_case("/callcontrol/800/participants", EntityPathErrorReason::MissingId("participants".into()) ; "missing id")]
    #[test_case("/callcontrol/800/participants/1/stream", EntityPathErrorReason::TrailingSegments ; "trailing")]
    fn rejects_with_a_named_reason(path: &str, reason: EntityPathErrorReason) {
        let error = path.parse::<EntityPath>().unwrap_err();
        assert_eq!(error.reason, reason);
        assert!(error.to_string().contains(path));
    }

    #[test]
    fn display_round_trips_device_ids() {
        let path = EntityPath::Device {
            dn: "209".into(),
            device: "sip:209@127.0.0.1:5483".into(),
        };
        let text = path.to_string();
        assert_eq!(
            text,
            "/callcontrol/209/devices/sip%3A209%40127.0.0.1%3A5483"
        );
        assert_eq!(text.parse::<EntityPath>().unwrap(), path);
    }
}
