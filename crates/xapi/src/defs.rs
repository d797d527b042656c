//! `GET /Defs?$select=Id`: the reachability check, and the PBX version it reveals in
//! the `X-3CX-Version` header.

use std::fmt;
use std::str::FromStr;

use reqwest::Method;

use crate::XapiClient;
use crate::error::{Error, Result};
use crate::odata::Query;

/// Response header that carries the PBX version, e.g. `20.0.9.995`.
pub const VERSION_HEADER: &str = "X-3CX-Version";

/// A dotted PBX version such as `20.0.8.1109`. Compares numerically, part by part.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PbxVersion(Vec<u32>);

/// The version text was not dotted numbers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a PBX version: {0:?}")]
pub struct ParseVersionError(String);

impl PbxVersion {
    /// Builds a version from its parts, e.g. `[20, 0, 8]`.
    #[must_use]
    pub fn new(parts: impl Into<Vec<u32>>) -> Self {
        Self(parts.into())
    }

    /// The numeric parts.
    #[must_use]
    pub fn parts(&self) -> &[u32] {
        &self.0
    }

    /// Whether entities accept the alternate key `Set(Number='…')` (20.0.8 and later);
    /// older versions only have the `Set/Pbx.GetByNumber(number='…')` function.
    #[must_use]
    pub fn has_number_keys(&self) -> bool {
        self.0.as_slice() >= [20, 0, 8].as_slice()
    }
}

impl FromStr for PbxVersion {
    type Err = ParseVersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Result<Vec<u32>, _> = text.trim().split('.').map(str::parse).collect();
        match parts {
            Ok(parts) if !parts.is_empty() => Ok(Self(parts)),
            _ => Err(ParseVersionError(text.to_owned())),
        }
    }
}

impl fmt::Display for PbxVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u32::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

impl XapiClient {
    /// Checks that XAPI answers with this client's token (`GET /Defs?$select=Id`) and
    /// returns the PBX version from `X-3CX-Version`. The version is cached for
    /// [`XapiClient::cached_version`].
    ///
    /// # Errors
    ///
    /// Any request error ([`Error::Unauthorized`], [`Error::Forbidden`], transport…),
    /// or [`Error::Protocol`] when the header is missing or unreadable.
    pub async fn ping(&self) -> Result<PbxVersion> {
        let query = Query::new().select(["Id"]);
        let reply = self
            .send::<()>(Method::GET, "Defs", Some(&query), None)
            .await?;
        let header = reply
            .headers
            .get(VERSION_HEADER)
            .ok_or_else(|| Error::Protocol(format!("{VERSION_HEADER} header missing")))?;
        let text = header
            .to_str()
            .map_err(|_| Error::Protocol(format!("{VERSION_HEADER} is not text")))?;
        let version: PbxVersion = text
            .parse()
            .map_err(|e: ParseVersionError| Error::Protocol(e.to_string()))?;
        // Keep the first version seen; a PBX does not change version under a client.
        let _ = self.version_cell().set(version.clone());
        Ok(version)
    }

    /// The PBX version, from the cache or (first time) from [`ping`](Self::ping).
    ///
    /// # Errors
    ///
    /// As [`ping`](Self::ping), when nothing is cached yet.
    pub async fn cached_version(&self) -> Result<PbxVersion> {
        match self.version_cell().get() {
            Some(version) => Ok(version.clone()),
            None => self.ping().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::*;

    #[test_case("20.0.9.995", true ; "new")]
    #[test_case("20.0.8", true ; "boundary")]
    #[test_case("20.0.7.1057", false ; "old")]
    #[test_case("21", true ; "major only")]
    fn number_keys(text: &str, expected: bool) {
        let version: PbxVersion = text.parse().expect("valid version");
        assert_eq!(version.has_number_keys(), expected);
        assert_eq!(version.to_string(), text);
    }

    #[test_case("" ; "empty")]
    #[test_case("20.x" ; "letters")]
    #[test_case("20..1" ; "empty part")]
    fn bad_versions(text: &str) {
        assert!(text.parse::<PbxVersion>().is_err());
    }
}
