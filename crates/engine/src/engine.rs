//! [`Engine`]: the run loop that admits calls, and [`EngineHandle`] to watch it.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, broadcast, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use voicebot_bot::{Bot, Dialer, ParticipantId};
use voicebot_callcontrol::Client;
use voicebot_dispatch::{DispatchConfig, DispatchHandle, Dispatcher, NewCall, Origin};
use voicebot_model::{Dn, PbxEvent};

use crate::builder::{EngineBuilder, Settings};
use crate::call::{self, CallSetup, DialReport};
use crate::dial::EngineDialer;
use crate::error::{EngineError, Result};
use crate::events::EngineEvent;
use crate::limits::{AdoptedCalls, BusyTreatment, Limits};
use crate::prompts::Prompts;
use crate::stats::{Counters, EngineStats, Health};
use crate::writer::{self, WriterCommand, WriterSender};

/// How long an outbound leg the dispatcher announced waits for its `dial` to claim it.
const UNCLAIMED_OUTBOUND: Duration = Duration::from_secs(5);
/// What a shutdown's hand-off waits beyond the shutdown timeout and the bots' grace:
/// the answer of a fallback transfer (its HTTP margin) and the PBX's removal of the
/// legs.
const HANDOFF_SLACK: Duration = Duration::from_secs(5);

/// Runs voice bots on a 3CX PBX. Build it with [`Engine::builder`], then
/// [`run`](Self::run) it until a shutdown signal.
#[derive(Debug)]
pub struct Engine {
    shared: Arc<Shared>,
    parts: RunParts,
}

#[derive(Debug)]
struct RunParts {
    dispatcher: Dispatcher,
    new_calls: mpsc::Receiver<NewCall>,
    writer: mpsc::UnboundedReceiver<WriterCommand>,
}

/// A cloneable view of a running (or built) engine: counters, health, events and the
/// dialer.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    shared: Arc<Shared>,
}

/// What every call task shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) settings: Settings,
    pub(crate) prompts: Prompts,
    pub(crate) writer: WriterSender,
    pub(crate) counters: Arc<Counters>,
    pub(crate) events: broadcast::Sender<EngineEvent>,
    pub(crate) tracker: TaskTracker,
    /// The call tasks only (their bot and media tasks are on `tracker`): what a
    /// shutdown waits for before it hands live calls over.
    pub(crate) calls: TaskTracker,
    /// Cancelled last in a shutdown: every task stops.
    pub(crate) root: CancellationToken,
    /// Cancelled when the shutdown deadline passes: live calls go to the fallback.
    pub(crate) handoff: CancellationToken,
    pub(crate) dispatch: DispatchHandle,
    pub(crate) limits: Limits,
    pub(crate) outbound: Mutex<HashMap<(Dn, ParticipantId), Slot>>,
    /// Participants (DN, id, callid) of the first snapshot, not yet admitted: calls
    /// that were connected before this engine was (a killed engine's).
    pub(crate) adopted: Mutex<HashSet<(Dn, ParticipantId, i64)>>,
    /// Where `/metrics` and `/health` are served, once bound.
    pub(crate) metrics_bound: OnceLock<SocketAddr>,
    /// Ticks every call's media.
    pub(crate) media_clock: crate::call::MediaClock,
    /// Where call tasks run (the engine's runtime when it has none).
    pub(crate) call_threads: crate::call_threads::CallThreads,
    next_id: AtomicU64,
}

/// An outbound leg: announced by `dial` or by the dispatcher, whichever came first.
#[derive(Debug)]
pub(crate) enum Slot {
    /// `dial` placed the call and waits for the leg.
    Waiting(PendingDial),
    /// The dispatcher reported the leg before `makecall` answered.
    Arrived(Box<NewCall>),
}

/// What a `dial` leaves for its leg.
pub(crate) struct PendingDial {
    pub(crate) bot: Arc<dyn Bot>,
    pub(crate) permit: OwnedSemaphorePermit,
    pub(crate) report: oneshot::Sender<DialReport>,
}

