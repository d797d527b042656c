//! The call task: owns the call's state and serves it until the call is over.
//!
//! Life of a call: (outbound only) wait until the far end answers; (a ringing
//! route-point call) answer it; start the bot; start the media task once the leg is
//! connected; serve messages, PBX updates and the bot's end concurrently. *When* the
//! call is over, ending and done is decided by the pure state machine in
//! [`super::lifecycle`] (phases `Live → Ending → Over → Done`); this task only turns
//! what its `select!` saw into [`LifecycleEvent`]s and carries out the
//! [`LifecycleAction`]s (cancelling the `over` token, which stops the media task and
//! every verb but `record`; spawning the engine's own drop or fallback; aborting the
//! bot after its grace). The task ends once the lifecycle says `Finish`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use voicebot_bot::__engine::DigitSource;
use voicebot_bot::__engine::{CallEndpoint, CallMessage, ChannelCapacity, call_channel};
use voicebot_bot::{BotError, CallError, CallEvent, CallInfo, Direction};
use voicebot_dispatch::{CallUpdate, NewCall, Origin};
use voicebot_model::{Participant, ParticipantStatus};

use super::actions::end_call;
use super::keys::{KeySink, Terminators, key_queue};
use super::lifecycle::{EndCause, Lifecycle, LifecycleAction, LifecycleEvent};
use super::media::{self, MediaSetup};
use super::verbs::{self, Verb};
use super::{CallCtx, CallSetup, DialReport};
use crate::answer::{self, AnswerMode, Answered};
use crate::cdr::Draft;
use crate::engine::Shared;
use crate::events::{CallOutcome, EngineEvent};
use crate::stats::Counters;

