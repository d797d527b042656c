//! Token caching, single-flight refresh, refresh ahead of expiry, 401 re-auth.

use std::time::Duration;

use voicebot_callcontrol::{CallControlError, Client, Secret};
use voicebot_sim::{JournalKind, SimConfig};

use crate::support::{builder, requests, start, tokens_issued, within};

#[tokio::test]
async fn token_is_cached_across_requests() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        for _ in 0..5 {
            client.snapshot().await.unwrap();
        }
        assert_eq!(tokens_issued(&sim), 1);
        let token = client.token_provider().token().await.unwrap();
        assert_eq!(token.generation(), 1);
        assert!(!format!("{token:?}").contains(token.expose()));
    })
    .await;
}

#[tokio::test]
async fn concurrent_first_requests_share_one_token_request() {
    within(10, async {
        // With revocation on, a second concurrent token request would revoke the
        // first token and fail requests with 401.
        let (sim, client) = start(SimConfig {
            revoke_previous_token: true,
            ..SimConfig::default()
        })
        .await;
        let calls = (0..10).map(|_| client.snapshot());
        for result in futures::future::join_all(calls).await {
            result.unwrap();
        }
        assert_eq!(tokens_issued(&sim), 1);
        assert!(
            requests(&sim, "/callcontrol")
                .iter()
                .all(|(_, _, status)| *status == 200)
        );
    })
    .await;
}

#[tokio::test]
async fn token_is_refreshed_ahead_of_expiry() {
    within(10, async {
        let (sim, client) = start(SimConfig {
            token_lifetime: Duration::from_secs(2),
            ..SimConfig::default()
        })
        .await;
        client.snapshot().await.unwrap();
        let first = client.token_provider().token().await.unwrap();
        assert_eq!(first.lifetime(), Duration::from_secs(2));
        // 80% of 2 s is 1.6 s: after 1.7 s the token is still valid but due.
        tokio::time::sleep(Duration::from_millis(1700)).await;
        client.snapshot().await.unwrap();
        assert_eq!(tokens_issued(&sim), 2);
        assert!(
            requests(&sim, "/callcontrol")
                .iter()
                .all(|(_, _, status)| *status != 401),
            "the refresh must happen before the PBX refuses the token"
        );
    })
    .await;
}

#[tokio::test]
async fn a_401_invalidates_the_token_and_retries_once() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        client.snapshot().await.unwrap();
        sim.faults().expire_tokens();
        let snapshot = client.snapshot().await.unwrap();
        assert!(!snapshot.is_empty());
        let statuses: Vec<u16> = requests(&sim, "/callcontrol").iter().map(|r| r.2).collect();
        assert_eq!(statuses, vec![200, 401, 200]);
        assert_eq!(tokens_issued(&sim), 2);
    })
    .await;
}

#[tokio::test]
async fn a_second_401_is_returned_as_unauthorized() {
    within(10, async {
        let (sim, client) = start(SimConfig::default()).await;
        sim.faults().fail_next("GET /callcontrol", 401, 2);
        let error = client.snapshot().await.unwrap_err();
        assert!(
            matches!(error, CallControlError::Unauthorized(_)),
            "{error:?}"
        );
        assert_eq!(error.status(), Some(401));
        assert_eq!(requests(&sim, "/callcontrol").len(), 2);
        assert_eq!(tokens_issued(&sim), 2);
    })
    .await;
}

#[tokio::test]
async fn wrong_credentials_are_an_auth_error_and_the_secret_never_shows() {
    within(10, async {
        let (sim, _) = start(SimConfig::default()).await;
        let client = Client::builder(sim.base_url())
            .credentials(sim.client_id(), Secret::new("not-the-secret"))
            .build()
            .unwrap();
        let error = client.snapshot().await.unwrap_err();
        match &error {
            CallControlError::Auth {
                status,
                error,
                description,
            } => {
                assert_eq!(*status, 401);
                assert_eq!(error, "unauthorized");
                assert!(description.is_some());
            }
            other => panic!("expected Auth, got {other:?}"),
        }
        assert!(error.is_auth());
        let debug = format!("{client:?} {:?} {error:?}", client.token_provider());
        assert!(!debug.contains("not-the-secret"), "{debug}");
        assert!(
            sim.journal()
                .iter()
                .any(|entry| matches!(entry.kind, JournalKind::TokenRefused { status: 401, .. }))
        );
    })
    .await;
}

