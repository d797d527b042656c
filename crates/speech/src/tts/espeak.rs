//! [`Espeak`]: the built-in synthesiser, the `espeak-ng` program.

use std::ffi::OsString;
use std::time::Duration;

use async_trait::async_trait;

use super::{SynthesizedAudio, Synthesizer, process};
use crate::error::ConfigError;
use crate::tts::error::TtsError;

/// espeak-ng's own default speed, in words per minute.
const DEFAULT_RATE_WPM: u32 = 175;

/// The built-in speech engine: runs `espeak-ng --stdout` once per sentence, text on stdin.
///
/// Needs no network and no model download (Debian package `espeak-ng`); starts in a few
/// milliseconds and makes speech many times faster than real time, at the price of a robotic
/// voice. Voices are espeak-ng's (`espeak-ng --voices`): `en-us`, `en-gb`, `de`, `fr`, ... with
/// variants such as `en-us+f3`.
#[derive(Debug, Clone)]
pub struct Espeak {
    program: OsString,
    voice: String,
    rate_wpm: u32,
    pitch: Option<u8>,
    timeout: Duration,
}

/// Settings of an [`Espeak`].
#[derive(Debug, Clone)]
#[must_use]
pub struct EspeakBuilder {
    engine: Espeak,
}

impl Espeak {
    /// Settings with defaults: program `espeak-ng` (from `PATH`), voice `en-us`, 175 words per
    /// minute, espeak-ng's default pitch, 30 s per sentence at most.
    pub fn builder() -> EspeakBuilder {
        EspeakBuilder {
            engine: Self {
                program: OsString::from("espeak-ng"),
                voice: "en-us".to_owned(),
                rate_wpm: DEFAULT_RATE_WPM,
                pitch: None,
                timeout: Duration::from_secs(30),
            },
        }
    }

    fn args(&self, voice: &str) -> Vec<OsString> {
        let mut args: Vec<OsString> = ["--stdout", "-b", "1", "-v", voice, "-s"]
            .into_iter()
            .map(OsString::from)
            .collect();
        args.push(self.rate_wpm.to_string().into());
        if let Some(pitch) = self.pitch {
            args.push("-p".into());
            args.push(pitch.to_string().into());
        }
        args
    }
}

impl EspeakBuilder {
    /// The espeak-ng program (a name on `PATH` or a path).
    pub fn program(mut self, program: impl Into<OsString>) -> Self {
        self.engine.program = program.into();
        self
    }

    /// The default voice (`espeak-ng --voices` lists them).
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.engine.voice = voice.into();
        self
    }

    /// Speed in words per minute (80 to 450).
    pub fn rate_wpm(mut self, rate_wpm: u32) -> Self {
        self.engine.rate_wpm = rate_wpm;
        self
    }

    /// Pitch, 0 to 99 (espeak-ng's default is 50).
    pub fn pitch(mut self, pitch: u8) -> Self {
        self.engine.pitch = Some(pitch);
        self
    }

    /// The longest one sentence may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.engine.timeout = timeout;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`TtsError::Config`] for an empty program, a voice name with characters espeak-ng voices do
    /// not have, a rate outside 80–450 or a pitch above 99. Whether the program and voice exist
    /// shows at the first synthesis ([`Speaker::check`](super::Speaker::check) tries one).
    pub fn build(self) -> Result<Espeak, TtsError> {
        let engine = self.engine;
        if engine.program.is_empty() {
            return Err(ConfigError::EmptyCommand.into());
        }
        check_voice(&engine.voice)?;
        if !(80..=450).contains(&engine.rate_wpm) {
            return Err(ConfigError::OutOfRange {
                setting: "rate",
                reason: "must be 80 to 450 words per minute",
            }
            .into());
        }
        if engine.pitch.is_some_and(|pitch| pitch > 99) {
            return Err(ConfigError::OutOfRange {
                setting: "pitch",
                reason: "must be 0 to 99",
            }
            .into());
        }
        Ok(engine)
    }
}

/// espeak-ng voice names are letters, digits and `-_+/` (`en-us`, `en-us+f3`, `roa/it`).
pub(crate) fn check_voice(voice: &str) -> Result<(), ConfigError> {
    let valid = !voice.is_empty()
        && !voice.starts_with('-')
        && voice
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_+/".contains(c));
    match valid {
        true => Ok(()),
        false => Err(ConfigError::OutOfRange {
            setting: "voice",
            reason: "must be an espeak-ng voice name (letters, digits, - _ + /)",
        }),
    }
}

#[async_trait]
impl Synthesizer for Espeak {
    fn identity(&self) -> String {
        let pitch = self
            .pitch
            .map_or_else(String::new, |pitch| format!(" pitch={pitch}"));
        format!("espeak-ng rate={}{pitch}", self.rate_wpm)
    }

    fn default_voice(&self) -> Option<&str> {
        Some(&self.voice)
    }

    async fn synthesize(
        &self,
        text: &str,
        voice: Option<&str>,
    ) -> Result<SynthesizedAudio, TtsError> {
        let voice = voice.unwrap_or(&self.voice);
        check_voice(voice)?;
        let wav = process::run(&self.program, &self.args(voice), text, self.timeout).await?;
        Ok(SynthesizedAudio::Wav(wav))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_out_of_range_are_refused_by_name() {
        let refused = |builder: EspeakBuilder| builder.build().unwrap_err().to_string();
        assert!(refused(Espeak::builder().rate_wpm(20)).starts_with("rate"));
        assert!(refused(Espeak::builder().pitch(120)).starts_with("pitch"));
        assert!(refused(Espeak::builder().voice("-w /etc/passwd")).starts_with("voice"));
        assert!(refused(Espeak::builder().voice("")).starts_with("voice"));
        assert!(Espeak::builder().voice("en-us+f3").build().is_ok());
    }

    #[test]
    fn the_identity_names_what_changes_the_sound() {
        let slow = Espeak::builder().rate_wpm(120).build().unwrap();
        let fast = Espeak::builder().rate_wpm(200).build().unwrap();
        assert_ne!(slow.identity(), fast.identity());
        assert!(slow.identity().starts_with("espeak-ng"));
    }

    #[tokio::test]
    async fn a_sentence_becomes_a_wav() {
        let engine = Espeak::builder().build().unwrap();
        let audio = engine.synthesize("Hello there.", None).await.unwrap();
        let SynthesizedAudio::Wav(bytes) = audio else {
            panic!("espeak-ng writes WAV")
        };
        assert!(bytes.starts_with(b"RIFF"));
        assert!(
            bytes.len() > 8_000,
            "at least some speech: {} bytes",
            bytes.len()
        );
    }

    #[tokio::test]
    async fn an_unknown_voice_is_the_programs_error() {
        let engine = Espeak::builder().build().unwrap();
        let error = engine
            .synthesize("Hello.", Some("xx-nowhere"))
            .await
            .unwrap_err();
        assert!(matches!(error, TtsError::Program { .. }), "{error}");
        assert!(error.to_string().contains("voice"), "{error}");
    }

    #[tokio::test]
    async fn a_missing_program_is_a_spawn_error() {
        let engine = Espeak::builder()
            .program("/nonexistent/espeak-ng")
            .build()
            .unwrap();
        let error = engine.synthesize("Hello.", None).await.unwrap_err();
        assert!(matches!(error, TtsError::Spawn { .. }), "{error}");
    }
}