/// Runs one call to its end.
pub(crate) async fn run(shared: Arc<Shared>, setup: CallSetup) {
    let CallSetup {
        new_call,
        bot,
        permit: _permit,
        dial,
        busy,
    } = setup;
    let NewCall {
        mut participant,
        origin,
        mut updates,
        cancel: given_up,
    } = new_call;
    let direction = match origin {
        Origin::Inbound => Direction::Inbound,
        Origin::Outbound => Direction::Outbound,
    };
    let started = Instant::now();
    let _active = Active::new(&shared);
    // The call's identity, engine id included, from the start: unanswered and
    // abandoned calls get a record too.
    let info = CallInfo::new(&participant, direction);
    let record = Arc::new(Draft::new(&info, &shared.settings.pbx_name));
    // The answering steps are boxed: their futures are kilobytes, and the call task
    // would otherwise keep that room for its whole life.
    if origin == Origin::Outbound
        && !Box::pin(answered(&shared, &mut updates, &given_up, &mut participant)).await
    {
        tracing::info!("outbound call not answered");
        if let Some(dial) = dial {
            let _ = dial.send(DialReport::NotAnswered);
        }
        ended(
            &shared,
            &record,
            participant.callid,
            direction,
            CallOutcome::NotAnswered,
            started,
        );
        return;
    }

    // A route-point call may arrive ringing: answer it before the bot starts, unless
    // this route point leaves that to its bot.
    let mut answer_failed = false;
    if origin == Origin::Inbound
        && participant.status == ParticipantStatus::Ringing
        && shared.settings.answer_mode(&participant.dn) == AnswerMode::Auto
    {
        match Box::pin(answer::answer(
            &shared,
            &mut updates,
            &given_up,
            &mut participant,
        ))
        .await
        {
            Answered::Connected => tracing::info!("ringing call answered"),
            Answered::Gone => {
                tracing::info!("the caller left before the call was answered");
                ended(
                    &shared,
                    &record,
                    participant.callid,
                    direction,
                    CallOutcome::Hangup,
                    started,
                );
                return;
            }
            Answered::Failed(reason) => {
                tracing::warn!(%reason, "cannot answer the ringing call; it goes to the fallback");
                answer_failed = true;
            }
        }
    }

    let (call, mut endpoint) = call_channel(info, ChannelCapacity::default());
    let terminators = Arc::new(Terminators::default());
    let (sink, queue) = key_queue(Arc::clone(&terminators), Arc::clone(&record));
    let (status_sender, status) = watch::channel(participant.status.clone());
    let (media_sender, media_commands) = mpsc::channel(32);
    let over = shared.root.child_token();
    let ctx = Arc::new(CallCtx {
        shared: Arc::clone(&shared),
        dn: participant.dn.clone(),
        id: participant.id,
        call_id: participant.callid,
        leg: participant.call_leg(),
        media: media_sender,
        digits: queue,
        terminators,
        status,
        audio_in: endpoint.audio_in.downgrade(),
        clock: endpoint.clock.clone(),
        ended_by_us: Default::default(),
        over: over.clone(),
        audio_lost: Arc::default(),
        record: Arc::clone(&record),
        recordings: Default::default(),
    });
    let media = MediaSetup {
        ctx: Arc::clone(&ctx),
        commands: media_commands,
        audio_out: endpoint.audio_out.take(),
        audio_in: endpoint.audio_in.clone(),
        events: endpoint.events.clone(),
        digits: sink.clone(),
        stop: over.clone(),
    };
    let mut running = Running {
        shared: Arc::clone(&shared),
        ctx: Arc::clone(&ctx),
        endpoint,
        over,
        verbs: FuturesUnordered::new(),
        bot: None,
        media: Some(media),
        media_task: None,
        sink: Some(sink),
        lifecycle: Lifecycle::new(shared.settings.bot_grace),
        finished: None,
    };
    if participant.is_connected() {
        running.handle(LifecycleEvent::Connected);
    }
    if !busy {
        Counters::add(&shared.counters.calls_started, 1);
        shared.emit(EngineEvent::CallStarted {
            call_id: ctx.call_id,
            dn: ctx.dn.clone(),
            caller: participant.party_caller_id.clone(),
            direction,
        });
    }
    tracing::info!(?direction, "call started");
    match answer_failed {
        false => {
            let task = async move { bot.handle(call).await }.in_current_span();
            running.bot = Some(shared.tracker.spawn(task));
        }
        // An unanswered call goes to the fallback; no bot can work on it.
        true => {
            drop(call);
            running.handle(LifecycleEvent::AnswerFailed);
        }
    }

    let mut messages_open = true;
    let outcome = loop {
        if ctx.is_ended_by_us() {
            // Our drop or hand-off succeeded: the call is over for the bot.
            running.handle(LifecycleEvent::EndedByUs);
        }
        if let Some(outcome) = running.finished {
            break outcome;
        }
        debug_assert_eq!(
            running.verbs.len(),
            running.lifecycle.verbs_in_flight(),
            "the lifecycle counts every verb the call task polls"
        );
        let deadline = running.lifecycle.deadline();
        let removed = running.lifecycle.is_removed();
        let live = running.lifecycle.is_live();
        tokio::select! {
            biased;
            Some(ended_by) = running.verbs.next(), if !running.verbs.is_empty() => {
                running.handle(LifecycleEvent::VerbEnded(ended_by));
            }
            update = updates.recv(), if !removed => match update {
                Some(CallUpdate::Status(update)) => {
                    if update.is_connected() {
                        running.handle(LifecycleEvent::Connected);
                    }
                    if *status_sender.borrow() != update.status {
                        tracing::debug!(status = %update.status, "status");
                        let _ = running.endpoint.events.send(CallEvent::Status(update.status.clone()));
                        status_sender.send_replace(update.status.clone());
                    }
                }
                Some(CallUpdate::Digits(digits)) => {
                    for digit in digits {
                        if running.sink.as_ref().is_some_and(|sink| sink.push(DigitSource::OutOfBand, digit)) {
                            metrics::counter!(crate::metrics::DIGITS, "pbx" => shared.counters.pbx_label(), "source" => "out_of_band").increment(1);
                            let _ = running.endpoint.events.send(CallEvent::Digit(digit));
                        }
                    }
                }
                // A reused participant id comes as the old leg's removal too.
                Some(CallUpdate::Removed) | None => running.handle(LifecycleEvent::Removed),
                Some(_) => {}
            },
            () = given_up.cancelled(), if !removed => {
                tracing::warn!("the dispatcher gave up on this call (its update queue overflowed)");
                running.handle(LifecycleEvent::UpdatesLost);
            }
            () = shared.handoff.cancelled(), if live => running.handle(LifecycleEvent::HandOff),
            // Hard stop: nothing more will be served.
            () = shared.root.cancelled(), if !removed => running.handle(LifecycleEvent::HardStop),
            message = running.endpoint.messages.recv(), if messages_open => match message {
                // A note only adds to the record, which is open until the task ends:
                // a bot finishing its transcript after the hang-up still gets it in.
                Some(message @ CallMessage::Note { .. }) => {
                    running.verbs.push(verbs::serve(Arc::clone(&ctx), message));
                    running.handle(LifecycleEvent::VerbStarted);
                }
                Some(message) if running.over.is_cancelled() => refuse(message, ctx.end_error()),
                Some(message) => {
                    running.verbs.push(verbs::serve(Arc::clone(&ctx), message));
                    running.handle(LifecycleEvent::VerbStarted);
                }
                None => messages_open = false,
            },
            joined = join(&mut running.bot), if running.bot.is_some() => {
                running.bot = None;
                let event = match bot_failure(&shared, &ctx, joined) {
                    Some(error) => LifecycleEvent::BotFailed(error),
                    None => LifecycleEvent::BotReturned,
                };
                running.handle(event);
            }
            () = sleep_until(deadline) => running.handle(LifecycleEvent::DeadlineReached),
        }
    };
    if let Some(dial) = dial {
        let _ = dial.send(DialReport::Answered {
            call_id: ctx.call_id,
            talk_time: running
                .lifecycle
                .connected_at()
                .map_or(Duration::ZERO, |at| at.elapsed()),
            bot_error: running.lifecycle.bot_error().map(str::to_owned),
        });
    }
    ctx.recordings.hand_over(&shared, running.media_task.take());
    ended(&shared, &record, ctx.call_id, direction, outcome, started);
}

