//! Per-call media: the caller's uplink queue (served on GET streams at real time) and
//! the PBX playout buffer fed by POST streams, with a record of what the caller heard.
//!
//! One media clock task ticks every 20 ms for all calls (no task per call). Each call
//! counts frames from the moment its leg connected, so a late tick catches up exactly
//! and a paused tokio clock gives exact results.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use crate::config::{AudioConfig, GetStreamContent};
use crate::state::{CallCore, Shared};

/// One frame: 20 ms.
pub(crate) const FRAME: Duration = Duration::from_millis(20);
/// Samples per frame at 8 kHz.
pub(crate) const FRAME_SAMPLES: usize = 160;
/// Bytes per frame (s16le).
pub(crate) const FRAME_BYTES: usize = 320;
/// Chunks queued to a GET stream before further chunks are dropped (~10 s at 320 B).
const LISTENER_QUEUE: usize = 512;

/// What the caller heard: the PBX playout of one call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Heard {
    /// The caller's timeline from the moment the call connected to the end of the
    /// last audio heard, with silence in the gaps.
    pub samples: Vec<i16>,
    /// Stretches of audio, in order.
    pub segments: Vec<HeardSegment>,
    /// Silences between two stretches of audio (the playout buffer ran dry).
    pub underruns: Vec<Gap>,
    /// The most audio the client had queued ahead of real time.
    pub max_lead: Duration,
    /// Bytes received on POST streams.
    pub bytes_received: u64,
    /// Bytes received but not played (still queued, or discarded when the call ended).
    pub unplayed_bytes: usize,
}

impl Heard {
    /// All audio heard, without the silences between segments.
    pub fn audio(&self) -> Vec<i16> {
        let mut out = Vec::new();
        for segment in &self.segments {
            let start = samples_at(segment.start);
            let end = (start + samples_at(segment.len)).min(self.samples.len());
            out.extend_from_slice(&self.samples[start.min(end)..end]);
        }
        out
    }

    /// Total duration of audio heard.
    pub fn audio_duration(&self) -> Duration {
        self.segments.iter().map(|segment| segment.len).sum()
    }
}

/// A stretch of audio the caller heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeardSegment {
    /// When it started, from the moment the call connected.
    pub start: Duration,
    /// How long it lasted.
    pub len: Duration,
}

/// A silence between two stretches of heard audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gap {
    /// When it started, from the moment the call connected.
    pub at: Duration,
    /// How long it lasted.
    pub len: Duration,
}

fn samples_at(duration: Duration) -> usize {
    (duration.as_micros() / 125) as usize
}

fn duration_of(samples: u64) -> Duration {
    Duration::from_micros(samples * 125)
}

/// One 20 ms frame of s16le, kept on the stack: the clock makes a few per call every
/// 20 ms, and a heap allocation each was a good part of its time with a thousand calls.
type FrameBytes = [u8; FRAME_BYTES];

/// A GET stream being served.
#[derive(Debug)]
struct Listener {
    tx: mpsc::Sender<Bytes>,
    scheduled: VecDeque<(Instant, FrameBytes)>,
    /// Released audio not yet cut into chunks; chunks are split off it without a copy.
    ready: BytesMut,
    last_release: Option<Instant>,
}

#[derive(Debug, Default)]
struct Segment {
    start_sample: u64,
    samples: Vec<i16>,
}

/// The media state of one call.
#[derive(Debug, Default)]
pub(crate) struct CallMedia {
    started: Option<Instant>,
    frames_done: u64,
    stopped: bool,
    uplink: VecDeque<u8>,
    listeners: Vec<Listener>,
    /// GET streams of a bridged caller's leg: they carry what is played into the call.
    far_listeners: Vec<mpsc::Sender<Bytes>>,
    playout: VecDeque<u8>,
    segments: Vec<Segment>,
    current: Option<Segment>,
    gaps: Vec<(u64, u64)>,
    silence_since: Option<u64>,
    bytes_received: u64,
    max_lead_bytes: usize,
}

impl CallMedia {
    /// Starts the media clock (the leg connected).
    pub(crate) fn start(&mut self, now: Instant) {
        if self.started.is_none() && !self.stopped {
            self.started = Some(now);
        }
    }

