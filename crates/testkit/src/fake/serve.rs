//! The fake call task: serves the `voicebot-bot` call protocol on timers, as the
//! engine's call task does over a PBX.

use std::collections::BTreeMap;
use std::future::pending;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::sync::mpsc::Receiver;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;
use voicebot_bot::__engine::{
    AudioOut, CallEndpoint, CallMessage, DigitQueue, GatherRequest, PlayRequest, PromptEnd,
    Prompter, RecordRequest, Reply,
};
use voicebot_bot::{
    CallError, CallEvent, Digits, Frame, Interruption, PlayOutcome, PromptSource, RecordEnd,
    Recording, SinkItem,
};
use voicebot_media::Repeat;
use voicebot_model::{Action, ActionRequest};

use super::Entry;

/// How the fake answers, set by [`FakeCallBuilder`](crate::FakeCallBuilder).
#[derive(Debug, Clone)]
pub(crate) struct Behaviour {
    pub(crate) default_prompt_length: Duration,
    pub(crate) prompt_lengths: BTreeMap<PathBuf, Duration>,
    pub(crate) ring_time: Duration,
    pub(crate) refused: Vec<String>,
    pub(crate) recording: Option<(Duration, RecordEnd)>,
}

/// What the fake call and its task share.
#[derive(Debug)]
pub(crate) struct Shared {
    behaviour: Behaviour,
    journal: Mutex<Vec<Entry>>,
    played: Mutex<Vec<SinkItem>>,
    /// Notified when the caller starts speaking.
    pub(crate) speech: Notify,
}

impl Shared {
    pub(crate) fn new(behaviour: Behaviour) -> Self {
        Self {
            behaviour,
            journal: Mutex::default(),
            played: Mutex::default(),
            speech: Notify::new(),
        }
    }

    pub(crate) fn journal(&self) -> Vec<Entry> {
        lock(&self.journal).clone()
    }

    pub(crate) fn played(&self) -> Vec<SinkItem> {
        lock(&self.played).clone()
    }

    fn log(&self, entry: Entry) {
        lock(&self.journal).push(entry);
    }

    /// How long one play of `prompt` lasts.
    fn length(&self, prompt: &PromptSource) -> Duration {
        match prompt {
            PromptSource::Silence(length)
            | PromptSource::Tone {
                duration: length, ..
            } => *length,
            PromptSource::Prompt(prompt) => prompt.duration(),
            PromptSource::File(path) => self
                .behaviour
                .prompt_lengths
                .get(path)
                .copied()
                .unwrap_or(self.behaviour.default_prompt_length),
            _ => self.behaviour.default_prompt_length,
        }
    }
}

// A test that panicked while holding a lock must not hide its own failure behind a
// poisoned-lock panic here.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a verb's work reports back to the loop when it is done.
enum Done {
    /// Nothing changes.
    Nothing,
    /// A transfer, route or diversion succeeded: the caller is with someone else.
    HandedOff,
}

/// Everything one verb's work needs.
#[derive(Clone)]
struct Ctx {
    shared: Arc<Shared>,
    queue: Arc<DigitQueue>,
    over: CancellationToken,
    hangup: Arc<Notify>,
}

