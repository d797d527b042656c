//! The built-in offline recogniser: CMU PocketSphinx 5prealpha, as packaged by Debian
//! (`libpocketsphinx-dev`, models from `pocketsphinx-en-us`). Feature `pocketsphinx`.
//!
//! Each session gets its own decoder on its own thread (decoding is CPU-bound and blocking, and
//! PocketSphinx decoders are not thread-safe), fed through the session's bounded queue. Call
//! audio is upsampled to the 16 kHz the en-us acoustic model was trained on with the media
//! crate's [`Upsampler8To16`](voicebot_media::Upsampler8To16).
//!
//! **Modes.** With a [`Grammar`](crate::Grammar) the decoder searches only that JSGF grammar;
//! without one it uses the en-us language model (free-form: unusable on telephone audio).
//!
//! **Telephone adaptation.** en-us is a 16 kHz model: a fifth of its 25 mel filters (130 to
//! 6800 Hz) lie above the 4 kHz a call carries, where /s/ and /z/ live, and on call audio it
//! hears "zero" as "three oh" and "sales" as "no". Decoding at 8 kHz with a narrower filterbank
//! is worse still (3 to 6% word accuracy), and no 8 kHz en-us model is packaged. By default
//! this module loads the model's parameters MAP-adapted to speech that went through the
//! telephone band (`model/telephone`: the files, the script that makes them from Festival
//! and flite voices of five speakers, and what was measured), embedded in the binary.
//! Grammar-mode word accuracy on the espeak-ng test phrases (`tests/speech/accuracy.rs`) goes
//! from 37.1% to 88.6% (with the menu's fillers; 42.9% to 82.9% before them and with three
//! speakers): every menu word but "yes" said alone, and four of five digit strings exactly.
//! What is still lost: espeak's "seven", and "john smith". [`PocketSphinxBuilder::telephone_adaptation`] turns it off;
//! another acoustic model turns it off too, since it fits Debian's en-us model only.
//!
//! **Decoder settings.** Dither keeps the digital silence of calls from giving infinite log
//! energies; it is our own, restarted at every utterance (PocketSphinx's shares one generator
//! between the decoders of a process), so a phrase decodes the same way whatever else runs. Grammar searches use a word insertion penalty of 1e-3, which
//! stops digit grammars from inserting words into pauses. Free-form decoding (the language
//! model) stays unusable on calls.
//!
//! **Rejection.** Menu grammars ([`Grammar::choices`](crate::Grammar::choices)) are decoded
//! against filler words and phones, so speech off the menu ends in a final result with empty
//! text (a no-match) and a menu phrase inside a sentence is found; digit and JSGF grammars are
//! decoded as written. The measurements behind this choice:
//!
#![doc = include_str!("../docs/rejection.md")]
//!
//! **Confidence.** Free-form results carry PocketSphinx's lattice posterior. Grammar results
//! carry none (`None`): its grammar search reports a posterior of 1.0 for any hypothesis.
//!
//! **Endpointing.** The media crate's [`voicebot_media::VoiceDetector`] splits
//! the call into utterances. The decoder starts an utterance at speech onset (with a little
//! audio from before it, since onset is reported late), emits partial results while the caller
//! speaks, and a final result with word times (and, free-form, a confidence) once the detector
//! reports the end of speech, or at [`PocketSphinxBuilder::max_utterance`]. Utterances in which
//! nothing was recognised produce no final result, except in a menu grammar, where they are a
//! no-match (empty text).

mod dither;
mod ffi;
mod fillers;
mod session;
mod telephone;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use async_trait::async_trait;
use tokio::sync::oneshot;
use voicebot_media::{VadConfig, VoiceDetector};

use crate::{
    error::{ConfigError, Result, SpeechError},
    session::{RecognitionSession, Recognizer, SessionOptions},
    worker::WorkerSession,
};

