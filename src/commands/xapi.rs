//! Shared parts of the XAPI commands (`users`, `departments`, `parking`): the
//! connection flags (those of every PBX command), building a client on the Call Control token provider, and output.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use voicebot_callcontrol::CallControlError;
use voicebot_callcontrol::auth::TokenProvider;
use voicebot_xapi::{Error as XapiError, XapiClient};

use crate::commands::pbx::PbxArgs;
use crate::exit::{Exit, ExitError, of_callcontrol};

/// Where the PBX is and which API client to use: the same flags as `token`, `state`
/// and `call` (`-c voicebot.toml`, or `--url`, `--client-id`, `--secret-env`,
/// `--ca-file`), in any position.
#[derive(Debug, Args)]
pub(crate) struct Connection {
    #[command(flatten)]
    pbx: PbxArgs,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

impl Connection {
    /// A client sharing one token provider (and connection pool) for both APIs.
    ///
    /// # Errors
    /// Exit code 2 when the secret variable is unset or the URL is not one.
    pub(crate) fn client(&self) -> anyhow::Result<XapiClient> {
        let target = self.pbx.target()?;
        let http = target
            .tls
            .http_client_builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build()
            .context("building the HTTP client")?;
        let base = target.base()?;
        let provider = TokenProvider::new(http.clone(), &base, &target.client_id, target.secret)
            .map_err(|error| Exit::Usage.error(format!("--url {:?}: {error}", target.url)))?;
        XapiClient::builder(&target.url, Arc::new(provider))
            .http_client(http)
            .build()
            .map_err(|error| Exit::Usage.error(error.to_string()))
    }
}

/// Gives an XAPI failure in `error`'s chain the CLI's exit code: 4 for refused
/// credentials or a role too weak (401/403), 3 when the PBX cannot be reached;
/// other errors keep theirs (1 by default).
pub(crate) fn with_exit_code(error: anyhow::Error) -> anyhow::Error {
    if error.chain().any(|cause| cause.is::<ExitError>()) {
        return error;
    }
    let exit = error.chain().find_map(|cause| {
        if let Some(pbx) = cause.downcast_ref::<CallControlError>() {
            return Some(of_callcontrol(pbx));
        }
        match cause.downcast_ref::<voicebot_xapi::Error>()? {
            XapiError::Unauthorized(_) | XapiError::Forbidden(_) => Some(Exit::Auth),
            XapiError::Transport(_) => Some(Exit::Unreachable),
            XapiError::Token(inner) => Some(
                inner
                    .downcast_ref::<CallControlError>()
                    .map_or(Exit::Auth, of_callcontrol),
            ),
            _ => None,
        }
    });
    match exit {
        Some(exit) => exit.error(format!("{error:#}")),
        None => error,
    }
}

/// Says what a delete did (nothing with `--json`, where the exit code tells).
pub(crate) fn deleted(json: bool, what: &str, id: i32) {
    match json {
        true => println!("{}", serde_json::json!({ "deleted": what, "id": id })),
        false => println!("deleted {what} {id}"),
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