impl std::fmt::Debug for PendingDial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingDial").finish_non_exhaustive()
    }
}

impl Shared {
    /// A number unique within the engine (plays, recordings).
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn emit(&self, event: EngineEvent) {
        // No subscriber is fine: events are for whoever watches.
        let _ = self.events.send(event);
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.counters.shutting_down.load(Ordering::Relaxed)
    }

    /// Starts the call task of an outbound leg whose `dial` is waiting.
    pub(crate) fn start_outbound(self: &Arc<Self>, new_call: NewCall, pending: PendingDial) {
        call::spawn(
            Arc::clone(self),
            CallSetup {
                new_call,
                bot: pending.bot,
                permit: Some(pending.permit),
                dial: Some(pending.report),
                busy: false,
            },
        );
    }
}

impl Engine {
    /// A builder with the defaults.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::new()
    }

    pub(crate) fn new(client: Client, settings: Settings) -> Self {
        let counters = Arc::new(Counters::for_pbx(&settings.pbx_name));
        let root = CancellationToken::new();
        let (dispatcher, new_calls) = Dispatcher::new(
            DispatchConfig {
                new_call_queue: 64,
                ..DispatchConfig::default()
            },
            root.child_token(),
        );
        let (writer_sender, writer) = mpsc::unbounded_channel();
        let tracker = TaskTracker::new();
        let call_threads =
            crate::call_threads::CallThreads::new(settings.call_threads, settings.call_thread_nice);
        let media_clock = crate::call::MediaClock::new(
            crate::call::media_tick(settings.media_tick, settings.pacer_lead),
            Arc::clone(&counters),
            root.child_token(),
            tracker.clone(),
        );
        let shared = Arc::new(Shared {
            prompts: Prompts::new(settings.prompt_dir.clone(), settings.ringback.clone())
                .with_files(settings.audio_limits, settings.prompt_cache_bytes),
            limits: Limits::new(settings.max_calls),
            dispatch: dispatcher.handle(),
            client,
            settings,
            writer: writer_sender,
            counters,
            events: broadcast::channel(256).0,
            tracker,
            calls: TaskTracker::new(),
            handoff: root.child_token(),
            root,
            outbound: Mutex::default(),
            adopted: Mutex::default(),
            metrics_bound: OnceLock::new(),
            media_clock,
            call_threads,
            next_id: AtomicU64::new(1),
        });
        Self {
            shared,
            parts: RunParts {
                dispatcher,
                new_calls,
                writer,
            },
        }
    }

    /// A handle for counters, health, events and dialling.
    pub fn handle(&self) -> EngineHandle {
        EngineHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The engine's outbound dialler (works while [`run`](Self::run) runs).
    pub fn dialer(&self) -> Arc<dyn Dialer> {
        self.handle().dialer()
    }

    /// The engine's counters now.
    pub fn stats(&self) -> EngineStats {
        self.shared.counters.snapshot()
    }

    /// Engine events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.shared.events.subscribe()
    }

    /// Runs the engine until `shutdown` resolves, then shuts down gracefully: new calls
    /// get the busy treatment, running calls have `shutdown_timeout` to finish, then
    /// live ones are handed to the fallback (or dropped), recordings are closed, and
    /// every task is stopped.
    ///
    /// # Errors
    /// [`EngineError::MetricsListener`] when the metrics address cannot be bound; [`EngineError::EventsEnded`] when the
    /// client stopped; [`EngineError::ShutdownTimedOut`] when calls had to be aborted.
    ///
    /// # Cancellation
    /// Dropping the future cancels the engine's root token: every call task stops at
    /// once, without the fallback. Prefer resolving `shutdown`.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let parts = self.parts;
        let shared = Arc::clone(&self.shared);
        let _stop_on_drop = shared.root.clone().drop_guard();
        crate::metrics::describe();
        if let Some(addr) = shared.settings.metrics_addr {
            crate::health::serve(&shared, addr).await?;
        }
        let pbx = shared.counters.pbx_label();
        let writer_task = tokio::task::spawn_blocking(move || writer::run(parts.writer, pbx));
        let RunParts {
            mut dispatcher,
            mut new_calls,
            ..
        } = parts;
        for (dn, _) in &shared.settings.route_points {
            dispatcher.watch(dn.clone()).await;
        }
        let (pbx_events, pbx_receiver) = mpsc::channel(256);
        shared
            .tracker
            .spawn(forward_events(Arc::clone(&shared), pbx_events));
        shared.tracker.spawn(dispatcher.run(pbx_receiver));
        tracing::info!(settings = ?shared.settings, "engine running");

        tokio::pin!(shutdown);
        let mut outcome = Ok(());
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                new_call = new_calls.recv() => match new_call {
                    Some(new_call) => admit(&shared, new_call),
                    None => {
                        outcome = Err(EngineError::EventsEnded);
                        break;
                    }
                },
            }
        }
        let stopped = shut_down(&shared, &mut new_calls).await;
        // Every call is over: the writer has closed its files; stop it.
        let _ = shared.writer.send(WriterCommand::Stop);
        let _ = writer_task.await;
        outcome.and(stopped)
    }
}

