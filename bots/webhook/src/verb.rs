//! What the webhook server answers: a JSON array of verbs, run in order. Its schema is
//! `docs/webhook.schema.json` (`Answer`).
//!
//! Parsing is strict and names what is wrong: an answer that is not an array, a verb
//! without a `verb` name or with an unknown one, an unknown or mistyped field (with
//! its path), a prompt path that leaves the prompts folder, a regex that does not
//! compile. Unknown fields are errors rather than ignored, so a typo (`max_digit`)
//! fails loudly instead of silently running with a default.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use voicebot_bot::{BargeIn, Channels, DiversionReason, PromptSource};

use crate::stream::{EndAction, Protocol};

/// One verb of an answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Verb {
    /// Speak text (text-to-speech).
    Say(Say),
    /// Play a prompt.
    Play(Play),
    /// Collect digits (and speech).
    Gather(Box<Gather>),
    /// Record the caller.
    Record(Record),
    /// Transfer the call (`transferto`).
    Transfer(Transfer),
    /// Route the call (`routeto`), with a prompt while it rings.
    RouteTo(RouteTo),
    /// Divert a ringing call.
    Divert(Divert),
    /// Hang up.
    Hangup,
    /// Silence for a while.
    Pause(Pause),
    /// Attach data to the call.
    AttachData(AttachData),
    /// Fetch new verbs from a URL.
    Redirect(Redirect),
    /// Connect the call's audio to a WebSocket agent.
    Stream(Box<StreamVerb>),
}

impl Verb {
    /// The verb's name as written in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Say(_) => "say",
            Self::Play(_) => "play",
            Self::Gather(_) => "gather",
            Self::Record(_) => "record",
            Self::Transfer(_) => "transfer",
            Self::RouteTo(_) => "route_to",
            Self::Divert(_) => "divert",
            Self::Hangup => "hangup",
            Self::Pause(_) => "pause",
            Self::AttachData(_) => "attach_data",
            Self::Redirect(_) => "redirect",
            Self::Stream(_) => "stream",
        }
    }
}

/// `say`: `{ "verb": "say", "text": "Hello", "voice": "en-gb" }` (voice optional).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Say {
    /// What to say.
    pub text: String,
    /// The synthesiser's voice; the configured default when absent.
    #[serde(default)]
    pub voice: Option<String>,
}

/// `play`: a prompt, `loops` times, interrupted as `barge_in` says.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Play {
    /// What to play.
    pub prompt: Prompt,
    /// How many times (1 to 100, default 1).
    #[serde(default)]
    pub loops: Option<u32>,
    /// What may interrupt it (default `digits`).
    #[serde(default)]
    pub barge_in: Option<BargeInSpec>,
}

/// `gather`: every setting of the Rust `gather`, and an `action` URL.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gather {
    /// Played at the start of each try.
    #[serde(default)]
    pub prompt: Option<Prompt>,
    /// Played after a try with invalid input.
    #[serde(default)]
    pub invalid_prompt: Option<Prompt>,
    /// Fewest digits accepted.
    #[serde(default)]
    pub min_digits: Option<usize>,
    /// Most digits.
    #[serde(default)]
    pub max_digits: Option<usize>,
    /// Exactly this many digits (sets both).
    #[serde(default)]
    pub digits: Option<usize>,
    /// Wait for the first digit after the prompt (`"5s"`).
    #[serde(default, with = "humantime_serde")]
    pub timeout: Option<Duration>,
    /// Wait for each further digit.
    #[serde(default, with = "humantime_serde")]
    pub inter_digit_timeout: Option<Duration>,
    /// Keys that end input (`"#"`, `""` for none).
    #[serde(default)]
    pub finish_on: Option<String>,
    /// Whether input must end with a terminator.
    #[serde(default)]
    pub terminator_required: Option<bool>,
    /// How many tries.
    #[serde(default)]
    pub tries: Option<u32>,
    /// What may interrupt the prompts.
    #[serde(default)]
    pub barge_in: Option<BargeInSpec>,
    /// A regex the whole of the digits must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Also listen for speech.
    #[serde(default)]
    pub speech: Option<SpeechSpec>,
    /// How long to wait for the recogniser's last result.
    #[serde(default, with = "humantime_serde")]
    pub speech_timeout: Option<Duration>,
    /// Where to POST the result; its answer replaces the remaining verbs.
    #[serde(default)]
    pub action: Option<String>,
}