/// The I/O side of a running call: what the lifecycle's actions act on.
struct Running {
    shared: Arc<Shared>,
    ctx: Arc<CallCtx>,
    endpoint: CallEndpoint,
    /// Cancelled when the call is over for the bot.
    over: CancellationToken,
    verbs: FuturesUnordered<Verb>,
    bot: Option<JoinHandle<Result<(), BotError>>>,
    /// The media task, until it is started.
    media: Option<MediaSetup>,
    /// The media task once started, so the call's recordings are handed over after it.
    media_task: Option<JoinHandle<()>>,
    /// Out-of-band digits go here until no more input can come.
    sink: Option<KeySink>,
    lifecycle: Lifecycle,
    /// Set by `Finish`: the outcome to count.
    finished: Option<CallOutcome>,
}

impl Running {
    /// Feeds `event` to the lifecycle and carries out what it says.
    fn handle(&mut self, event: LifecycleEvent) {
        let before = self.lifecycle.phase();
        let actions = self.lifecycle.step(event, Instant::now());
        if self.lifecycle.phase() != before {
            tracing::debug!(phase = ?self.lifecycle.phase(), "call phase");
        }
        for action in actions {
            match action {
                LifecycleAction::StartMedia => {
                    self.ctx.record.answered();
                    if let Some(setup) = self.media.take() {
                        let task = media::run(setup).in_current_span();
                        self.media_task = Some(self.shared.tracker.spawn(task));
                    }
                }
                LifecycleAction::EndForBot(cause) => self.endpoint.end(match cause {
                    EndCause::Hangup => CallError::Hangup,
                    EndCause::Ended => CallError::Ended,
                    EndCause::UpdatesLost => {
                        CallError::connection(std::io::Error::other("call updates lost"))
                    }
                    EndCause::Shutdown => CallError::Shutdown,
                }),
                LifecycleAction::TellHangup => {
                    tracing::info!("caller hung up");
                    let _ = self.endpoint.events.send(CallEvent::Hangup);
                }
                LifecycleAction::CancelOver => {
                    self.over.cancel();
                    // The caller's audio ends with the call: once the media task (which
                    // `over` stops) lets go of its sender too, a bot reading
                    // `call.audio()` sees the stream end instead of waiting out its grace.
                    let (closed, _) = tokio::sync::broadcast::channel(1);
                    drop(std::mem::replace(&mut self.endpoint.audio_in, closed));
                }
                LifecycleAction::DropInputs => {
                    self.sink = None;
                    self.media = None;
                }
                LifecycleAction::SpawnEngineEnd(why) => {
                    let ctx = Arc::clone(&self.ctx);
                    self.verbs
                        .push(Box::pin(async move { end_call(&ctx, why).await }));
                }
                LifecycleAction::AbortBot => {
                    if let Some(task) = self.bot.take() {
                        tracing::warn!("the bot did not finish within its grace period; aborted");
                        task.abort();
                    }
                }
                LifecycleAction::ClearVerbs => self.verbs.clear(),
                LifecycleAction::Finish(outcome) => self.finished = Some(outcome),
            }
        }
    }
}

/// Waits for an outbound leg to be answered; false when it went away first.
async fn answered(
    shared: &Shared,
    updates: &mut mpsc::Receiver<CallUpdate>,
    given_up: &CancellationToken,
    participant: &mut Participant,
) -> bool {
    while !participant.is_connected() {
        tokio::select! {
            update = updates.recv() => match update {
                Some(CallUpdate::Status(update)) => *participant = *update,
                Some(CallUpdate::Removed) | None => return false,
                Some(_) => {}
            },
            () = given_up.cancelled() => return false,
            () = shared.handoff.cancelled() => {
                let (dn, id) = (&participant.dn, participant.id);
                if shared.client.ensure_leg(dn, id, participant.call_leg()).await.is_ok() {
                    let _ = shared.client.drop_participant(dn, id).await;
                }
                return false;
            }
        }
    }
    true
}

