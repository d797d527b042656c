//! Real-time pacing of audio to the caller, with barge-in accounting.
//!
//! The PBX plays whatever we send at real time, so anything sent ahead of the caller's ear is a
//! commitment: it will play even after a barge-in unless the engine tells the PBX to drop it. The
//! pacer therefore keeps at most `lead` of audio in flight (the 3CX sample keeps 500 ms, which
//! makes barge-in sluggish; 100 ms is plenty over a LAN). It tracks a *run*: a stretch of
//! gapless audio that started playing at a known instant, so the caller has heard
//! `min(sent, elapsed since the run started)`. When everything sent has been heard the run ends and
//! the next audio starts a new one.
//!
//! Two rules keep the lead a bound, not an average:
//! - **A flush does not take back what was sent.** 3CX cannot drop audio it has queued, so after a
//!   barge-in the PBX still plays what was in flight. The pacer keeps it in flight (as audio that
//!   is no longer the bot's: it counts as neither sent nor heard) and the next prompt queues behind
//!   it in the same run, so the lead stays within `lead` across barge-ins and prompt changes.
//! - **Only whole frames count as played** when deciding what may be sent, counted from a frame
//!   after the run started: the PBX plays in 20 ms frames on a grid whose phase we cannot see,
//!   so a run's first frame may wait up to a frame for its slot. The PBX then never holds more
//!   than `lead`, a frame it is playing included, even when a write's trip jitters; to be
//!   gapless the lead must cover a tick of the caller's engine plus that frame.
//!
//! Audio goes out in *chunks* of at least `chunk` (see [`Pacer::with_chunk`]): nothing is sent
//! until a chunk fits under the lead, then the lead is filled. Fewer, larger writes cost the
//! engine fewer system calls and wake-ups; the lead bound is the same.

use std::{collections::VecDeque, time::Duration};

use crate::{
    error::ConfigError,
    frame::{Frame, duration_to_samples, samples_to_duration},
    prompt::Prompt,
};

/// How many times a queued prompt plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// This many times in a row (0 plays nothing).
    Times(u32),
    /// Until flushed.
    Forever,
}

/// What a [`Pacer::flush`] threw away and how much had been heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flushed {
    /// Audio of the current run the caller heard (the run began when the pacer was last idle).
    pub heard: Duration,
    /// Audio sent but not yet heard plus audio still queued (for [`Repeat::Forever`], only the
    /// rest of the current pass). Audio already sent may still play unless the PBX drops it.
    pub discarded: Duration,
}

#[derive(Debug, Clone)]
enum Item {
    Audio {
        prompt: Prompt,
        pos: usize,
        left: Repeat,
    },
    Mark(u64),
}

/// Hands out frames at real time, at most `lead` ahead of what the caller has heard.
/// A pure state machine: every method that depends on time takes `now`.
#[derive(Debug, Clone)]
pub struct Pacer {
    lead_samples: u64,
    chunk_samples: u64,
    /// A chunk is being handed out (set by the first `poll` that may send, cleared by the
    /// first that returns `None`).
    filling: bool,
    queue: VecDeque<Item>,
    sent_pos: u64,
    run_start_time: Duration,
    run_start_pos: u64,
    run_base_audio: u64,
    // Sample positions sent that are not the bot's audio: silence a final partial frame was
    // padded with, and audio flushed while in flight (the PBX still plays it). (start, len).
    pads: VecDeque<(u64, u64)>,
    pads_before: u64,
    reached_marks: VecDeque<(u64, u64)>,
}

impl Pacer {
    /// The default lead: 100 ms.
    pub const DEFAULT_LEAD: Duration = Duration::from_millis(100);

    /// Builds a pacer keeping at most `lead` of audio in flight.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] if `lead` exceeds 10 s.
    pub fn new(lead: Duration) -> Result<Self, ConfigError> {
        if lead > Duration::from_secs(10) {
            return Err(ConfigError::OutOfRange {
                setting: "lead",
                reason: "must be at most 10 s",
            });
        }
        Ok(Self {
            lead_samples: duration_to_samples(lead),
            chunk_samples: Frame::SAMPLES as u64,
            filling: false,
            queue: VecDeque::with_capacity(8),
            sent_pos: 0,
            run_start_time: Duration::ZERO,
            run_start_pos: 0,
            run_base_audio: 0,
            pads: VecDeque::with_capacity(16),
            pads_before: 0,
            reached_marks: VecDeque::with_capacity(8),
        })
    }

