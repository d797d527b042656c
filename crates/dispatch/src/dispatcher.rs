//! The dispatcher: one task that turns the PBX event stream into per-call sessions.

use std::collections::{HashMap, VecDeque};

use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio_util::sync::CancellationToken;
use voicebot_model::{CallLeg, Digit, Dn, Participant, ParticipantId, ParticipantStatus, PbxEvent};

use crate::call::{CallUpdate, NewCall, Origin};
use crate::handle::{Command, DispatchHandle};

/// Default capacity of each call's update queue (teloxide's worker queue size).
pub const DEFAULT_CALL_QUEUE: usize = 64;

// Participants seen on DNs nobody watches, kept so that an `expect_outbound` that
// arrives after the leg's first upsert (makecall's reply races the event socket)
// still finds the leg. Small: only legs the engine just placed are looked up.
const UNCLAIMED: usize = 32;
// Outbound legs announced but not seen yet, per DN; the oldest is forgotten first.
const EXPECTED_PER_DN: usize = 64;

/// Settings of a [`Dispatcher`].
#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// Capacity of each call's update queue (at least 1). When a call's queue is
    /// full, that call is cancelled rather than the update dropped.
    pub call_queue: usize,
    /// Capacity of the new-call channel to the engine.
    pub new_call_queue: usize,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            call_queue: DEFAULT_CALL_QUEUE,
            new_call_queue: 16,
        }
    }
}

/// Routes resolved [`PbxEvent`]s to one ordered session per call.
///
/// A session is keyed by DN and participant id *and* the call leg the PBX gives
/// (`callid`, `legid`: [`Participant::call_leg`]). It starts when a participant first
/// appears on a watched DN, or is an outbound leg announced with
/// [`expect_outbound`](Self::expect_outbound); it ends on removal. A PBX restart
/// starts participant ids again, so an update that shows the id in another call ends
/// the old session (as a removal: that call is gone) and starts a new one for the
/// new call. Each session's updates go down its own bounded queue, so calls proceed
/// in parallel and the events of one call stay in order.
///
/// Overflow policy: updates are never dropped. If a call's queue is full (its task
/// has stopped reading), the call's [`CancellationToken`] is cancelled, a warning is
/// logged, and later events of that participant are ignored until it is removed.
#[derive(Debug)]
pub struct Dispatcher {
    dns: HashMap<Dn, DnCalls>,
    unclaimed: VecDeque<Participant>,
    call_queue: usize,
    new_calls: mpsc::Sender<NewCall>,
    commands: mpsc::Receiver<Command>,
    command_sender: mpsc::Sender<Command>,
    cancel: CancellationToken,
}

#[derive(Debug, Default)]
struct DnCalls {
    watched: bool,
    sessions: HashMap<ParticipantId, Session>,
    expected: VecDeque<ParticipantId>,
}

impl DnCalls {
    fn is_idle(&self) -> bool {
        !self.watched && self.sessions.is_empty() && self.expected.is_empty()
    }
}

// Sessions are per call, not per event: the participant inline saves a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Session {
    Live {
        updates: mpsc::Sender<CallUpdate>,
        last: Participant,
        cancel: CancellationToken,
    },
    // Given up on, or its call task ended: ignore the participant until removed,
    // so that repeated upserts do not start a second session. The leg is kept so
    // that a new call given the same id is not ignored with it.
    Ended {
        leg: CallLeg,
    },
}

impl Session {
    fn leg(&self) -> CallLeg {
        match self {
            Self::Live { last, .. } => last.call_leg(),
            Self::Ended { leg } => *leg,
        }
    }

    /// Ends the session because its participant is gone: the call task reads
    /// `Removed` as the last update, or is cancelled if it cannot take it.
    fn close(self, dn: &Dn, id: ParticipantId) {
        if let Self::Live {
            updates, cancel, ..
        } = self
            && let Err(TrySendError::Full(_)) = updates.try_send(CallUpdate::Removed)
        {
            // The call task is stuck; cancelling is how it learns the call ended.
            tracing::warn!(%dn, %id, "call queue full at removal; cancelling the call");
            cancel.cancel();
        }
    }
}

