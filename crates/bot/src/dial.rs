//! Outbound calls for bots: the [`Dialer`] the engine implements.
//!
//! A campaign bot (say, an announcement dialled to a list of numbers) asks the
//! engine to place a call from a route point and to run a bot on it once answered.
//! Busy, no answer and refusals are [`DialOutcome`] values carrying the PBX's
//! reason, not errors: a list dialler records them per number and moves on.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use voicebot_model::{AttachedData, Dn};

use crate::bot::Bot;
use crate::error::CallError;

/// Places outbound calls. The engine implements it; bots get it from their
/// [`BotContext`](crate::BotContext).
#[async_trait]
pub trait Dialer: Send + Sync + 'static {
    /// Calls `request.destination` from the route point `request.from`; when the far
    /// end answers, runs `request.bot` on the call. Resolves when the attempt failed,
    /// or when the answered call has ended.
    ///
    /// # Errors
    /// [`CallError`] when the engine could not try at all (shutting down, the route
    /// point is unknown, the PBX unreachable). A busy or unanswered destination is
    /// `Ok` with the matching [`DialOutcome`].
    async fn dial(&self, request: DialRequest) -> Result<DialOutcome, CallError>;
}

/// What to dial and what to run on the answered call.
#[derive(Clone)]
pub struct DialRequest {
    /// The route point the call comes from.
    pub from: Dn,
    /// Number or DN to call.
    pub destination: String,
    /// How long to let it ring; the engine's default when `None`.
    pub ring_timeout: Option<Duration>,
    /// Data attached to the new call.
    pub attached_data: AttachedData,
    /// The bot that handles the call once answered.
    pub bot: Arc<dyn Bot>,
}

impl DialRequest {
    /// A request to call `destination` from `from` and run `bot` when answered.
    pub fn new(from: impl Into<Dn>, destination: impl Into<String>, bot: Arc<dyn Bot>) -> Self {
        Self {
            from: from.into(),
            destination: destination.into(),
            ring_timeout: None,
            attached_data: AttachedData::new(),
            bot,
        }
    }
}

impl fmt::Debug for DialRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DialRequest")
            .field("from", &self.from)
            .field("destination", &self.destination)
            .field("ring_timeout", &self.ring_timeout)
            .field("attached_data", &self.attached_data)
            .finish_non_exhaustive()
    }
}

/// How an outbound call went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialOutcome {
    /// The far end answered and the bot ran.
    Answered {
        /// PBX call id.
        call_id: i64,
        /// From answer to the end of the call.
        talk_time: Duration,
        /// `None` when the bot ended normally, else its error in words.
        bot_error: Option<String>,
    },
    /// The destination was busy.
    Busy {
        /// The PBX's reason text.
        reason: String,
    },
    /// Nobody answered within the ring timeout.
    NoAnswer {
        /// The PBX's reason text.
        reason: String,
    },
    /// The PBX refused or could not place the call.
    Failed {
        /// The PBX's reason text (or the HTTP error).
        reason: String,
    },
}

impl DialOutcome {
    /// A short machine-friendly name: `answered`, `busy`, `no_answer`, `failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Answered { .. } => "answered",
            Self::Busy { .. } => "busy",
            Self::NoAnswer { .. } => "no_answer",
            Self::Failed { .. } => "failed",
        }
    }
}