    /// Sends audio in chunks of at least `chunk` (rounded up to whole frames, at most the
    /// lead): after the first chunk of a run, nothing goes out until `chunk` fits under the
    /// lead, and then the lead is filled. The default is one frame.
    #[must_use]
    pub fn with_chunk(mut self, chunk: Duration) -> Self {
        let frame = Frame::SAMPLES as u64;
        let samples = duration_to_samples(chunk).div_ceil(frame) * frame;
        let lead_frames = (self.lead_samples / frame).max(1) * frame;
        self.chunk_samples = samples.clamp(frame, lead_frames);
        self
    }

    /// Queues a prompt to play once.
    pub fn enqueue(&mut self, prompt: Prompt) {
        self.enqueue_repeat(prompt, Repeat::Times(1));
    }

    /// Queues a prompt to play `repeat` times.
    pub fn enqueue_repeat(&mut self, prompt: Prompt, repeat: Repeat) {
        if repeat != Repeat::Times(0) {
            self.queue.push_back(Item::Audio {
                prompt,
                pos: 0,
                left: repeat,
            });
        }
    }

    /// Queues raw 8 kHz samples (e.g. streamed TTS) to play once; empty input is ignored.
    pub fn enqueue_samples(&mut self, samples: impl Into<std::sync::Arc<[i16]>>) {
        if let Ok(prompt) = Prompt::from_samples(samples) {
            self.enqueue(prompt);
        }
    }

    /// Queues a mark: [`Self::poll_mark`] returns `id` once the caller has heard everything
    /// queued before it.
    pub fn enqueue_mark(&mut self, id: u64) {
        match self.queue.is_empty() {
            true => self.reached_marks.push_back((self.audio_end(), id)),
            false => self.queue.push_back(Item::Mark(id)),
        }
    }

    /// The next frame to send at `now`, or `None` if `lead` is already in flight or there is
    /// nothing to send. Call in a loop each tick: `while let Some(f) = pacer.poll(now) { .. }`.
    pub fn poll(&mut self, now: Duration) -> Option<Frame> {
        let heard = self.heard_pos(now);
        // Padding the caller has heard can be summed up; keeps the list short.
        while let Some(&(_, len)) = self
            .pads
            .front()
            .filter(|&&(start, len)| start + len <= heard)
        {
            self.pads_before += len;
            self.pads.pop_front();
        }
        if heard == self.sent_pos {
            // The caller heard everything: new audio starts a new run now.
            self.run_start_time = now;
            self.run_start_pos = self.sent_pos;
            self.run_base_audio = self.audio_before(self.sent_pos);
        }
        self.take_leading_marks(0);
        if self.queue.is_empty() {
            self.filling = false;
            return None;
        }
        // What the PBX still holds, counting a frame it is playing as not played yet.
        let in_flight = self.sent_pos - self.played_pos(now);
        let room = self.lead_samples.saturating_sub(in_flight);
        let may_send = match (in_flight, self.filling) {
            // Nothing in flight: one frame goes out even with a lead under a frame.
            (0, _) => true,
            (_, true) => room >= Frame::SAMPLES as u64,
            (_, false) => room >= self.chunk_samples,
        };
        if !may_send {
            self.filling = false;
            return None;
        }
        self.filling = true;
        Some(self.fill_frame())
    }

    /// The next mark the caller has heard by `now`, in queue order.
    pub fn poll_mark(&mut self, now: Duration) -> Option<u64> {
        let heard = self.heard_pos(now);
        match self.reached_marks.front() {
            Some(&(pos, id)) if pos <= heard => {
                self.reached_marks.pop_front();
                Some(id)
            }
            _ => None,
        }
    }

    /// Stops playback at `now` (barge-in): drops the queue. What is in flight still plays at
    /// the PBX (it cannot be taken back), so it stays in flight, not counted as audio: later
    /// audio goes out behind it within the lead.
    pub fn flush(&mut self, now: Duration) -> Flushed {
        let heard_pos = self.heard_pos(now);
        let heard_audio = self.audio_before(heard_pos);
        let in_flight = self.audio_before(self.sent_pos) - heard_audio;
        let queued: u64 = self
            .queue
            .drain(..)
            .map(|item| match item {
                Item::Audio { prompt, pos, left } => {
                    let len = prompt.len_samples() as u64;
                    let extra = match left {
                        Repeat::Times(n) => u64::from(n.saturating_sub(1)) * len,
                        Repeat::Forever => 0,
                    };
                    len - pos as u64 + extra
                }
                Item::Mark(_) => 0,
            })
            .sum();
        let flushed = Flushed {
            heard: samples_to_duration(heard_audio.saturating_sub(self.run_base_audio)),
            discarded: samples_to_duration(in_flight + queued),
        };
        self.reached_marks.retain(|&(pos, _)| pos <= heard_pos);
        while self
            .pads
            .back()
            .is_some_and(|&(start, _)| start >= heard_pos)
        {
            self.pads.pop_back();
        }
        if let Some(pad) = self.pads.back_mut() {
            pad.1 = pad.1.min(heard_pos - pad.0);
        }
        // The PBX plays what it holds whatever we do: it stays in flight, so the next audio
        // queues behind it within the lead, but it is no longer audio of ours.
        if self.sent_pos > heard_pos {
            self.pads.push_back((heard_pos, self.sent_pos - heard_pos));
        }
        self.filling = false;
        flushed
    }