/// Where Debian's `pocketsphinx-en-us` puts the US English model.
pub const DEBIAN_MODEL_DIR: &str = "/usr/share/pocketsphinx/model/en-us";

/// The PocketSphinx recogniser. Build with [`PocketSphinx::builder`] or [`PocketSphinx::new`].
#[derive(Debug, Clone)]
pub struct PocketSphinx {
    settings: Arc<Settings>,
}

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) acoustic_model: PathBuf,
    pub(crate) dictionary: PathBuf,
    pub(crate) language_model: PathBuf,
    pub(crate) vad: VadConfig,
    pub(crate) pre_roll: Duration,
    pub(crate) partial_interval: Duration,
    pub(crate) max_utterance: Duration,
    /// The telephone adaptation's files, when it is on.
    pub(crate) adaptation: Option<telephone::Adaptation>,
}

/// Settings of a [`PocketSphinx`] recogniser.
#[derive(Debug, Clone)]
#[must_use]
pub struct PocketSphinxBuilder {
    settings: Settings,
    /// Whether `build` resolves the telephone adaptation into `settings.adaptation`.
    telephone: bool,
}

impl PocketSphinx {
    /// The recogniser with Debian's en-us model and default settings.
    ///
    /// # Errors
    /// [`ConfigError::ModelNotFound`] if `pocketsphinx-en-us` is not installed.
    pub fn new() -> Result<Self, ConfigError> {
        Self::builder().build()
    }

    /// Starts from the defaults: Debian's en-us model, the default voice detector, 300 ms
    /// pre-roll, partials every 200 ms, utterances of at most 20 s.
    pub fn builder() -> PocketSphinxBuilder {
        PocketSphinxBuilder {
            settings: Settings {
                acoustic_model: PathBuf::new(),
                dictionary: PathBuf::new(),
                language_model: PathBuf::new(),
                vad: segmenting_vad(),
                pre_roll: Duration::from_millis(300),
                partial_interval: Duration::from_millis(200),
                max_utterance: Duration::from_secs(20),
                adaptation: None,
            },
            telephone: true,
        }
        .model_dir(DEBIAN_MODEL_DIR)
    }
}

impl PocketSphinxBuilder {
    /// Uses a model directory laid out like Debian's: `<dir>/en-us/` (acoustic model),
    /// `<dir>/cmudict-en-us.dict`, `<dir>/en-us.lm.bin`.
    pub fn model_dir(mut self, dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref();
        self.settings.acoustic_model = dir.join("en-us");
        self.settings.dictionary = dir.join("cmudict-en-us.dict");
        self.settings.language_model = dir.join("en-us.lm.bin");
        self
    }

    /// Sets the acoustic model directory (`-hmm`). This turns the telephone adaptation off,
    /// since it fits Debian's en-us model only; [`telephone_adaptation`](Self::telephone_adaptation)
    /// turns it back on.
    pub fn acoustic_model(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.acoustic_model = path.into();
        self.telephone = false;
        self
    }

    /// Sets the pronunciation dictionary (`-dict`).
    pub fn dictionary(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.dictionary = path.into();
        self
    }

    /// Sets the language model for free-form sessions (`.lm.bin` or ARPA).
    pub fn language_model(mut self, path: impl Into<PathBuf>) -> Self {
        self.settings.language_model = path.into();
        self
    }

    /// Whether to decode with the telephone adaptation of the en-us model (on by default): its
    /// Gaussians MAP-adapted to speech in the 8 kHz telephone band, which roughly doubles
    /// grammar-mode accuracy on calls (see the module docs). Off, the model is used as Debian
    /// ships it.
    pub fn telephone_adaptation(mut self, on: bool) -> Self {
        self.telephone = on;
        self
    }

    /// Sets the voice detector that splits utterances.
    pub fn voice_detector(mut self, vad: VadConfig) -> Self {
        self.settings.vad = vad;
        self
    }

