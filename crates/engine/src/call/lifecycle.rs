//! The lifecycle of one call as a pure state machine: events in, actions out.
//!
//! The call task ([`super::task`]) turns what its `select!` saw into
//! [`LifecycleEvent`]s, feeds them to [`Lifecycle::step`] with the time, and carries
//! out the [`LifecycleAction`]s it gets back (cancelling tokens, spawning the engine's
//! own end, aborting the bot). Nothing here does I/O or reads a clock, so every fault
//! is a unit test with `Instant`s passed in.
//!
//! ```text
//!            BotReturned / BotFailed / HandOff / AnswerFailed
//!   Live ───────────────────────────────────────────────▶ Ending{why}
//!    │                                                       │
//!    │ Removed / UpdatesLost / HardStop / EndedByUs          │ EndedByUs / Removed /
//!    ▼                                                       ▼ UpdatesLost / HardStop
//!   Over{since, removed} ◀───────────────────────────────────┘
//!    │  bot and verbs done, leg removed (or DeadlineReached gave up on it)
//!    ▼
//!   Done ── Finish(outcome)
//! ```
//!
//! *Over* is when the call ended for the bot: its verbs stop, it has its grace
//! (`bot_grace`) and is aborted after it. The call is *done* once the bot and every
//! verb have ended and the PBX has removed the leg; after our own end we linger
//! ([`LINGER`]) for that removal, then stop waiting.

use std::time::Duration;

use tokio::time::Instant;

use super::actions::EngineEnd;
use crate::events::CallOutcome;

/// How long after our own hand-off we wait for the PBX to remove the leg.
pub(crate) const LINGER: Duration = Duration::from_secs(5);

/// Where a call is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The bot is served (the leg may still be ringing).
    Live,
    /// The engine ends the call itself (`why`): its drop or fallback is in flight,
    /// or gave up without ending it. No second engine end starts from here.
    Ending { why: EngineEnd },
    /// The call ended for the bot at `since`; `removed` once the PBX removed the leg,
    /// updates stopped, or we stopped waiting for the removal.
    Over { since: Instant, removed: bool },
    /// Nothing is left to wait for.
    Done,
}

/// Something that happened to the call, as the call task saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LifecycleEvent {
    /// The leg is (or became) connected.
    Connected,
    /// The engine could not answer the ringing call; the bot never starts.
    AnswerFailed,
    /// The PBX removed the leg (the caller hung up, our end took effect, or a reused
    /// participant id now names another call), or its updates ended.
    Removed,
    /// The dispatcher gave up on the call (its update queue overflowed).
    UpdatesLost,
    /// The engine shuts down: hand live calls to the fallback.
    HandOff,
    /// The engine stops at once: nothing more is served.
    HardStop,
    /// A bot message became a verb in flight.
    VerbStarted,
    /// A verb in flight ended; `Some` when it was an engine end that says how.
    VerbEnded(Option<CallOutcome>),
    /// The bot task ended without failing (also a hang-up error, or aborted).
    BotReturned,
    /// The bot failed (an error or a panic), in words.
    BotFailed(String),
    /// Our own drop or hand-off succeeded (seen on the call's context).
    EndedByUs,
    /// [`Lifecycle::deadline`] passed.
    DeadlineReached,
}

/// Why the call ended for the bot: the cause its `Call` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndCause {
    /// The caller left.
    Hangup,
    /// We ended the call.
    Ended,
    /// The call's updates were lost (a connection error).
    UpdatesLost,
    /// The engine shuts down.
    Shutdown,
}

/// What the call task must do, in the order given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LifecycleAction {
    /// Start the media task (once, at the first connect).
    StartMedia,
    /// Record the end cause for the bot; the first recorded cause wins.
    EndForBot(EndCause),
    /// Tell the bot the caller hung up (a `Hangup` call event).
    TellHangup,
    /// Cancel the call's `over` token: media and verbs (but recordings) stop.
    CancelOver,
    /// Let go of the digit sink and of a media task never started: no input follows.
    DropInputs,
    /// Start the engine's own end of the call as a verb in flight.
    SpawnEngineEnd(EngineEnd),
    /// Abort the bot task: its grace is over.
    AbortBot,
    /// Drop every verb in flight: their grace is over.
    ClearVerbs,
    /// The call is done; count it with this outcome.
    Finish(CallOutcome),
}

/// The lifecycle of one call; see the module docs.
#[derive(Debug)]
pub(crate) struct Lifecycle {
    phase: Phase,
    /// How long the bot and verbs may run on once the call is over.
    grace: Duration,
    bot_running: bool,
    /// Verbs in flight, the engine's own ends included.
    verbs: usize,
    ended_by_us: bool,
    connected_at: Option<Instant>,
    /// The first outcome an engine end reported.
    outcome: Option<CallOutcome>,
    bot_error: Option<String>,
}

impl Lifecycle {
    /// A live call whose bot is running, with `grace` for the bot after the call.
    pub(crate) fn new(grace: Duration) -> Self {
        Self {
            phase: Phase::Live,
            grace,
            bot_running: true,
            verbs: 0,
            ended_by_us: false,
            connected_at: None,
            outcome: None,
            bot_error: None,
        }
    }

    /// The current phase.
    pub(crate) fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the bot is served and the engine has not started ending the call.
    pub(crate) fn is_live(&self) -> bool {
        self.phase == Phase::Live
    }

    /// Whether PBX updates, the dispatcher and a hard stop no longer matter.
    pub(crate) fn is_removed(&self) -> bool {
        matches!(self.phase, Phase::Over { removed: true, .. } | Phase::Done)
    }

