//! [`Entry`]: one line of a [`FakeCall`](crate::FakeCall)'s journal.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use voicebot_bot::{BargeIn, CallNote, Channels, Digit, DiversionReason, PromptSource};
use voicebot_media::Repeat;
use voicebot_model::AttachedData;

/// Something the bot did on a [`FakeCall`](crate::FakeCall), in the order it did it.
///
/// Compares with text, so a whole journal is asserted in one line:
/// `assert_eq!(fake.journal(), ["play welcome.wav", "transfer 100"])`. The text of
/// each entry is given with its variant; `Debug` prints the same text.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Entry {
    /// `answer`.
    Answer,
    /// A prompt began to play (`play`, or a prompt of a `gather` or `route_to`):
    /// `play welcome.wav`, `play silence 2s`, `play tone 440 Hz`, `play ringback`,
    /// with ` x3` or ` forever` when repeated.
    Play {
        /// What.
        prompt: PromptSource,
        /// How many times.
        repeat: Repeat,
        /// What could interrupt it.
        barge_in: BargeIn,
    },
    /// The bot stopped waiting for a prompt before it ended (it was dropped, or the
    /// transfer it rang for was answered): `stop`.
    Stopped,
    /// A `gather` began (its prompts follow as [`Entry::Play`]): `gather`.
    Gather {
        /// Fewest digits.
        min_digits: usize,
        /// Most digits.
        max_digits: usize,
        /// Keys that end input.
        terminators: Vec<Digit>,
        /// Tries.
        tries: u32,
        /// Whether it also listened for speech.
        speech: bool,
    },
    /// A `record` began: `record PATH`.
    Record {
        /// Where the engine would write it (templates filled).
        path: PathBuf,
        /// Its maximum length.
        max_length: Duration,
        /// Its silence timeout.
        silence_timeout: Option<Duration>,
        /// Whether a beep came first.
        beep: bool,
        /// Its channels.
        channels: Channels,
        /// Keys that end it.
        terminators: Vec<Digit>,
    },
    /// `transfer` (`transferto`): `transfer 100`.
    Transfer(String),
    /// `route_to` (`routeto`): `route_to 200`.
    RouteTo(String),
    /// `divert`: `divert 300`.
    Divert {
        /// Where.
        to: String,
        /// Why.
        reason: Option<DiversionReason>,
    },
    /// `hangup` (`drop`): `hangup`.
    Hangup,
    /// `attach_data`: `attach_data`.
    AttachData(AttachedData),
    /// `clear_digits`: `clear_digits`.
    ClearDigits,
    /// `AudioSink::clear`: `clear_audio`.
    ClearAudio,
    /// `note`: `note transcript: …` or `note error: …`.
    Note(CallNote),
    /// A request the fake does not serve (it fails with the call's end cause): its
    /// `Debug` text.
    Unsupported(String),
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Answer => f.write_str("answer"),
            Self::Play { prompt, repeat, .. } => {
                write!(f, "play {}", PromptText(prompt))?;
                match repeat {
                    Repeat::Times(1) => Ok(()),
                    Repeat::Times(count) => write!(f, " x{count}"),
                    Repeat::Forever => f.write_str(" forever"),
                }
            }
            Self::Stopped => f.write_str("stop"),
            Self::Gather { .. } => f.write_str("gather"),
            Self::Record { path, .. } => write!(f, "record {}", path.display()),
            Self::Transfer(to) => write!(f, "transfer {to}"),
            Self::RouteTo(to) => write!(f, "route_to {to}"),
            Self::Divert { to, .. } => write!(f, "divert {to}"),
            Self::Hangup => f.write_str("hangup"),
            Self::AttachData(_) => f.write_str("attach_data"),
            Self::ClearDigits => f.write_str("clear_digits"),
            Self::ClearAudio => f.write_str("clear_audio"),
            Self::Note(CallNote::Transcript(text)) => write!(f, "note transcript: {text}"),
            Self::Note(CallNote::Error(text)) => write!(f, "note error: {text}"),
            Self::Note(other) => write!(f, "note {other:?}"),
            Self::Unsupported(what) => f.write_str(what),
        }
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

impl PartialEq<&str> for Entry {
    fn eq(&self, other: &&str) -> bool {
        self.text() == *other
    }
}

impl PartialEq<str> for Entry {
    fn eq(&self, other: &str) -> bool {
        self.text() == other
    }
}

impl Entry {
    /// The entry as the journal writes it (its `Display`).
    pub fn text(&self) -> String {
        format!("{self}")
    }
}

/// A prompt as the journal writes it.
struct PromptText<'a>(&'a PromptSource);

impl fmt::Display for PromptText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            PromptSource::File(path) => write!(f, "{}", path.display()),
            PromptSource::Silence(length) => write!(f, "silence {length:?}"),
            PromptSource::Tone {
                hz,
                second_hz: None,
                ..
            } => write!(f, "tone {hz} Hz"),
            PromptSource::Tone {
                hz,
                second_hz: Some(second),
                ..
            } => write!(f, "tone {hz}+{second} Hz"),
            PromptSource::Ringback => f.write_str("ringback"),
            PromptSource::Prompt(prompt) => write!(f, "audio {:?}", prompt.duration()),
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_as_text() {
        let play = Entry::Play {
            prompt: PromptSource::Silence(Duration::from_secs(2)),
            repeat: Repeat::Times(3),
            barge_in: BargeIn::NONE,
        };
        assert_eq!(play, "play silence 2s x3");
        assert_eq!(
            vec![Entry::Transfer("100".to_owned()), Entry::Hangup],
            ["transfer 100", "hangup"]
        );
        assert_eq!(format!("{:?}", Entry::Stopped), "\"stop\"");
        let ringing = Entry::Play {
            prompt: PromptSource::Ringback,
            repeat: Repeat::Forever,
            barge_in: BargeIn::NONE,
        };
        assert_eq!(ringing, "play ringback forever");
    }
}
