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
use crate::uplink::Uplink;
use crate::wire::stream::{RawGet, RawPost};

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
    /// Moments (from the moment the call connected) when the simulator read POSTed
    /// audio late ([`LATE_READ`] after the stream's previous read): around them the
    /// timeline is uncertain, as for [`Gap::simulator_late`].
    pub late_reads: Vec<Duration>,
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
    /// Whether the audio that ended it came in a read of the simulator's that followed
    /// the stream's previous read by more than [`LATE_READ`]: the simulator was late
    /// (its machine busy), and the kernel stamps coalesced data with the arrival of its
    /// last part, so the audio may have arrived in time and the gap be the simulator's.
    pub simulator_late: bool,
}

/// How the simulator's media clock kept time over a span: its own lateness, which the
/// audio it reads and writes inherits (a busy machine holding its threads up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClockStats {
    /// Ticks of a shard that came more than [`LATE_READ`] after its previous tick.
    pub late_ticks: u64,
    /// The longest time between two ticks of a shard.
    pub longest_pause: Duration,
}

/// [`ClockStats`] as the clock's shards record them.
#[derive(Debug, Default)]
pub(crate) struct ClockRecord {
    late_ticks: std::sync::atomic::AtomicU64,
    longest_pause_micros: std::sync::atomic::AtomicU64,
}

impl ClockRecord {
    fn note(&self, pause: Duration) {
        use std::sync::atomic::Ordering::Relaxed;
        if pause > LATE_READ {
            self.late_ticks.fetch_add(1, Relaxed);
        }
        let micros = u64::try_from(pause.as_micros()).unwrap_or(u64::MAX);
        self.longest_pause_micros.fetch_max(micros, Relaxed);
    }

    /// What was recorded since the last take.
    pub(crate) fn take(&self) -> ClockStats {
        use std::sync::atomic::Ordering::Relaxed;
        ClockStats {
            late_ticks: self.late_ticks.swap(0, Relaxed),
            longest_pause: Duration::from_micros(self.longest_pause_micros.swap(0, Relaxed)),
        }
    }
}

/// A stream read this long after its previous read makes the gap it ends uncertain
/// ([`Gap::simulator_late`]): two media ticks.
pub const LATE_READ: Duration = Duration::from_millis(40);

fn samples_at(duration: Duration) -> usize {
    (duration.as_micros() / 125) as usize
}

fn duration_of(samples: u64) -> Duration {
    Duration::from_micros(samples * 125)
}

/// One 20 ms frame of s16le, kept on the stack: the clock makes a few per call every
/// 20 ms, and a heap allocation each was a good part of its time with a thousand calls.
type FrameBytes = [u8; FRAME_BYTES];

/// Where a GET stream's chunks go.
#[derive(Debug)]
enum Sink {
    /// To the HTTP server's answer body.
    Channel(mpsc::Sender<Bytes>),
    /// Straight onto the stream's own socket.
    Socket(RawGet),
}

impl Sink {
    /// Hands on a chunk; `false` once the stream is gone.
    fn push(&mut self, chunk: Bytes) -> bool {
        match self {
            // Lossy like a phone line: a reader that falls 10 s behind loses chunks.
            Self::Channel(tx) => !matches!(
                tx.try_send(chunk),
                Err(mpsc::error::TrySendError::Closed(_))
            ),
            Self::Socket(raw) => {
                raw.push(&chunk);
                true
            }
        }
    }

    /// Ends the tick: writes what a socket has waiting. `false` once the stream is gone
    /// (its client went away, or it was cut).
    fn flush(&mut self) -> bool {
        match self {
            Self::Channel(tx) => !tx.is_closed(),
            Self::Socket(raw) => !raw.is_cut() && raw.flush(),
        }
    }

    /// The stream is over: says why on its own socket.
    fn end(self, reason: &str) {
        if let Self::Socket(raw) = self {
            raw.finish(reason);
        }
    }