    /// Audio handed out so far (padding excluded).
    #[must_use]
    pub fn sent(&self) -> Duration {
        samples_to_duration(self.audio_before(self.sent_pos))
    }

    /// Audio the caller has heard by `now` (padding excluded).
    #[must_use]
    pub fn heard(&self, now: Duration) -> Duration {
        samples_to_duration(self.audio_before(self.heard_pos(now)))
    }

    /// Audio sent that the caller has not heard yet at `now`.
    #[must_use]
    pub fn in_flight(&self, now: Duration) -> Duration {
        samples_to_duration(self.sent_pos - self.heard_pos(now))
    }

    /// Whether nothing is left to send (audio in flight may still be playing).
    #[must_use]
    pub fn is_idle(&self) -> bool {
        !self
            .queue
            .iter()
            .any(|item| matches!(item, Item::Audio { .. }))
    }

    /// Whether the caller is still hearing audio at `now`.
    #[must_use]
    pub fn is_playing(&self, now: Duration) -> bool {
        self.heard_pos(now) < self.sent_pos
    }

    /// Like [`Self::heard_pos`], but in whole frames, counted from a frame after the run
    /// started (with a lead of two frames or more): what the PBX has surely finished playing. The PBX plays on a 20 ms grid of
    /// its own whose phase we cannot see, so a run's first frame may wait up to a frame
    /// for its slot; counting from the run's start instead would leave no margin, and
    /// any jitter in a write's trip would show at the PBX as one frame more than the lead.
    fn played_pos(&self, now: Duration) -> u64 {
        let frame = Frame::SAMPLES as u64;
        // A lead under two frames has no frame to spare: it keeps the old count.
        let slot_wait = match self.lead_samples >= 2 * frame {
            true => Frame::DURATION,
            false => Duration::ZERO,
        };
        let elapsed = duration_to_samples(now.saturating_sub(self.run_start_time + slot_wait));
        (self.run_start_pos + elapsed / frame * frame).min(self.sent_pos)
    }

    fn heard_pos(&self, now: Duration) -> u64 {
        let elapsed = duration_to_samples(now.saturating_sub(self.run_start_time));
        (self.run_start_pos + elapsed).min(self.sent_pos)
    }

    /// Sample positions before `pos` that were real audio, not padding.
    fn audio_before(&self, pos: u64) -> u64 {
        let padded: u64 = self
            .pads
            .iter()
            .map(|&(start, len)| (start + len).min(pos).saturating_sub(start))
            .sum();
        pos - self.pads_before - padded
    }

    /// Where the last real audio ended (before any padding).
    fn audio_end(&self) -> u64 {
        match self.pads.back() {
            Some(&(start, len)) if start + len == self.sent_pos => start,
            _ => self.sent_pos,
        }
    }

    fn take_leading_marks(&mut self, offset: u64) {
        while let Some(Item::Mark(id)) = self.queue.front() {
            let pos = match offset {
                0 => self.audio_end(),
                _ => self.sent_pos + offset,
            };
            self.reached_marks.push_back((pos, *id));
            self.queue.pop_front();
        }
    }

    fn fill_frame(&mut self) -> Frame {
        let mut frame = Frame::silence();
        let mut filled = 0;
        while filled < Frame::SAMPLES {
            self.take_leading_marks(filled as u64);
            let Some(Item::Audio { prompt, pos, left }) = self.queue.front_mut() else {
                break;
            };
            let samples = prompt.samples();
            let take = (Frame::SAMPLES - filled).min(samples.len() - *pos);
            frame.as_samples_mut()[filled..filled + take]
                .copy_from_slice(&samples[*pos..*pos + take]);
            filled += take;
            *pos += take;
            if *pos == samples.len() {
                match left {
                    Repeat::Forever => *pos = 0,
                    Repeat::Times(n) if *n > 1 => {
                        *n -= 1;
                        *pos = 0;
                    }
                    Repeat::Times(_) => {
                        self.queue.pop_front();
                    }
                }
            }
        }
        self.take_leading_marks(filled as u64);
        if filled < Frame::SAMPLES {
            self.pads.push_back((
                self.sent_pos + filled as u64,
                (Frame::SAMPLES - filled) as u64,
            ));
        }
        self.sent_pos += Frame::SAMPLES as u64;
        frame
    }
}

#[cfg(test)]
mod tests;