    /// Whether the leg ever connected.
    pub(crate) fn has_started(&self) -> bool {
        self.started.is_some()
    }

    /// Stops the media: GET streams end, unplayed audio is discarded.
    pub(crate) fn stop(&mut self) {
        self.stopped = true;
        self.listeners.clear();
        self.far_listeners.clear();
        self.close_segment(self.frames_done * FRAME_SAMPLES as u64);
    }

    /// Queues caller audio (s16le).
    pub(crate) fn queue_uplink(&mut self, bytes: &[u8]) {
        if !self.stopped {
            self.uplink.extend(bytes);
        }
    }

    /// Audio POSTed on a bridged caller's leg: queued as the caller's speech;
    /// `false` once the media has stopped.
    pub(crate) fn speak(&mut self, bytes: &[u8]) -> bool {
        self.queue_uplink(bytes);
        !self.stopped
    }

    pub(crate) fn uplink_queued(&self) -> usize {
        self.uplink.len()
    }

    /// Opens a GET stream; audio flows from the next frame on.
    pub(crate) fn listen(&mut self) -> Option<mpsc::Receiver<Bytes>> {
        if self.stopped {
            return None;
        }
        let (tx, rx) = mpsc::channel(LISTENER_QUEUE);
        self.listeners.push(Listener {
            tx,
            scheduled: VecDeque::new(),
            ready: BytesMut::new(),
            last_release: None,
        });
        Some(rx)
    }

    /// Opens a GET stream on the bridged caller's leg: what is played into the call,
    /// a 20 ms frame at a time (silence when nothing plays).
    pub(crate) fn listen_far(&mut self) -> Option<mpsc::Receiver<Bytes>> {
        if self.stopped {
            return None;
        }
        let (tx, rx) = mpsc::channel(LISTENER_QUEUE);
        self.far_listeners.push(tx);
        Some(rx)
    }

    /// Adds POSTed audio to the playout buffer; `false` once the media has stopped.
    pub(crate) fn play(&mut self, bytes: &[u8]) -> bool {
        if self.stopped {
            return false;
        }
        self.bytes_received += bytes.len() as u64;
        self.playout.extend(bytes);
        self.max_lead_bytes = self.max_lead_bytes.max(self.playout.len());
        true
    }

    pub(crate) fn heard(&self) -> Heard {
        let mut segments: Vec<&Segment> = self.segments.iter().collect();
        if let Some(current) = &self.current {
            segments.push(current);
        }
        let end = segments
            .last()
            .map_or(0, |s| s.start_sample as usize + s.samples.len());
        let mut samples = vec![0i16; end];
        for segment in &segments {
            let start = segment.start_sample as usize;
            samples[start..start + segment.samples.len()].copy_from_slice(&segment.samples);
        }
        Heard {
            samples,
            segments: segments
                .iter()
                .map(|s| HeardSegment {
                    start: duration_of(s.start_sample),
                    len: duration_of(s.samples.len() as u64),
                })
                .collect(),
            underruns: self
                .gaps
                .iter()
                .map(|&(at, len)| Gap {
                    at: duration_of(at),
                    len: duration_of(len),
                })
                .collect(),
            max_lead: Duration::from_millis((self.max_lead_bytes / 16) as u64),
            bytes_received: self.bytes_received,
            unplayed_bytes: self.playout.len(),
        }
    }

    /// Total duration of audio heard so far.
    pub(crate) fn heard_duration(&self) -> Duration {
        let samples: usize = self.segments.iter().map(|s| s.samples.len()).sum::<usize>()
            + self.current.as_ref().map_or(0, |s| s.samples.len());
        duration_of(samples as u64)
    }

    /// The call's media time: frames clocked since the leg connected.
    pub(crate) fn clocked(&self) -> Duration {
        FRAME * self.frames_done as u32
    }

