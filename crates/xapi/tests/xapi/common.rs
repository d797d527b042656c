//! Starting a simulator and a client that shares the Call Control token provider.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use voicebot_callcontrol::auth::{Secret, TokenProvider};
use voicebot_sim::{Sim, SimConfig};
use voicebot_xapi::{GroupId, UserFields, XapiClient};

/// Runs a test body under a hard timeout.
pub(crate) async fn timed<F>(body: F) -> anyhow::Result<()>
where
    F: Future<Output = anyhow::Result<()>>,
{
    tokio::time::timeout(Duration::from_secs(30), body)
        .await
        .map_err(|_| anyhow::anyhow!("test timed out"))?
}

pub(crate) fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A running simulator and an XAPI client for it.
pub(crate) struct Setup {
    pub(crate) sim: Sim,
    pub(crate) client: XapiClient,
}

pub(crate) async fn start() -> anyhow::Result<Setup> {
    start_with(SimConfig::default(), 100).await
}

pub(crate) async fn start_with(config: SimConfig, page_size: u64) -> anyhow::Result<Setup> {
    install_crypto();
    let sim = Sim::start_with(config).await?;
    let client = client_for(&sim, page_size)?;
    Ok(Setup { sim, client })
}

pub(crate) fn client_for(sim: &Sim, page_size: u64) -> anyhow::Result<XapiClient> {
    let http = reqwest::Client::new();
    let base = url::Url::parse(&sim.base_url())?;
    let provider = TokenProvider::new(
        http.clone(),
        &base,
        sim.client_id(),
        Secret::new(sim.client_secret()),
    )?;
    Ok(XapiClient::builder(sim.base_url(), Arc::new(provider))
        .http_client(http)
        .page_size(page_size)
        .build()?)
}

pub(crate) fn user(number: &str, email: &str) -> UserFields {
    UserFields {
        number: Some(number.to_owned()),
        first_name: Some("Test".to_owned()),
        last_name: Some(format!("User {number}")),
        email_address: Some(email.to_owned()),
        ..UserFields::default()
    }
}

/// The id of the built-in `DEFAULT` department.
pub(crate) async fn default_group(client: &XapiClient) -> anyhow::Result<GroupId> {
    client
        .departments()
        .find_by_name("DEFAULT")
        .await?
        .map(|d| d.id)
        .ok_or_else(|| anyhow::anyhow!("no DEFAULT department"))
}
