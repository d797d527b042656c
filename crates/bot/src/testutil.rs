//! A fake call task: a real implementation of the [`CallMessage`] protocol over
//! timers, with the gather served by `voicebot_dispatch::gather` exactly as the
//! engine does. Tests drive it like a caller (press keys, hang up).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Mutex as AsyncMutex, Notify};
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep};
use voicebot_dispatch::{DigitQueue, DigitSink, DigitSource, GatherSpec, PromptEnd, Prompter};
use voicebot_model::{Action, Digit, Participant, ParticipantId};

use crate::call::{GatherEnd, Interruption, PlayOutcome, RecordEnd, Recording};
use crate::message::{CallEndpoint, CallMessage, ChannelCapacity, Loops, call_channel};
use crate::{Call, CallError, CallEvent, CallInfo, Digits, Direction, PromptSource};

/// How long a prompt of the fake lasts.
pub(crate) fn length(prompt: &PromptSource) -> Duration {
    match prompt {
        PromptSource::Silence(length)
        | PromptSource::Tone {
            duration: length, ..
        } => *length,
        PromptSource::Prompt(prompt) => prompt.duration(),
        _ => Duration::from_secs(1),
    }
}

pub(crate) struct Fake {
    pub(crate) call: Call,
    sink: Option<DigitSink>,
    pub(crate) journal: Arc<Mutex<Vec<String>>>,
    // Weak: the events stream must end when the fake call task ends.
    events: tokio::sync::broadcast::WeakSender<CallEvent>,
    hangup: Arc<Notify>,
}

impl Fake {
    pub(crate) fn press(&self, keys: &str) {
        let sink = self.sink.as_ref().expect("the caller is still there");
        for key in keys.chars() {
            let digit = Digit::new(key).unwrap();
            if sink.push(DigitSource::OutOfBand, digit) {
                self.emit(CallEvent::Digit(digit));
            }
        }
    }

    pub(crate) fn emit(&self, event: CallEvent) {
        if let Some(events) = self.events.upgrade() {
            let _ = events.send(event);
        }
    }

    pub(crate) fn hang_up(&mut self) {
        self.sink = None;
        self.hangup.notify_one();
    }

    pub(crate) fn journal(&self) -> Vec<String> {
        self.journal.lock().unwrap().clone()
    }
}

pub(crate) fn fake_call() -> Fake {
    let participant = Participant {
        id: ParticipantId(12),
        dn: "800".into(),
        party_caller_id: "+15550100".to_owned(),
        callid: 7,
        legid: 1,
        ..Participant::default()
    };
    let (call, endpoint) = call_channel(
        CallInfo::new(&participant, Direction::Inbound),
        ChannelCapacity::default(),
    );
    let (sink, queue) = voicebot_dispatch::digit_queue();
    let journal = Arc::new(Mutex::new(Vec::new()));
    let hangup = Arc::new(Notify::new());
    let events = endpoint.events.downgrade();
    tokio::spawn(serve(
        endpoint,
        queue,
        Arc::clone(&journal),
        Arc::clone(&hangup),
    ));
    Fake {
        call,
        sink: Some(sink),
        journal,
        events,
        hangup,
    }
}

fn log(journal: &Mutex<Vec<String>>, entry: String) {
    journal.lock().unwrap().push(entry);
}