/// Serves the call until the caller hangs up, the bot hangs up, or every `Call` is gone.
pub(crate) async fn serve(
    mut endpoint: CallEndpoint,
    queue: DigitQueue,
    shared: Arc<Shared>,
    hangup: Arc<Notify>,
) {
    let ctx = Ctx {
        shared,
        queue: Arc::new(queue),
        over: CancellationToken::new(),
        hangup: Arc::clone(&hangup),
    };
    // Verbs run concurrently, as in the engine: a prompt plays while a transfer rings.
    let mut work: JoinSet<Done> = JoinSet::new();
    let mut handed_off = false;
    // While a streamed frame plays: when the next may start.
    let mut frame_ends: Option<Instant> = None;
    // The engine takes the streamed audio's end out of the endpoint; so does this. Its
    // queue exists once the bot opens a sink (should the end be gone, the audio branch
    // ends at once).
    let streamed = endpoint.audio_out.take();
    let mut audio_out = None;
    let mut audio_open = true;
    let end = loop {
        tokio::select! {
            biased;
            () = hangup.notified() => break CallError::Hangup,
            Some(done) = work.join_next(), if !work.is_empty() => {
                if let Ok(Done::HandedOff) = done {
                    handed_off = true;
                    endpoint.end(CallError::Ended);
                }
            }
            () = sleep_until(frame_ends.unwrap_or_else(Instant::now)), if frame_ends.is_some() => {
                frame_ends = None;
            }
            item = next_streamed(streamed.as_ref(), &mut audio_out), if audio_open && frame_ends.is_none() => match item {
                Some(SinkItem::Mark(name)) => {
                    lock(&ctx.shared.played).push(SinkItem::Mark(name.clone()));
                    let _ = endpoint.events.send(CallEvent::Mark(name));
                }
                Some(item) => {
                    lock(&ctx.shared.played).push(item);
                    frame_ends = Some(Instant::now() + Frame::DURATION);
                }
                None => audio_open = false,
            },
            message = endpoint.messages.recv() => {
                // Work the bot just stopped (a prompt it dropped before sending this)
                // journals that first, so the journal keeps the bot's order.
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                match message {
                None => break CallError::Ended,
                Some(message) if handed_off => refuse(&ctx.shared, message),
                Some(CallMessage::Action { action: voicebot_model::Action::Drop, reply, .. }) => {
                    ctx.shared.log(Entry::Hangup);
                    // As the engine: after our `drop` the call is over for the bot.
                    endpoint.end(CallError::Ended);
                    let _ = reply.send(Ok(()));
                    break CallError::Ended;
                }
                Some(CallMessage::ClearAudio { reply }) => {
                    ctx.shared.log(Entry::ClearAudio);
                    let mut frames = 0;
                    if audio_out.is_none() {
                        audio_out = streamed.as_ref().and_then(AudioOut::try_take);
                    }
                    while let Some(Ok(item)) = audio_out.as_mut().map(Receiver::try_recv) {
                        frames += usize::from(matches!(item, SinkItem::Frame(_)));
                    }
                    let _ = reply.send(Ok(frames));
                }
                Some(message) => accept(&ctx, &mut work, message),
                }
            }
        }
    };
    // The first cause recorded wins: a `drop` or a hand-off stays `Ended`.
    endpoint.end(end.clone());
    ctx.over.cancel();
    // Verbs in flight end now: a recording still replies (`RecordEnd::Hangup`).
    while work.join_next().await.is_some() {}
    if matches!(end, CallError::Hangup) {
        let _ = endpoint.events.send(CallEvent::Hangup);
    }
}

/// After a hand-off the call is no longer ours: the request is journaled, and fails
/// with the end cause (`Ended`) as its reply is dropped.
fn refuse(shared: &Shared, message: CallMessage) {
    let entry = match &message {
        CallMessage::Answer { .. } => Entry::Answer,
        CallMessage::Play { request, .. } => play_entry(request),
        CallMessage::Gather { request, .. } => gather_entry(request),
        CallMessage::Record { request, .. } => record_entry(request),
        CallMessage::Action {
            action, request, ..
        } => action_entry(action, request),
        CallMessage::ClearDigits { .. } => Entry::ClearDigits,
        CallMessage::ClearAudio { .. } => Entry::ClearAudio,
        CallMessage::Note { note, .. } => Entry::Note(note.clone()),
        other => Entry::Unsupported(format!("{other:?}")),
    };
    shared.log(entry);
}