    /// The call's media time at `now`, within the frame playing: the frames clocked and
    /// the part of the next one heard by `now` (whole frames once the media stopped).
    pub(crate) fn clocked_at(&self, now: Instant) -> Duration {
        let clocked = self.clocked();
        match self.started {
            Some(started) if !self.stopped => {
                let into_frame = now
                    .saturating_duration_since(started)
                    .saturating_sub(clocked);
                clocked + into_frame.min(FRAME)
            }
            _ => clocked,
        }
    }

    /// How long the playout has been idle after having played something, if it is.
    pub(crate) fn silent_for(&self) -> Option<Duration> {
        let since = self.silence_since?;
        let now = self.frames_done * FRAME_SAMPLES as u64;
        Some(duration_of(now.saturating_sub(since)))
    }

    /// Plays every frame due by `now`.
    pub(crate) fn tick(&mut self, now: Instant, audio: &AudioConfig) {
        let Some(started) = self.started else {
            return;
        };
        if self.stopped {
            return;
        }
        let due = (now.saturating_duration_since(started).as_micros() / FRAME.as_micros()) as u64;
        while self.frames_done < due {
            let capture = started + FRAME * (self.frames_done as u32 + 1);
            // What played, silence after a short last piece.
            let heard = self.play_frame();
            if !self.far_listeners.is_empty() {
                let played = Bytes::copy_from_slice(&heard);
                // Lossy like a phone line: a reader that falls 10 s behind loses frames.
                self.far_listeners.retain(|tx| {
                    !matches!(
                        tx.try_send(played.clone()),
                        Err(mpsc::error::TrySendError::Closed(_))
                    )
                });
            }
            let said = self.uplink.len().min(FRAME_BYTES);
            let mut frame: FrameBytes = [0; FRAME_BYTES];
            take_front(&mut self.uplink, &mut frame[..said]);
            if audio.get_stream == GetStreamContent::Mixed {
                mix(&mut frame, &heard);
            }
            for listener in &mut self.listeners {
                let release = release_time(capture, started, audio, listener.last_release);
                listener.last_release = Some(release);
                listener.scheduled.push_back((release, frame));
            }
            self.frames_done += 1;
        }
        let chunk = audio.chunk_bytes.max(1);
        self.listeners.retain_mut(|listener| {
            while let Some((release, _)) = listener.scheduled.front() {
                if *release > now {
                    break;
                }
                if let Some((_, frame)) = listener.scheduled.pop_front() {
                    listener.ready.extend_from_slice(&frame);
                }
            }
            while listener.ready.len() >= chunk {
                let piece = listener.ready.split_to(chunk).freeze();
                match listener.tx.try_send(piece) {
                    Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => {}
                    Err(mpsc::error::TrySendError::Closed(_)) => return false,
                }
            }
            !listener.tx.is_closed()
        });
    }

    /// A POST stream ended: a byte left over from a sample cut in two by the end of the
    /// stream is dropped, so the next stream's samples stay aligned.
    pub(crate) fn end_of_post(&mut self) {
        if self.playout.len() % 2 == 1 {
            self.playout.pop_back();
        }
    }

    /// Takes one frame from the playout buffer into the heard record; returns it,
    /// silence after what there was.
    fn play_frame(&mut self) -> FrameBytes {
        let sample = self.frames_done * FRAME_SAMPLES as u64;
        let available = self.playout.len().min(FRAME_BYTES) & !1;
        let mut bytes: FrameBytes = [0; FRAME_BYTES];
        take_front(&mut self.playout, &mut bytes[..available]);
        if available > 0 {
            let current = self.current.get_or_insert_with(|| Segment {
                start_sample: sample,
                samples: Vec::new(),
            });
            if let Some(since) = self.silence_since.take() {
                self.gaps.push((since, sample - since));
            }
            current.samples.extend(
                bytes[..available]
                    .chunks_exact(2)
                    .map(|pair| i16::from_le_bytes([pair[0], pair[1]])),
            );
        }
        if available < FRAME_BYTES {
            self.close_segment(sample + available as u64 / 2);
        }
        bytes
    }

    fn close_segment(&mut self, at_sample: u64) {
        if let Some(segment) = self.current.take() {
            self.segments.push(segment);
            self.silence_since = Some(at_sample);
        }
    }
}