impl EngineHandle {
    /// The name of the engine's PBX ([`crate::EngineBuilder::pbx_name`]).
    pub fn pbx_name(&self) -> &str {
        &self.shared.settings.pbx_name
    }

    /// The engine's counters now.
    pub fn stats(&self) -> EngineStats {
        self.shared.counters.snapshot()
    }

    /// What `/health` reports.
    pub fn health(&self) -> Health {
        self.shared.counters.health()
    }

    /// Engine events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.shared.events.subscribe()
    }

    /// Where `/metrics` and `/health` are served: the bound address (so a port 0 in
    /// `metrics_addr` reads as the real port), `None` before `run` has bound it or
    /// when no `metrics_addr` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.shared.metrics_bound.get().copied()
    }

    /// The outbound dialler (works while the engine runs).
    pub fn dialer(&self) -> Arc<dyn Dialer> {
        Arc::new(EngineDialer::new(Arc::clone(&self.shared)))
    }
}

/// Feeds the dispatcher from the client's event stream and tracks the socket state.
async fn forward_events(shared: Arc<Shared>, sender: mpsc::Sender<PbxEvent>) {
    let mut stream = shared.client.events();
    loop {
        let event = tokio::select! {
            () = shared.root.cancelled() => return,
            event = stream.next() => match event {
                Some(event) => event,
                None => return,
            },
        };
        match &event {
            // The first snapshot comes before the first `Connected`: what it holds
            // was there before this engine.
            PbxEvent::ParticipantUpdated { participant, .. }
                if !shared.counters.pbx_ever_connected.load(Ordering::Relaxed) =>
            {
                let key = (participant.dn.clone(), participant.id, participant.callid);
                lock(&shared.adopted).insert(key);
            }
            PbxEvent::Connected { connection } => {
                shared.counters.pbx_connected.store(true, Ordering::Relaxed);
                shared
                    .counters
                    .pbx_ever_connected
                    .store(true, Ordering::Relaxed);
                *lock(&shared.counters.connect_failure) = None;
                tracing::info!(connection, "PBX event socket connected");
                shared.emit(EngineEvent::PbxConnected);
            }
            PbxEvent::ConnectFailed { attempt, reason } => {
                Counters::add(&shared.counters.pbx_connect_failures, 1);
                metrics::counter!(crate::metrics::CONNECT_FAILURES, "pbx" => shared.counters.pbx_label())
                    .increment(1);
                *lock(&shared.counters.connect_failure) = Some((*attempt, reason.clone()));
                let connected_before = shared.counters.pbx_ever_connected.load(Ordering::Relaxed);
                match connected_before {
                    true => {
                        tracing::warn!(attempt, %reason, "cannot reconnect to the PBX; retrying")
                    }
                    false => {
                        tracing::warn!(attempt, %reason, "cannot connect to the PBX yet; retrying")
                    }
                }
                shared.emit(EngineEvent::PbxConnectFailed {
                    attempt: *attempt,
                    reason: reason.clone(),
                });
            }
            PbxEvent::Disconnected { reason } => {
                shared
                    .counters
                    .pbx_connected
                    .store(false, Ordering::Relaxed);
                tracing::warn!(%reason, "PBX event socket lost; reconnecting");
                shared.emit(EngineEvent::PbxDisconnected {
                    reason: reason.clone(),
                });
            }
            _ => {}
        }
        if sender.send(event).await.is_err() {
            return;
        }
    }
}

