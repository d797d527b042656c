//! The outbound half of the media task: plays and streamed audio through the pacer
//! to the POST stream.
//!
//! The stream itself belongs to the media task's link, which reopens it when it is
//! lost; this half is handed it each tick. While it is down the pacer keeps time and
//! what falls due is discarded, so plays go on (and end) as if heard: the caller
//! misses that stretch, the bot's verbs do not fail.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};
use voicebot_bot::__engine::AudioOut as StreamedAudio;
use voicebot_bot::{CallEvent, Frame, Prompt, SinkItem};
use voicebot_callcontrol::AudioOut;
use voicebot_media::{Pacer, Repeat};

use super::{MediaCommand, PlayEnd};
use crate::metrics::MediaCounts;

/// A play waiting for its turn.
#[derive(Debug)]
struct Queued {
    id: u64,
    prompt: Prompt,
    more: Option<mpsc::Receiver<Prompt>>,
    repeat: Repeat,
    stop_on_speech: bool,
    done: oneshot::Sender<PlayEnd>,
}

/// The play the pacer is sending.
#[derive(Debug)]
struct Current {
    id: u64,
    /// Sentences of spoken text still to come; `None` once all arrived.
    more: Option<mpsc::Receiver<Prompt>>,
    stop_on_speech: bool,
    done: oneshot::Sender<PlayEnd>,
    /// Audio the pacer had sent before this play, to tell what of *it* was heard.
    sent_before: Duration,
}

/// The audio the bot streams: its queue once the bot has opened a sink.
pub(super) enum Streamed {
    /// The bot has not opened a sink yet (or it was not taken yet).
    Waiting(StreamedAudio),
    /// The queue.
    Open(mpsc::Receiver<SinkItem>),
    /// Nothing will come.
    None,
}

impl Streamed {
    /// The queue, taking it from the bot's end the first time it is there.
    fn receiver(&mut self) -> Option<&mut mpsc::Receiver<SinkItem>> {
        if let Self::Waiting(out) = self
            && let Some(receiver) = out.try_take()
        {
            *self = Self::Open(receiver);
        }
        match self {
            Self::Open(receiver) => Some(receiver),
            Self::Waiting(_) | Self::None => None,
        }
    }
}

pub(super) struct Outbound {
    pacer: Pacer,
    lead_frames: usize,
    streamed: Streamed,
    events: broadcast::Sender<CallEvent>,
    queue: VecDeque<Queued>,
    current: Option<Current>,
    /// Streamed audio gathered for the pacer (reused).
    samples: Vec<i16>,
    marks: VecDeque<(u64, String)>,
    next_mark: u64,
    drains: Vec<oneshot::Sender<()>>,
}

impl Outbound {
    /// Paces at most `lead` ahead of the caller, in writes of at least `chunk`.
    pub(super) fn new(
        lead: Duration,
        chunk: Duration,
        streamed: Streamed,
        events: broadcast::Sender<CallEvent>,
    ) -> Self {
        let lead_frames = (lead.as_millis() / Frame::DURATION.as_millis()).max(1) as usize;
        Self {
            // The builder keeps the lead within the pacer's range.
            pacer: Pacer::new(lead)
                .expect("the builder checked the pacer lead")
                .with_chunk(chunk),
            lead_frames,
            streamed,
            events,
            queue: VecDeque::with_capacity(4),
            current: None,
            samples: Vec::with_capacity((lead_frames + 2) * Frame::SAMPLES),
            marks: VecDeque::new(),
            next_mark: 0,
            drains: Vec::new(),
        }
    }

    /// The most audio it keeps ahead of the caller.
    pub(super) fn lead(&self) -> Duration {
        Frame::DURATION * self.lead_frames as u32
    }

    /// Handles the commands of the outbound side; returns the others.
    pub(super) fn command(&mut self, command: MediaCommand, now: Duration) -> Option<MediaCommand> {
        match command {
            MediaCommand::Play {
                id,
                prompt,
                more,
                repeat,
                stop_on_speech,
                done,
            } => self.queue.push_back(Queued {
                id,
                prompt,
                more,
                repeat,
                stop_on_speech,
                done,
            }),
            MediaCommand::Stop { id } => self.stop(id, now, false),
            MediaCommand::ClearAudio { reply } => {
                let mut count = 0;
                while let Some(Ok(_)) = self.streamed.receiver().map(mpsc::Receiver::try_recv) {
                    count += 1;
                }
                if self.current.is_none() {
                    let flushed = self.pacer.flush(now);
                    count += (flushed.discarded.as_millis() / Frame::DURATION.as_millis()) as usize;
                    self.marks.clear();
                }
                let _ = reply.send(count);
            }
            MediaCommand::Drain { reply } => self.drains.push(reply),
            other => return Some(other),
        }
        None
    }

