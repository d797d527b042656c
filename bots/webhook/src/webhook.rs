//! [`WebhookBot`]: a call driven by verbs from an HTTP or WebSocket server.

mod run;
mod verbs;

use std::path::PathBuf;
use std::sync::Arc;

use voicebot_bot::{Bot, BotConfigError, BotContext, BotError, Call, async_trait};

use crate::NAME_WEBHOOK;
use crate::config::WebhookConfig;
use crate::http::HttpClient;
use crate::sign::Signer;

/// The `webhook` bot.
#[derive(Debug, Clone)]
pub struct WebhookBot {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    config: WebhookConfig,
    base: url::Url,
    is_socket: bool,
    status_url: Option<String>,
    http: HttpClient,
    signer: Signer,
    recordings_dir: PathBuf,
}

impl WebhookBot {
    /// A bot for `config`, signing with `secret` and recording under `recordings_dir`.
    ///
    /// # Errors
    /// [`BotConfigError`] naming `url` or `status_url` when it is not a URL of the
    /// right scheme, or `secret_env` for an empty secret.
    pub fn new(
        config: WebhookConfig,
        secret: &[u8],
        recordings_dir: impl Into<PathBuf>,
    ) -> Result<Self, BotConfigError> {
        let error = |key, what: String| BotConfigError::new(NAME_WEBHOOK, Some(key), what);
        let base = url::Url::parse(&config.url)
            .map_err(|why| error("url", format!("{:?} is not a URL: {why}", config.url)))?;
        let is_socket = match base.scheme() {
            "http" | "https" => false,
            "ws" | "wss" => true,
            other => {
                return Err(error(
                    "url",
                    format!("scheme {other:?} is not http, https, ws or wss"),
                ));
            }
        };
        if let Some(status_url) = &config.status_url {
            let scheme_ok = url::Url::parse(status_url)
                .is_ok_and(|url| matches!(url.scheme(), "http" | "https"));
            if !scheme_ok {
                return Err(error(
                    "status_url",
                    format!("{status_url:?} is not an http:// or https:// URL"),
                ));
            }
        }
        if secret.is_empty() {
            return Err(error(
                "secret_env",
                format!("the signing secret in ${} is empty", config.secret_env),
            ));
        }
        if config.max_requests == 0 {
            return Err(error("max_requests", "must be at least 1".to_owned()));
        }
        let signer = Signer::new(secret);
        let http = HttpClient::new(config.timeout, config.retries, signer.clone())
            .map_err(|why| error("url", why))?;
        Ok(Self {
            shared: Arc::new(Shared {
                status_url: config.status_url.clone(),
                config,
                base,
                is_socket,
                http,
                signer,
                recordings_dir: recordings_dir.into(),
            }),
        })
    }

    /// [`WebhookBot::new`] with the secret read from the environment variable
    /// `secret_env` names, in the shape of a registry factory.
    ///
    /// # Errors
    /// As [`WebhookBot::new`], and naming `secret_env` when the variable is unset.
    pub fn from_context(
        config: WebhookConfig,
        context: &BotContext,
    ) -> Result<Self, BotConfigError> {
        let secret = std::env::var(&config.secret_env).map_err(|_| {
            BotConfigError::new(
                NAME_WEBHOOK,
                Some("secret_env"),
                format!(
                    "set ${} to the secret webhook requests are signed with",
                    config.secret_env
                ),
            )
        })?;
        Self::new(config, secret.as_bytes(), context.recordings_dir())
    }
}

impl Shared {
    /// What the engine plays for a prompt of an answer: file paths resolve in the
    /// configured prompts folder.
    fn prompt(&self, prompt: &crate::verb::Prompt) -> voicebot_bot::PromptSource {
        match (prompt.source(), &self.config.prompts) {
            (voicebot_bot::PromptSource::File(path), Some(folder)) => {
                voicebot_bot::PromptSource::File(folder.join(path))
            }
            (source, _) => source,
        }
    }
}

#[async_trait]
impl Bot for WebhookBot {
    async fn handle(&self, call: Call) -> Result<(), BotError> {
        run::run(&self.shared, call).await
    }
}