/// What a speech gather listens for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeechSpec {
    /// Phrases the caller may say; the result names the index of the one said.
    #[serde(default)]
    pub choices: Vec<String>,
    /// Or a spoken digit string of `[min, max]` digits.
    #[serde(default)]
    pub digits: Option<[usize; 2]>,
}

/// `record`: the caller into a WAV file, and an `action` URL.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// Stop after this long (default 60 s).
    #[serde(default, with = "humantime_serde")]
    pub max_length: Option<Duration>,
    /// Stop after this much silence (default 5 s; `"0s"` never).
    #[serde(default, with = "humantime_serde")]
    pub silence_timeout: Option<Duration>,
    /// Keys that stop it (default `"#"`).
    #[serde(default)]
    pub finish_on: Option<String>,
    /// Beep first (default true).
    #[serde(default)]
    pub beep: Option<bool>,
    /// `mono` (default) or `stereo` (caller left, what was played right).
    #[serde(default)]
    pub channels: Option<ChannelsSpec>,
    /// Cut leading and trailing silence.
    #[serde(default)]
    pub trim_silence: Option<bool>,
    /// Where to POST the result.
    #[serde(default)]
    pub action: Option<String>,
}

/// `transfer`: `{ "verb": "transfer", "to": "100" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// The destination.
    pub to: String,
}

/// `route_to`: route with a prompt while it rings.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteTo {
    /// The destination.
    pub to: String,
    /// Looped while it rings (default: ringback).
    #[serde(default)]
    pub prompt: Option<Prompt>,
    /// How long it may ring.
    #[serde(default, with = "humantime_serde")]
    pub timeout: Option<Duration>,
}

/// `divert`: a ringing call elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Divert {
    /// The destination.
    pub to: String,
    /// The 3CX diversion reason (default `None`).
    #[serde(default)]
    pub reason: Option<String>,
}

/// `pause`: silence.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    /// How long (at most 10 minutes).
    #[serde(with = "humantime_serde")]
    pub length: Duration,
}

/// `attach_data`: key-value pairs on the call.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachData {
    /// The data.
    pub data: BTreeMap<String, String>,
}

/// `redirect`: new verbs from `url`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redirect {
    /// Absolute, or relative to the bot's `url`.
    pub url: String,
}

/// `stream`: the call's audio to and from a WebSocket agent.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamVerb {
    /// The agent's `ws://` or `wss://` URL.
    pub url: String,
    /// `twilio` (default) or `raw`.
    #[serde(default)]
    pub protocol: Option<Protocol>,
    /// Sent to the agent in `start.customParameters`.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// The agent silent this long ends the stream.
    #[serde(default, with = "humantime_serde")]
    pub silence_timeout: Option<Duration>,
    /// The stream ends after this long.
    #[serde(default, with = "humantime_serde")]
    pub max_duration: Option<Duration>,
    /// When the agent closes the socket: `hangup` (default), `continue`, `fallback`
    /// or `{ "route_to": "100" }`.
    #[serde(default)]
    pub on_disconnect: Option<EndAction>,
    /// When the agent cannot be reached.
    #[serde(default)]
    pub on_connect_failure: Option<EndAction>,
    /// When the agent is silent for `silence_timeout`.
    #[serde(default)]
    pub on_silence: Option<EndAction>,
    /// Where to POST how the stream ended (for `continue`).
    #[serde(default)]
    pub action: Option<String>,
}

/// What may interrupt a prompt: `none`, `digits`, `speech` or `any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BargeInSpec {
    /// Nothing.
    None,
    /// Key presses.
    Digits,
    /// Speech.
    Speech,
    /// Keys and speech.
    Any,
}

impl From<BargeInSpec> for BargeIn {
    fn from(spec: BargeInSpec) -> Self {
        match spec {
            BargeInSpec::None => Self::NONE,
            BargeInSpec::Digits => Self::DIGITS,
            BargeInSpec::Speech => Self::SPEECH,
            BargeInSpec::Any => Self::ANY,
        }
    }
}