/// Moves the first `out.len()` bytes of `queue` (which holds at least that many) to
/// `out`, a slice at a time (draining into an iterator goes byte by byte, which was most
/// of the media clock's time with a thousand calls).
fn take_front(queue: &mut VecDeque<u8>, out: &mut [u8]) {
    let len = out.len();
    let (first, second) = queue.as_slices();
    let from_first = len.min(first.len());
    out[..from_first].copy_from_slice(&first[..from_first]);
    out[from_first..].copy_from_slice(&second[..len - from_first]);
    queue.drain(..len);
}

/// When a frame captured at `capture` reaches the client: jitter and bursts delay
/// it, and a TCP stream never reorders.
fn release_time(
    capture: Instant,
    started: Instant,
    audio: &AudioConfig,
    last: Option<Instant>,
) -> Instant {
    let mut release = capture;
    if !audio.jitter.is_zero() {
        let micros = audio.jitter.as_micros() as u64;
        release += Duration::from_micros(rand::random_range(0..=micros));
    }
    if let Some(bursts) = audio.bursts {
        let every = bursts.every.as_micros().max(1);
        let offset = capture.saturating_duration_since(started).as_micros() % every;
        if offset < bursts.hold.as_micros() {
            release += Duration::from_micros((bursts.hold.as_micros() - offset) as u64);
        }
    }
    match last {
        Some(last) if last > release => last,
        _ => release,
    }
}

fn mix(frame: &mut [u8], heard: &[u8]) {
    for (out, add) in frame.chunks_exact_mut(2).zip(heard.chunks_exact(2)) {
        let a = i16::from_le_bytes([out[0], out[1]]);
        let b = i16::from_le_bytes([add[0], add[1]]);
        out.copy_from_slice(&a.saturating_add(b).to_le_bytes());
    }
}

/// The media clock: ticks every 20 ms until the simulator stops.
pub(crate) async fn run_media_clock(shared: Arc<Shared>) {
    let mut interval = tokio::time::interval(FRAME);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        let cores: Vec<Arc<CallCore>> = shared
            .pbx()
            .calls
            .values()
            .map(|call| call.core.clone())
            .collect();
        let now = Instant::now();
        for core in cores {
            core.media().tick(now, &shared.config.audio);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcm(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn media_time_counts_into_the_frame_playing() {
        let mut media = CallMedia::default();
        let start = Instant::now();
        media.start(start);
        let config = AudioConfig::default();
        let now = start + Duration::from_millis(53);
        media.tick(now, &config);
        assert_eq!(media.clocked(), Duration::from_millis(40));
        assert_eq!(media.clocked_at(now), Duration::from_millis(53));
        // Never past the frame the clock has not run yet.
        assert_eq!(
            media.clocked_at(start + Duration::from_millis(90)),
            Duration::from_millis(60)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn playout_records_gaps_and_lead() {
        let mut media = CallMedia::default();
        let start = Instant::now();
        media.start(start);
        media.play(&pcm(&[7; 320]));
        let config = AudioConfig::default();
        media.tick(start + Duration::from_millis(60), &config);
        media.play(&pcm(&[9; 160]));
        media.tick(start + Duration::from_millis(100), &config);
        let heard = media.heard();
        assert_eq!(heard.segments.len(), 2);
        assert_eq!(
            heard.underruns,
            vec![Gap {
                at: Duration::from_millis(40),
                len: Duration::from_millis(20)
            }]
        );
        assert_eq!(heard.max_lead, Duration::from_millis(40));
        assert_eq!(heard.audio(), [vec![7; 320], vec![9; 160]].concat());
        assert_eq!(heard.samples.len(), 640);
    }

    #[tokio::test(start_paused = true)]
    async fn odd_bytes_wait_for_their_pair() {
        let mut media = CallMedia::default();
        let start = Instant::now();
        media.start(start);
        let bytes = pcm(&[300; 200]);
        media.play(&bytes[..201]);
        media.play(&bytes[201..]);
        media.tick(start + Duration::from_millis(60), &AudioConfig::default());
        assert_eq!(media.heard().audio(), vec![300; 200]);
    }
}
