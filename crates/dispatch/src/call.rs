//! What the dispatcher hands the engine: a new call and its ordered updates.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use voicebot_model::{Digit, Participant};

/// How a call came to the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A caller reached a watched DN.
    Inbound,
    /// A leg the engine placed: announced with `expect_outbound`, or first seen
    /// `Dialing` on a watched DN.
    Outbound,
}

/// A new call: the engine starts a call task for it.
#[derive(Debug)]
pub struct NewCall {
    /// The participant as first seen.
    pub participant: Participant,
    /// Inbound or outbound.
    pub origin: Origin,
    /// The call's updates, in PBX order. Ends after [`CallUpdate::Removed`], or when
    /// the dispatcher stops.
    pub updates: mpsc::Receiver<CallUpdate>,
    /// Cancelled when the dispatcher gives up on the call (its queue overflowed) or
    /// shuts down; the call task must end then. A child of the dispatcher's token.
    pub cancel: CancellationToken,
}

/// One change to a call, delivered in order.
// Updates are per call-state change, not per audio frame: keeping the participant
// inline is cheaper than a box on every update.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CallUpdate {
    /// The participant changed (status or any other field). Repeated identical
    /// upserts are not delivered. Boxed: a call's update queue holds 32 of these, and
    /// a participant is a few hundred bytes.
    Status(Box<Participant>),
    /// Keys the caller pressed, as reported out of band (`dtmf_input`), split into
    /// digits. The engine feeds them to the call's `DigitSink`.
    Digits(Vec<Digit>),
    /// The participant is gone: the caller hung up, or the call was dropped or
    /// handed off. Always the last update.
    Removed,
}