/// A mutex's guard, whoever held it before (no state here is left half done).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts a call task, or turns the call away.
fn admit(shared: &Arc<Shared>, new_call: NewCall) {
    if new_call.origin == Origin::Outbound {
        claim_outbound(shared, new_call);
        return;
    }
    let dn = &new_call.participant.dn;
    let Some(bot) = shared
        .settings
        .route_points
        .iter()
        .find(|(watched, _)| watched == dn)
        .map(|(_, bot)| Arc::clone(bot))
    else {
        tracing::debug!(%dn, "call on a DN without a bot; ignored");
        return;
    };
    let participant = &new_call.participant;
    let key = (participant.dn.clone(), participant.id, participant.callid);
    let adopted = lock(&shared.adopted).remove(&key);
    let bot = match (adopted, shared.settings.adopted, &shared.settings.fallback) {
        (true, AdoptedCalls::Fallback, Some(destination)) => {
            tracing::info!(call_id = participant.callid, %destination, "adopted call sent to the fallback");
            fallback_bot(destination.clone())
        }
        (true, _, _) => {
            tracing::info!(
                call_id = participant.callid,
                "adopted call: its bot starts again"
            );
            bot
        }
        (false, _, _) => bot,
    };
    let permit = match shared.is_shutting_down() {
        true => None,
        false => shared.limits.try_admit(),
    };
    match permit {
        Some(permit) => call::spawn(
            Arc::clone(shared),
            CallSetup {
                new_call,
                bot,
                permit: Some(permit),
                dial: None,
                busy: false,
            },
        ),
        None => reject(shared, new_call),
    }
}

/// What an adopted call gets with `AdoptedCalls::Fallback`: a transfer to the fallback
/// (with ringback), the engine's own fallback and drop if that fails.
fn fallback_bot(destination: String) -> Arc<dyn Bot> {
    Arc::new(voicebot_bot::bot_fn(move |call| {
        let destination = destination.clone();
        async move {
            call.transfer(destination.as_str()).await?;
            Ok(())
        }
    }))
}

/// An outbound leg: hand it to its `dial`, or keep it briefly for a `dial` still
/// waiting for `makecall`'s answer.
fn claim_outbound(shared: &Arc<Shared>, new_call: NewCall) {
    let key = (new_call.participant.dn.clone(), new_call.participant.id);
    let mut outbound = shared
        .outbound
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    match outbound.remove(&key) {
        Some(Slot::Waiting(pending)) => {
            drop(outbound);
            shared.start_outbound(new_call, pending);
        }
        Some(Slot::Arrived(_)) | None => {
            outbound.insert(key.clone(), Slot::Arrived(Box::new(new_call)));
            drop(outbound);
            let shared = Arc::clone(shared);
            // A leg nobody claims (another app's call) must not pin its queue forever.
            shared.tracker.clone().spawn(async move {
                tokio::time::sleep(UNCLAIMED_OUTBOUND).await;
                let mut outbound = shared
                    .outbound
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if matches!(outbound.get(&key), Some(Slot::Arrived(_))) {
                    outbound.remove(&key);
                }
            });
        }
    }
}

