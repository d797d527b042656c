//! [`BotContext`]: what the engine offers a bot factory beyond the bot's own config.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use voicebot_speech::{Recognizer, RetryPolicy, Transcriber};

use crate::bot::Bot;
use crate::dial::Dialer;
use crate::error::BotConfigError;
use crate::registry::BotRegistry;

/// Services for bots, handed to factories registered with
/// [`BotRegistry::register_with`]: outbound dialling, the recordings folder, the
/// configured speech recogniser, and the registry itself, so a bot (an IVR menu,
/// say) can hand calls to other bots.
#[derive(Clone, Default)]
pub struct BotContext {
    dialer: Option<Arc<dyn Dialer>>,
    recordings_dir: PathBuf,
    registry: Option<Arc<BotRegistry>>,
    recognizer: Option<Arc<dyn Recognizer>>,
    transcriber: Option<(Arc<dyn Transcriber>, RetryPolicy)>,
}

impl BotContext {
    /// A context with no dialer, the current folder for recordings and no registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the dialer for outbound calls.
    #[must_use]
    pub fn with_dialer(mut self, dialer: Arc<dyn Dialer>) -> Self {
        self.dialer = Some(dialer);
        self
    }

    /// Sets the folder where recordings go by default.
    #[must_use]
    pub fn with_recordings_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.recordings_dir = dir.into();
        self
    }

    /// Sets the registry used by [`BotContext::build_bot`].
    #[must_use]
    pub fn with_registry(mut self, registry: Arc<BotRegistry>) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Sets the speech recogniser bots use (the same one the engine uses for
    /// speech gathers).
    #[must_use]
    pub fn with_recognizer(mut self, recognizer: Arc<dyn Recognizer>) -> Self {
        self.recognizer = Some(recognizer);
        self
    }

    /// The configured speech recogniser, if any. Bots whose configuration asks for
    /// speech should fail to build (a [`BotConfigError`] naming the key) without one.
    pub fn recognizer(&self) -> Option<&Arc<dyn Recognizer>> {
        self.recognizer.as_ref()
    }

    /// Sets the batch transcriber of finished recordings (a Whisper-class server or
    /// program) and how its failures are retried.
    #[must_use]
    pub fn with_transcriber(
        mut self,
        transcriber: Arc<dyn Transcriber>,
        retry: RetryPolicy,
    ) -> Self {
        self.transcriber = Some((transcriber, retry));
        self
    }

    /// The configured batch transcriber and its retry policy, if any.
    pub fn transcriber(&self) -> Option<(&Arc<dyn Transcriber>, RetryPolicy)> {
        self.transcriber.as_ref().map(|(t, retry)| (t, *retry))
    }

    /// The dialer, when the engine offers outbound calls.
    pub fn dialer(&self) -> Option<&Arc<dyn Dialer>> {
        self.dialer.as_ref()
    }

    /// The folder for recordings (relative paths in record templates resolve here).
    pub fn recordings_dir(&self) -> &Path {
        &self.recordings_dir
    }

    /// Builds another registered bot by name, with this same context.
    ///
    /// # Errors
    /// [`BotConfigError`] when there is no registry in this context, no bot of that
    /// name, or its configuration does not fit.
    pub fn build_bot(
        &self,
        name: &str,
        config: toml::Value,
    ) -> Result<Arc<dyn Bot>, BotConfigError> {
        match &self.registry {
            Some(registry) => registry.build_with(name, config, self),
            None => Err(BotConfigError::new(
                name,
                None,
                "bots cannot be built here: the context has no registry",
            )),
        }
    }
}

impl fmt::Debug for BotContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BotContext")
            .field("dialer", &self.dialer.is_some())
            .field("recordings_dir", &self.recordings_dir)
            .field("registry", &self.registry)
            .field("recognizer", &self.recognizer.is_some())
            .field("transcriber", &self.transcriber)
            .finish()
    }
}
