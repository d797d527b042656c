//! The `voicebot run` configuration file (TOML): where the PBX is, which bot answers
//! each route point, and the engine's limits.
//!
//! Unknown keys are errors everywhere (a typo must not silently fall back to a
//! default), and every error names the file, the line, the key path and what is
//! wrong ([`ConfigError`]). The client secret never appears in the file: the file
//! names the environment variable that holds it.
//!
//! Relative paths (recordings, prompts in bot tables) are relative to the directory
//! voicebot runs in.

mod bots;
mod error;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use voicebot_callcontrol::Secret;

pub(crate) use bots::build_bots;
pub(crate) use error::ConfigError;

/// The default environment variable holding the API client's secret.
pub(crate) const DEFAULT_SECRET_ENV: &str = "VOICEBOT_CLIENT_SECRET";

/// A parsed, validated configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// The PBX and the API client.
    pub(crate) pbx: Pbx,
    /// Folder for recordings (created when missing).
    #[serde(default = "default_recordings")]
    pub(crate) recordings: PathBuf,
    /// Address of the Prometheus metrics endpoint; none when absent.
    #[serde(default)]
    pub(crate) metrics: Option<SocketAddr>,
    /// Engine limits.
    #[serde(default)]
    pub(crate) limits: Limits,
    /// Where calls go when their bot fails.
    #[serde(default)]
    pub(crate) fallback: Option<Fallback>,
    /// Route point DN → the bot that answers its calls.
    pub(crate) route_points: BTreeMap<String, RoutePoint>,
    /// The file it was read from, for error messages.
    #[serde(skip)]
    pub(crate) file: PathBuf,
    /// The file's text, for the positions of bot configuration errors.
    #[serde(skip)]
    pub(crate) text: String,
}

/// `[pbx]`: the PBX address and API client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Pbx {
    /// Base URL, e.g. `https://pbx.example.com:5001`.
    pub(crate) url: Spanned<String>,
    /// The API client's id (also its route point's DN).
    pub(crate) client_id: String,
    /// Environment variable that holds the client secret.
    #[serde(default = "default_secret_env")]
    pub(crate) client_secret_env: String,
    /// Present only to refuse it with a helpful message.
    #[serde(default)]
    client_secret: Option<Spanned<toml::Value>>,
}

/// `[limits]`: how much the engine takes on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Limits {
    /// Calls handled at once; more are sent to the fallback (or refused).
    pub(crate) max_calls: Spanned<usize>,
    /// A call is ended after this long.
    #[serde(with = "humantime_serde")]
    pub(crate) max_call_duration: Duration,
    /// Time a bot gets to finish (e.g. save a recording) after the caller hangs up.
    #[serde(with = "humantime_serde")]
    pub(crate) hangup_grace: Duration,
    /// How long shutdown waits for calls in progress.
    #[serde(with = "humantime_serde")]
    pub(crate) shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_calls: Spanned::new(0..0, 100),
            max_call_duration: Duration::from_secs(3600),
            hangup_grace: Duration::from_secs(2),
            shutdown_timeout: Duration::from_secs(10),
        }
    }
}

/// `[fallback]`: where a call goes when its bot fails or the engine is full.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Fallback {
    /// DN or number to transfer to.
    pub(crate) destination: String,
    /// Prompt played before the transfer.
    #[serde(default)]
    pub(crate) prompt: Option<PathBuf>,
}

/// `[route_points."DN"]`: the bot answering one route point.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoutePoint {
    /// Registered bot name, e.g. `ivr-menu`.
    pub(crate) bot: Spanned<String>,
    /// The bot's own configuration table, checked by the bot when it is built.
    #[serde(default)]
    pub(crate) config: Option<Spanned<toml::Table>>,
}

fn default_recordings() -> PathBuf {
    PathBuf::from("recordings")
}

fn default_secret_env() -> String {
    DEFAULT_SECRET_ENV.to_owned()
}

