//! Shared parts of the XAPI commands (`users`, `departments`, `parking`): the
//! connection flags, building a client on the Call Control token provider, and output.

use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use voicebot_callcontrol::auth::{Secret, TokenProvider};
use voicebot_xapi::XapiClient;

/// Where the PBX is and which API client to use. The secret comes from the
/// environment only (`VOICEBOT_CLIENT_SECRET`), so it never shows in `ps`.
#[derive(Debug, Args)]
pub(crate) struct Connection {
    /// PBX base URL, e.g. `https://pbx.example.com:5001`.
    #[arg(long, env = "VOICEBOT_URL")]
    url: String,
    /// API client id.
    #[arg(long, env = "VOICEBOT_CLIENT_ID")]
    client_id: String,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

impl Connection {
    /// A client sharing one token provider (and connection pool) for both APIs.
    pub(crate) fn client(&self) -> anyhow::Result<XapiClient> {
        let secret = std::env::var("VOICEBOT_CLIENT_SECRET")
            .context("set VOICEBOT_CLIENT_SECRET to the API client's secret")?;
        let http = reqwest::Client::new();
        let base =
            url::Url::parse(&self.url).with_context(|| format!("invalid --url {}", self.url))?;
        let provider =
            TokenProvider::new(http.clone(), &base, &self.client_id, Secret::new(secret))?;
        Ok(XapiClient::builder(&self.url, Arc::new(provider))
            .http_client(http)
            .build()?)
    }
}

/// Prints rows as a table, or `value` as pretty JSON with `--json`.
pub(crate) fn print<T>(
    json: bool,
    value: &T,
    header: &[&str],
    rows: Vec<Vec<String>>,
) -> anyhow::Result<()>
where
    T: Serialize + ?Sized,
{
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
        return Ok(());
    }
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.to_vec());
    for row in rows {
        table.add_row(row);
    }
    println!("{table}");
    Ok(())
}

/// An optional text as a table cell.
pub(crate) fn cell(value: Option<&str>) -> String {
    value.unwrap_or("").to_owned()
}

/// Parses `320-339` into its two ends.
pub(crate) fn range(text: &str) -> Result<(String, String), String> {
    match text.split_once('-') {
        Some((from, to)) if !from.is_empty() && !to.is_empty() => {
            Ok((from.to_owned(), to.to_owned()))
        }
        _ => Err(format!("expected FROM-TO, e.g. 320-339, got {text:?}")),
    }
}