    /// Verbs in flight, as the lifecycle counts them.
    pub(crate) fn verbs_in_flight(&self) -> usize {
        self.verbs
    }

    /// When the leg first connected.
    pub(crate) fn connected_at(&self) -> Option<Instant> {
        self.connected_at
    }

    /// How the bot failed, if it did.
    pub(crate) fn bot_error(&self) -> Option<&str> {
        self.bot_error.as_deref()
    }

    /// When to send [`LifecycleEvent::DeadlineReached`]: once over, the end of the
    /// bot's grace while anything runs, else of the linger for the removal.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::Over { since, .. } => Some(match self.is_busy() {
                true => since + self.grace,
                false => since + self.grace.max(LINGER),
            }),
            _ => None,
        }
    }

    /// Moves on by `event` at `now`; returns what to do, in order.
    pub(crate) fn step(&mut self, event: LifecycleEvent, now: Instant) -> Vec<LifecycleAction> {
        use LifecycleAction as Do;
        let mut actions = Vec::new();
        if self.phase == Phase::Done {
            return actions;
        }
        match event {
            LifecycleEvent::Connected => {
                if self.connected_at.is_none() {
                    self.connected_at = Some(now);
                    actions.push(Do::StartMedia);
                }
            }
            LifecycleEvent::AnswerFailed => {
                // A bot cannot work on a call nobody answered: straight to the fallback.
                self.bot_running = false;
                self.end_by_engine(EngineEnd::AnswerFailed, &mut actions);
            }
            LifecycleEvent::Removed if !self.is_removed() => {
                // First cause wins: after our own end the bot keeps `Ended`.
                actions.push(Do::EndForBot(EndCause::Hangup));
                if !self.ended_by_us {
                    actions.push(Do::TellHangup);
                }
                actions.extend([Do::CancelOver, Do::DropInputs]);
                self.over(now, true);
            }
            LifecycleEvent::UpdatesLost if !self.is_removed() => {
                actions.extend([Do::EndForBot(EndCause::UpdatesLost), Do::CancelOver]);
                self.over(now, true);
            }
            LifecycleEvent::HardStop if !self.is_removed() => {
                actions.extend([Do::EndForBot(EndCause::Shutdown), Do::CancelOver]);
                self.over(now, true);
            }
            LifecycleEvent::HandOff if self.is_live() => {
                actions.push(Do::EndForBot(EndCause::Shutdown));
                self.end_by_engine(EngineEnd::Shutdown, &mut actions);
            }
            LifecycleEvent::Removed
            | LifecycleEvent::UpdatesLost
            | LifecycleEvent::HardStop
            | LifecycleEvent::HandOff => {}
            LifecycleEvent::VerbStarted => self.verbs += 1,
            LifecycleEvent::VerbEnded(outcome) => {
                self.verbs = self.verbs.saturating_sub(1);
                if let Some(outcome) = outcome {
                    self.outcome.get_or_insert(outcome);
                }
            }
            LifecycleEvent::BotReturned => {
                self.bot_running = false;
                if self.is_live() {
                    self.end_by_engine(EngineEnd::BotReturned, &mut actions);
                }
            }
            LifecycleEvent::BotFailed(error) => {
                self.bot_running = false;
                self.bot_error = Some(error);
                if self.is_live() {
                    self.end_by_engine(EngineEnd::BotFailed, &mut actions);
                }
            }
            LifecycleEvent::EndedByUs => {
                if !self.ended_by_us {
                    self.ended_by_us = true;
                    if !matches!(self.phase, Phase::Over { .. }) {
                        actions.extend([Do::EndForBot(EndCause::Ended), Do::CancelOver]);
                        self.over(now, false);
                    }
                }
            }
            LifecycleEvent::DeadlineReached => self.deadline_reached(&mut actions),
        }
        if let Phase::Over { removed: true, .. } = self.phase
            && !self.is_busy()
        {
            self.phase = Phase::Done;
            actions.push(Do::Finish(self.outcome()));
        }
        actions
    }

    fn is_busy(&self) -> bool {
        self.bot_running || self.verbs > 0
    }

    /// The outcome to count: the first an engine end reported, else by who ended it.
    fn outcome(&self) -> CallOutcome {
        self.outcome.unwrap_or(match self.ended_by_us {
            true => CallOutcome::Completed,
            false => CallOutcome::Hangup,
        })
    }

    fn end_by_engine(&mut self, why: EngineEnd, actions: &mut Vec<LifecycleAction>) {
        self.phase = Phase::Ending { why };
        self.verbs += 1;
        actions.push(LifecycleAction::SpawnEngineEnd(why));
    }

    /// The call is over (kept from the first time), and `removed` if so.
    fn over(&mut self, now: Instant, removed: bool) {
        self.phase = match self.phase {
            Phase::Over {
                since,
                removed: was,
            } => Phase::Over {
                since,
                removed: was || removed,
            },
            _ => Phase::Over {
                since: now,
                removed,
            },
        };
    }

    /// The grace is over: abort the bot and drop the verbs; with nothing left running,
    /// the linger is over too and the PBX's removal is no longer awaited.
    fn deadline_reached(&mut self, actions: &mut Vec<LifecycleAction>) {
        let Phase::Over { since, .. } = self.phase else {
            return;
        };
        if self.bot_running {
            self.bot_running = false;
            actions.push(LifecycleAction::AbortBot);
        }
        match self.verbs {
            0 => {
                self.phase = Phase::Over {
                    since,
                    removed: true,
                }
            }
            _ => {
                self.verbs = 0;
                actions.push(LifecycleAction::ClearVerbs);
            }
        }
    }
}

#[cfg(test)]
mod tests;
