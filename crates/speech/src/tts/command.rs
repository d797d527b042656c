//! [`CommandSynthesizer`]: any program that reads text on stdin and writes WAV on stdout.

use std::ffi::OsString;
use std::time::Duration;

use async_trait::async_trait;

use super::{SynthesizedAudio, Synthesizer, process};
use crate::error::ConfigError;
use crate::tts::error::TtsError;

/// The placeholder in arguments replaced by the voice of each request.
const VOICE_PLACEHOLDER: &str = "{voice}";

/// Runs a configured program once per sentence: the text goes to its stdin (UTF-8, then stdin
/// closes), and it writes one WAV file (any rate, mono or stereo) to stdout and exits 0. An
/// argument containing `{voice}` gets the request's voice (or the default voice) put in.
/// Piper fits: `piper --model en_US-lessac-medium.onnx --output_file /dev/stdout`.
#[derive(Debug, Clone)]
pub struct CommandSynthesizer {
    program: OsString,
    args: Vec<String>,
    voice: Option<String>,
    timeout: Duration,
}

/// Settings of a [`CommandSynthesizer`].
#[derive(Debug, Clone)]
#[must_use]
pub struct CommandSynthesizerBuilder {
    engine: CommandSynthesizer,
}

impl CommandSynthesizer {
    /// Settings for `program`, with no arguments, no default voice and 30 s per sentence.
    pub fn builder(program: impl Into<OsString>) -> CommandSynthesizerBuilder {
        CommandSynthesizerBuilder {
            engine: Self {
                program: program.into(),
                args: Vec::new(),
                voice: None,
                timeout: Duration::from_secs(30),
            },
        }
    }

    fn args(&self, voice: Option<&str>) -> Vec<OsString> {
        self.args
            .iter()
            .map(|arg| OsString::from(arg.replace(VOICE_PLACEHOLDER, voice.unwrap_or_default())))
            .collect()
    }
}

impl CommandSynthesizerBuilder {
    /// Adds one argument (`{voice}` in it is replaced per request).
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.engine.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I>(mut self, args: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.engine.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// The voice `{voice}` stands for when a request names none.
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.engine.voice = Some(voice.into());
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
    /// [`TtsError::Config`] with [`ConfigError::EmptyCommand`] when the program name is empty.
    pub fn build(self) -> Result<CommandSynthesizer, TtsError> {
        match self.engine.program.is_empty() {
            true => Err(ConfigError::EmptyCommand.into()),
            false => Ok(self.engine),
        }
    }
}

#[async_trait]
impl Synthesizer for CommandSynthesizer {
    fn identity(&self) -> String {
        let mut identity = format!("command {}", self.program.to_string_lossy());
        for arg in &self.args {
            identity.push(' ');
            identity.push_str(arg);
        }
        identity
    }

    fn default_voice(&self) -> Option<&str> {
        self.voice.as_deref()
    }

    async fn synthesize(
        &self,
        text: &str,
        voice: Option<&str>,
    ) -> Result<SynthesizedAudio, TtsError> {
        let voice = voice.or(self.voice.as_deref());
        let wav = process::run(&self.program, &self.args(voice), text, self.timeout).await?;
        Ok(SynthesizedAudio::Wav(wav))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_voice_goes_where_the_placeholder_is() {
        let engine = CommandSynthesizer::builder("tts")
            .args(["--voice={voice}", "--out", "-"])
            .voice("amy")
            .build()
            .unwrap();
        assert_eq!(engine.args(Some("bob"))[0], "--voice=bob");
        assert_eq!(engine.args(None)[0], "--voice=");
        assert!(CommandSynthesizer::builder("").build().is_err());
    }

    #[tokio::test]
    async fn a_program_that_writes_wav_is_a_synthesiser() {
        // espeak-ng itself, driven as a generic command.
        let engine = CommandSynthesizer::builder("espeak-ng")
            .args(["--stdout", "-v", "{voice}"])
            .voice("en-us")
            .build()
            .unwrap();
        let SynthesizedAudio::Wav(wav) = engine.synthesize("One two three.", None).await.unwrap()
        else {
            panic!("a command writes WAV")
        };
        assert!(wav.starts_with(b"RIFF"));
    }

    #[tokio::test]
    async fn a_failing_program_reports_its_status_and_stderr() {
        let engine = CommandSynthesizer::builder("sh")
            .args(["-c", "echo no model here >&2; exit 3"])
            .build()
            .unwrap();
        let error = engine.synthesize("Hello.", None).await.unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("no model here") && message.contains('3'),
            "{message}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_program_that_hangs_is_killed_at_the_timeout() {
        let engine = CommandSynthesizer::builder("sleep")
            .arg("30")
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let error = engine.synthesize("Hello.", None).await.unwrap_err();
        assert_eq!(
            error,
            TtsError::Timeout {
                waited: Duration::from_secs(2)
            }
        );
    }
}
