//! The agent's audio waiting for the call's audio sink, and the agent's marks waiting
//! to be echoed. A plain state machine: the bridge moves items to the sink as it takes
//! them and reports the engine's mark events back.

use std::collections::VecDeque;

use voicebot_bot::Frame;

/// An item for the audio sink.
// Frames are the common item, every 20 ms: boxing them would allocate per frame.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outgoing {
    /// 20 ms of the agent's audio.
    Frame(Frame),
    /// The agent's mark with this id: the engine reports it when played.
    Mark(u64),
}

/// The agent's audio in frames, the marks between them, and the marks not yet echoed.
///
/// Overflow policy: at most `limit_frames` wait here (agents send speech faster than
/// real time, often whole answers at once); audio beyond that is dropped and counted,
/// marks never are.
#[derive(Debug)]
pub(super) struct OutQueue {
    items: VecDeque<Outgoing>,
    partial: Vec<i16>,
    frames: usize,
    limit_frames: usize,
    dropped_frames: u64,
    pending_marks: VecDeque<(u64, String)>,
    next_mark: u64,
}

impl OutQueue {
    pub(super) fn new(limit_frames: usize) -> Self {
        Self {
            items: VecDeque::with_capacity(256),
            partial: Vec::with_capacity(Frame::SAMPLES),
            frames: 0,
            limit_frames,
            dropped_frames: 0,
            pending_marks: VecDeque::new(),
            next_mark: 0,
        }
    }

    /// Appends the agent's samples; whole frames become items, the rest waits for more.
    pub(super) fn push_samples(&mut self, mut samples: &[i16]) {
        while !samples.is_empty() {
            let take = (Frame::SAMPLES - self.partial.len()).min(samples.len());
            self.partial.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.partial.len() == Frame::SAMPLES {
                self.push_partial();
            }
        }
    }

    /// Appends a mark after the audio so far (a partial frame is padded with silence,
    /// so the mark follows all of it); returns the mark's id.
    pub(super) fn push_mark(&mut self, name: String) -> u64 {
        if !self.partial.is_empty() {
            self.push_partial();
        }
        let id = self.next_mark;
        self.next_mark += 1;
        self.items.push_back(Outgoing::Mark(id));
        self.pending_marks.push_back((id, name));
        id
    }

    fn push_partial(&mut self) {
        let frame = Frame::from_slice_padded(&self.partial);
        self.partial.clear();
        match self.frames < self.limit_frames {
            true => {
                self.items.push_back(Outgoing::Frame(frame));
                self.frames += 1;
            }
            false => self.dropped_frames += 1,
        }
    }

    /// The next item for the sink.
    pub(super) fn front(&self) -> Option<&Outgoing> {
        self.items.front()
    }

    /// The sink took the front item.
    pub(super) fn pop_front(&mut self) {
        if let Some(Outgoing::Frame(_)) = self.items.pop_front() {
            self.frames -= 1;
        }
    }

    /// The engine played mark `id`: the names to echo (it and any earlier ones, in order).
    pub(super) fn reached(&mut self, id: u64) -> Vec<String> {
        let mut names = Vec::new();
        while let Some((pending, _)) = self.pending_marks.front() {
            if *pending > id {
                break;
            }
            let (_, name) = self.pending_marks.pop_front().expect("just looked at it");
            names.push(name);
        }
        names
    }

    /// Empties the queue (barge-in); returns the marks discarded, to echo at once.
    pub(super) fn clear(&mut self) -> Vec<String> {
        self.items.clear();
        self.partial.clear();
        self.frames = 0;
        self.pending_marks.drain(..).map(|(_, name)| name).collect()
    }

    /// Frames waiting (a partial one not counted).
    pub(super) fn frames(&self) -> usize {
        self.frames
    }

    /// Frames dropped because the queue was full.
    pub(super) fn dropped_frames(&self) -> u64 {
        self.dropped_frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_become_frames_and_marks_follow_their_audio() {
        let mut queue = OutQueue::new(100);
        queue.push_samples(&[7; 100]);
        assert!(queue.front().is_none(), "not a whole frame yet");
        queue.push_samples(&[7; 100]);
        assert_eq!(queue.frames(), 1);
        let id = queue.push_mark("a".to_owned());
        // The 40 samples left over are padded into a frame before the mark.
        assert_eq!(queue.frames(), 2);
        queue.pop_front();
        match queue.front() {
            Some(Outgoing::Frame(frame)) => {
                assert_eq!(frame.as_samples()[39], 7);
                assert_eq!(frame.as_samples()[40], 0);
            }
            other => panic!("expected the padded frame, got {other:?}"),
        }
        queue.pop_front();
        assert_eq!(queue.front(), Some(&Outgoing::Mark(id)));
    }

    #[test]
    fn reaching_a_mark_echoes_it_and_every_earlier_one() {
        let mut queue = OutQueue::new(100);
        let first = queue.push_mark("one".to_owned());
        let second = queue.push_mark("two".to_owned());
        let third = queue.push_mark("three".to_owned());
        assert_eq!(queue.reached(second), ["one", "two"]);
        assert!(queue.reached(first).is_empty(), "echoed once only");
        assert_eq!(queue.reached(third), ["three"]);
    }

    #[test]
    fn clear_drops_the_audio_and_returns_the_marks_not_yet_echoed() {
        let mut queue = OutQueue::new(100);
        queue.push_samples(&[1; 480]);
        let played = queue.push_mark("played".to_owned());
        queue.push_samples(&[1; 480]);
        queue.push_mark("cut".to_owned());
        assert_eq!(queue.reached(played), ["played"]);
        assert_eq!(queue.clear(), ["cut"]);
        assert_eq!(queue.frames(), 0);
        assert!(queue.front().is_none());
    }

    #[test]
    fn a_full_queue_drops_audio_but_keeps_marks() {
        let mut queue = OutQueue::new(2);
        queue.push_samples(&[1; 160 * 3]);
        assert_eq!((queue.frames(), queue.dropped_frames()), (2, 1));
        let id = queue.push_mark("kept".to_owned());
        assert_eq!(queue.reached(id), ["kept"]);
    }
}
