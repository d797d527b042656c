//! The external-command recogniser: any program that reads raw audio on stdin and writes JSON
//! results on stdout (a whisper.cpp or Vosk wrapper, or your own).
//!
//! **The program's contract.** One process per session. Stdin carries s16le mono PCM at the
//! configured rate ([`AudioRate`]), 20 ms at a time as the call goes; stdin closes at the end of
//! the session, after which the program should print its last result and exit. Stdout carries
//! one JSON object per line, in the format described in the `wire` module docs:
//! `{"text": "...", "final": true, "start": 1.2, "end": 2.0, "confidence": 0.9}` (times in
//! seconds from the start of its input), or Vosk's `{"partial": "..."}` /
//! `{"text": "...", "result": [...]}`. Stderr is logged at debug level. The environment carries
//! the session's settings:
//!
//! | variable | value |
//! |---|---|
//! | `VOICEBOT_SAMPLE_RATE` | `8000` or `16000` |
//! | `VOICEBOT_PARTIALS` | `1` if partial results are wanted, else `0` |
//! | `VOICEBOT_GRAMMAR_JSGF` | the grammar as JSGF, if the session has one |
//! | `VOICEBOT_PHRASES` | the grammar's phrases as a JSON array of strings, if it has them |
//!
//! If the program exits or stops reading for [`RestartPolicy::stall_timeout`], it is killed and
//! started again with exponential backoff; frames that arrive meanwhile are counted in
//! [`SessionStats::frames_lost`](crate::SessionStats::frames_lost) and result times stay
//! relative to the call.

mod worker;

use std::{ffi::OsString, fmt, sync::Arc};

use async_trait::async_trait;

use crate::{
    error::{ConfigError, Result},
    restart::RestartPolicy,
    session::{RecognitionSession, Recognizer, SessionOptions},
    worker::WorkerSession,
};

/// The sample rate the program's stdin carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AudioRate {
    /// The call's own 8 kHz (no resampling).
    #[default]
    Hz8000,
    /// 16 kHz, upsampled with the media crate's `Upsampler8To16` (most models want it).
    Hz16000,
}

impl AudioRate {
    /// The rate in Hz.
    #[must_use]
    pub fn hz(self) -> u32 {
        match self {
            Self::Hz8000 => 8_000,
            Self::Hz16000 => 16_000,
        }
    }
}

/// Runs a configured program per session. Build with [`CommandRecognizer::builder`].
#[derive(Clone)]
pub struct CommandRecognizer {
    config: Arc<CommandConfig>,
}

#[derive(Debug)]
pub(crate) struct CommandConfig {
    pub(crate) program: OsString,
    pub(crate) args: Vec<OsString>,
    pub(crate) rate: AudioRate,
    pub(crate) restart: RestartPolicy,
}

/// Settings of a [`CommandRecognizer`].
#[derive(Debug)]
#[must_use]
pub struct CommandRecognizerBuilder {
    config: CommandConfig,
}

impl CommandRecognizer {
    /// Starts building a recogniser that runs `program` (looked up in `PATH` if not a path).
    pub fn builder(program: impl Into<OsString>) -> CommandRecognizerBuilder {
        CommandRecognizerBuilder {
            config: CommandConfig {
                program: program.into(),
                args: Vec::new(),
                rate: AudioRate::default(),
                restart: RestartPolicy::default(),
            },
        }
    }
}

impl CommandRecognizerBuilder {
    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.config.args.push(arg.into());
        self
    }

    /// Adds several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.config.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets the rate of the audio on stdin. Default 8 kHz.
    pub fn audio_rate(mut self, rate: AudioRate) -> Self {
        self.config.rate = rate;
        self
    }

    /// Sets the restart backoff and stall limit.
    pub fn restart_policy(mut self, policy: RestartPolicy) -> Self {
        self.config.restart = policy;
        self
    }

    /// Builds the recogniser. The program is not run until a session starts.
    ///
    /// # Errors
    /// [`ConfigError::EmptyCommand`] for an empty program name; [`ConfigError::OutOfRange`] for
    /// a zero stall timeout or `min_backoff > max_backoff`.
    pub fn build(self) -> Result<CommandRecognizer, ConfigError> {
        let restart = self.config.restart;
        if self.config.program.is_empty() {
            return Err(ConfigError::EmptyCommand);
        }
        if restart.stall_timeout.is_zero() || restart.min_backoff > restart.max_backoff {
            return Err(ConfigError::OutOfRange {
                setting: "restart_policy",
                reason: "needs a positive stall timeout and min_backoff <= max_backoff",
            });
        }
        Ok(CommandRecognizer {
            config: Arc::new(self.config),
        })
    }
}

#[async_trait]
impl Recognizer for CommandRecognizer {
    /// Spawns the program and starts feeding it.
    ///
    /// # Errors
    /// [`SpeechError::Io`](crate::SpeechError::Io) if the program cannot be spawned.
    async fn start(&self, options: SessionOptions) -> Result<Box<dyn RecognitionSession>> {
        // Spawn once here so a missing program fails `start`, not silently in the background.
        let child = worker::spawn_child(&self.config, &options)?;
        let config = Arc::clone(&self.config);
        let worker_options = options.clone();
        let session = WorkerSession::spawn(&options, move |io| {
            worker::run(config, worker_options, child, io)
        });
        Ok(Box::new(session))
    }
}

impl fmt::Debug for CommandRecognizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandRecognizer")
            .field("program", &self.config.program)
            .field("args", &self.config.args)
            .field("rate", &self.config.rate)
            .finish()
    }
}