    /// Stops play `id` (the current one, or a queued one) and reports what was heard.
    pub(super) fn stop(&mut self, id: u64, now: Duration, by_speech: bool) {
        if self
            .current
            .as_ref()
            .is_some_and(|current| current.id == id)
        {
            let current = self.current.take().expect("checked just above");
            let heard = self.pacer.heard(now).saturating_sub(current.sent_before);
            self.pacer.flush(now);
            let end = match by_speech {
                true => PlayEnd::Speech { heard },
                false => PlayEnd::Stopped { heard },
            };
            let _ = current.done.send(end);
            return;
        }
        if let Some(index) = self.queue.iter().position(|queued| queued.id == id) {
            let queued = self.queue.remove(index).expect("the index was just found");
            let _ = queued.done.send(PlayEnd::Stopped {
                heard: Duration::ZERO,
            });
        }
    }

    /// The current play, if speech may interrupt it.
    pub(super) fn speech_interruptible(&self) -> Option<u64> {
        self.current
            .as_ref()
            .filter(|current| current.stop_on_speech)
            .map(|current| current.id)
    }

    /// Sends what is due at `now` as one chunk on `stream`, without waiting (what the
    /// socket does not take now stays in the stream's backlog, written first next
    /// time); `Err` says why the stream is lost. Without a stream what is due is
    /// discarded. `sent`, when given, is refilled with the frames due (sent or
    /// discarded), for stereo and mixed recordings; it is reused, so a tick does not
    /// allocate. Without a recording that hears the bot nothing asks for them, and a
    /// frame is not copied for nothing.
    pub(super) fn tick(
        &mut self,
        now: Duration,
        buffer: &mut Vec<u8>,
        mut sent: Option<&mut Vec<Frame>>,
        counts: &mut MediaCounts,
        stream: Option<&mut AudioOut>,
    ) -> Result<(), String> {
        if let Some(current) = &self.current
            && current.done.is_closed()
        {
            // The verb was dropped (its future cancelled): stop the prompt.
            let id = current.id;
            self.stop(id, now, false);
        }
        if let Some(sent) = sent.as_deref_mut() {
            sent.clear();
        }
        loop {
            self.pull_sentences();
            while let Some(frame) = self.pacer.poll(now) {
                buffer.extend_from_slice(&frame.to_bytes());
                if let Some(sent) = sent.as_deref_mut() {
                    sent.push(frame);
                }
                counts.frames_out += 1;
            }
            if self
                .current
                .as_ref()
                .is_some_and(|current| current.more.is_none())
                && self.pacer.is_idle()
            {
                let current = self.current.take().expect("checked just above");
                let _ = current.done.send(PlayEnd::Finished);
            }
            if self.current.is_none() && self.start_next() {
                continue;
            }
            if self.current.is_none() && self.queue.is_empty() && self.pull_streamed() {
                continue;
            }
            break;
        }
        while let Some(id) = self.pacer.poll_mark(now) {
            while let Some((mark, name)) = self.marks.pop_front() {
                if mark == id {
                    let _ = self.events.send(CallEvent::Mark(name));
                    break;
                }
            }
        }
        if !self.drains.is_empty() && self.is_quiet(now) {
            for drain in self.drains.drain(..) {
                let _ = drain.send(());
            }
        }
        let Some(stream) = stream else {
            // No stream (being reopened): this stretch is lost to the caller.
            buffer.clear();
            return Ok(());
        };
        // Written straight from the reused buffer: no allocation per chunk. With nothing
        // due it still writes a backlog and looks for the PBX's answer (a refusal).
        let sent = stream.send_now(buffer.as_slice());
        buffer.clear();
        sent.map_err(|error| error.to_string())
    }

    /// Whether nothing is playing or waiting to play.
    fn is_quiet(&self, now: Duration) -> bool {
        self.current.is_none() && self.queue.is_empty() && !self.pacer.is_playing(now)
    }

    /// Starts the next queued play still wanted; whether one started.
    fn start_next(&mut self) -> bool {
        while let Some(queued) = self.queue.pop_front() {
            if queued.done.is_closed() {
                continue;
            }
            self.current = Some(Current {
                id: queued.id,
                more: queued.more,
                stop_on_speech: queued.stop_on_speech,
                done: queued.done,
                sent_before: self.pacer.sent(),
            });
            self.pacer.enqueue_repeat(queued.prompt, queued.repeat);
            return true;
        }
        false
    }

