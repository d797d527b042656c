//! How long a token lives: the JWT's own claims when it has them, else `expires_in`
//! read in the unit the PBX version implies.
//!
//! 3CX changed the unit of `expires_in` in 20.0.9: older PBXs write minutes (`60` for
//! one hour), newer ones seconds (`3600`). The rule, in order:
//!
//! 1. If the access token is a JWT whose payload has numeric `iat` and `exp` with
//!    `exp > iat`, the lifetime is `exp - iat` seconds. The server enforces exactly
//!    these claims, so they beat any guess.
//! 2. Otherwise, if the unit is set explicitly ([`ExpiresInUnit::Seconds`] or
//!    [`ExpiresInUnit::Minutes`]), `expires_in` is read in that unit.
//! 3. Otherwise ([`ExpiresInUnit::Auto`]): when the PBX's `X-3CX-Version` header is
//!    known, below 20.0.9 means minutes and 20.0.9 or later seconds; when it is not
//!    known, values of at most 240 are minutes and larger ones seconds. A real 3CX
//!    token lives an hour, so `60` (minutes form) and `3600` (seconds form) are the
//!    values seen; nothing plausible lives four minutes or less.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// How to read `expires_in` when the token is not a JWT with `iat`/`exp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpiresInUnit {
    /// Decide from the PBX version header, else from the value (≤ 240 → minutes).
    #[default]
    Auto,
    /// Seconds, as OAuth says and 3CX 20.0.9+ does.
    Seconds,
    /// Minutes, as 3CX up to 20.0.8 does.
    Minutes,
}

/// Values of `expires_in` at or below this are read as minutes by [`ExpiresInUnit::Auto`]
/// when the PBX version is unknown.
pub const AUTO_MINUTES_THRESHOLD: u64 = 240;

/// A PBX version `major.minor.patch` as in the `X-3CX-Version` header (`20.0.9.995`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PbxVersion(pub(crate) u32, pub(crate) u32, pub(crate) u32);

impl PbxVersion {
    /// The first version that writes `expires_in` in seconds.
    const SECONDS_SINCE: Self = Self(20, 0, 9);

    /// Parses the first three dot-separated numbers; `None` when they are not there.
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.').map(|part| part.parse::<u32>().ok());
        let major = parts.next()??;
        let minor = parts.next().flatten().unwrap_or(0);
        let patch = parts.next().flatten().unwrap_or(0);
        Some(Self(major, minor, patch))
    }
}

/// The longest lifetime believed. A real 3CX token lives an hour; a claim of
/// `u64::MAX` seconds (in `expires_in` or the JWT) overflowed the expiry instant and
/// panicked, so longer claims are cut here and such a token is refreshed within a day.
pub(crate) const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The lifetime of a freshly issued token, at most [`MAX_TOKEN_LIFETIME`].
pub(crate) fn token_lifetime(
    access_token: &str,
    expires_in: u64,
    unit: ExpiresInUnit,
    version: Option<PbxVersion>,
) -> Duration {
    claimed_lifetime(access_token, expires_in, unit, version).min(MAX_TOKEN_LIFETIME)
}

fn claimed_lifetime(
    access_token: &str,
    expires_in: u64,
    unit: ExpiresInUnit,
    version: Option<PbxVersion>,
) -> Duration {
    if let Some(seconds) = jwt_lifetime(access_token) {
        return Duration::from_secs(seconds);
    }
    let minutes = match unit {
        ExpiresInUnit::Seconds => false,
        ExpiresInUnit::Minutes => true,
        ExpiresInUnit::Auto => match version {
            Some(version) => version < PbxVersion::SECONDS_SINCE,
            None => expires_in <= AUTO_MINUTES_THRESHOLD,
        },
    };
    match minutes {
        true => Duration::from_secs(expires_in.saturating_mul(60)),
        false => Duration::from_secs(expires_in),
    }
}