/// Starts the work of a request.
fn accept(ctx: &Ctx, work: &mut JoinSet<Done>, message: CallMessage) {
    let ctx = ctx.clone();
    match message {
        CallMessage::Answer { reply } => {
            ctx.shared.log(Entry::Answer);
            let _ = reply.send(Ok(()));
        }
        CallMessage::Play { request, reply } => {
            work.spawn(play(ctx, *request, reply));
        }
        CallMessage::Gather { request, reply } => {
            work.spawn(gather(ctx, *request, reply));
        }
        CallMessage::Record { request, reply } => {
            work.spawn(record(ctx, *request, reply));
        }
        CallMessage::Action {
            action,
            request,
            reply,
        } => {
            ctx.shared.log(action_entry(&action, &request));
            work.spawn(act(ctx, action, *request, reply));
        }
        CallMessage::ClearDigits { reply } => {
            ctx.shared.log(Entry::ClearDigits);
            work.spawn(async move {
                let _ = reply.send(Ok(ctx.queue.clear()));
                Done::Nothing
            });
        }
        CallMessage::Note { note, reply } => {
            ctx.shared.log(Entry::Note(note));
            let _ = reply.send(Ok(()));
        }
        other => ctx.shared.log(Entry::Unsupported(format!("{other:?}"))),
    }
}

fn play_entry(request: &PlayRequest) -> Entry {
    Entry::Play {
        prompt: request.prompt.clone(),
        repeat: request.repeat,
        barge_in: request.barge_in,
    }
}

fn gather_entry(request: &GatherRequest) -> Entry {
    Entry::Gather {
        min_digits: request.min_digits,
        max_digits: request.max_digits,
        terminators: request.terminators.clone(),
        tries: request.tries,
        speech: request.speech.is_some(),
    }
}

fn record_entry(request: &RecordRequest) -> Entry {
    Entry::Record {
        path: request.path.clone(),
        max_length: request.max_length,
        silence_timeout: request.silence_timeout,
        beep: request.beep,
        channels: request.channels,
        terminators: request.terminators.clone(),
    }
}

fn action_entry(action: &Action, request: &ActionRequest) -> Entry {
    let to = request.destination.clone().unwrap_or_default();
    match action {
        Action::TransferTo => Entry::Transfer(to),
        Action::RouteTo => Entry::RouteTo(to),
        Action::Divert => Entry::Divert {
            to,
            reason: request.reason.clone(),
        },
        Action::Drop => Entry::Hangup,
        Action::AttachParticipantData => {
            Entry::AttachData(request.attacheddata.clone().unwrap_or_default())
        }
        other => Entry::Unsupported(other.to_string()),
    }
}

/// A prompt: its length (times its repeats), or until a key or speech interrupts it.
async fn play(ctx: Ctx, request: PlayRequest, mut reply: Reply<PlayOutcome>) -> Done {
    ctx.shared.log(play_entry(&request));
    let once = ctx.shared.length(&request.prompt);
    let total = match request.repeat {
        Repeat::Times(count) => Some(once * count.max(1)),
        Repeat::Forever => None,
    };
    let started = Instant::now();
    // Only a prompt keys may stop watches the digit queue, as the engine's does.
    let pressed = async {
        match request.barge_in.digits {
            true => match ctx.queue.wait_unread().await {
                Some(digit) => Some(digit),
                None => pending().await,
            },
            false => pending().await,
        }
    };
    let spoken = async {
        match request.barge_in.speech {
            true => ctx.shared.speech.notified().await,
            false => pending().await,
        }
    };
    let outcome = tokio::select! {
        biased;
        () = reply.closed() => {
            ctx.shared.log(Entry::Stopped);
            return Done::Nothing;
        }
        () = ctx.over.cancelled() => return Done::Nothing,
        Some(digit) = pressed => PlayOutcome::Interrupted {
            by: Interruption::Digit(digit),
            heard: started.elapsed(),
        },
        () = spoken => PlayOutcome::Interrupted {
            by: Interruption::Speech,
            heard: started.elapsed(),
        },
        () = sleep_for(total) => PlayOutcome::Finished,
    };
    let _ = reply.send(Ok(outcome));
    Done::Nothing
}

async fn sleep_for(length: Option<Duration>) {
    match length {
        Some(length) => sleep(length).await,
        None => pending().await,
    }
}

