//! [`EngineEvent`]: what the engine reports about its calls, for the CLI and demo.

use std::time::Duration;

use voicebot_bot::{Direction, Dn};

/// Something that happened in the engine. Sent on a `broadcast` channel
/// ([`EngineHandle::subscribe`](crate::EngineHandle::subscribe)); a subscriber that
/// falls behind misses the oldest events (the engine never waits for it).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EngineEvent {
    /// The PBX event socket is (again) connected.
    PbxConnected,
    /// The PBX event socket was lost; the client is reconnecting. Calls go on.
    PbxDisconnected {
        /// Why, in words.
        reason: String,
    },
    /// An attempt to (re)connect to the PBX failed (unreachable, token refused,
    /// socket refused, snapshot failed); the client tries again after a backoff.
    PbxConnectFailed {
        /// Attempts failed in a row so far (1 for the first).
        attempt: u32,
        /// Why, in words.
        reason: String,
    },
    /// A call was handed to a bot.
    CallStarted {
        /// PBX call id.
        call_id: i64,
        /// Our DN.
        dn: Dn,
        /// The other party's number.
        caller: String,
        /// Inbound or outbound.
        direction: Direction,
    },
    /// A call was turned away because the engine is at its limit or shutting down.
    CallRejected {
        /// PBX call id.
        call_id: i64,
        /// Our DN.
        dn: Dn,
        /// What was done with it (`drop`, `divert`, `busy prompt`).
        treatment: &'static str,
    },
    /// A bot failed (returned an error or panicked); the call went to the fallback.
    BotFailed {
        /// PBX call id.
        call_id: i64,
        /// `error` or `panic`.
        kind: &'static str,
        /// The error in words.
        error: String,
    },
    /// A call ended.
    CallEnded {
        /// PBX call id.
        call_id: i64,
        /// How it ended.
        outcome: CallOutcome,
        /// From start to end.
        duration: Duration,
    },
}

/// How a call ended, as counted in `voicebot_calls_total{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallOutcome {
    /// The caller hung up.
    Hangup,
    /// The bot (or the engine after the bot returned) ended it: drop, transfer, route.
    Completed,
    /// The bot failed and the call went to the fallback destination.
    Fallback,
    /// The bot failed and the call was dropped (no fallback, or it failed).
    Dropped,
    /// The engine shut down while the call was live.
    Shutdown,
    /// An outbound call was never answered.
    NotAnswered,
}

impl CallOutcome {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hangup => "hangup",
            Self::Completed => "completed",
            Self::Fallback => "fallback",
            Self::Dropped => "dropped",
            Self::Shutdown => "shutdown",
            Self::NotAnswered => "not_answered",
        }
    }
}
