//! The WebSocket recogniser: a client of the Vosk server protocol (`vosk-server`'s
//! `asr_server.py`, and the many servers that copied it), the most common self-hosted streaming
//! ASR protocol.
//!
//! Per session: one connection; a text message
//! `{"config": {"sample_rate": 8000, "words": 1, "phrase_list": [...]}}` (the phrase list only
//! with a grammar); binary messages of s16le audio (100 ms each); `{"eof" : 1}` at the end.
//! The server answers each audio message with `{"partial": "..."}` or, at the end of an
//! utterance, `{"text": "...", "result": [{"word", "start", "end", "conf"}]}`, and after `eof`
//! with the last final result before closing. If the connection breaks or the server stops
//! taking audio, the client reconnects with backoff (frames meanwhile are counted as lost).

mod worker;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;

use crate::{
    error::{ConfigError, Result},
    restart::RestartPolicy,
    session::{RecognitionSession, Recognizer, SessionOptions},
    worker::WorkerSession,
};

/// A Vosk-protocol server at a `ws://` or `wss://` URL.
#[derive(Debug, Clone)]
pub struct VoskRecognizer {
    config: Arc<VoskConfig>,
}

#[derive(Debug)]
pub(crate) struct VoskConfig {
    pub(crate) url: String,
    pub(crate) restart: RestartPolicy,
    pub(crate) connect_timeout: Duration,
    pub(crate) frames_per_message: usize,
}

impl VoskRecognizer {
    /// A client of the server at `url`, with the default restart policy.
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] unless `url` is a valid `ws://` or `wss://` URL.
    pub fn new(url: &str) -> Result<Self, ConfigError> {
        Self::with_policy(url, RestartPolicy::default())
    }

    /// A client with its own restart policy; its `stall_timeout` also bounds connecting.
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] unless `url` is a valid `ws://` or `wss://` URL;
    /// [`ConfigError::OutOfRange`] for a zero stall timeout or `min_backoff > max_backoff`.
    pub fn with_policy(url: &str, restart: RestartPolicy) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let parsed = url::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(parsed.scheme(), "ws" | "wss") {
            return Err(invalid("the scheme must be ws or wss"));
        }
        if restart.stall_timeout.is_zero() || restart.min_backoff > restart.max_backoff {
            return Err(ConfigError::OutOfRange {
                setting: "restart_policy",
                reason: "needs a positive stall timeout and min_backoff <= max_backoff",
            });
        }
        Ok(Self {
            config: Arc::new(VoskConfig {
                url: parsed.into(),
                restart,
                connect_timeout: restart.stall_timeout,
                frames_per_message: 5,
            }),
        })
    }
}

#[async_trait]
impl Recognizer for VoskRecognizer {
    /// Connects and sends the config message.
    ///
    /// # Errors
    /// [`SpeechError::Connection`](crate::SpeechError::Connection) if the server cannot be
    /// reached; [`SpeechError::Stalled`](crate::SpeechError::Stalled) if connecting takes longer
    /// than the stall timeout.
    async fn start(&self, options: SessionOptions) -> Result<Box<dyn RecognitionSession>> {
        // Connect here so an unreachable server fails `start` rather than the background task.
        let connection = worker::connect(&self.config, &options).await?;
        let config = Arc::clone(&self.config);
        let worker_options = options.clone();
        let session = WorkerSession::spawn(&options, move |io| {
            worker::run(config, worker_options, connection, io)
        });
        Ok(Box::new(session))
    }
}