/// Replies to a message that arrived after the call ended.
fn refuse(message: CallMessage, error: CallError) {
    fn send<T>(reply: oneshot::Sender<Result<T, CallError>>, error: CallError) {
        let _ = reply.send(Err(error));
    }
    match message {
        CallMessage::Answer { reply } => send(reply, error),
        CallMessage::Play { reply, .. } => send(reply, error),
        CallMessage::Gather { reply, .. } => send(reply, error),
        CallMessage::Record { reply, .. } => send(reply, error),
        CallMessage::Action { reply, .. } => send(reply, error),
        CallMessage::ClearDigits { reply } => send(reply, error),
        CallMessage::ClearAudio { reply } => send(reply, error),
        // Dropping the reply: the bot's `Call` reports the recorded end cause.
        _ => {}
    }
}

async fn join(
    task: &mut Option<JoinHandle<Result<(), BotError>>>,
) -> Result<Result<(), BotError>, tokio::task::JoinError> {
    match task {
        Some(task) => task.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Logs and counts a failed bot; returns the failure in words (`None` for a normal
/// end, a hang-up, or an error caused by the call ending).
fn bot_failure(
    shared: &Shared,
    ctx: &CallCtx,
    joined: Result<Result<(), BotError>, tokio::task::JoinError>,
) -> Option<String> {
    let (kind, error) = match joined {
        Ok(Ok(())) => return None,
        Ok(Err(error)) => {
            let expected = error.call_error().is_some_and(|error| {
                matches!(
                    error,
                    CallError::Hangup | CallError::Ended | CallError::Shutdown
                )
            });
            if expected {
                tracing::debug!(%error, "bot ended with the call");
                return None;
            }
            Counters::add(&shared.counters.bot_errors, 1);
            ("error", error.to_string())
        }
        Err(join) if join.is_panic() => {
            Counters::add(&shared.counters.bot_panics, 1);
            let panic = join.into_panic();
            let text = panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned());
            ("panic", text)
        }
        // Aborted by us after the grace period.
        Err(_) => return None,
    };
    tracing::warn!(call_id = ctx.call_id, kind, %error, "bot failed; the call goes to the fallback");
    ctx.record.error(format!("bot {kind}: {error}"));
    metrics::counter!(
        crate::metrics::BOT_FAILURES,
        "pbx" => shared.counters.pbx_label(),
        "kind" => kind
    )
    .increment(1);
    shared.emit(EngineEvent::BotFailed {
        call_id: ctx.call_id,
        kind,
        error: error.clone(),
    });
    Some(error)
}

/// Counts a call's end and hands its record on.
fn ended(
    shared: &Shared,
    record: &Draft,
    call_id: i64,
    direction: Direction,
    outcome: CallOutcome,
    started: Instant,
) {
    let direction_label = match direction {
        Direction::Outbound => "outbound",
        _ => "inbound",
    };
    Counters::add(&shared.counters.calls_ended, 1);
    metrics::counter!(
        crate::metrics::CALLS_TOTAL,
        "pbx" => shared.counters.pbx_label(),
        "direction" => direction_label,
        "outcome" => outcome.as_str()
    )
    .increment(1);
    tracing::info!(outcome = outcome.as_str(), "call ended");
    if let Some(records) = &shared.settings.call_records {
        // The receiver gone (the program stopping) loses nothing a call needs.
        let _ = records.send(record.finish(outcome));
    }
    shared.emit(EngineEvent::CallEnded {
        call_id,
        outcome,
        duration: started.elapsed(),
    });
}

/// Counts the call as active while it lives (also when its task is aborted).
struct Active<'a> {
    shared: &'a Shared,
}

impl<'a> Active<'a> {
    fn new(shared: &'a Shared) -> Self {
        let now = shared.counters.active_calls.fetch_add(1, Ordering::Relaxed) + 1;
        metrics::gauge!(crate::metrics::ACTIVE_CALLS, "pbx" => shared.counters.pbx_label())
            .set(now as f64);
        Self { shared }
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        let now = self
            .shared
            .counters
            .active_calls
            .fetch_sub(1, Ordering::Relaxed)
            - 1;
        metrics::gauge!(
            crate::metrics::ACTIVE_CALLS,
            "pbx" => self.shared.counters.pbx_label()
        )
        .set(now as f64);
    }
}