impl Dispatcher {
    /// A dispatcher whose calls' tokens are children of `cancel`, and the channel on
    /// which it announces new calls.
    pub fn new(
        config: DispatchConfig,
        cancel: CancellationToken,
    ) -> (Self, mpsc::Receiver<NewCall>) {
        let (new_calls, new_call_receiver) = mpsc::channel(config.new_call_queue.max(1));
        let (command_sender, commands) = mpsc::channel(16);
        let dispatcher = Self {
            dns: HashMap::new(),
            unclaimed: VecDeque::with_capacity(UNCLAIMED),
            call_queue: config.call_queue.max(1),
            new_calls,
            commands,
            command_sender,
            cancel,
        };
        (dispatcher, new_call_receiver)
    }

    /// A handle that changes watched DNs and expected legs while [`run`](Self::run)
    /// owns the dispatcher.
    pub fn handle(&self) -> DispatchHandle {
        DispatchHandle::new(self.command_sender.clone())
    }

    /// Dispatches `events` until the stream ends or the token is cancelled. Commands
    /// from handles are applied before pending events. Dropping the dispatcher at
    /// the end closes every call's update queue.
    ///
    /// # Cancellation
    /// Dropping the future drops the dispatcher, with the same effect.
    pub async fn run(mut self, mut events: mpsc::Receiver<PbxEvent>) {
        loop {
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => break,
                Some(command) = self.commands.recv() => self.apply(command).await,
                event = events.recv() => match event {
                    Some(event) => self.dispatch(event).await,
                    None => break,
                },
            }
        }
    }

    /// Starts sessions for participants on `dn` from now on (and for any recently
    /// seen participant of `dn` that has none).
    pub async fn watch(&mut self, dn: Dn) {
        self.dns.entry(dn.clone()).or_default().watched = true;
        while let Some(index) = self.unclaimed.iter().position(|p| p.dn == dn) {
            if let Some(participant) = self.unclaimed.remove(index) {
                self.start(participant, None).await;
            }
        }
    }

    /// Stops starting sessions on `dn`; sessions already running continue.
    pub fn unwatch(&mut self, dn: &Dn) {
        if let Some(calls) = self.dns.get_mut(dn) {
            calls.watched = false;
            if calls.is_idle() {
                self.dns.remove(dn);
            }
        }
    }

    /// Announces an outbound leg the engine placed (`makecall`'s `result.id`), so it
    /// gets a session as [`Origin::Outbound`] even on an unwatched DN. If the leg was
    /// already seen, its session starts now.
    pub async fn expect_outbound(&mut self, dn: Dn, id: ParticipantId) {
        let seen = self.unclaimed.iter().position(|p| p.dn == dn && p.id == id);
        if let Some(participant) = seen.and_then(|index| self.unclaimed.remove(index)) {
            self.start(participant, Some(Origin::Outbound)).await;
            return;
        }
        let calls = self.dns.entry(dn).or_default();
        if calls.sessions.contains_key(&id) || calls.expected.contains(&id) {
            return;
        }
        if calls.expected.len() >= EXPECTED_PER_DN {
            calls.expected.pop_front();
        }
        calls.expected.push_back(id);
    }

    /// Routes one event. Device, DN and connection events concern no single call
    /// and are ignored (the client turns a resync into per-participant events).
    pub async fn dispatch(&mut self, event: PbxEvent) {
        match event {
            PbxEvent::ParticipantUpdated { participant, .. } => self.updated(participant).await,
            PbxEvent::ParticipantRemoved { dn, id, .. } => self.removed(&dn, id),
            PbxEvent::Dtmf { dn, id, digits } => self.dtmf(&dn, id, digits),
            _ => {}
        }
    }

    /// How many calls have a session (live or awaiting removal).
    pub fn session_count(&self) -> usize {
        self.dns.values().map(|calls| calls.sessions.len()).sum()
    }

    async fn apply(&mut self, command: Command) {
        match command {
            Command::Watch(dn) => self.watch(dn).await,
            Command::Unwatch(dn) => self.unwatch(&dn),
            Command::ExpectOutbound(dn, id) => self.expect_outbound(dn, id).await,
        }
    }

    async fn updated(&mut self, participant: Participant) {
        let Some(calls) = self.dns.get_mut(&participant.dn) else {
            self.remember_unclaimed(participant);
            return;
        };
        let reused = calls
            .sessions
            .get(&participant.id)
            .is_some_and(|session| session.leg() != participant.call_leg());
        if reused && let Some(old) = calls.sessions.remove(&participant.id) {
            // The PBX gave this id to another call (it restarted and lost the old
            // one without telling us): the old call is gone, the new one is new.
            tracing::info!(
                dn = %participant.dn,
                id = %participant.id,
                old = ?old.leg(),
                new = ?participant.call_leg(),
                "participant id reused by another call; the old call ends"
            );
            old.close(&participant.dn, participant.id);
        }
        match calls.sessions.get_mut(&participant.id) {
            Some(session @ Session::Live { .. }) => {
                if let Session::Live { last, .. } = session {
                    // The PBX repeats identical upserts (every ~750 ms on some systems).
                    if *last == participant {
                        return;
                    }
                    last.clone_from(&participant);
                }
                deliver(session, CallUpdate::Status(Box::new(participant)));
            }
            Some(Session::Ended { .. }) => {}
            None => {
                let expected = calls.expected.iter().position(|id| *id == participant.id);
                match expected {
                    Some(index) => {
                        calls.expected.remove(index);
                        self.start(participant, Some(Origin::Outbound)).await;
                    }
                    None if calls.watched => self.start(participant, None).await,
                    None => self.remember_unclaimed(participant),
                }
            }
        }
    }

    fn removed(&mut self, dn: &Dn, id: ParticipantId) {
        self.unclaimed.retain(|p| !(p.dn == *dn && p.id == id));
        let Some(calls) = self.dns.get_mut(dn) else {
            return;
        };
        calls.expected.retain(|expected| *expected != id);
        if let Some(session) = calls.sessions.remove(&id) {
            session.close(dn, id);
        }
        if calls.is_idle() {
            self.dns.remove(dn);
        }
    }

    fn dtmf(&mut self, dn: &Dn, id: ParticipantId, digits: Vec<Digit>) {
        let Some(calls) = self.dns.get_mut(dn) else {
            return;
        };
        let Some(session @ Session::Live { .. }) = calls.sessions.get_mut(&id) else {
            tracing::debug!(%dn, %id, "DTMF for a participant without a live session");
            return;
        };
        if !digits.is_empty() {
            deliver(session, CallUpdate::Digits(digits));
        }
    }

    async fn start(&mut self, participant: Participant, origin: Option<Origin>) {
        // Without an announcement, a leg first seen `Dialing` is one we placed.
        let origin = origin.unwrap_or(match participant.status {
            ParticipantStatus::Dialing => Origin::Outbound,
            _ => Origin::Inbound,
        });
        let (updates, receiver) = mpsc::channel(self.call_queue);
        let cancel = self.cancel.child_token();
        let key = (participant.dn.clone(), participant.id);
        let leg = participant.call_leg();
        let session = Session::Live {
            updates,
            last: participant.clone(),
            cancel: cancel.clone(),
        };
        self.dns
            .entry(key.0.clone())
            .or_default()
            .sessions
            .insert(key.1, session);
        tracing::debug!(dn = %key.0, id = %key.1, ?origin, "new call");
        let new_call = NewCall {
            participant,
            origin,
            updates: receiver,
            cancel,
        };
        if self.new_calls.send(new_call).await.is_err() {
            tracing::warn!(dn = %key.0, id = %key.1, "the engine no longer takes calls");
            if let Some(calls) = self.dns.get_mut(&key.0) {
                calls.sessions.insert(key.1, Session::Ended { leg });
            }
        }
    }

    fn remember_unclaimed(&mut self, participant: Participant) {
        let known = self
            .unclaimed
            .iter_mut()
            .find(|p| p.dn == participant.dn && p.id == participant.id);
        match known {
            Some(known) => *known = participant,
            None => {
                if self.unclaimed.len() >= UNCLAIMED {
                    self.unclaimed.pop_front();
                }
                self.unclaimed.push_back(participant);
            }
        }
    }
}

/// Queues `update` for a live session, or ends the session when its queue is full
/// (cancelling the call) or closed (its task is done).
fn deliver(session: &mut Session, update: CallUpdate) {
    let Session::Live {
        updates,
        last,
        cancel,
    } = session
    else {
        return;
    };
    match updates.try_send(update) {
        Ok(()) => return,
        Err(TrySendError::Full(_)) => {
            tracing::warn!(dn = %last.dn, id = %last.id, "call queue full; cancelling the call");
            cancel.cancel();
        }
        Err(TrySendError::Closed(_)) => {
            tracing::debug!(dn = %last.dn, id = %last.id, "call task ended; ignoring the participant until removed");
        }
    }
    *session = Session::Ended {
        leg: last.call_leg(),
    };
}

#[cfg(test)]
mod tests;