/// `mono`, `mixed` or `stereo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelsSpec {
    /// The caller only.
    Mono,
    /// One channel: the caller and what was played, summed.
    Mixed,
    /// Caller left, what was played right.
    Stereo,
}

impl From<ChannelsSpec> for Channels {
    fn from(spec: ChannelsSpec) -> Self {
        match spec {
            ChannelsSpec::Mono => Self::Caller,
            ChannelsSpec::Mixed => Self::Mixed,
            ChannelsSpec::Stereo => Self::Stereo,
        }
    }
}

/// A prompt: a file path relative to the prompts folder (`"menu.wav"`),
/// `{ "silence": "1s" }`, or `{ "tone": 440, "duration": "500ms" }` (with an optional
/// `"second_tone"` Hz for dual tones).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "Value")]
pub struct Prompt(PromptSource);

impl Prompt {
    /// What the engine plays.
    pub fn source(&self) -> PromptSource {
        self.0.clone()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TonePrompt {
    tone: u16,
    #[serde(default)]
    second_tone: Option<u16>,
    #[serde(with = "humantime_serde")]
    duration: Duration,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SilencePrompt {
    #[serde(with = "humantime_serde")]
    silence: Duration,
}

/// The longest tone, silence or pause a verb may ask for.
const LONGEST_GENERATED: Duration = Duration::from_secs(600);

impl TryFrom<Value> for Prompt {
    type Error = String;

    fn try_from(value: Value) -> Result<Self, String> {
        let source = match value {
            Value::String(path) => PromptSource::File(relative_path(&path)?),
            Value::Object(ref map) if map.contains_key("tone") => {
                let tone: TonePrompt = serde_json::from_value(value).map_err(|e| e.to_string())?;
                check_length(tone.duration)?;
                PromptSource::Tone {
                    hz: tone.tone,
                    second_hz: tone.second_tone,
                    duration: tone.duration,
                }
            }
            Value::Object(ref map) if map.contains_key("silence") => {
                let silence: SilencePrompt =
                    serde_json::from_value(value).map_err(|e| e.to_string())?;
                check_length(silence.silence)?;
                PromptSource::Silence(silence.silence)
            }
            other => {
                return Err(format!(
                    "a prompt is a file path, {{\"silence\": ..}} or {{\"tone\": .., \"duration\": ..}}, not {}",
                    quote(&other.to_string())
                ));
            }
        };
        Ok(Self(source))
    }
}

fn check_length(length: Duration) -> Result<(), String> {
    match length > LONGEST_GENERATED {
        true => Err(format!("{length:?} is longer than the 10 minutes allowed")),
        false => Ok(()),
    }
}

/// A prompt path the server may name: relative, and never leaving the prompts folder
/// (the engine resolves it there), so a webhook cannot play any file of the host.
fn relative_path(path: &str) -> Result<PathBuf, String> {
    let parsed = Path::new(path);
    let escapes = parsed
        .components()
        .any(|part| !matches!(part, Component::Normal(_) | Component::CurDir));
    match path.is_empty() || escapes {
        true => Err(format!(
            "prompt {path:?} must be a relative path inside the prompts folder (no `..`, no leading `/`)"
        )),
        false => Ok(parsed.to_owned()),
    }
}

/// Why an answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AnswerError(pub String);

/// Parses an answer body: a JSON array of verbs.
///
/// # Errors
/// [`AnswerError`] naming the verb (by position and name) and the field that is wrong.
pub fn parse_answer(body: &[u8]) -> Result<Vec<Verb>, AnswerError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| AnswerError(format!("not JSON ({error}): {}", quote_bytes(body))))?;
    let Value::Array(items) = value else {
        return Err(AnswerError(format!(
            "expected a JSON array of verbs, got {}",
            quote_bytes(body)
        )));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            parse_verb(item).map_err(|what| AnswerError(format!("verb {index}: {what}")))
        })
        .collect()
}