    /// Queues the sentences of the current play's text that are ready; notes when the
    /// last one has come. Never waits: a sentence still being synthesised comes on a
    /// later tick, and the caller hears a pause meanwhile.
    fn pull_sentences(&mut self) {
        let Some(current) = self.current.as_mut() else {
            return;
        };
        let Some(more) = current.more.as_mut() else {
            return;
        };
        loop {
            match more.try_recv() {
                Ok(sentence) => self.pacer.enqueue(sentence),
                Err(mpsc::error::TryRecvError::Empty) => return,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    current.more = None;
                    return;
                }
            }
        }
    }

    /// Moves streamed audio (from the bot's `AudioSink`) into the pacer once it has sent
    /// everything else: at most a lead's worth plus one frame, as one pacer item.
    fn pull_streamed(&mut self) -> bool {
        if !self.pacer.is_idle() {
            return false;
        }
        let mut pulled = false;
        self.samples.clear();
        while self.samples.len() < (self.lead_frames + 1) * Frame::SAMPLES {
            let Some(streamed) = self.streamed.receiver() else {
                break;
            };
            match streamed.try_recv() {
                Ok(SinkItem::Frame(frame)) => self.samples.extend_from_slice(frame.as_samples()),
                Ok(SinkItem::Mark(name)) => {
                    self.flush_samples();
                    let id = self.next_mark;
                    self.next_mark += 1;
                    self.pacer.enqueue_mark(id);
                    self.marks.push_back((id, name));
                    pulled = true;
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        pulled | self.flush_samples()
    }

    fn flush_samples(&mut self) -> bool {
        if self.samples.is_empty() {
            return false;
        }
        // One allocation per pull (not per frame): the pacer takes shared sample slices.
        self.pacer.enqueue_samples(self.samples.as_slice());
        self.samples.clear();
        true
    }

    /// The call's media is over: plays still playing or waiting get no outcome (their
    /// verbs report why the call ended); drains are answered.
    pub(super) fn close(&mut self) {
        self.current = None;
        self.queue.clear();
        for drain in self.drains.drain(..) {
            let _ = drain.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use voicebot_media::Prompt;

    use super::*;

    #[tokio::test]
    async fn a_tick_hands_back_the_frames_due_in_the_reused_vec() {
        let (_audio, streamed) = mpsc::channel(4);
        let (events, _) = broadcast::channel(4);
        let mut outbound = Outbound::new(
            Duration::from_millis(60),
            Frame::DURATION,
            Streamed::Open(streamed),
            events,
        );
        let samples: Vec<i16> = (0..Frame::SAMPLES as i16 * 10).collect();
        let prompt = Prompt::from_samples(samples).expect("ten frames make a prompt");
        let (done, _end) = oneshot::channel();
        let play = MediaCommand::Play {
            id: 7,
            prompt,
            more: None,
            repeat: Repeat::Times(1),
            stop_on_speech: true,
            done,
        };
        assert!(outbound.command(play, Duration::ZERO).is_none());
        let (mut buffer, mut counts) = (Vec::new(), MediaCounts::default());
        let mut sent = Vec::with_capacity(16);
        // No stream: what is due is discarded, but still handed back for recordings.
        let result = outbound.tick(
            Duration::ZERO,
            &mut buffer,
            Some(&mut sent),
            &mut counts,
            None,
        );
        assert_eq!(result, Ok(()));
        assert!(!sent.is_empty());
        assert_eq!(sent.len() as u64, counts.frames_out);
        assert_eq!(sent[0].as_samples()[1], 1, "the prompt's first frame");
        assert_eq!(outbound.speech_interruptible(), Some(7));
        let capacity = sent.capacity();
        // The first frame counts as played a frame late (the PBX's grid has its own
        // phase): the tick after next sends the next frame.
        outbound
            .tick(
                Frame::DURATION * 2,
                &mut buffer,
                Some(&mut sent),
                &mut counts,
                None,
            )
            .expect("nothing to send");
        assert_eq!(
            sent.len(),
            1,
            "one frame more per tick once the lead is sent"
        );
        assert_eq!(sent.capacity(), capacity);
    }

    #[tokio::test]
    async fn spoken_text_plays_its_sentences_in_order_and_ends_after_the_last() {
        let (_audio, streamed) = mpsc::channel(4);
        let (events, _) = broadcast::channel(4);
        let mut outbound = Outbound::new(
            Duration::from_millis(40),
            Frame::DURATION,
            Streamed::Open(streamed),
            events,
        );
        let sentence = |value: i16| Prompt::from_samples(vec![value; Frame::SAMPLES * 3]).unwrap();
        let (more_sender, more) = mpsc::channel(4);
        let (done, mut end) = oneshot::channel();
        let play = MediaCommand::Play {
            id: 1,
            prompt: sentence(1),
            more: Some(more),
            repeat: Repeat::Times(1),
            stop_on_speech: false,
            done,
        };
        assert!(outbound.command(play, Duration::ZERO).is_none());
        let (mut buffer, mut counts) = (Vec::new(), MediaCounts::default());
        let mut heard: Vec<i16> = Vec::new();
        let mut sent = Vec::with_capacity(16);
        let mut tick = |outbound: &mut Outbound, n: u32| {
            let now = Frame::DURATION * n;
            outbound
                .tick(now, &mut buffer, Some(&mut sent), &mut counts, None)
                .unwrap();
            heard.extend(sent.iter().map(|frame| frame.as_samples()[0]));
        };
        for n in 0..6 {
            tick(&mut outbound, n);
        }
        // The first sentence is out and the next is not ready: a pause, not the end.
        assert!(end.try_recv().is_err(), "still playing");
        more_sender.try_send(sentence(2)).unwrap();
        more_sender.try_send(sentence(3)).unwrap();
        for n in 6..9 {
            tick(&mut outbound, n);
        }
        drop(more_sender);
        for n in 9..20 {
            tick(&mut outbound, n);
        }
        assert_eq!(end.try_recv(), Ok(PlayEnd::Finished));
        assert_eq!(
            heard,
            [1, 1, 1, 2, 2, 2, 3, 3, 3],
            "every sentence, in order"
        );
    }
}
