use std::sync::Arc;

use async_trait::async_trait;
use voicebot_sim::SimConfig;
use voicebot_xapi::odata::{Filter, Query};
use voicebot_xapi::{
    BearerToken, DepartmentFields, Error, GroupMember, TokenSource, TokenSourceError, UserId,
    XapiClient, roles,
};

use crate::common::{default_group, install_crypto, start, start_with, timed, user};

/// A token source that always hands out the same (wrong) token: a real
/// implementation of the trait, for the 401 path.
#[derive(Debug)]
struct FixedToken(&'static str);

#[async_trait]
impl TokenSource for FixedToken {
    async fn token(&self) -> Result<BearerToken, TokenSourceError> {
        Ok(BearerToken::new(self.0))
    }

    async fn invalidate(&self, _token: &BearerToken) {}
}

#[tokio::test]
async fn unauthorized_carries_the_body() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        install_crypto();
        let client =
            XapiClient::builder(s.sim.base_url(), Arc::new(FixedToken("forged"))).build()?;
        let err = client.ping().await.unwrap_err();
        assert!(matches!(err, Error::Unauthorized(_)), "{err}");
        assert!(!err.odata().expect("body").message.is_empty());
        Ok(())
    })
    .await
}

#[tokio::test]
async fn not_found_and_bad_request_bodies() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        let err = s.client.users().get(UserId(4242), None).await.unwrap_err();
        assert_eq!(err.status(), Some(404));
        assert!(err.odata().expect("body").message.contains("4242"));

        let bad = Query::new().filter(Filter::raw("Number eq"));
        let err = s.client.users().list_page(&bad).await.unwrap_err();
        assert!(matches!(err, Error::BadRequest(_)));
        assert!(
            err.odata().expect("body").message.contains("Syntax error"),
            "{err}"
        );

        let unknown = Query::new().filter(Filter::raw("Shoe eq 'x'"));
        let err = s.client.users().list_page(&unknown).await.unwrap_err();
        assert!(err.odata().expect("body").message.contains("Shoe"), "{err}");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn client_without_owner_role_is_forbidden() -> anyhow::Result<()> {
    timed(async {
        let s = start().await?;
        let group = default_group(&s.client).await?;
        // The API client demotes itself to system admin in its department.
        let demote = DepartmentFields {
            members: Some(vec![GroupMember::number(
                s.sim.client_id(),
                roles::SYSTEM_ADMINS,
            )]),
            ..DepartmentFields::default()
        };
        s.client.departments().update(group, &demote).await?;
        let err = s
            .client
            .users()
            .create(&user("250", "f@example.com"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Forbidden(_)), "{err}");
        assert!(err.odata().expect("body").message.contains("system owner"));
        // Reads still work.
        assert!(s.client.ping().await.is_ok());
        Ok(())
    })
    .await
}

#[tokio::test]
async fn client_without_xapi_access_is_forbidden() -> anyhow::Result<()> {
    timed(async {
        let config = SimConfig {
            xapi_enabled: false,
            ..SimConfig::default()
        };
        let s = start_with(config, 100).await?;
        let err = s.client.ping().await.unwrap_err();
        assert_eq!(err.status(), Some(403));
        assert!(err.odata().is_some());
        Ok(())
    })
    .await
}
