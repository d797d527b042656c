//! The playout buffer for the caller's audio: a pure state machine that turns bursty TCP
//! arrivals into one frame per 20 ms tick.
//!
//! The caller's audio reaches us over HTTP, so nothing is lost or reordered, but it arrives in
//! irregular bursts and sometimes stalls. The buffer measures how late each byte arrives compared
//! with the earliest it has ever arrived (the *transit floor*), keeps a peak-hold estimate of that
//! lateness (the jitter), and holds back `target` worth of audio so that a burst's worth of
//! lateness does not run the buffer dry. Like songbird's playout buffer it has two modes:
//! [`PlayoutMode::Filling`] waits until `target` is buffered, [`PlayoutMode::Playing`] drains one
//! frame per pop. Running dry conceals (fading repeat, then silence) and refills; holding more
//! than `target` for a second trims a frame so the delay comes back down (this also absorbs
//! clock drift); exceeding `capacity` drops the oldest audio.

use std::{collections::VecDeque, time::Duration};

use crate::{
    error::ConfigError,
    frame::{Frame, FrameDecoder, samples_to_duration},
};

/// Settings for a [`JitterBuffer`]. Build with `JitterConfig::default()` and the `with_*` setters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterConfig {
    /// The delay held back before the first jitter has been measured. Default 60 ms.
    pub initial_delay: Duration,
    /// The smallest target delay. Default 20 ms.
    pub min_delay: Duration,
    /// The largest target delay. Default 200 ms.
    pub max_delay: Duration,
    /// The most audio held; beyond it the oldest audio is dropped. Default 500 ms.
    pub capacity: Duration,
    /// How fast the jitter estimate decays once bursts stop: it halves in this time. Default 4 s.
    pub decay_half_life: Duration,
    /// How long the buffer must stay above target before a frame is trimmed. Default 1 s.
    pub trim_after: Duration,
}

impl Default for JitterConfig {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(60),
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            capacity: Duration::from_millis(500),
            decay_half_life: Duration::from_secs(4),
            trim_after: Duration::from_secs(1),
        }
    }
}

impl JitterConfig {
    /// Sets [`Self::initial_delay`].
    #[must_use]
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets the bounds of the target delay.
    #[must_use]
    pub fn with_delay_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.min_delay = min;
        self.max_delay = max;
        self
    }

    /// Sets [`Self::capacity`].
    #[must_use]
    pub fn with_capacity(mut self, capacity: Duration) -> Self {
        self.capacity = capacity;
        self
    }

    /// Sets [`Self::decay_half_life`].
    #[must_use]
    pub fn with_decay_half_life(mut self, half_life: Duration) -> Self {
        self.decay_half_life = half_life;
        self
    }

    /// Checks that `min_delay <= initial_delay <= max_delay <= capacity` and that the
    /// delays are at least one frame.
    ///
    /// # Errors
    /// [`ConfigError::OutOfRange`] naming the first setting that is wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let out = |setting, reason| Err(ConfigError::OutOfRange { setting, reason });
        if self.min_delay < Frame::DURATION {
            return out("min_delay", "must be at least one frame (20 ms)");
        }
        if self.max_delay < self.min_delay {
            return out("max_delay", "must be at least min_delay");
        }
        if self.initial_delay < self.min_delay || self.initial_delay > self.max_delay {
            return out("initial_delay", "must lie within min_delay..=max_delay");
        }
        if self.capacity < self.max_delay + Frame::DURATION {
            return out("capacity", "must exceed max_delay by at least one frame");
        }
        if self.decay_half_life.is_zero() {
            return out("decay_half_life", "must be positive");
        }
        Ok(())
    }
}

/// Whether the buffer is building up its delay or draining at real time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayoutMode {
    /// Waiting until the target delay is buffered (at the start and after running dry).
    Filling,
    /// Handing out one buffered frame per pop.
    Playing,
}

/// What [`JitterBuffer::pop`] produced for this tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// Real audio from the caller.
    Frame(Frame),
    /// The buffer ran dry: a made-up frame (a fading repeat of the last frame, then silence).
    Concealed(Frame),
    /// Nothing has played yet; the buffer is still filling. Treat as silence.
    Filling,
}

impl Lookup {
    /// The frame to play: real, concealed, or silence while filling.
    #[must_use]
    pub fn frame(&self) -> Frame {
        match self {
            Self::Frame(frame) | Self::Concealed(frame) => *frame,
            Self::Filling => Frame::silence(),
        }
    }

    /// Whether this is real caller audio.
    #[must_use]
    pub fn is_real(&self) -> bool {
        matches!(self, Self::Frame(_))
    }
}

