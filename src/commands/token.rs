//! `voicebot token`: fetches an access token to check the credentials.

use std::time::Duration;

use clap::Args;
use serde::Serialize;
use voicebot_callcontrol::TokenProvider;

use super::pbx::PbxArgs;
use crate::exit::{self, Exit};

/// Options of `voicebot token`.
#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    #[command(flatten)]
    pbx: PbxArgs,
    /// Print the token itself (it grants API access: keep it out of logs).
    #[arg(long)]
    show: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    url: String,
    client_id: String,
    lifetime_secs: u64,
    pbx_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
}

/// Fetches a token; exit 4 when the PBX refuses the credentials, 3 when it cannot be
/// reached.
pub(crate) async fn run(args: TokenArgs) -> anyhow::Result<()> {
    let target = args.pbx.target()?;
    let base = target.base()?;
    let http = target
        .tls
        .http_client_builder()
        .connect_timeout(Duration::from_secs(5))
        .build()?;
    let provider = TokenProvider::new(http, &base, &target.client_id, target.secret.clone())?
        .with_timeout(Duration::from_secs(10));
    let token = match provider.token().await {
        Ok(token) => token,
        Err(error) => {
            let code = exit::of_callcontrol(&error);
            let hint = match code {
                Exit::Auth => "check the client id and that the API key was copied in full",
                Exit::Unreachable => "check the URL (scheme, host, port) and that the PBX is up",
                _ => "the PBX answered something unexpected",
            };
            return Err(code.error(format!(
                "token request to {} failed: {error} ({hint})",
                base.join("/connect/token")
                    .map_or_else(|_| target.url.clone(), String::from)
            )));
        }
    };
    let report = Report {
        url: target.url.clone(),
        client_id: target.client_id.clone(),
        lifetime_secs: token.lifetime().as_secs(),
        pbx_version: provider.pbx_version(),
        access_token: args.show.then(|| token.expose().to_owned()),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "✓ token issued for client {} at {}",
        report.client_id, report.url
    );
    println!(
        "  valid for {} (refreshed by the engine at 80%)",
        humantime_serde::re::humantime::format_duration(token.lifetime())
    );
    if let Some(version) = &report.pbx_version {
        println!("  PBX version {version}");
    }
    if let Some(token) = &report.access_token {
        println!("  {token}");
    }
    Ok(())
}
