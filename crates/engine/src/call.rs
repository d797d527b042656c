//! One call: the call task that serves the bot's [`CallMessage`]s, its media task,
//! and its bot task, under one cancellation token.
//!
//! ```text
//! call task (task.rs) ── owns the endpoint, the digit sink, the PBX updates
//!   │  lifecycle (lifecycle.rs): the phases, a pure function of events; the call
//!   │    task turns select! results into events and its actions into effects
//!   ├─ verbs in flight (verbs.rs): futures polled by the call task itself, each
//!   │    holding its reply; a closed reply stops the work
//!   ├─ media task (media.rs): 20 ms tick; pacer → POST, GET → jitter → taps,
//!   │    lossless tap → recording writer
//!   └─ bot task: Bot::handle(call), caught if it panics
//! ```
//!
//! A call is `Live` while its bot is served, `Ending` while the engine's own drop or
//! fallback is in flight, `Over` once it ended for the bot (caller gone, our end
//! succeeded, updates lost, hard stop: the bot has its grace, we linger for the
//! PBX's removal), and `Done` when nothing is left to wait for.
//!
//! [`CallMessage`]: voicebot_bot::__engine::CallMessage

mod actions;
mod gather;
mod keys;
mod lifecycle;
mod media;
mod play;
mod record;
mod spoken;
mod task;
mod verbs;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, broadcast, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use voicebot_bot::__engine::{CallClock, DigitQueue};
use voicebot_bot::{Bot, CallError, Frame};
use voicebot_callcontrol::CallControlError;
use voicebot_dispatch::NewCall;
use voicebot_model::{CallLeg, Dn, ParticipantId, ParticipantStatus};

use crate::engine::Shared;

pub(crate) use keys::KeySink;
pub(crate) use media::{MediaClock, MediaCommand, PlayEnd, media_tick};

/// Everything a call task starts from.
pub(crate) struct CallSetup {
    pub(crate) new_call: NewCall,
    pub(crate) bot: Arc<dyn Bot>,
    /// Released when the call ends; `None` for busy treatments.
    pub(crate) permit: Option<OwnedSemaphorePermit>,
    /// Set for calls placed by `dial`: told how the call went.
    pub(crate) dial: Option<oneshot::Sender<DialReport>>,
    /// A busy treatment rather than a bot call (not counted as a started call).
    pub(crate) busy: bool,
}

/// How an outbound call went, for its `dial`.
#[derive(Debug)]
pub(crate) enum DialReport {
    /// Answered; the bot ran and the call is over.
    Answered {
        call_id: i64,
        talk_time: Duration,
        bot_error: Option<String>,
    },
    /// The leg went away before it was answered.
    NotAnswered,
}

/// What the verbs of one call share with its call task.
#[derive(Debug)]
pub(crate) struct CallCtx {
    pub(crate) shared: Arc<Shared>,
    pub(crate) dn: Dn,
    pub(crate) id: ParticipantId,
    pub(crate) call_id: i64,
    /// The call leg `id` names for this call; see [`CallCtx::ensure_leg`].
    pub(crate) leg: CallLeg,
    pub(crate) media: mpsc::Sender<MediaCommand>,
    /// Type-ahead waits here for a gather or a barge-in watch; no lock is held across
    /// a wait, so `clear_digits` never waits behind a gather.
    pub(crate) digits: DigitQueue,
    /// Recordings waiting for their terminator key (taken before it is queued).
    pub(crate) terminators: Arc<keys::Terminators>,
    pub(crate) status: watch::Receiver<ParticipantStatus>,
    /// The caller's frames, for speech gathers (weak: it must not keep the bot's
    /// `audio()` streams open after the call).
    pub(crate) audio_in: broadcast::WeakSender<Frame>,
    /// Call time, so speech results are timed from the call's start: the clock the
    /// bot's `Call::elapsed` reads, started by the media task when the audio starts
    /// (the zero of every call time: recordings' starts, speech results).
    pub(crate) clock: CallClock,
    /// Set when our own `drop`/`transferto`/`routeto`/`divert` succeeded.
    ended_by_us: AtomicBool,
    /// Cancelled when the call is over for the bot (hang-up, our end, shutdown).
    pub(crate) over: CancellationToken,
    /// Microseconds of the caller's audio lost in transit so far (its stream cut or
    /// stalled), kept by the media task: gather timeouts are extended by it.
    pub(crate) audio_lost: Arc<std::sync::atomic::AtomicU64>,
    /// The call's record, finished and sent when the call ends.
    pub(crate) record: Arc<crate::cdr::Draft>,
    /// The recordings this call started, for the recording sink at its end.
    pub(crate) recordings: crate::recordings::CallRecordings,
}

impl CallCtx {
    pub(crate) fn mark_ended_by_us(&self) {
        self.ended_by_us.store(true, Ordering::Release);
    }

    pub(crate) fn is_ended_by_us(&self) -> bool {
        self.ended_by_us.load(Ordering::Acquire)
    }

    /// Checks, before a request of this call is sent to the PBX, that its participant
    /// id still names this call's leg. A PBX restart starts ids again, and a call that
    /// outlived it must not drop, transfer or stream to the next caller given its id.
    /// Waits for the resync while the event socket is down.
    ///
    /// # Errors
    /// `Hangup` (or `Ended` after our own end) when the leg is gone; `Connection` when
    /// the event socket did not come back in time. Nothing was sent either way.
    pub(crate) async fn ensure_leg(&self) -> Result<(), CallError> {
        match self
            .shared
            .client
            .ensure_leg(&self.dn, self.id, self.leg)
            .await
        {
            Ok(()) => Ok(()),
            Err(CallControlError::LegGone { current, .. }) => {
                tracing::info!(
                    ?current,
                    "request not sent: the participant is no longer this call"
                );
                match self.is_ended_by_us() {
                    true => Err(CallError::Ended),
                    false => Err(CallError::Hangup),
                }
            }
            Err(error) => {
                tracing::warn!(%error, "request not sent: cannot tell whether the participant is still this call");
                Err(CallError::connection(error))
            }
        }
    }
}

/// Spawns the call task on the engine's call tracker, in a span carrying the call id,
/// on one of the engine's call threads if it has them.
pub(crate) fn spawn(shared: Arc<Shared>, setup: CallSetup) {
    let participant = &setup.new_call.participant;
    let span = tracing::info_span!(
        "call",
        call_id = participant.callid,
        dn = %participant.dn,
        participant = participant.id.0,
        caller = %participant.party_caller_id,
    );
    let task = task::run(Arc::clone(&shared), setup).instrument(span);
    shared.call_threads.spawn(&shared.calls, task);
}