    /// Why a stream that [`Sink::flush`] found gone ended.
    fn gone(self) {
        match self {
            Self::Socket(raw) if raw.is_cut() => raw.finish("stream cut"),
            _ => {}
        }
    }
}

/// A GET stream being served.
#[derive(Debug)]
struct Listener {
    sink: Sink,
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
    uplink: Uplink,
    listeners: Vec<Listener>,
    /// GET streams of a bridged caller's leg: they carry what is played into the call.
    far_listeners: Vec<Sink>,
    /// POST streams on sockets of their own, read at each tick.
    raw_posts: Vec<RawPost>,
    playout: VecDeque<u8>,
    segments: Vec<Segment>,
    current: Option<Segment>,
    /// Silences: start and length in samples, and whether the simulator was late.
    gaps: Vec<(u64, u64, bool)>,
    /// Whether the audio waiting to end the silence came in a late read.
    silence_ended_late: bool,
    /// Frames clocked when POSTed audio was read late.
    late_reads: Vec<u64>,
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

    /// Whether the media has stopped (the call ended).
    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Whether the leg ever connected.
    pub(crate) fn has_started(&self) -> bool {
        self.started.is_some()
    }

    /// Stops the media at `now`: what fell due by then plays first (POSTed audio that
    /// arrived included, however late the clock is), then GET streams end and unplayed
    /// audio is discarded. A call ended while the simulator's clock was held up loses
    /// none of what a PBX playing continuously would have played.
    pub(crate) fn stop(&mut self, now: Instant, audio: &AudioConfig, stalled: bool) {
        self.tick(now, audio, stalled);
        self.stopped = true;
        self.end_streams("call media ended");
        self.close_segment(self.frames_done * FRAME_SAMPLES as u64);
    }

    /// Ends every stream: those on sockets of their own say `reason` (those of the HTTP
    /// server end when their channel closes).
    pub(crate) fn end_streams(&mut self, reason: &str) {
        for listener in self.listeners.drain(..) {
            listener.sink.end(reason);
        }
        for sink in self.far_listeners.drain(..) {
            sink.end(reason);
        }
        for post in self.raw_posts.drain(..) {
            post.answer(reason);
        }
        self.end_of_post();
    }

    /// Queues caller audio (s16le).
    pub(crate) fn queue_uplink(&mut self, bytes: &[u8]) {
        self.queue_uplink_shared(Bytes::copy_from_slice(bytes));
    }