/// `exp - iat` of a JWT, if `token` is one with sane numeric claims.
fn jwt_lifetime(token: &str) -> Option<u64> {
    let mut parts = token.split('.');
    let (_header, payload, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let number = |key: &str| {
        let value = claims.get(key)?;
        value
            .as_u64()
            .or_else(|| value.as_f64().filter(|v| *v >= 0.0).map(|v| v as u64))
    };
    let (iat, exp) = (number("iat")?, number("exp")?);
    exp.checked_sub(iat).filter(|lifetime| *lifetime > 0)
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by `fuzz::token_answers_give_a_usable_lifetime`: a token answer claiming
    /// `u64::MAX` seconds made `now + lifetime` overflow and panic the token task.
    #[test]
    fn absurd_lifetimes_are_capped_to_a_day() {
        let forever = jwt(&format!(r#"{{"iat":0,"exp":{}}}"#, u64::MAX));
        for (token, expires_in, unit) in [
            ("opaque", u64::MAX, ExpiresInUnit::Seconds),
            ("opaque", u64::MAX / 2, ExpiresInUnit::Minutes),
            (forever.as_str(), 3600, ExpiresInUnit::Auto),
        ] {
            let lifetime = token_lifetime(token, expires_in, unit, None);
            assert_eq!(lifetime, MAX_TOKEN_LIFETIME);
            assert!(tokio::time::Instant::now().checked_add(lifetime).is_some());
        }
    }

    fn jwt(claims: &str) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":"k"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn jwt_claims_win_over_expires_in() {
        let token = jwt(r#"{"iat":1000,"exp":4600,"sub":"x"}"#);
        for unit in [
            ExpiresInUnit::Auto,
            ExpiresInUnit::Seconds,
            ExpiresInUnit::Minutes,
        ] {
            assert_eq!(
                token_lifetime(&token, 60, unit, None),
                Duration::from_secs(3600)
            );
        }
    }

    #[test]
    fn broken_jwts_fall_back_to_expires_in() {
        for token in [
            jwt(r#"{"iat":1000}"#),
            jwt(r#"{"iat":5000,"exp":4000}"#),
            "a.!!!.c".to_owned(),
            "opaque-token".to_owned(),
            jwt("not json"),
        ] {
            assert_eq!(
                token_lifetime(&token, 3600, ExpiresInUnit::Auto, None),
                Duration::from_secs(3600),
                "{token}"
            );
        }
    }

    #[test]
    fn explicit_units() {
        assert_eq!(
            token_lifetime("t", 60, ExpiresInUnit::Seconds, None),
            Duration::from_secs(60)
        );
        assert_eq!(
            token_lifetime("t", 60, ExpiresInUnit::Minutes, None),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn auto_uses_the_version_when_known() {
        let old = PbxVersion::parse("20.0.8.123");
        let new = PbxVersion::parse("20.0.9.995");
        assert_eq!(
            token_lifetime("t", 60, ExpiresInUnit::Auto, old),
            Duration::from_secs(3600)
        );
        assert_eq!(
            token_lifetime("t", 60, ExpiresInUnit::Auto, new),
            Duration::from_secs(60)
        );
        assert_eq!(
            token_lifetime("t", 3600, ExpiresInUnit::Auto, PbxVersion::parse("21")),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn auto_without_version_uses_the_threshold() {
        assert_eq!(
            token_lifetime("t", 60, ExpiresInUnit::Auto, None),
            Duration::from_secs(3600)
        );
        assert_eq!(
            token_lifetime("t", 240, ExpiresInUnit::Auto, None),
            Duration::from_secs(240 * 60)
        );
        assert_eq!(
            token_lifetime("t", 241, ExpiresInUnit::Auto, None),
            Duration::from_secs(241)
        );
    }

    #[test]
    fn versions_parse_leniently() {
        assert_eq!(PbxVersion::parse("20.0.3.6"), Some(PbxVersion(20, 0, 3)));
        assert_eq!(PbxVersion::parse(" 20 "), Some(PbxVersion(20, 0, 0)));
        assert_eq!(PbxVersion::parse("abc"), None);
        assert!(PbxVersion(20, 0, 10) > PbxVersion(20, 0, 9));
    }
}
