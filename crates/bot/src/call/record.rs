//! `record`: [`RecordBuilder`] and [`Recording`].

use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use voicebot_media::Channels;
use voicebot_model::Digit;

use crate::error::{CallError, CallResult};
use crate::message::{CallMessage, RecordRequest};
use crate::{Call, CallInfo};

/// Why a recording ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordEnd {
    /// The maximum length was reached.
    MaxLength,
    /// The caller was silent for the silence timeout.
    Silence,
    /// The caller pressed this terminator key.
    Terminator(Digit),
    /// The caller hung up; the file is complete nonetheless.
    Hangup,
}

/// A finished recording: a complete, valid WAV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Where the file is.
    pub path: PathBuf,
    /// Length of the audio in the file.
    pub duration: Duration,
    /// Why it ended.
    pub ended_by: RecordEnd,
    /// Where the caller's audio did not reach the engine (its stream was cut or
    /// stalled and was reopened): the file holds silence there, so its times stay
    /// wall-clock times. Empty for a recording without interruptions.
    pub gaps: Vec<RecordingGap>,
}

/// A stretch of a [`Recording`] the caller's audio was lost in transit, kept as
/// silence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingGap {
    /// Where it starts, from the start of the recording.
    pub at: Duration,
    /// How long it lasts.
    pub len: Duration,
}

/// A `record` to `.await`.
///
/// Defaults: at most 60 s, ends after 5 s of silence or on `#`, a beep first, the
/// caller only ([`Channels::Caller`]), no trimming, path `recordings/{callid}-{legid}-{unix}.wav`. Path templates may
/// use `{callid}`, `{legid}`, `{dn}`, `{participant}`, `{caller}` and `{unix}`;
/// values are reduced to `[A-Za-z0-9+_-]`, so caller-supplied text cannot leave the
/// directory.
///
/// ```no_run
/// # use std::time::Duration;
/// # use voicebot_bot::{Call, Channels};
/// # async fn example(call: Call) -> Result<(), voicebot_bot::CallError> {
/// let message = call
///     .record()
///     .path_template("/var/voicemail/{dn}/{caller}-{unix}.wav")
///     .max_length(Duration::from_secs(120))
///     .silence_timeout(Duration::from_secs(4))
///     .channels(Channels::Caller)
///     .await?;
/// println!("{} ({:?})", message.path.display(), message.duration);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a verb does nothing until awaited"]
pub struct RecordBuilder {
    call: Call,
    template: String,
    finish_on: String,
    request: RecordRequest,
}

impl RecordBuilder {
    pub(crate) fn new(call: Call) -> Self {
        Self {
            call,
            template: "recordings/{callid}-{legid}-{unix}.wav".to_owned(),
            finish_on: "#".to_owned(),
            request: RecordRequest {
                path: PathBuf::new(),
                max_length: Duration::from_secs(60),
                silence_timeout: Some(Duration::from_secs(5)),
                terminators: Vec::new(),
                beep: true,
                channels: Channels::Caller,
                trim_silence: false,
            },
        }
    }

    /// Stop after this long.
    pub fn max_length(mut self, length: Duration) -> Self {
        self.request.max_length = length;
        self
    }

    /// Stop after this much continuous silence.
    pub fn silence_timeout(mut self, timeout: Duration) -> Self {
        self.request.silence_timeout = Some(timeout);
        self
    }

    /// Never stop because of silence.
    pub fn no_silence_timeout(mut self) -> Self {
        self.request.silence_timeout = None;
        self
    }

    /// Keys that stop the recording (`""` for none).
    pub fn finish_on(mut self, keys: impl Into<String>) -> Self {
        self.finish_on = keys.into();
        self
    }

    /// Whether to beep before recording.
    pub fn beep(mut self, beep: bool) -> Self {
        self.request.beep = beep;
        self
    }

    /// The caller only (mono), caller and bot mixed (mono), or stereo (caller left,
    /// bot right).
    pub fn channels(mut self, channels: Channels) -> Self {
        self.request.channels = channels;
        self
    }

    /// Whether to cut leading and trailing silence.
    pub fn trim_silence(mut self, trim: bool) -> Self {
        self.request.trim_silence = trim;
        self
    }

    /// Where to write the file, with placeholders (see the type's docs).
    pub fn path_template(mut self, template: impl Into<String>) -> Self {
        self.template = template.into();
        self
    }
}

impl IntoFuture for RecordBuilder {
    type Output = CallResult<Recording>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    /// Records until the maximum length, silence, a terminator or hang-up.
    ///
    /// # Errors
    /// [`CallError::InvalidRequest`] for a bad `finish_on` key;
    /// [`CallError::Media`] when the file cannot be written. A hang-up is *not* an
    /// error here: the recording is returned with [`RecordEnd::Hangup`].
    ///
    /// # Cancellation
    /// Dropping the future stops the recording; the engine still finalises the file.
    fn into_future(self) -> Self::IntoFuture {
        let Self {
            call,
            template,
            finish_on,
            mut request,
        } = self;
        Box::pin(async move {
            request.terminators = finish_on
                .chars()
                .map(Digit::new)
                .collect::<Result<_, _>>()
                .map_err(|error| CallError::InvalidRequest(format!("finish_on: {error}")))?;
            let unix = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_secs());
            request.path = PathBuf::from(expand(&template, call.info(), unix));
            call.request(|reply| CallMessage::Record {
                request: Box::new(request),
                reply,
            })
            .await
        })
    }
}

/// Fills a path template from the call's identity.
pub(crate) fn expand(template: &str, info: &CallInfo, unix: u64) -> String {
    let values = [
        ("{callid}", info.call_id().to_string()),
        ("{legid}", info.leg_id().to_string()),
        ("{dn}", info.called_dn().to_string()),
        ("{participant}", info.participant_id().to_string()),
        ("{caller}", info.caller_number().to_owned()),
        ("{unix}", unix.to_string()),
    ];
    values
        .iter()
        .fold(template.to_owned(), |path, (name, value)| {
            path.replace(name, &safe(value))
        })
}

// PBX-supplied text (a caller id) must not add path separators or `..`.
fn safe(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || matches!(c, '+' | '_' | '-') {
                true => c,
                false => '_',
            },
        )
        .collect();
    match cleaned.is_empty() {
        true => "unknown".to_owned(),
        false => cleaned,
    }
}

#[cfg(test)]
mod tests {
    use voicebot_model::{Dn, Participant, ParticipantId};

    use super::*;
    use crate::Direction;

    #[test]
    fn templates_are_filled_and_caller_text_is_made_safe() {
        let participant = Participant {
            id: ParticipantId(12),
            dn: Dn::new("800"),
            party_caller_id: "../../etc/passwd".to_owned(),
            callid: 7,
            legid: 2,
            ..Participant::default()
        };
        let info = CallInfo::new(&participant, Direction::Inbound);
        assert_eq!(
            expand(
                "/rec/{dn}/{callid}-{legid}-{participant}-{caller}-{unix}.wav",
                &info,
                99
            ),
            "/rec/800/7-2-12-______etc_passwd-99.wav"
        );
        let anonymous = CallInfo::new(&Participant::default(), Direction::Inbound);
        assert_eq!(expand("{caller}.wav", &anonymous, 0), "unknown.wav");
    }
}
