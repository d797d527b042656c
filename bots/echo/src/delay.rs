//! [`DelayLine`]: a ring of frames that hands each frame back a fixed number of
//! frames later.

use std::collections::VecDeque;
use std::time::Duration;

use voicebot_bot::Frame;

/// Delays audio by a whole number of 20 ms frames.
///
/// The delay is counted in frames, not wall time: the caller's audio arrives
/// every 20 ms, so `n` frames late is `n × 20 ms` late, and a frame the lossy
/// audio stream dropped shortens the echo instead of leaving a gap in it.
#[derive(Debug, Clone)]
pub struct DelayLine {
    ring: VecDeque<Frame>,
    delay_frames: usize,
}

impl DelayLine {
    /// A line delaying by `delay`, rounded down to whole frames.
    pub fn new(delay: Duration) -> Self {
        let delay_frames =
            usize::try_from(delay.as_millis() / Frame::DURATION.as_millis()).unwrap_or(usize::MAX);
        Self {
            // Allocated once: the line never holds more than delay + 1 frames.
            ring: VecDeque::with_capacity(delay_frames.saturating_add(1).min(4096)),
            delay_frames,
        }
    }

    /// How many frames late the output runs.
    pub fn delay_frames(&self) -> usize {
        self.delay_frames
    }

    /// Takes a frame in; returns the frame from `delay_frames` pushes ago, once
    /// the line is full.
    pub fn push(&mut self, frame: Frame) -> Option<Frame> {
        self.ring.push_back(frame);
        match self.ring.len() > self.delay_frames {
            true => self.ring.pop_front(),
            false => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::*;

    /// A frame whose every sample is `n`, so frames can be told apart.
    pub(crate) fn numbered(n: i16) -> Frame {
        Frame::from_samples([n; Frame::SAMPLES])
    }

    #[test_case(0, 0; "no delay")]
    #[test_case(19, 0; "under one frame rounds down")]
    #[test_case(20, 1; "one frame")]
    #[test_case(500, 25; "the default")]
    #[test_case(510, 25; "between frames")]
    fn delays_by_whole_frames(millis: u64, frames: usize) {
        let mut line = DelayLine::new(Duration::from_millis(millis));
        assert_eq!(line.delay_frames(), frames);
        let out: Vec<Option<Frame>> = (0..40).map(|n| line.push(numbered(n))).collect();
        let n = i16::try_from(frames).unwrap();
        assert!(out[..frames].iter().all(Option::is_none));
        assert_eq!(out[frames], Some(numbered(0)));
        assert_eq!(out[39], Some(numbered(39 - n)));
    }
}
