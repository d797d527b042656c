//! [`StreamBot`]: the whole call streamed to a WebSocket agent.

use voicebot_bot::{Bot, BotConfigError, BotContext, BotError, Call, async_trait};

use crate::NAME_STREAM;
use crate::config::StreamConfig;
use crate::request::CallDetails;
use crate::sign::Signer;
use crate::stream::{self, StreamSettings};

/// The `stream` bot: connects each call to the agent until one side ends it.
#[derive(Debug, Clone)]
pub struct StreamBot {
    settings: StreamSettings,
}

impl StreamBot {
    /// A bot for `config`; `secret` signs the handshake when given.
    ///
    /// # Errors
    /// [`BotConfigError`] naming `url` when it is not a `ws://` or `wss://` URL.
    pub fn new(config: StreamConfig, secret: Option<&[u8]>) -> Result<Self, BotConfigError> {
        let scheme_ok =
            url::Url::parse(&config.url).is_ok_and(|url| matches!(url.scheme(), "ws" | "wss"));
        if !scheme_ok {
            return Err(BotConfigError::new(
                NAME_STREAM,
                Some("url"),
                format!("{:?} is not a ws:// or wss:// URL", config.url),
            ));
        }
        Ok(Self {
            settings: StreamSettings {
                url: config.url,
                protocol: config.protocol,
                parameters: config.parameters,
                connect_timeout: config.connect_timeout,
                silence_timeout: Some(config.silence_timeout).filter(|timeout| !timeout.is_zero()),
                max_duration: config.max_duration,
                signer: secret.map(Signer::new),
                on_disconnect: config.on_disconnect,
                on_connect_failure: config.on_connect_failure,
                on_silence: config.on_silence,
            },
        })
    }

    /// [`StreamBot::new`] with the secret from `secret_env`, as a registry factory.
    ///
    /// # Errors
    /// As [`StreamBot::new`], and naming `secret_env` when that variable is unset.
    pub fn from_context(
        config: StreamConfig,
        _context: &BotContext,
    ) -> Result<Self, BotConfigError> {
        let secret = match &config.secret_env {
            Some(name) => Some(std::env::var(name).map_err(|_| {
                BotConfigError::new(
                    NAME_STREAM,
                    Some("secret_env"),
                    format!("${name} is not set"),
                )
            })?),
            None => None,
        };
        Self::new(config, secret.as_deref().map(str::as_bytes))
    }
}

#[async_trait]
impl Bot for StreamBot {
    async fn handle(&self, call: Call) -> Result<(), BotError> {
        let mut settings = self.settings.clone();
        for value in settings.parameters.values_mut() {
            *value = stream::expand(value, &call);
        }
        let details = CallDetails::new(call.info());
        let end = stream::bridge(&call, &details, &settings).await?;
        // `continue` has nothing to continue with: the bot's part ends and the engine
        // hangs up.
        stream::finish(&call, &end, end.action(&settings)).await?;
        Ok(())
    }
}