/// Counters and estimates of a [`JitterBuffer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitterStats {
    /// Current mode.
    pub mode: PlayoutMode,
    /// Audio buffered now (the current playout delay).
    pub delay: Duration,
    /// The delay the buffer aims for.
    pub target: Duration,
    /// The peak-hold estimate of arrival lateness.
    pub jitter: Duration,
    /// Times the buffer ran dry while playing.
    pub underruns: u64,
    /// Frames made up while dry.
    pub concealed_frames: u64,
    /// Frames dropped because the buffer was over capacity.
    pub overrun_drops: u64,
    /// Frames dropped to bring the delay back down to target.
    pub trimmed_frames: u64,
    /// Complete frames received.
    pub frames_in: u64,
    /// Real frames handed out.
    pub frames_out: u64,
}

/// The caller-audio playout buffer. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    config: JitterConfig,
    decoder: FrameDecoder,
    frames: VecDeque<Frame>,
    capacity_frames: usize,
    mode: PlayoutMode,
    has_played: bool,
    // Arrival tracking, in nanoseconds since the caller's origin.
    received_bytes: u64,
    floor_ns: Option<f64>,
    last_arrival: Option<Duration>,
    jitter_ns: f64,
    // Concealment and trimming.
    last_frame: Frame,
    concealed_run: u32,
    over_target_since: Option<Duration>,
    stats: JitterStats,
}

/// Frames the buffer has room for beyond the initial delay before it first grows.
const INITIAL_SLACK_FRAMES: usize = 4;

/// How fast the transit floor may creep up (1,000 ppm). Without it a sender whose clock is slower
/// than ours would look ever later and inflate the jitter estimate.
const FLOOR_CREEP: f64 = 1e-3;

impl JitterBuffer {
    /// Builds a buffer.
    ///
    /// # Errors
    /// [`ConfigError`] if `config` fails [`JitterConfig::validate`].
    pub fn new(config: JitterConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let capacity_frames = frames_in(config.capacity);
        Ok(Self {
            config,
            decoder: FrameDecoder::new(),
            // Room for the usual delay and a burst; it grows (once) up to the capacity only
            // if the caller's audio ever piles up that far, so a call does not hold half a
            // second of frames it never uses.
            frames: VecDeque::with_capacity(
                (frames_in(config.initial_delay) + INITIAL_SLACK_FRAMES).min(capacity_frames + 1),
            ),
            capacity_frames,
            mode: PlayoutMode::Filling,
            has_played: false,
            received_bytes: 0,
            floor_ns: None,
            last_arrival: None,
            jitter_ns: 0.0,
            last_frame: Frame::silence(),
            concealed_run: 0,
            over_target_since: None,
            stats: JitterStats {
                mode: PlayoutMode::Filling,
                delay: Duration::ZERO,
                target: config.initial_delay,
                jitter: Duration::ZERO,
                underruns: 0,
                concealed_frames: 0,
                overrun_drops: 0,
                trimmed_frames: 0,
                frames_in: 0,
                frames_out: 0,
            },
        })
    }

    /// Adds a chunk of the caller's s16le byte stream that arrived at `arrival`.
    pub fn push(&mut self, bytes: &[u8], arrival: Duration) {
        if bytes.is_empty() {
            return;
        }
        let start_samples = self.received_bytes / 2;
        self.received_bytes += bytes.len() as u64;
        self.measure_arrival(start_samples, arrival);
        let mut rest = bytes;
        if self.decoder.pending_bytes() == 0 {
            // Whole frames decode straight from the read (the common case: nothing left
            // over from the last one), not through the decoder's buffer.
            let whole = rest.len() / Frame::BYTES * Frame::BYTES;
            for frame in rest[..whole].chunks_exact(Frame::BYTES) {
                let frame: &[u8; Frame::BYTES] = frame.try_into().expect("chunks of a frame");
                self.push_frame(Frame::from_bytes(frame));
            }
            rest = &rest[whole..];
        }
        self.decoder.push(rest);
        while let Some(frame) = self.decoder.pop() {
            self.push_frame(frame);
        }
    }

    fn push_frame(&mut self, frame: Frame) {
        if self.frames.len() >= self.capacity_frames {
            // Overrun: the newest audio is what the caller is saying now, so keep it.
            self.frames.pop_front();
            self.stats.overrun_drops += 1;
        }
        self.frames.push_back(frame);
        self.stats.frames_in += 1;
    }