/// A gather: the engine's own state machine (`voicebot_bot::__engine::gather`) over the
/// digit queue, prompts on timers. Speech is not simulated: a speech gather takes digits.
async fn gather(ctx: Ctx, request: GatherRequest, mut reply: Reply<Digits>) -> Done {
    ctx.shared.log(gather_entry(&request));
    let mut prompter = TimerPrompter {
        shared: &ctx.shared,
        barge_in: request.barge_in,
    };
    let gathered = tokio::select! {
        biased;
        () = reply.closed() => return Done::Nothing,
        () = ctx.over.cancelled() => return Done::Nothing,
        gathered = voicebot_bot::__engine::gather(&ctx.queue, &mut prompter, &request) => gathered,
    };
    let _ = reply.send(gathered.map_err(|_| CallError::Hangup));
    Done::Nothing
}

/// Plays a gather's prompts as timers and journals them.
struct TimerPrompter<'a> {
    shared: &'a Shared,
    barge_in: voicebot_bot::BargeIn,
}

impl Prompter for TimerPrompter<'_> {
    type Error = CallError;

    async fn play(
        &mut self,
        prompt: &PromptSource,
        stop_on_speech: bool,
    ) -> Result<PromptEnd, CallError> {
        self.shared.log(Entry::Play {
            prompt: prompt.clone(),
            repeat: Repeat::Times(1),
            barge_in: self.barge_in,
        });
        let spoken = async {
            match stop_on_speech {
                true => self.shared.speech.notified().await,
                false => pending().await,
            }
        };
        tokio::select! {
            () = sleep(self.shared.length(prompt)) => Ok(PromptEnd::Finished),
            () = spoken => Ok(PromptEnd::Speech),
        }
    }
}

/// A recording: as long as the builder says (default: its maximum length); a hang-up
/// ends it with what was recorded so far.
async fn record(ctx: Ctx, request: RecordRequest, mut reply: Reply<Recording>) -> Done {
    ctx.shared.log(record_entry(&request));
    let (length, end) = ctx
        .shared
        .behaviour
        .recording
        .unwrap_or((request.max_length, RecordEnd::MaxLength));
    let started = Instant::now();
    let recording = |duration, ended_by| Recording {
        path: request.path.clone(),
        duration,
        ended_by,
        gaps: Vec::new(),
    };
    tokio::select! {
        biased;
        () = reply.closed() => return Done::Nothing,
        () = ctx.over.cancelled() => {}
        () = sleep(length) => {
            if end != RecordEnd::Hangup {
                let _ = reply.send(Ok(recording(length, end)));
                return Done::Nothing;
            }
            // The caller hangs up now; the recording ends with the call, below.
            ctx.hangup.notify_one();
            ctx.over.cancelled().await;
        }
    }
    let _ = reply.send(Ok(recording(started.elapsed(), RecordEnd::Hangup)));
    Done::Nothing
}

/// A transfer, route or diversion rings, then succeeds or is refused; other actions
/// succeed at once.
async fn act(ctx: Ctx, action: Action, request: ActionRequest, reply: Reply<()>) -> Done {
    if !matches!(
        action,
        Action::TransferTo | Action::RouteTo | Action::Divert
    ) {
        let _ = reply.send(Ok(()));
        return Done::Nothing;
    }
    let destination = request.destination.unwrap_or_default();
    tokio::select! {
        () = ctx.over.cancelled() => return Done::Nothing,
        () = sleep(ctx.shared.behaviour.ring_time) => {}
    }
    match ctx.shared.behaviour.refused.contains(&destination) {
        true => {
            let _ = reply.send(Err(CallError::Rejected {
                status: 200,
                reason: format!("{destination} refused the call"),
            }));
            Done::Nothing
        }
        false => {
            let _ = reply.send(Ok(()));
            Done::HandedOff
        }
    }
}

/// The next item the bot streams, once it has opened a sink; `None` once the queue is
/// closed (or there is no end to take it from).
async fn next_streamed(
    streamed: Option<&AudioOut>,
    audio_out: &mut Option<Receiver<SinkItem>>,
) -> Option<SinkItem> {
    if audio_out.is_none() {
        *audio_out = Some(streamed?.opened().await);
    }
    audio_out.as_mut()?.recv().await
}