/// The busy treatment for a call the engine cannot take.
fn reject(shared: &Arc<Shared>, new_call: NewCall) {
    let treatment = shared.settings.busy.clone();
    let participant = &new_call.participant;
    tracing::info!(
        call_id = participant.callid,
        treatment = treatment.label(),
        "call turned away (at max_calls or shutting down)"
    );
    Counters::add(&shared.counters.calls_rejected, 1);
    metrics::counter!(
        crate::metrics::REJECTED,
        "pbx" => shared.counters.pbx_label(),
        "treatment" => treatment.label()
    )
    .increment(1);
    shared.emit(EngineEvent::CallRejected {
        call_id: participant.callid,
        dn: participant.dn.clone(),
        treatment: treatment.label(),
    });
    match treatment {
        BusyTreatment::PlayThenDrop(prompt) => {
            let bot = Arc::new(voicebot_bot::bot_fn(move |call| {
                let prompt = prompt.clone();
                async move {
                    call.play(prompt).not_interruptible().await?;
                    call.hangup().await?;
                    Ok(())
                }
            }));
            call::spawn(
                Arc::clone(shared),
                CallSetup {
                    new_call,
                    bot,
                    permit: None,
                    dial: None,
                    busy: true,
                },
            );
        }
        BusyTreatment::Drop | BusyTreatment::Divert(_) => {
            let shared_for_task = Arc::clone(shared);
            let participant = new_call.participant;
            shared.tracker.spawn(async move {
                let client = &shared_for_task.client;
                let (dn, id) = (&participant.dn, participant.id);
                let outcome = match &treatment {
                    BusyTreatment::Divert(destination) => match participant.is_connected() {
                        true => client.transfer_to(dn, id, destination).await,
                        false => client.divert(dn, id, destination).await,
                    },
                    _ => client.drop_participant(dn, id).await,
                };
                if let Err(error) = outcome {
                    tracing::warn!(%error, call_id = participant.callid, "busy treatment failed");
                }
            });
        }
    }
}

/// The graceful shutdown; see [`Engine::run`].
async fn shut_down(shared: &Arc<Shared>, new_calls: &mut mpsc::Receiver<NewCall>) -> Result<()> {
    shared.counters.shutting_down.store(true, Ordering::Relaxed);
    let active = || shared.counters.active_calls.load(Ordering::Relaxed);
    tracing::info!(active = active(), "shutting down: no new calls");
    // Phase 1: running calls may finish on their own.
    let deadline = Instant::now() + shared.settings.shutdown_timeout;
    wait_for_calls(shared, new_calls, deadline).await;
    // Phase 2: live calls go to the fallback (or are dropped). A fallback transfer
    // rings for at most the shutdown timeout, so the PBX answers within it; then the
    // bots' grace and the PBX's removal of the legs.
    if active() > 0 {
        tracing::info!(
            active = active(),
            fallback = shared
                .settings
                .fallback
                .as_deref()
                .unwrap_or("none: dropping"),
            "handing live calls to the fallback"
        );
        shared.handoff.cancel();
        let deadline = Instant::now()
            + shared.settings.shutdown_timeout
            + shared.settings.bot_grace
            + HANDOFF_SLACK;
        wait_for_calls(shared, new_calls, deadline).await;
    }
    let left = active();
    shared.root.cancel();
    shared.tracker.close();
    let every_task = async { tokio::join!(shared.calls.wait(), shared.tracker.wait()) };
    if tokio::time::timeout(Duration::from_secs(2), every_task)
        .await
        .is_err()
    {
        tracing::warn!("tasks still running after the shutdown deadline");
    }
    match left {
        0 => Ok(()),
        left => Err(EngineError::ShutdownTimedOut(left as usize)),
    }
}

/// Waits until no call runs or `deadline`, turning new calls away meanwhile.
async fn wait_for_calls(
    shared: &Arc<Shared>,
    new_calls: &mut mpsc::Receiver<NewCall>,
    deadline: Instant,
) {
    // Closed, the call tracker's `wait` ends once its last call task has; a call
    // admitted meanwhile (a busy treatment) is still tracked and waited for.
    shared.calls.close();
    let calls_done = shared.calls.wait();
    tokio::pin!(calls_done);
    loop {
        tokio::select! {
            () = &mut calls_done => return,
            () = tokio::time::sleep_until(deadline) => return,
            Some(new_call) = new_calls.recv() => admit(shared, new_call),
        }
    }
}