    /// Takes the frame to play at `now`. Call once per 20 ms tick.
    pub fn pop(&mut self, now: Duration) -> Lookup {
        if self.mode == PlayoutMode::Filling && self.buffered() >= self.target() {
            self.mode = PlayoutMode::Playing;
        }
        let lookup = match (self.mode, self.frames.pop_front()) {
            (PlayoutMode::Playing, Some(frame)) => {
                self.trim_if_late(now);
                self.has_played = true;
                self.last_frame = frame;
                self.concealed_run = 0;
                self.stats.frames_out += 1;
                Lookup::Frame(frame)
            }
            (PlayoutMode::Playing, None) => {
                self.mode = PlayoutMode::Filling;
                self.stats.underruns += 1;
                self.conceal()
            }
            (PlayoutMode::Filling, frame) => {
                if let Some(frame) = frame {
                    self.frames.push_front(frame);
                }
                match self.has_played {
                    true => self.conceal(),
                    false => Lookup::Filling,
                }
            }
        };
        self.stats.mode = self.mode;
        lookup
    }

    /// Counters and estimates.
    #[must_use]
    pub fn stats(&self) -> JitterStats {
        JitterStats {
            delay: self.buffered(),
            target: self.target(),
            jitter: Duration::from_nanos(self.jitter_ns as u64),
            ..self.stats
        }
    }

    /// The current mode.
    #[must_use]
    pub fn mode(&self) -> PlayoutMode {
        self.mode
    }

    /// The delay the buffer aims for: the jitter estimate plus half a frame (pops are not in phase
    /// with arrivals), rounded up to whole frames, within the configured bounds; the initial
    /// delay until data has arrived.
    #[must_use]
    pub fn target(&self) -> Duration {
        if self.last_arrival.is_none() {
            return self.config.initial_delay;
        }
        let wanted = Duration::from_nanos(self.jitter_ns as u64) + Frame::DURATION / 2;
        // The buffer holds whole frames, so aim for a whole number of them.
        let frames = wanted.as_nanos().div_ceil(Frame::DURATION.as_nanos()) as u32;
        (Frame::DURATION * frames).clamp(self.config.min_delay, self.config.max_delay)
    }

    fn buffered(&self) -> Duration {
        Frame::DURATION * self.frames.len() as u32
    }

    fn measure_arrival(&mut self, start_samples: u64, arrival: Duration) {
        let arrival_ns = arrival.as_nanos() as f64;
        let end_ns = samples_to_duration(self.received_bytes / 2).as_nanos() as f64;
        let start_ns = samples_to_duration(start_samples).as_nanos() as f64;
        // Transit of the chunk's last sample sets the floor: it is the earliest this stream can
        // arrive. The chunk's first sample waited for the rest, so its lateness is the jitter.
        let transit_end = arrival_ns - end_ns;
        let elapsed = self
            .last_arrival
            .map_or(0.0, |last| arrival.saturating_sub(last).as_nanos() as f64);
        let floor = match self.floor_ns {
            Some(floor) => (floor + elapsed * FLOOR_CREEP).min(transit_end),
            None => transit_end,
        };
        self.floor_ns = Some(floor);
        let lateness = (arrival_ns - start_ns - floor).max(0.0);
        let half_lives = elapsed / self.config.decay_half_life.as_nanos() as f64;
        let decayed = lateness + (self.jitter_ns - lateness) * 0.5f64.powf(half_lives);
        // Peak hold: a burst raises the estimate at once; calm lets it decay.
        self.jitter_ns = match self.last_arrival {
            Some(_) => decayed.max(lateness),
            None => lateness.max(
                self.config.initial_delay.as_nanos() as f64
                    - Frame::DURATION.as_nanos() as f64 / 2.0,
            ),
        };
        self.last_arrival = Some(arrival);
    }

    fn trim_if_late(&mut self, now: Duration) {
        let slack = (self.target() / 2).max(2 * Frame::DURATION);
        if self.buffered() <= self.target() + slack {
            self.over_target_since = None;
            return;
        }
        let since = *self.over_target_since.get_or_insert(now);
        if now.saturating_sub(since) >= self.config.trim_after {
            // Over target for a while: drop one old frame per pop until back within slack. Drift
            // costs one frame now and then; a backlog after a stall is caught up at double speed.
            self.frames.pop_front();
            self.stats.trimmed_frames += 1;
        }
    }

    fn conceal(&mut self) -> Lookup {
        self.concealed_run = self.concealed_run.saturating_add(1);
        self.stats.concealed_frames += 1;
        // A halving repeat of the last frame hides a short gap; after three it is silence.
        let mut frame = self.last_frame;
        for sample in frame.as_samples_mut() {
            *sample = match self.concealed_run {
                1..=3 => *sample / 2,
                _ => 0,
            };
        }
        self.last_frame = frame;
        Lookup::Concealed(frame)
    }
}

fn frames_in(duration: Duration) -> usize {
    (duration.as_micros() / Frame::DURATION.as_micros()) as usize
}

#[cfg(test)]
mod tests;
