//! The call task: owns the call's state and serves it until the call is over.
//!
//! Life of a call: (outbound only) wait until the far end answers; start the bot;
//! start the media task once the leg is connected; serve messages, PBX updates and
//! the bot's end concurrently. The call is *over* when the caller hangs up, when our
//! own hand-off succeeded, or at a hard shutdown: then the `over` token stops the media
//! task (closing recordings) and every verb but `record`; the bot gets its grace
//! period and is aborted after it; the task ends once the PBX has removed the leg.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{Mutex as AsyncMutex, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use voicebot_bot::message::{CallMessage, ChannelCapacity, call_channel};
use voicebot_bot::{BotError, CallError, CallEvent, CallInfo, Direction};
use voicebot_dispatch::{CallUpdate, DigitSource, NewCall, Origin};
use voicebot_model::{Participant, ParticipantStatus};

use super::actions::{EngineEnd, end_call};
use super::keys::{Terminators, key_queue};
use super::media::{self, MediaSetup};
use super::verbs::{self, Verb};
use super::{CallCtx, CallSetup, DialReport};
use crate::answer::{self, AnswerMode, Answered};
use crate::engine::Shared;
use crate::events::{CallOutcome, EngineEvent};
use crate::stats::Counters;

/// How long after our own hand-off we wait for the PBX to remove the leg.
const LINGER: Duration = Duration::from_secs(5);

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
    if origin == Origin::Outbound
        && !answered(&shared, &mut updates, &given_up, &mut participant).await
    {
        tracing::info!("outbound call not answered");
        if let Some(dial) = dial {
            let _ = dial.send(DialReport::NotAnswered);
        }
        ended(
            &shared,
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
        match answer::answer(&shared, &mut updates, &given_up, &mut participant).await {
            Answered::Connected => tracing::info!("ringing call answered"),
            Answered::Gone => {
                tracing::info!("the caller left before the call was answered");
                ended(
                    &shared,
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

    let (call, mut endpoint) = call_channel(
        CallInfo::new(&participant, direction),
        ChannelCapacity::default(),
    );
    let terminators = Arc::new(Terminators::default());
    let (sink, queue) = key_queue(Arc::clone(&terminators));
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
        digits: AsyncMutex::new(queue),
        terminators,
        status,
        audio_in: endpoint.audio_in.downgrade(),
        clock: endpoint.clock.clone(),
        ended_by_us: Default::default(),
        over: over.clone(),
    });
    let (_, closed) = mpsc::channel(1);
    let mut media = Some(MediaSetup {
        ctx: Arc::clone(&ctx),
        commands: media_commands,
        audio_out: std::mem::replace(&mut endpoint.audio_out, closed),
        audio_in: endpoint.audio_in.clone(),
        events: endpoint.events.clone(),
        digits: sink.clone(),
        stop: over.clone(),
    });
    let mut sink = Some(sink);
    let mut connected_at = None;
    if participant.is_connected() {
        start_media(&shared, &mut media);
        connected_at = Some(Instant::now());
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
    let mut verbs: FuturesUnordered<Verb> = FuturesUnordered::new();
    let mut bot_task: Option<JoinHandle<Result<(), BotError>>> = match answer_failed {
        false => Some(
            shared
                .tracker
                .spawn(async move { bot.handle(call).await }.in_current_span()),
        ),
        // A bot cannot work on a call nobody answered: straight to the fallback.
        true => {
            drop(call);
            let ctx = Arc::clone(&ctx);
            verbs.push(Box::pin(async move {
                end_call(&ctx, EngineEnd::AnswerFailed).await
            }));
            None
        }
    };

    let mut removed = false;
    let mut messages_open = true;
    // An unanswered call is already being handed off.
    let mut handing_off = answer_failed;
    let mut outcome: Option<CallOutcome> = None;
    let mut bot_error: Option<String> = None;
    let mut over_at: Option<Instant> = None;
    loop {
        if ctx.is_ended_by_us() && over_at.is_none() {
            // Our drop or hand-off succeeded: the call is over for the bot.
            endpoint.end(CallError::Ended);
            over.cancel();
            over_at = Some(Instant::now());
        }
        let busy_verbs = !verbs.is_empty() || bot_task.is_some();
        if over_at.is_some() && !busy_verbs && removed {
            break;
        }
        // After the call is over: the bot's grace, then (leg not removed yet) a linger.
        let deadline = over_at.map(|at| match busy_verbs {
            true => at + shared.settings.bot_grace,
            false => at + shared.settings.bot_grace.max(LINGER),
        });
        let live = !removed && !ctx.is_ended_by_us() && !handing_off;
        tokio::select! {
            biased;
            Some(ended_by) = verbs.next(), if !verbs.is_empty() => {
                if let Some(ended_by) = ended_by {
                    outcome.get_or_insert(ended_by);
                }
            }
            update = updates.recv(), if !removed => match update {
                Some(CallUpdate::Status(update)) => {
                    if update.is_connected() && connected_at.is_none() {
                        start_media(&shared, &mut media);
                        connected_at = Some(Instant::now());
                    }
                    if *status_sender.borrow() != update.status {
                        tracing::debug!(status = %update.status, "status");
                        let _ = endpoint.events.send(CallEvent::Status(update.status.clone()));
                        status_sender.send_replace(update.status.clone());
                    }
                }
                Some(CallUpdate::Digits(digits)) => {
                    for digit in digits {
                        if sink.as_ref().is_some_and(|sink| sink.push(DigitSource::OutOfBand, digit)) {
                            metrics::counter!(crate::metrics::DIGITS, "source" => "out_of_band").increment(1);
                            let _ = endpoint.events.send(CallEvent::Digit(digit));
                        }
                    }
                }
                Some(CallUpdate::Removed) | None => {
                    removed = true;
                    // First cause wins: after our own drop this stays `Ended`.
                    endpoint.end(CallError::Hangup);
                    if !ctx.is_ended_by_us() {
                        tracing::info!("caller hung up");
                        let _ = endpoint.events.send(CallEvent::Hangup);
                    }
                    over.cancel();
                    over_at.get_or_insert_with(Instant::now);
                    sink = None;
                    media = None;
                }
                Some(_) => {}
            },
            () = given_up.cancelled(), if !removed => {
                tracing::warn!("the dispatcher gave up on this call (its update queue overflowed)");
                removed = true;
                endpoint.end(CallError::connection(std::io::Error::other("call updates lost")));
                over.cancel();
                over_at.get_or_insert_with(Instant::now);
            }
            () = shared.handoff.cancelled(), if live => {
                handing_off = true;
                endpoint.end(CallError::Shutdown);
                let ctx = Arc::clone(&ctx);
                verbs.push(Box::pin(async move { end_call(&ctx, EngineEnd::Shutdown).await }));
            }
            () = shared.root.cancelled(), if !removed => {
                // Hard stop: nothing more will be served.
                endpoint.end(CallError::Shutdown);
                over.cancel();
                over_at.get_or_insert_with(Instant::now);
                removed = true;
            }
            message = endpoint.messages.recv(), if messages_open => match message {
                Some(message) if over.is_cancelled() => refuse(message, ctx.end_error()),
                Some(message) => verbs.push(verbs::serve(Arc::clone(&ctx), message)),
                None => messages_open = false,
            },
            joined = join(&mut bot_task), if bot_task.is_some() => {
                bot_task = None;
                if let Some(error) = bot_failure(&shared, &ctx, joined) {
                    bot_error = Some(error);
                    if live {
                        let ctx = Arc::clone(&ctx);
                        verbs.push(Box::pin(async move { end_call(&ctx, EngineEnd::BotFailed).await }));
                    }
                } else if live {
                    let ctx = Arc::clone(&ctx);
                    verbs.push(Box::pin(async move { end_call(&ctx, EngineEnd::BotReturned).await }));
                }
            }
            () = sleep_until(deadline) => {
                if let Some(task) = bot_task.take() {
                    tracing::warn!("the bot did not finish within its grace period; aborted");
                    task.abort();
                }
                if !verbs.is_empty() {
                    verbs.clear();
                } else {
                    // The PBX never confirmed the removal; stop waiting.
                    removed = true;
                }
            }
        }
    }
    let outcome = outcome.unwrap_or(match ctx.is_ended_by_us() {
        true => CallOutcome::Completed,
        false => CallOutcome::Hangup,
    });
    if let Some(dial) = dial {
        let _ = dial.send(DialReport::Answered {
            call_id: ctx.call_id,
            talk_time: connected_at.map_or(Duration::ZERO, |at| at.elapsed()),
            bot_error,
        });
    }
    ended(&shared, ctx.call_id, direction, outcome, started);
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
                Some(CallUpdate::Status(update)) => *participant = update,
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

fn start_media(shared: &Shared, media: &mut Option<MediaSetup>) {
    if let Some(setup) = media.take() {
        shared.tracker.spawn(media::run(setup).in_current_span());
    }
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
    metrics::counter!(crate::metrics::BOT_FAILURES, "kind" => kind).increment(1);
    shared.emit(EngineEvent::BotFailed {
        call_id: ctx.call_id,
        kind,
        error: error.clone(),
    });
    Some(error)
}

/// Counts a call's end.
fn ended(
    shared: &Shared,
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
        "direction" => direction_label,
        "outcome" => outcome.as_str()
    )
    .increment(1);
    tracing::info!(outcome = outcome.as_str(), "call ended");
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
        metrics::gauge!(crate::metrics::ACTIVE_CALLS).set(now as f64);
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
        metrics::gauge!(crate::metrics::ACTIVE_CALLS).set(now as f64);
    }
}