    /// Sets how much audio from before speech onset each utterance includes.
    pub fn pre_roll(mut self, pre_roll: Duration) -> Self {
        self.settings.pre_roll = pre_roll;
        self
    }

    /// Sets how often partial results are produced while the caller speaks.
    pub fn partial_interval(mut self, interval: Duration) -> Self {
        self.settings.partial_interval = interval;
        self
    }

    /// Sets the longest utterance; longer speech is cut into several finals.
    pub fn max_utterance(mut self, max: Duration) -> Self {
        self.settings.max_utterance = max;
        self
    }

    /// Checks the model files and settings.
    ///
    /// # Errors
    /// [`ConfigError::ModelNotFound`] for a missing acoustic model or dictionary (the language
    /// model is checked when a free-form session starts); [`ConfigError::OutOfRange`] for a bad
    /// voice detector setting or a zero partial interval or maximum utterance;
    /// [`ConfigError::AdaptationMismatch`] if the telephone adaptation is on and the acoustic
    /// model is not Debian's en-us; [`ConfigError::ModelUnwritable`] if the adaptation's files
    /// cannot be written to the temporary directory.
    pub fn build(self) -> Result<PocketSphinx, ConfigError> {
        let mut settings = self.settings;
        for path in [&settings.acoustic_model, &settings.dictionary] {
            if !path.exists() {
                return Err(ConfigError::ModelNotFound { path: path.clone() });
            }
        }
        VoiceDetector::new(settings.vad).map_err(|_| ConfigError::OutOfRange {
            setting: "voice_detector",
            reason: "is rejected by the media crate's VoiceDetector",
        })?;
        if settings.partial_interval.is_zero() || settings.max_utterance.is_zero() {
            return Err(ConfigError::OutOfRange {
                setting: "partial_interval/max_utterance",
                reason: "must be positive",
            });
        }
        settings.adaptation = match self.telephone {
            true => Some(telephone::Adaptation::for_model(&settings.acoustic_model)?),
            false => None,
        };
        Ok(PocketSphinx {
            settings: Arc::new(settings),
        })
    }
}

#[async_trait]
impl Recognizer for PocketSphinx {
    /// Loads a decoder on a new thread and sets its grammar or language model.
    ///
    /// # Errors
    /// [`ConfigError::GrammarRejected`] if PocketSphinx rejects the grammar (a syntax error or
    /// a word missing from the dictionary); [`ConfigError::ModelNotFound`] for a missing
    /// language model; [`SpeechError::Decoder`] if the decoder cannot be built.
    async fn start(&self, options: SessionOptions) -> Result<Box<dyn RecognitionSession>> {
        if options.grammar.is_none() && !self.settings.language_model.exists() {
            return Err(ConfigError::ModelNotFound {
                path: self.settings.language_model.clone(),
            }
            .into());
        }
        let (ready_tx, ready) = oneshot::channel();
        let settings = Arc::clone(&self.settings);
        let grammar = options.grammar.clone();
        let partials = options.partial_results;
        let session = WorkerSession::spawn_thread(&options, "pocketsphinx", move |io| {
            session::run(&settings, grammar.as_ref(), partials, io, ready_tx)
        })?;
        // Loading the model takes a moment; errors in the grammar surface here, not later.
        ready.await.unwrap_or(Err(SpeechError::Closed))?;
        Ok(Box::new(session))
    }
}

/// The voice detector that cuts the caller's audio into utterances for the decoder: the
/// level-and-earshot model with a 60 ms onset. The engine's default (voiced frames, 200 ms
/// onset) is tuned against barge-in on noise and music; here a missed word is lost
/// outright, while noise that reaches the decoder is rejected by the grammar.
fn segmenting_vad() -> VadConfig {
    VadConfig {
        model: voicebot_media::VadModel::Both {
            threshold: 0.5,
            margin_db: 6.0,
        },
        onset: std::time::Duration::from_millis(60),
        ..VadConfig::default()
    }
}