fn parse_verb(item: Value) -> Result<Verb, String> {
    let Value::Object(mut map) = item else {
        return Err(format!(
            "expected an object with a \"verb\" field, got {item}"
        ));
    };
    let name = match map.remove("verb") {
        Some(Value::String(name)) => name,
        Some(other) => return Err(format!("\"verb\" must be a string, got {other}")),
        None => return Err("has no \"verb\" field".to_owned()),
    };
    let fields = Value::Object(map);
    let verb = match name.as_str() {
        "say" => Verb::Say(fields_of(&name, fields)?),
        "play" => {
            let play: Play = fields_of(&name, fields)?;
            if play.loops.is_some_and(|loops| !(1..=100).contains(&loops)) {
                return Err("play: loops must be 1 to 100".to_owned());
            }
            Verb::Play(play)
        }
        "gather" => {
            let gather: Gather = fields_of(&name, fields)?;
            check_gather(&gather).map_err(|what| format!("gather: {what}"))?;
            Verb::Gather(Box::new(gather))
        }
        "record" => Verb::Record(fields_of(&name, fields)?),
        "transfer" => Verb::Transfer(fields_of(&name, fields)?),
        "route_to" => Verb::RouteTo(fields_of(&name, fields)?),
        "divert" => Verb::Divert(fields_of(&name, fields)?),
        "hangup" => {
            let _: Empty = fields_of(&name, fields)?;
            Verb::Hangup
        }
        "pause" => {
            let pause: Pause = fields_of(&name, fields)?;
            check_length(pause.length).map_err(|what| format!("pause: length: {what}"))?;
            Verb::Pause(pause)
        }
        "attach_data" => Verb::AttachData(fields_of(&name, fields)?),
        "redirect" => Verb::Redirect(fields_of(&name, fields)?),
        "stream" => {
            let stream: StreamVerb = fields_of(&name, fields)?;
            if !(stream.url.starts_with("ws://") || stream.url.starts_with("wss://")) {
                return Err(format!(
                    "stream: url {:?} is not a ws:// or wss:// URL",
                    stream.url
                ));
            }
            Verb::Stream(Box::new(stream))
        }
        other => {
            return Err(format!(
                "unknown verb {other:?} (known: say, play, gather, record, transfer, route_to, divert, hangup, pause, attach_data, redirect, stream)"
            ));
        }
    };
    Ok(verb)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

/// Deserialises a verb's fields, naming the field path on error.
fn fields_of<T>(verb: &str, fields: Value) -> Result<T, String>
where
    T: DeserializeOwned,
{
    serde_path_to_error::deserialize(fields).map_err(|error| {
        let path = error.path().to_string();
        match path.as_str() {
            "." | "" => format!("{verb}: {}", error.inner()),
            _ => format!("{verb}: {path}: {}", error.inner()),
        }
    })
}

fn check_gather(gather: &Gather) -> Result<(), String> {
    if let Some(pattern) = &gather.pattern {
        regex::Regex::new(pattern).map_err(|error| format!("pattern: {error}"))?;
    }
    if let Some(speech) = &gather.speech {
        match (speech.choices.is_empty(), speech.digits) {
            (false, None) | (true, Some(_)) => {}
            _ => return Err("speech: give either `choices` or `digits`".to_owned()),
        }
    }
    Ok(())
}

/// At most this much of a body is quoted in an error.
pub(crate) const QUOTE_LIMIT: usize = 512;

/// A body for an error message: at most [`QUOTE_LIMIT`] bytes, lossy UTF-8.
pub(crate) fn quote_bytes(body: &[u8]) -> String {
    let cut = &body[..body.len().min(QUOTE_LIMIT)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if body.len() > QUOTE_LIMIT {
        text.push_str(&format!("… ({} bytes)", body.len()));
    }
    format!("{text:?}")
}

fn quote(text: &str) -> String {
    quote_bytes(text.as_bytes())
}

/// The diversion reason a `divert` names.
pub(crate) fn reason(divert: &Divert) -> DiversionReason {
    divert
        .reason
        .as_deref()
        .map_or(DiversionReason::None, DiversionReason::from)
}

#[cfg(test)]
mod tests;
