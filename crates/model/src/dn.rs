//! DN records: what `GET /callcontrol` and `GET /callcontrol/{dn}` return.

use serde::{Deserialize, Serialize};

use crate::lenient::null_as_default;
use crate::{DeviceId, Dn, DnType, Participant};

/// A DN visible to the API client, with its devices and current participants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DnInfo {
    /// The DN number.
    #[serde(deserialize_with = "null_as_default", default)]
    pub dn: Dn,
    /// The DN kind (`Wroutepoint`, `Wextension`...).
    #[serde(rename = "type", deserialize_with = "null_as_default", default)]
    pub dn_type: DnType,
    /// Registered devices.
    #[serde(deserialize_with = "null_as_default", default)]
    pub devices: Vec<Device>,
    /// Current participants.
    #[serde(deserialize_with = "null_as_default", default)]
    pub participants: Vec<Participant>,
}

/// A device registered on a DN (`DNDevice`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Device {
    /// Owning DN.
    #[serde(deserialize_with = "null_as_default", default)]
    pub dn: Dn,
    /// Opaque device id.
    #[serde(deserialize_with = "null_as_default", default)]
    pub device_id: DeviceId,
    /// User agent of the registered phone or app.
    #[serde(deserialize_with = "null_as_default", default)]
    pub user_agent: String,
}