async fn serve(
    mut endpoint: CallEndpoint,
    queue: DigitQueue,
    journal: Arc<Mutex<Vec<String>>>,
    hangup: Arc<Notify>,
) {
    let queue = Arc::new(AsyncMutex::new(queue));
    // Work runs concurrently; dropping the set (hang-up) aborts it all.
    let mut work = JoinSet::new();
    loop {
        let message = tokio::select! {
            () = hangup.notified() => break,
            message = endpoint.messages.recv() => match message {
                Some(message) => message,
                None => return,
            },
        };
        let (queue, journal) = (Arc::clone(&queue), Arc::clone(&journal));
        match message {
            CallMessage::Play { request, mut reply } => {
                work.spawn(async move {
                    log(&journal, format!("play {:?} start", request.prompt));
                    let once = length(&request.prompt);
                    let total = match request.loops {
                        Loops::Count(count) => once * count,
                        Loops::Forever => Duration::from_secs(86_400),
                    };
                    let start = Instant::now();
                    let mut queue = queue.lock().await;
                    let outcome = tokio::select! {
                        () = reply.closed() => {
                            log(&journal, "play stopped".to_owned());
                            return;
                        }
                        () = sleep(total) => PlayOutcome::Finished,
                        true = queue.wait_unread(), if request.barge_in.digits => {
                            let digit = queue.peek().expect("a digit is unread");
                            PlayOutcome::Interrupted { by: Interruption::Digit(digit), heard: start.elapsed() }
                        }
                    };
                    let _ = reply.send(Ok(outcome));
                });
            }
            CallMessage::Gather { request, mut reply } => {
                work.spawn(async move {
                    let spec = GatherSpec {
                        prompt: request.prompt,
                        invalid_prompt: request.invalid_prompt,
                        min_digits: request.min_digits,
                        max_digits: request.max_digits,
                        first_digit_timeout: request.first_digit_timeout,
                        inter_digit_timeout: request.inter_digit_timeout,
                        terminators: request.terminators,
                        terminator_required: request.terminator_required,
                        tries: request.tries,
                        barge_in_digits: request.barge_in.digits,
                        barge_in_speech: request.barge_in.speech,
                        validator: request.validator,
                    };
                    let mut queue = queue.lock().await;
                    let mut prompter = TimerPrompter;
                    let gathered = tokio::select! {
                        () = reply.closed() => return,
                        gathered = voicebot_dispatch::gather(&mut queue, &mut prompter, &spec) => gathered,
                    };
                    let digits = gathered
                        .map(|g| {
                            let end = match g.end {
                                voicebot_dispatch::GatherEnd::MaxDigits => GatherEnd::MaxDigits,
                                voicebot_dispatch::GatherEnd::Terminator => GatherEnd::Terminator,
                                voicebot_dispatch::GatherEnd::Timeout => GatherEnd::Timeout,
                                voicebot_dispatch::GatherEnd::NoInput => GatherEnd::NoInput,
                                voicebot_dispatch::GatherEnd::Invalid => GatherEnd::Invalid,
                            };
                            Digits::new(&g.digits, g.terminator, end, g.tries)
                        })
                        .map_err(|_| CallError::Hangup);
                    let _ = reply.send(digits);
                });
            }
            CallMessage::Record { request, reply } => {
                log(&journal, format!("record {}", request.path.display()));
                work.spawn(async move {
                    sleep(request.max_length).await;
                    let _ = reply.send(Ok(Recording {
                        path: request.path,
                        duration: request.max_length,
                        ended_by: RecordEnd::MaxLength,
                        gaps: Vec::new(),
                    }));
                });
            }
            CallMessage::Action {
                action,
                request,
                reply,
            } => {
                let destination = request.destination.clone().unwrap_or_default();
                log(
                    &journal,
                    format!("{action} {destination}").trim_end().to_owned(),
                );
                if action == Action::Drop {
                    // As the engine does: after our `drop` the call task ends.
                    endpoint.end(CallError::Ended);
                    let _ = reply.send(Ok(()));
                    return;
                }
                work.spawn(async move {
                    if action == Action::RouteTo {
                        sleep(Duration::from_secs(3)).await;
                    }
                    let outcome = match destination.as_str() {
                        "busy" => Err(CallError::Rejected {
                            status: 200,
                            reason: "busy".to_owned(),
                        }),
                        _ => Ok(()),
                    };
                    let _ = reply.send(outcome);
                });
            }
            CallMessage::Answer { reply } => {
                log(&journal, "answer".to_owned());
                let _ = reply.send(Ok(()));
            }
            CallMessage::ClearDigits { reply } => {
                work.spawn(async move {
                    let _ = reply.send(Ok(queue.lock().await.clear()));
                });
            }
            CallMessage::ClearAudio { reply } => {
                let mut count = 0;
                while endpoint.audio_out.try_recv().is_ok() {
                    count += 1;
                }
                let _ = reply.send(Ok(count));
            }
        }
    }
    endpoint.end(CallError::Hangup);
    let _ = endpoint.events.send(CallEvent::Hangup);
}

/// Plays prompts as timers (the engine plays them through its media task).
struct TimerPrompter;

impl Prompter for TimerPrompter {
    type Prompt = PromptSource;
    type Error = CallError;

    async fn play(&mut self, prompt: &PromptSource, _: bool) -> Result<PromptEnd, CallError> {
        sleep(length(prompt)).await;
        Ok(PromptEnd::Finished)
    }
}