    /// Queues caller audio (s16le) held elsewhere, without copying it.
    pub(crate) fn queue_uplink_shared(&mut self, bytes: Bytes) {
        if !self.stopped {
            self.uplink.push(bytes);
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
        self.add_listener(Sink::Channel(tx));
        Some(rx)
    }

    fn add_listener(&mut self, sink: Sink) {
        self.listeners.push(Listener {
            sink,
            scheduled: VecDeque::new(),
            ready: BytesMut::new(),
            last_release: None,
        });
    }

    /// Serves a GET stream on its own socket (the caller's audio, or with `far` what is
    /// played into a bridged call); handed back when the media has stopped.
    pub(crate) fn attach_get(&mut self, get: RawGet, far: bool) -> Result<(), RawGet> {
        if self.stopped {
            return Err(get);
        }
        // Its answer's head goes out now; audio from the next frame on.
        let mut sink = Sink::Socket(get);
        if !sink.flush() {
            sink.gone();
            return Ok(());
        }
        match far {
            true => self.far_listeners.push(sink),
            false => self.add_listener(sink),
        }
        Ok(())
    }

    /// Reads a POST stream from its own socket at each tick; handed back when the media
    /// has stopped.
    pub(crate) fn attach_post(&mut self, post: RawPost) -> Result<(), RawPost> {
        if self.stopped {
            return Err(post);
        }
        self.raw_posts.push(post);
        Ok(())
    }

    /// Opens a GET stream on the bridged caller's leg: what is played into the call,
    /// a 20 ms frame at a time (silence when nothing plays).
    pub(crate) fn listen_far(&mut self) -> Option<mpsc::Receiver<Bytes>> {
        if self.stopped {
            return None;
        }
        let (tx, rx) = mpsc::channel(LISTENER_QUEUE);
        self.far_listeners.push(Sink::Channel(tx));
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
                .map(|&(at, len, simulator_late)| Gap {
                    at: duration_of(at),
                    len: duration_of(len),
                    simulator_late,
                })
                .collect(),
            max_lead: Duration::from_millis((self.max_lead_bytes / 16) as u64),
            bytes_received: self.bytes_received,
            unplayed_bytes: self.playout.len(),
            late_reads: self
                .late_reads
                .iter()
                .map(|&frame| FRAME * frame as u32)
                .collect(),
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

    /// Plays every frame due by `now`: audio POSTed on streams of their own is read
    /// first and played from the moment it arrived; GET streams get what is due.
    /// `stalled`: the streams' audio is lost (the stall fault).
    pub(crate) fn tick(&mut self, now: Instant, audio: &AudioConfig, stalled: bool) {
        let Some(started) = self.started else {
            return;
        };
        if self.stopped {
            return;
        }
        if !self.raw_posts.is_empty() {
            self.read_posts(started, audio, stalled);
        }
        self.advance(now, started, audio, stalled);
        self.deliver(now, audio, stalled);
    }

    /// Reads the POST streams on sockets of their own: each read's audio joins the
    /// playout at the moment it arrived (the frames due before then play first).
    fn read_posts(&mut self, started: Instant, audio: &AudioConfig, stalled: bool) {
        // Out of `self` while they are read: reading plays into it.
        let mut posts = std::mem::take(&mut self.raw_posts);
        let mut index = 0;
        while index < posts.len() {
            let post = &mut posts[index];
            let end = match post.is_cut() {
                true => Some("stream cut".to_owned()),
                false => {
                    let bridged = post.is_bridged();
                    post.read(|arrived, bytes, late| {
                        self.advance(arrived, started, audio, stalled);
                        if late && self.late_reads.last() != Some(&self.frames_done) {
                            self.late_reads.push(self.frames_done);
                        }
                        if late && self.silence_since.is_some() && self.playout.is_empty() {
                            self.silence_ended_late = true;
                        }
                        self.take_posted(bridged, bytes);
                    })
                }
            };
            match end {
                Some(reason) => {
                    posts.swap_remove(index).answer(&reason);
                    self.end_of_post();
                }
                None => index += 1,
            }
        }
        self.raw_posts = posts;
    }

    /// Plays the frames due by `at`.
    fn advance(&mut self, at: Instant, started: Instant, audio: &AudioConfig, stalled: bool) {
        let due = (at.saturating_duration_since(started).as_micros() / FRAME.as_micros()) as u64;
        while self.frames_done < due {
            let capture = started + FRAME * (self.frames_done as u32 + 1);
            // What played, silence after a short last piece.
            let heard = self.play_frame();
            if !self.far_listeners.is_empty() && !stalled {
                let played = Bytes::copy_from_slice(&heard);
                self.far_listeners
                    .retain_mut(|sink| sink.push(played.clone()));
            }
            let said = self.uplink.len().min(FRAME_BYTES);
            let mut frame: FrameBytes = [0; FRAME_BYTES];
            self.uplink.take_into(&mut frame[..said]);
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
    }

    /// Hands each GET stream the chunks released by `now`.
    fn deliver(&mut self, now: Instant, audio: &AudioConfig, stalled: bool) {
        let chunk = audio.chunk_bytes.max(1);
        let mut gone = Vec::new();
        let mut index = 0;
        while index < self.listeners.len() {
            let listener = &mut self.listeners[index];
            while let Some((release, _)) = listener.scheduled.front() {
                if *release > now {
                    break;
                }
                if let Some((_, frame)) = listener.scheduled.pop_front() {
                    listener.ready.extend_from_slice(&frame);
                }
            }
            let mut open = true;
            while open && listener.ready.len() >= chunk {
                let piece = listener.ready.split_to(chunk).freeze();
                // A stalled stream stays open but its audio is lost.
                open = stalled || listener.sink.push(piece);
            }
            if open && listener.sink.flush() {
                index += 1;
            } else {
                gone.push(self.listeners.swap_remove(index).sink);
            }
        }
        let mut index = 0;
        while index < self.far_listeners.len() {
            match self.far_listeners[index].flush() {
                true => index += 1,
                false => gone.push(self.far_listeners.swap_remove(index)),
            }
        }
        for sink in gone {
            sink.gone();
        }
    }

    /// Audio POSTed on a stream of its own: played to the caller, or on a bridged
    /// caller's leg, spoken by the caller.
    fn take_posted(&mut self, bridged: bool, bytes: &[u8]) {
        let _ = match bridged {
            true => self.speak(bytes),
            false => self.play(bytes),
        };
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
                let late = std::mem::take(&mut self.silence_ended_late);
                self.gaps.push((since, sample - since, late));
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

/// The media clock: ticks every 20 ms until the simulator stops, in one shard per
/// runtime worker. A shard serves the calls whose id falls to it: the sockets of a
/// thousand calls are a thousand reads and writes per tick, and split this way a tick
/// takes half as long on two cores, and a shard whose thread the OS has set aside holds
/// up only its own calls.
pub(crate) async fn run_media_clock(shared: Arc<Shared>) {
    let shards = tokio::runtime::Handle::current()
        .metrics()
        .num_workers()
        .clamp(1, 16) as i64;
    let mut running = tokio::task::JoinSet::new();
    for shard in 0..shards {
        running.spawn(run_clock_shard(shared.clone(), shard, shards));
    }
    while running.join_next().await.is_some() {}
}

async fn run_clock_shard(shared: Arc<Shared>, shard: i64, shards: i64) {
    let mut interval = tokio::time::interval(FRAME);
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_tick: Option<Instant> = None;
    loop {
        let stopping = tokio::select! {
            _ = shared.shutdown.cancelled() => true,
            _ = interval.tick() => false,
        };
        let cores: Vec<Arc<CallCore>> = shared
            .pbx()
            .calls
            .values()
            .filter(|call| call.core.callid.rem_euclid(shards) == shard)
            .map(|call| call.core.clone())
            .collect();
        if stopping {
            // Streams on sockets of their own are read and written only here.
            for core in cores {
                core.media().end_streams("stream cut");
            }
            return;
        }
        let now = Instant::now();
        if let Some(last) = last_tick.replace(now) {
            shared.clock.note(now.saturating_duration_since(last));
        }
        let stalled = shared.faults.audio_is_stalled();
        for core in cores {
            core.media().tick(now, &shared.config.audio, stalled);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcm(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    /// A POST stream on a socket of its own, with the client's end.
    fn raw_post(shared: &Arc<Shared>) -> (std::net::TcpStream, RawPost) {
        use crate::wire::{chunked::Body, socket, stream::Ticket, ticket};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut client =
            std::net::TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        server.set_nonblocking(true).expect("non-blocking");
        socket::stamp_arrivals(&server).expect("arrival stamps");
        wait_for_arrival_stamps(&mut client, &server);
        let ticket = Ticket {
            guard: ticket::StreamGuard::open(
                shared,
                &voicebot_model::Dn::new("800"),
                "1",
                crate::journal::StreamDirection::IntoCall,
            ),
            cut: ticket::Cut::new(vec![tokio_util::sync::CancellationToken::new()]),
        };
        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".to_vec();
        let early = (Instant::now(), BytesMut::new());
        let post = RawPost::new(server, Body::chunked(), answer, early, false, ticket);
        (client, post)
    }

    /// Waits until the kernel stamps what arrives on `server`: it turns stamps on a
    /// moment after they are first asked for (a deferred work item, for every socket).
    /// The bytes it sends to find out are read here, not by the stream.
    fn wait_for_arrival_stamps(client: &mut std::net::TcpStream, server: &std::net::TcpStream) {
        use crate::wire::socket;
        use std::io::Write;
        let (mut buf, mut control) = ([0u8; 8], socket::control_buffer());
        for _ in 0..1000 {
            client.write_all(b"x").expect("write");
            loop {
                match socket::receive(server, &mut buf, &mut control).expect("read") {
                    socket::Received::Data {
                        arrived: Some(_), ..
                    } => return,
                    socket::Received::Nothing => std::thread::yield_now(),
                    _ => break,
                }
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("the kernel never stamped an arrival");
    }

    /// Samples of the first part (11) and of the second (22).
    fn counts(audio: &[i16]) -> (usize, usize) {
        let of = |value| audio.iter().filter(|&&sample| sample == value).count();
        (of(11), of(22))
    }

    fn chunk(bytes: &[u8]) -> Vec<u8> {
        [format!("{:x}\r\n", bytes.len()).as_bytes(), bytes, b"\r\n"].concat()
    }

    // Real time, not tokio's paused clock: the kernel stamps arrivals in real time.
    #[tokio::test]
    async fn posted_audio_plays_from_its_arrival_not_from_when_the_clock_read_it() {
        use std::io::Write;
        let shared = Arc::new(Shared::new(crate::config::SimConfig::default()));
        let (mut client, post) = raw_post(&shared);
        let mut media = CallMedia::default();
        media.start(Instant::now());
        // 200 ms queued, and the next 200 ms sent at once...
        media.play(&pcm(&[11; 1600]));
        media.attach_post(post).expect("media running");
        client.write_all(&chunk(&pcm(&[22; 1600]))).expect("write");
        // ...but the simulator's clock does not run for 400 ms (a busy machine).
        std::thread::sleep(Duration::from_millis(400));
        media.tick(Instant::now(), &AudioConfig::default(), false);
        let heard = media.heard();
        assert_eq!(heard.underruns, vec![], "the second part arrived in time");
        assert_eq!(counts(&heard.audio()), (1600, 1600));
    }

    // Real time: the kernel stamps arrivals in real time.
    #[tokio::test]
    async fn a_call_that_ends_while_the_clock_is_held_up_plays_what_fell_due() {
        use std::io::Write;
        let shared = Arc::new(Shared::new(crate::config::SimConfig::default()));
        let (mut client, post) = raw_post(&shared);
        let mut media = CallMedia::default();
        let start = Instant::now();
        media.start(start);
        media.attach_post(post).expect("media running");
        // 100 ms sent at once, then 100 ms more...
        client.write_all(&chunk(&pcm(&[11; 800]))).expect("write");
        client.write_all(&chunk(&pcm(&[22; 800]))).expect("write");
        // ...and the call ends 300 ms later without the clock having run once.
        std::thread::sleep(Duration::from_millis(300));
        media.stop(Instant::now(), &AudioConfig::default(), false);
        assert!(media.is_stopped());
        let heard = media.heard();
        assert_eq!(counts(&heard.audio()), (800, 800), "all of it fell due");
        assert_eq!(heard.unplayed_bytes, 0);
        // The stream was answered and closed.
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut client, &mut answer).expect("answer");
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    }

    #[tokio::test]
    async fn posted_audio_that_arrives_late_is_heard_late() {
        use std::io::Write;
        let shared = Arc::new(Shared::new(crate::config::SimConfig::default()));
        let (mut client, post) = raw_post(&shared);
        let mut media = CallMedia::default();
        media.start(Instant::now());
        media.play(&pcm(&[11; 800]));
        media.attach_post(post).expect("media running");
        // Sent after the 100 ms queued ran out (the clock still not having run).
        std::thread::sleep(Duration::from_millis(200));
        client.write_all(&chunk(&pcm(&[22; 800]))).expect("write");
        client.write_all(b"0\r\n\r\n").expect("write");
        media.tick(Instant::now(), &AudioConfig::default(), false);
        // Played out.
        media.tick(
            Instant::now() + Duration::from_millis(200),
            &AudioConfig::default(),
            false,
        );
        let heard = media.heard();
        assert_eq!(heard.underruns.len(), 1, "{:?}", heard.underruns);
        assert_eq!(heard.underruns[0].at, Duration::from_millis(100));
        assert!(heard.underruns[0].len >= Duration::from_millis(80));
        // The stream went unread for 200 ms: the gap may be the simulator's.
        assert!(heard.underruns[0].simulator_late);
        assert_eq!(heard.late_reads.len(), 1, "{:?}", heard.late_reads);
        assert_eq!(counts(&heard.audio()), (800, 800));
        // The body ended: the stream answered and closed.
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut client, &mut answer).expect("answer");
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    }

    /// Plays 20 ms, then has the client's next audio arrive after the playout ran dry,
    /// the simulator reading every `read_every`; returns the gap.
    async fn gap_with_reads_every(read_every: Duration) -> Gap {
        use std::io::Write;
        let shared = Arc::new(Shared::new(crate::config::SimConfig::default()));
        let (mut client, post) = raw_post(&shared);
        let config = AudioConfig::default();
        let mut media = CallMedia::default();
        let start = Instant::now();
        media.start(start);
        media.play(&pcm(&[11; 160]));
        media.attach_post(post).expect("media running");
        let mut sent = false;
        while Instant::now() < start + Duration::from_millis(200) {
            tokio::time::advance(read_every).await;
            media.tick(Instant::now(), &config, false);
            if !sent && Instant::now() >= start + Duration::from_millis(60) {
                client.write_all(&chunk(&pcm(&[22; 160]))).expect("write");
                sent = true;
            }
        }
        let underruns = media.heard().underruns;
        assert_eq!(underruns.len(), 1, "{underruns:?}");
        underruns[0]
    }

    #[tokio::test(start_paused = true)]
    async fn a_gap_says_whether_the_simulator_read_late() {
        let timely = gap_with_reads_every(Duration::from_millis(20)).await;
        assert_eq!(timely.at, Duration::from_millis(20));
        assert!(!timely.simulator_late, "read every 20 ms: the client's gap");
        let late = gap_with_reads_every(Duration::from_millis(60)).await;
        assert_eq!(late.at, Duration::from_millis(20));
        assert!(
            late.simulator_late,
            "read every 60 ms: maybe the simulator's"
        );
    }

    #[test]
    fn the_clock_record_counts_late_ticks_and_the_longest_pause() {
        let record = ClockRecord::default();
        for pause in [20, 21, 45, 20, 130, 19] {
            record.note(Duration::from_millis(pause));
        }
        let stats = record.take();
        assert_eq!(stats.late_ticks, 2);
        assert_eq!(stats.longest_pause, Duration::from_millis(130));
        // Taken: the next span starts afresh.
        assert_eq!(record.take(), ClockStats::default());
    }

    #[tokio::test(start_paused = true)]
    async fn media_time_counts_into_the_frame_playing() {
        let mut media = CallMedia::default();
        let start = Instant::now();
        media.start(start);
        let config = AudioConfig::default();
        let now = start + Duration::from_millis(53);
        media.tick(now, &config, false);
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
        media.tick(start + Duration::from_millis(60), &config, false);
        media.play(&pcm(&[9; 160]));
        media.tick(start + Duration::from_millis(100), &config, false);
        let heard = media.heard();
        assert_eq!(heard.segments.len(), 2);
        assert_eq!(
            heard.underruns,
            vec![Gap {
                at: Duration::from_millis(40),
                len: Duration::from_millis(20),
                simulator_late: false,
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
        media.tick(
            start + Duration::from_millis(60),
            &AudioConfig::default(),
            false,
        );
        assert_eq!(media.heard().audio(), vec![300; 200]);
    }
}
