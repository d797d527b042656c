//! Token endpoint and bearer rules.

use std::time::Duration;

use voicebot_model::{CallControlResult, DnInfo, DnType, TokenError, TokenResponse};
use voicebot_sim::{ExpiresInUnit, JournalKind, Sim, SimConfig};

use super::util::{client, connect_ws, get, token, within};

#[tokio::test]
async fn urlencoded_and_multipart_bodies_get_tokens() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        assert_eq!(token.split('.').count(), 3, "JWT-shaped");
        let form = reqwest::multipart::Form::new()
            .text("client_id", "800")
            .text("client_secret", "sim-secret")
            .text("grant_type", "client_credentials");
        let response = client()
            .post(format!("{}/connect/token", sim.base_url()))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: TokenResponse = response.json().await.unwrap();
        assert_eq!(body.token_type, "Bearer");
        assert_eq!(body.expires_in, 3600);
        assert_eq!(body.refresh_token, None);
    })
    .await;
}

#[tokio::test]
async fn wrong_secret_is_refused_with_401_unauthorized() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let response = client()
            .post(format!("{}/connect/token", sim.base_url()))
            .form(&[
                ("client_id", "800"),
                ("client_secret", "nope"),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        let body: TokenError = response.json().await.unwrap();
        assert_eq!(body.error, "unauthorized");
        assert!(body.error_description.is_some());
        assert!(
            sim.journal()
                .iter()
                .any(|e| matches!(&e.kind, JournalKind::TokenRefused { status: 401, .. }))
        );
    })
    .await;
}

#[tokio::test]
async fn expires_in_can_be_minutes() {
    within(20, async {
        let sim = Sim::start_with(SimConfig {
            expires_in_unit: ExpiresInUnit::Minutes,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let response = client()
            .post(format!("{}/connect/token", sim.base_url()))
            .form(&[
                ("client_id", "800"),
                ("client_secret", "sim-secret"),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .unwrap();
        let body: TokenResponse = response.json().await.unwrap();
        assert_eq!(body.expires_in, 60);
    })
    .await;
}

#[tokio::test]
async fn snapshot_needs_a_valid_bearer() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let response = client()
            .get(format!("{}/callcontrol", sim.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(get(&sim, "garbage", "/callcontrol").await.status(), 401);
        let token = token(&sim).await;
        let response = get(&sim, &token, "/callcontrol").await;
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("x-3cx-version"));
        let dns: Vec<DnInfo> = response.json().await.unwrap();
        let route_point = dns.iter().find(|d| d.dn.as_str() == "800").unwrap();
        assert_eq!(route_point.dn_type, DnType::RoutePoint);
        assert!(!route_point.devices.is_empty());
        assert!(
            dns.iter()
                .any(|d| d.dn.as_str() == "101" && d.dn_type == DnType::Extension)
        );
    })
    .await;
}

#[tokio::test]
async fn expired_and_revoked_tokens_get_401() {
    within(20, async {
        let sim = Sim::start_with(SimConfig {
            revoke_previous_token: true,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let first = token(&sim).await;
        let second = token(&sim).await;
        assert_eq!(get(&sim, &first, "/callcontrol").await.status(), 401);
        let response = get(&sim, &second, "/callcontrol").await;
        assert_eq!(response.status(), 200);
        sim.faults().expire_tokens();
        let response = get(&sim, &second, "/callcontrol").await;
        assert_eq!(response.status(), 401);
        let body: CallControlResult = response.json().await.unwrap();
        assert!(body.result.is_none() && body.reasontext.is_some());
    })
    .await;
}

#[tokio::test]
async fn short_token_lifetime_expires() {
    within(20, async {
        let sim = Sim::start_with(SimConfig {
            // Long enough that the first request lands inside it on a busy machine.
            token_lifetime: Duration::from_secs(3),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let token = token(&sim).await;
        assert_eq!(get(&sim, &token, "/callcontrol").await.status(), 200);
        tokio::time::sleep(Duration::from_millis(3200)).await;
        assert_eq!(get(&sim, &token, "/callcontrol").await.status(), 401);
    })
    .await;
}

#[tokio::test]
async fn websocket_upgrade_needs_a_bearer() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let error = connect_ws(&sim, "bad").await.unwrap_err();
        match error {
            tokio_tungstenite::tungstenite::Error::Http(response) => {
                assert_eq!(response.status(), 401)
            }
            other => panic!("expected an HTTP 401, got {other}"),
        }
        let token = token(&sim).await;
        connect_ws(&sim, &token).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn opaque_tokens_have_no_structure_and_still_work() {
    within(20, async {
        let sim = Sim::start_with(SimConfig {
            token_format: voicebot_sim::TokenFormat::Opaque,
            expires_in_unit: ExpiresInUnit::Minutes,
            token_lifetime: Duration::from_secs(120),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let response = client()
            .post(format!("{}/connect/token", sim.base_url()))
            .form(&[
                ("client_id", sim.client_id()),
                ("client_secret", sim.client_secret()),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .unwrap();
        let body: TokenResponse = response.json().await.unwrap();
        assert_eq!(body.expires_in, 2, "two minutes");
        assert!(!body.access_token.contains('.'), "not JWT-shaped");
        assert!(body.access_token.len() >= 32);
        let status = get(&sim, &body.access_token, "/callcontrol").await.status();
        assert_eq!(status, 200);
    })
    .await;
}
