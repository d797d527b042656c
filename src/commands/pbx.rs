//! The PBX connection flags shared by `token`, `state`, `doctor`, `call` and the XAPI
//! commands (`users`, `departments`, `parking`): either a
//! configuration file (`-c voicebot.toml`) or `--url` and `--client-id`, with the
//! secret always from the environment.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use voicebot_callcontrol::{Client, Secret, TlsConfig, redact_url};

use crate::config::{Config, DEFAULT_SECRET_ENV};
use crate::exit::Exit;

/// Where the PBX is and which API client to use. The flags are global, so they may
/// come before or after a subcommand (`voicebot users list --url …`).
#[derive(Debug, Clone, Args)]
pub(crate) struct PbxArgs {
    /// Take the PBX address, client id and secret variable from this config file.
    #[arg(short = 'c', long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// With a config file of several PBXs (`[[pbx]]`): the name of the one to use.
    #[arg(long = "pbx", value_name = "NAME", requires = "config", global = true)]
    pbx_name: Option<String>,
    /// PBX base URL, e.g. https://pbx.example.com:5001 (or the simulator's).
    #[arg(long, env = "VOICEBOT_URL", conflicts_with = "config", global = true)]
    url: Option<String>,
    /// API client id (also the route point's DN).
    #[arg(
        long,
        env = "VOICEBOT_CLIENT_ID",
        conflicts_with = "config",
        global = true
    )]
    client_id: Option<String>,
    /// Environment variable that holds the client secret (the API key).
    #[arg(
        long,
        value_name = "VAR",
        default_value = DEFAULT_SECRET_ENV,
        conflicts_with = "config",
        global = true
    )]
    secret_env: String,
    /// PEM file of a private CA (or the PBX's self-signed certificate) to trust.
    #[arg(
        long,
        value_name = "FILE",
        env = "VOICEBOT_CA_FILE",
        conflicts_with = "config",
        global = true
    )]
    ca_file: Option<PathBuf>,
}

/// A resolved PBX target.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Base URL.
    pub(crate) url: String,
    /// API client id.
    pub(crate) client_id: String,
    /// The client secret.
    pub(crate) secret: Secret,
    /// Route points of the config file, when one was given.
    pub(crate) route_points: Vec<String>,
    /// TLS settings of every connection to the PBX.
    pub(crate) tls: TlsConfig,
}

impl PbxArgs {
    /// Resolves the flags (or the config file) into a target.
    ///
    /// # Errors
    /// Exit code 2 when the URL, client id or secret is missing, or the file is bad.
    pub(crate) fn target(&self) -> anyhow::Result<Target> {
        if let Some(file) = &self.config {
            let config = Config::load(file)?.site(self.pbx_name.as_deref())?;
            let secret = config.secret()?;
            return Ok(Target {
                url: config.url().to_owned(),
                client_id: config.pbx().client_id.clone(),
                secret,
                route_points: config.route_points.keys().cloned().collect(),
                tls: config.tls()?,
            });
        }
        let url = self.url.clone().ok_or_else(|| {
            Exit::Usage.error("no PBX given: pass -c voicebot.toml, or --url (or VOICEBOT_URL)")
        })?;
        refuse_user_info(&url)?;
        let client_id = self.client_id.clone().ok_or_else(|| {
            Exit::Usage.error("no API client given: pass --client-id (or VOICEBOT_CLIENT_ID)")
        })?;
        let secret = match std::env::var(&self.secret_env) {
            Ok(secret) if !secret.is_empty() => Secret::new(secret),
            _ => {
                return Err(Exit::Usage.error(format!(
                    "the environment variable {} is not set: put the API key in it",
                    self.secret_env
                )));
            }
        };
        let tls = match &self.ca_file {
            None => TlsConfig::system(),
            Some(file) => TlsConfig::with_ca_file(file),
        }
        .map_err(|error| Exit::Usage.error(format!("--ca-file: {error}")))?;
        Ok(Target {
            url,
            client_id,
            secret,
            route_points: Vec::new(),
            tls,
        })
    }
}

/// Refuses a `--url` with `user:password@` (exit 2), as the config file does.
///
/// # Errors
/// Exit code 2 naming the URL without its user-info.
pub(crate) fn refuse_user_info(url: &str) -> anyhow::Result<()> {
    match url::Url::parse(url) {
        Ok(parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            Err(Exit::Usage.error(format!(
                "--url {}: {}",
                redact_url(url),
                crate::config::USER_INFO_REFUSED
            )))
        }
        _ => Ok(()),
    }
}

impl Target {
    /// A Call Control client with short timeouts, for one-shot commands.
    ///
    /// # Errors
    /// Exit code 2 for a URL the client refuses.
    pub(crate) fn client(&self) -> anyhow::Result<Client> {
        Client::builder(&self.url)
            .credentials(&self.client_id, self.secret.clone())
            .tls(self.tls.clone())
            .connect_timeout(Duration::from_secs(5))
            .request_timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| Exit::Usage.error(error.to_string()))
    }

    /// The base URL, parsed.
    ///
    /// # Errors
    /// Exit code 2 when it does not parse.
    pub(crate) fn base(&self) -> anyhow::Result<url::Url> {
        url::Url::parse(&self.url)
            .with_context(|| format!("invalid PBX URL {:?}", redact_url(&self.url)))
            .map_err(|error| Exit::Usage.error(format!("{error:#}")))
    }
}
