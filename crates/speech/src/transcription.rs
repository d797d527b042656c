//! Transcribing finished recordings with a stronger, batch recogniser: a [`Transcriber`] turns a
//! mono WAV file into timed [`Recognition`]s, and [`transcribe_recording`] runs one over a
//! recording (each channel of a stereo file on its own), retrying failures with backoff.
//!
//! Two transcribers come with it:
//! - [`HttpTranscriber`]: the OpenAI-compatible `POST /v1/audio/transcriptions` API (multipart
//!   upload, `response_format=verbose_json` with segment and word times), as served by
//!   whisper.cpp's server and other local speech servers;
//! - [`CommandTranscriber`]: a program given the file's path (`{wav}` in its arguments), which
//!   prints the same JSON or plain text.
//!
//! Streaming recognisers ([`Recognizer`](crate::Recognizer)) hear a call as it happens and suit
//! grammar menus; a Whisper-class transcriber needs the whole recording and suits dictation.

mod command;
mod http;
mod recording;
mod verbose_json;

use std::{path::Path, time::Duration};

use async_trait::async_trait;

pub use self::{
    command::WAV_PLACEHOLDER,
    command::{CommandTranscriber, CommandTranscriberBuilder},
    http::{HttpTranscriber, HttpTranscriberBuilder},
    recording::{ChannelTranscript, RetryPolicy, transcribe_recording},
};
use crate::{error::Result, recognition::Recognition};

/// A batch recogniser of finished recordings. Cheap to share (`Arc`) across calls.
#[async_trait]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a transcriber of recordings",
    note = "implement `voicebot_speech::Transcriber` (with `#[async_trait]`) or use \
            `HttpTranscriber` or `CommandTranscriber`"
)]
pub trait Transcriber: Send + Sync + std::fmt::Debug {
    /// Transcribes the mono WAV file at `wav`: its utterances (segments) in time order, each a
    /// final [`Recognition`] timed from the start of the file, with word times when the engine
    /// gives them.
    ///
    /// # Errors
    /// [`SpeechError::Rejected`](crate::SpeechError::Rejected) when the engine answers with an
    /// error; [`SpeechError::Unreachable`](crate::SpeechError::Unreachable) when it cannot be
    /// reached, fails or times out; [`SpeechError::Protocol`](crate::SpeechError::Protocol)
    /// for an answer this crate cannot read; [`SpeechError::Io`](crate::SpeechError::Io) when
    /// the file cannot be read.
    async fn transcribe(&self, wav: &Path) -> Result<Vec<Recognition>>;
}

/// The longest error body kept from a server or program (bytes), so a huge error page never
/// fills logs.
pub const MAX_ERROR_BODY: usize = 512;

/// `text` cut to at most [`MAX_ERROR_BODY`] bytes, on a character boundary.
pub(crate) fn capped(text: &str) -> String {
    let mut end = text.len().min(MAX_ERROR_BODY);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].trim().to_owned()
}

/// The default time one transcription request may take.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_capped_on_a_character_boundary() {
        let long = "é".repeat(400);
        let cut = capped(&long);
        assert!(cut.len() <= MAX_ERROR_BODY);
        assert_eq!(cut.chars().count(), MAX_ERROR_BODY / 2);
        assert_eq!(capped(" short "), "short");
    }
}