#[tokio::test]
async fn minutes_from_an_old_pbx_are_read_from_the_jwt() {
    within(10, async {
        // An old PBX writes `expires_in` in minutes; the JWT claims still say 120 s.
        let (sim, _) = start(SimConfig {
            token_lifetime: Duration::from_secs(120),
            expires_in_unit: voicebot_sim::ExpiresInUnit::Minutes,
            version: "20.0.8.100".to_owned(),
            ..SimConfig::default()
        })
        .await;
        let client = builder(&sim)
            .expires_in_unit(voicebot_callcontrol::ExpiresInUnit::Auto)
            .build()
            .unwrap();
        let token = client.token_provider().token().await.unwrap();
        assert_eq!(token.lifetime(), Duration::from_secs(120));
        client.snapshot().await.unwrap();
        assert_eq!(client.pbx_version().as_deref(), Some("20.0.8.100"));
    })
    .await;
}

/// A client with `ExpiresInUnit::Auto` against a simulator issuing opaque tokens.
async fn opaque_token_from(
    version: &str,
    unit: voicebot_sim::ExpiresInUnit,
    lifetime: Duration,
) -> (voicebot_sim::Sim, Client) {
    let (sim, _) = start(SimConfig {
        token_lifetime: lifetime,
        expires_in_unit: unit,
        token_format: voicebot_sim::TokenFormat::Opaque,
        version: version.to_owned(),
        ..SimConfig::default()
    })
    .await;
    let client = builder(&sim)
        .expires_in_unit(voicebot_callcontrol::ExpiresInUnit::Auto)
        .build()
        .unwrap();
    (sim, client)
}

#[tokio::test]
async fn opaque_tokens_from_20_0_8_read_expires_in_as_minutes() {
    within(10, async {
        let (_sim, client) = opaque_token_from(
            "20.0.8.100",
            voicebot_sim::ExpiresInUnit::Minutes,
            Duration::from_secs(120),
        )
        .await;
        let before = tokio::time::Instant::now();
        let token = client.token_provider().token().await.unwrap();
        let after = tokio::time::Instant::now();
        assert!(!token.expose().contains('.'), "the token is opaque");
        // `expires_in` is 2 (minutes): 120 s, refreshed at 80% = 96 s.
        assert_eq!(token.lifetime(), Duration::from_secs(120));
        let refresh = Duration::from_secs(96);
        assert!(token.refresh_at() >= before + refresh && token.refresh_at() <= after + refresh);
        assert_eq!(
            token.expires_at() - token.refresh_at(),
            Duration::from_secs(24)
        );
        // The cached token is reused until then.
        let again = client.token_provider().token().await.unwrap();
        assert_eq!(again.generation(), 1);
    })
    .await;
}

#[tokio::test]
async fn opaque_tokens_from_20_0_10_read_expires_in_as_seconds() {
    within(10, async {
        // `expires_in: 2` would be minutes without the version header (≤ 240).
        let (sim, client) = opaque_token_from(
            "20.0.10.500",
            voicebot_sim::ExpiresInUnit::Seconds,
            Duration::from_secs(2),
        )
        .await;
        let token = client.token_provider().token().await.unwrap();
        assert!(!token.expose().contains('.'), "the token is opaque");
        assert_eq!(token.lifetime(), Duration::from_secs(2));
        client.snapshot().await.unwrap();
        // 80% of 2 s is 1.6 s: after 1.7 s the token is due and a new one is fetched
        // before the PBX would refuse the old one.
        tokio::time::sleep(Duration::from_millis(1700)).await;
        client.snapshot().await.unwrap();
        assert_eq!(tokens_issued(&sim), 2);
        assert!(
            requests(&sim, "/callcontrol")
                .iter()
                .all(|(_, _, status)| *status == 200)
        );
    })
    .await;
}
