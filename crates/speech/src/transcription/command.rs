//! [`CommandTranscriber`]: a program that transcribes a file named in its arguments.

use std::{path::Path, process::Stdio, time::Duration};

use async_trait::async_trait;
use tokio::process::Command;

use super::{DEFAULT_TIMEOUT, Transcriber, capped, verbose_json};
use crate::{
    error::{ConfigError, Result, SpeechError},
    recognition::{Recognition, normalize},
};

/// The placeholder replaced by the WAV file's path in a [`CommandTranscriber`]'s arguments.
pub const WAV_PLACEHOLDER: &str = "{wav}";

/// A transcriber that runs a program per file: `{wav}` in its arguments becomes the mono WAV
/// file's path (e.g. `["whisper-cli", "-m", "model.bin", "-f", "{wav}", "-ojf", "-of", "-"]`).
/// The program prints the API's `verbose_json` (or `{"text": ...}`) or plain text on stdout
/// and exits 0. It is killed after the timeout; a failing program's stderr is kept (cut to
/// [`MAX_ERROR_BODY`](super::MAX_ERROR_BODY) bytes) in the error.
#[derive(Debug, Clone)]
pub struct CommandTranscriber {
    program: String,
    args: Vec<String>,
    timeout: Duration,
}

/// Settings of a [`CommandTranscriber`].
#[derive(Debug, Clone)]
#[must_use]
pub struct CommandTranscriberBuilder {
    program: String,
    args: Vec<String>,
    timeout: Duration,
}

impl CommandTranscriber {
    /// Runs `program` (found on `PATH` unless a path).
    pub fn builder(program: impl Into<String>) -> CommandTranscriberBuilder {
        CommandTranscriberBuilder {
            program: program.into(),
            args: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl CommandTranscriberBuilder {
    /// Adds an argument; [`WAV_PLACEHOLDER`] in it is replaced by the file's path.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// How long one run may take before the program is killed (default 5 min).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`ConfigError::EmptyCommand`] for an empty program; [`ConfigError::MissingPlaceholder`]
    /// when no argument holds `{wav}` (the program would not know the file);
    /// [`ConfigError::OutOfRange`] for a zero timeout.
    pub fn build(self) -> Result<CommandTranscriber, ConfigError> {
        if self.program.trim().is_empty() {
            return Err(ConfigError::EmptyCommand);
        }
        if !self.args.iter().any(|a| a.contains(WAV_PLACEHOLDER)) {
            return Err(ConfigError::MissingPlaceholder {
                placeholder: WAV_PLACEHOLDER,
            });
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::OutOfRange {
                setting: "timeout",
                reason: "must be positive",
            });
        }
        Ok(CommandTranscriber {
            program: self.program,
            args: self.args,
            timeout: self.timeout,
        })
    }
}

#[async_trait]
impl Transcriber for CommandTranscriber {
    async fn transcribe(&self, wav: &Path) -> Result<Vec<Recognition>> {
        let path = wav.to_string_lossy();
        let args = self.args.iter().map(|a| a.replace(WAV_PLACEHOLDER, &path));
        let child = Command::new(&self.program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let output = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| SpeechError::Unreachable {
                reason: format!(
                    "{} ran longer than {:?} and was killed",
                    self.program, self.timeout
                ),
            })??;
        if !output.status.success() {
            return Err(SpeechError::ProgramFailed {
                status: output.status.code(),
                stderr: capped(&String::from_utf8_lossy(&output.stderr)),
            });
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        match stdout.trim_start().starts_with('{') {
            true => verbose_json::parse(&stdout),
            false => Ok(plain(&stdout, wav_duration(wav))),
        }
    }
}

/// Plain text: one result spanning the file.
fn plain(stdout: &str, duration: Duration) -> Vec<Recognition> {
    let text = normalize(stdout);
    match text.is_empty() {
        true => Vec::new(),
        false => vec![Recognition {
            text,
            is_final: true,
            start: Duration::ZERO,
            end: duration,
            confidence: None,
            words: Vec::new(),
        }],
    }
}

/// The file's length from its WAV header; zero if unreadable.
fn wav_duration(wav: &Path) -> Duration {
    hound::WavReader::open(wav).map_or(Duration::ZERO, |reader| {
        let spec = reader.spec();
        let seconds = f64::from(reader.duration()) / f64::from(spec.sample_rate.max(1));
        Duration::from_secs_f64(seconds)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_placeholder_is_required() {
        let error = CommandTranscriber::builder("whisper-cli")
            .arg("-f")
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("{wav}"), "{error}");
        assert!(matches!(
            CommandTranscriber::builder(" ").arg("{wav}").build(),
            Err(ConfigError::EmptyCommand)
        ));
    }

    #[tokio::test]
    async fn plain_text_json_and_failures_from_a_real_program() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("a b.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&wav, spec).unwrap();
        for _ in 0..16_000 {
            writer.write_sample(0i16).unwrap();
        }
        writer.finalize().unwrap();
        // The path, spaces and all, arrives as one argument.
        let echo = CommandTranscriber::builder("sh")
            .args(["-c", "test -f \"$1\" && echo Hello, World", "sh", "{wav}"])
            .build()
            .unwrap();
        let results = echo.transcribe(&wav).await.unwrap();
        assert_eq!(results[0].text, "hello world");
        assert_eq!(results[0].end, Duration::from_secs(2));
        let json = CommandTranscriber::builder("sh")
            .args([
                "-c",
                r#"echo '{"segments":[{"start":0.5,"end":1,"text":"yes"}]}'"#,
                "{wav}",
            ])
            .build()
            .unwrap();
        assert_eq!(
            json.transcribe(&wav).await.unwrap()[0].start,
            Duration::from_millis(500)
        );
        let failing = CommandTranscriber::builder("sh")
            .args(["-c", "echo model missing >&2; exit 3", "{wav}"])
            .build()
            .unwrap();
        match failing.transcribe(&wav).await {
            Err(SpeechError::ProgramFailed { status, stderr }) => {
                assert_eq!(status, Some(3));
                assert_eq!(stderr, "model missing");
            }
            other => panic!("{other:?}"),
        }
    }
}