impl Config {
    /// Reads and validates `file`.
    ///
    /// # Errors
    /// [`ConfigError`] when the file cannot be read, is not valid TOML, has unknown
    /// keys or values that do not fit.
    pub(crate) fn load(file: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|error| ConfigError {
            file: file.to_owned(),
            position: None,
            key: String::new(),
            message: format!("cannot read the file: {error}"),
        })?;
        Self::parse(file, &text)
    }

    /// Parses and validates `text`, read from `file`.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub(crate) fn parse(file: &Path, text: &str) -> Result<Self, ConfigError> {
        let deserializer = toml::Deserializer::parse(text)
            .map_err(|error| ConfigError::from_toml(file, text, String::new(), &error))?;
        let mut config: Self = serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let key = error::path_text(error.path());
            ConfigError::from_toml(file, text, key, error.inner())
        })?;
        config.file = file.to_owned();
        config.text = text.to_owned();
        config.validate()?;
        Ok(config)
    }

    fn error_at(
        &self,
        span: Option<std::ops::Range<usize>>,
        key: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::new(&self.file, &self.text, span, key, message)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(secret) = &self.pbx.client_secret {
            return Err(self.error_at(
                Some(secret.span()),
                "pbx.client_secret",
                format!(
                    "the secret never goes in the file: put it in the environment variable \
                     named by pbx.client_secret_env (default {DEFAULT_SECRET_ENV})"
                ),
            ));
        }
        let url = self.pbx.url.get_ref();
        match url::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
            Ok(_) => {
                return Err(self.error_at(
                    Some(self.pbx.url.span()),
                    "pbx.url",
                    format!("{url:?} must start with https:// (or http:// for the simulator)"),
                ));
            }
            Err(error) => {
                return Err(self.error_at(
                    Some(self.pbx.url.span()),
                    "pbx.url",
                    format!("{url:?} is not a URL: {error}"),
                ));
            }
        }
        if self.pbx.client_id.trim().is_empty() {
            return Err(self.error_at(None, "pbx.client_id", "must not be empty"));
        }
        if self.pbx.client_secret_env.trim().is_empty() {
            return Err(self.error_at(None, "pbx.client_secret_env", "must not be empty"));
        }
        if *self.limits.max_calls.get_ref() == 0 {
            return Err(self.error_at(
                Some(self.limits.max_calls.span()),
                "limits.max_calls",
                "must be at least 1",
            ));
        }
        for (key, duration) in [
            ("limits.max_call_duration", self.limits.max_call_duration),
            ("limits.shutdown_timeout", self.limits.shutdown_timeout),
        ] {
            if duration.is_zero() {
                return Err(self.error_at(None, key, "must be longer than zero"));
            }
        }
        if self.route_points.is_empty() {
            return Err(self.error_at(
                None,
                "route_points",
                "no route point configured: add a [route_points.\"DN\"] table with a bot",
            ));
        }
        for dn in self.route_points.keys() {
            if dn.trim().is_empty() || dn.contains('/') {
                return Err(self.error_at(
                    None,
                    &error::join_key("route_points", dn),
                    "is not a valid DN",
                ));
            }
        }
        Ok(())
    }

    /// The client secret, read from the environment variable the file names.
    ///
    /// # Errors
    /// [`ConfigError`] naming the variable when it is unset or empty.
    pub(crate) fn secret(&self) -> Result<Secret, ConfigError> {
        let name = &self.pbx.client_secret_env;
        match std::env::var(name) {
            Ok(secret) if !secret.is_empty() => Ok(Secret::new(secret)),
            _ => Err(self.error_at(
                None,
                "pbx.client_secret_env",
                format!("the environment variable {name} is not set: put the API key in it"),
            )),
        }
    }

    /// The PBX base URL.
    pub(crate) fn url(&self) -> &str {
        self.pbx.url.get_ref()
    }
}

#[cfg(test)]
mod tests;
