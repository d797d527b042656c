//! Fuzz targets of token answers: whatever `access_token`, `expires_in` and version header
//! a PBX sends, the lifetime is usable (the expiry and refresh instants can be computed)
//! and the version parse never panics.
//!
//! Quick by default (proptest's 256 cases per target); `PROPTEST_CASES=1000000` runs a
//! million.

use proptest::prelude::*;

use super::*;

/// A JWT-shaped token with fuzzed claims, or any text.
fn access_token() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| format!("{n:e}")),
        any::<i64>().prop_map(|n| n.to_string()),
        Just("null".to_owned()),
        "\"[0-9]{0,20}\"",
    ];
    prop_oneof![
        (number.clone(), number).prop_map(|(iat, exp)| {
            format!(
                "eyJhbGciOiJFUzI1NiJ9.{}.sig",
                URL_SAFE_NO_PAD.encode(format!(r#"{{"iat":{iat},"exp":{exp}}}"#))
            )
        }),
        "[A-Za-z0-9_.=-]{0,60}",
        any::<String>(),
    ]
}

fn unit() -> impl Strategy<Value = ExpiresInUnit> {
    prop_oneof![
        Just(ExpiresInUnit::Auto),
        Just(ExpiresInUnit::Seconds),
        Just(ExpiresInUnit::Minutes),
    ]
}

proptest! {
    #[test]
    fn token_answers_give_a_usable_lifetime(
        token in access_token(),
        expires_in in prop_oneof![any::<u64>(), 0u64..10_000],
        unit in unit(),
        version in prop_oneof![any::<String>(), "[0-9]{1,12}(\\.[0-9]{0,12}){0,4}"],
    ) {
        let version = PbxVersion::parse(&version);
        let lifetime = token_lifetime(&token, expires_in, unit, version);
        prop_assert!(lifetime <= MAX_TOKEN_LIFETIME);
        // What the token provider computes from it (any refresh fraction up to 1).
        let now = tokio::time::Instant::now();
        prop_assert!(now.checked_add(lifetime).is_some());
        prop_assert!(now.checked_add(lifetime.mul_f64(0.99)).is_some());
    }
}
