//! [`Sinks`]: where results go — a JSONL file, stdout, a webhook.

use std::io;
use std::path::{Path, PathBuf};

use tokio::io::AsyncWriteExt;

use crate::line::TranscriptLine;
use crate::webhook::Webhook;

/// How results look on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdoutFormat {
    /// One JSON line per result, as in the JSONL file.
    Json,
    /// `[1.24-2.10] support (0.90)`, for people.
    Text,
}

/// The sinks of one transcription. Partial results go to the file and stdout only
/// when enabled, never to the webhook.
#[derive(Debug, Default)]
pub struct Sinks {
    jsonl: Option<(PathBuf, tokio::fs::File)>,
    stdout: Option<StdoutFormat>,
    webhook: Option<Webhook>,
    partials: bool,
    /// The call the lines belong to: its engine id goes on every line and its final
    /// texts on the call's record.
    call: Option<voicebot_bot::Call>,
}

impl Sinks {
    /// No sinks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lines of `call`: each carries the call's engine id, and final texts go on the
    /// call's record ([`Call::note`](voicebot_bot::Call::note)).
    pub fn for_call(mut self, call: &voicebot_bot::Call) -> Self {
        self.call = Some(call.clone());
        self
    }

    /// Writes lines to a new file at `path` (its folder is created).
    ///
    /// # Errors
    /// The I/O error when the file cannot be created.
    pub async fn jsonl(mut self, path: impl Into<PathBuf>) -> io::Result<Self> {
        let path = path.into();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            tokio::fs::create_dir_all(parent).await?;
        }
        let file = tokio::fs::File::create(&path).await?;
        self.jsonl = Some((path, file));
        Ok(self)
    }

    /// Prints lines on stdout.
    #[must_use]
    pub fn stdout(mut self, format: StdoutFormat) -> Self {
        self.stdout = Some(format);
        self
    }

    /// Posts final results to `webhook`.
    #[must_use]
    pub fn webhook(mut self, webhook: Webhook) -> Self {
        self.webhook = Some(webhook);
        self
    }

    /// Whether partial results are written too.
    #[must_use]
    pub fn partials(mut self, on: bool) -> Self {
        self.partials = on;
        self
    }

    /// The JSONL file's path, if there is one.
    pub fn jsonl_path(&self) -> Option<&Path> {
        self.jsonl.as_ref().map(|(path, _)| path.as_path())
    }

    /// Writes `line` to every sink. A file that cannot be written is logged and
    /// dropped; the webhook only queues (see [`Webhook::post`]).
    ///
    /// # Cancellation
    /// A cancelled write may leave a partial line in the file.
    pub async fn write(&mut self, line: &TranscriptLine) {
        if !line.is_final && !self.partials {
            return;
        }
        let stamped;
        let line = match &self.call {
            Some(call) => {
                stamped = TranscriptLine {
                    engine_call_id: Some(call.info().engine_id().to_string()),
                    ..line.clone()
                };
                if line.is_final {
                    // On the call's record too, off the transcript's path: no line waits
                    // for the call task, and a call already gone only loses the note.
                    let note = voicebot_bot::CallNote::Transcript(line.text.clone());
                    let call = call.clone();
                    tokio::spawn(async move {
                        let _ = call.note(note).await;
                    });
                }
                &stamped
            }
            None => line,
        };
        let json = line.to_json();
        if let Some((path, file)) = &mut self.jsonl {
            // Flushed per line: the transcript so far survives a crash of the process.
            let written = async {
                file.write_all(format!("{json}\n").as_bytes()).await?;
                file.flush().await
            };
            if let Err(error) = written.await {
                tracing::warn!(%error, path = %path.display(), "cannot write the transcript; it stops here");
                self.jsonl = None;
            }
        }
        match self.stdout {
            Some(StdoutFormat::Json) => println!("{json}"),
            Some(StdoutFormat::Text) => println!("{}", text(line)),
            None => {}
        }
        if let Some(webhook) = &self.webhook
            && line.is_final
        {
            webhook.post(line.clone());
        }
    }
}

/// `[1.24-2.10] support (0.90)`; partials marked with `…`.
fn text(line: &TranscriptLine) -> String {
    let confidence = line
        .confidence
        .map(|c| format!(" ({c:.2})"))
        .unwrap_or_default();
    let partial = match line.is_final {
        true => "",
        false => " …",
    };
    format!(
        "[{:.2}-{:.2}] {}{confidence}{partial}",
        line.start, line.end, line.text
    )
}
