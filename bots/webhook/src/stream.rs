//! `stream`: the call's audio to and from a WebSocket agent, both ways, until the agent
//! or the caller ends it.
//!
//! Two protocols ([`Protocol`]): Twilio Media Streams (JSON text messages, base64
//! μ-law; an agent written for Twilio works unchanged) and raw (binary PCM s16le 8 kHz
//! frames plus JSON text events). The caller's audio goes to the agent as the engine
//! hands it out (jitter-buffered, 20 ms frames); the agent's audio is queued here and
//! fed to [`Call::audio_sink`], whose pacer plays it at real time with at most the
//! pacer's lead in flight. So:
//!
//! - a `mark` from the agent is echoed when the audio sent before it has been *played*
//!   to the caller: it travels through the sink and the engine reports it when the
//!   pacer's clock passes it ([`CallEvent::Mark`]), not when it was queued;
//! - a `clear` empties this queue and the engine's ([`AudioSink::clear`]) at once; the
//!   caller hears at most the pacer's lead after it (the barge-in tail). Marks the
//!   clear discarded are echoed at once, as Twilio does.
//!
//! The agent closing the socket, failing to connect or going silent ends the stream;
//! what happens next is an [`EndAction`] (hang up, the engine's fallback, a route, or
//! the next verb), logged with the call id. Audio the agent sent before closing is
//! played out first, so a goodbye is heard.
//!
//! [`Call::audio_sink`]: voicebot_bot::Call::audio_sink
//! [`CallEvent::Mark`]: voicebot_bot::CallEvent::Mark
//! [`AudioSink::clear`]: voicebot_bot::AudioSink::clear

mod bridge;
mod queue;
mod raw;
mod twilio;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use voicebot_bot::{BotError, Call, CallError};

pub use self::bridge::bridge;
use crate::sign::Signer;

/// The agent's wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// Twilio Media Streams: JSON text messages, base64 μ-law 8 kHz.
    #[default]
    Twilio,
    /// Binary PCM s16le 8 kHz frames and JSON text events.
    Raw,
}

/// What to do when a stream ends other than by the caller hanging up.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndAction {
    /// Hang up.
    Hangup,
    /// Go on: the next verb (webhook), or end the bot's part (stream bot: the engine
    /// then hangs up).
    Continue,
    /// Fail the bot, so the engine sends the call to its fallback destination.
    Fallback,
    /// Route the call to this destination.
    RouteTo(String),
}

/// Settings of one stream.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    /// The agent's `ws://` or `wss://` URL.
    pub url: String,
    /// Its protocol.
    pub protocol: Protocol,
    /// Custom parameters for the agent (Twilio `start.customParameters`), with
    /// `{caller}`, `{caller_name}`, `{did}`, `{dn}`, `{callid}` and `{legid}` filled in.
    pub parameters: BTreeMap<String, String>,
    /// How long the agent has to accept the WebSocket.
    pub connect_timeout: Duration,
    /// The agent sending nothing this long ends the stream (`None`: never).
    pub silence_timeout: Option<Duration>,
    /// The stream ends after this long (`None`: when the agent or the caller ends it).
    pub max_duration: Option<Duration>,
    /// Signs the WebSocket handshake, when set.
    pub signer: Option<Signer>,
    /// When the agent closes the socket.
    pub on_disconnect: EndAction,
    /// When the agent cannot be reached.
    pub on_connect_failure: EndAction,
    /// When the agent is silent for `silence_timeout`.
    pub on_silence: EndAction,
}

/// How a stream ended (the caller hanging up is a [`CallError::Hangup`] instead).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEnd {
    /// The agent closed the socket (after its audio was played).
    AgentClosed,
    /// The agent could not be reached.
    ConnectFailed(String),
    /// The socket failed, or the agent broke the protocol.
    AgentFailed(String),
    /// The agent sent nothing for the silence timeout.
    AgentSilent,
    /// The stream reached its maximum duration.
    MaxDuration,
}

impl StreamEnd {
    /// The name used in webhook requests (`stream.ended_by`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::AgentClosed => "agent_closed",
            Self::ConnectFailed(_) => "connect_failed",
            Self::AgentFailed(_) => "agent_failed",
            Self::AgentSilent => "agent_silent",
            Self::MaxDuration => "max_duration",
        }
    }

    /// What went wrong, if something did.
    pub fn error(&self) -> Option<&str> {
        match self {
            Self::ConnectFailed(why) | Self::AgentFailed(why) => Some(why),
            _ => None,
        }
    }

    /// The action `settings` name for this end.
    pub fn action<'a>(&self, settings: &'a StreamSettings) -> &'a EndAction {
        match self {
            Self::AgentClosed | Self::AgentFailed(_) => &settings.on_disconnect,
            Self::ConnectFailed(_) => &settings.on_connect_failure,
            Self::AgentSilent => &settings.on_silence,
            Self::MaxDuration => &settings.on_disconnect,
        }
    }
}

/// Whether the caller goes on to what follows the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterStream {
    /// The call goes on (next verb).
    Continue,
    /// The call has left the bot (hung up or routed).
    Ended,
}

/// Carries out `action` after a stream that ended with `end`.
///
/// # Errors
/// A [`BotError`] naming the end for [`EndAction::Fallback`] (the engine then sends the
/// call to its fallback), or the verb's error.
pub async fn finish(
    call: &Call,
    end: &StreamEnd,
    action: &EndAction,
) -> Result<AfterStream, BotError> {
    let call_id = call.info().call_id();
    tracing::info!(call_id, ended_by = end.name(), error = end.error(), action = ?action, "stream ended");
    match action {
        EndAction::Continue => Ok(AfterStream::Continue),
        EndAction::Hangup => match call.hangup().await {
            Ok(()) | Err(CallError::Hangup | CallError::Ended) => Ok(AfterStream::Ended),
            Err(other) => Err(other.into()),
        },
        EndAction::RouteTo(destination) => {
            call.route_to(destination.as_str()).await?;
            Ok(AfterStream::Ended)
        }
        EndAction::Fallback => Err(BotError::msg(format!(
            "stream to the agent ended ({}{}); the call goes to the fallback",
            end.name(),
            end.error()
                .map(|why| format!(": {why}"))
                .unwrap_or_default()
        ))),
    }
}

/// Fills the placeholders of a custom parameter value.
pub(crate) fn expand(template: &str, call: &Call) -> String {
    let info = call.info();
    template
        .replace("{caller}", info.caller_number())
        .replace("{caller_name}", info.caller_name())
        .replace("{did}", info.did().unwrap_or_default())
        .replace("{dn}", info.called_dn().as_str())
        .replace("{callid}", &info.call_id().to_string())
        .replace("{legid}", &info.leg_id().to_string())
}
