//! The media of one call: every tick (`media_tick`, 20 ms by default, whole frames) audio
//! is paced out to the PBX, and every read tick (`media_read_tick`, 40 ms by default,
//! whole ticks) the caller's audio is read and played out of the jitter buffer to the
//! taps.
//!
//! The ticks run on the engine's media clock ([`clock`]): one task per runtime worker
//! ticks every call it serves, one after the other, so a call costs no timer and no
//! task wake-up per tick. A call's state for the tick is its [`MediaCore`]; the call's
//! media task ([`run`]) shares it, carries out the bot's commands on it at once, and
//! (re)opens the two streams, sleeping otherwise. The tick reads and writes the
//! streams' sockets itself without waiting ([`voicebot_callcontrol::AudioIn::read_now`],
//! [`AudioOut::send_now`]).
//!
//! Both audio streams open when the call is connected and stay open for the call
//! (the POST is one long chunked request, as 3CX's own IVR keeps it). Either may be
//! cut, fail or stall mid-call: it is then reopened with backoff for as long as the
//! call lives ([`links`]). The GET counts as stalled after `stall_timeout` without a
//! byte; the POST when its socket has not taken a chunk for that long. The caller's
//! audio lost meanwhile is a *gap* ([`inbound`]): recordings get silence there (and
//! list it), and voice detection and silence timeouts skip it. Audio due to the caller
//! while the POST is down is lost; the pacer keeps time, so a prompt resumes where it
//! would be by then and no verb fails because of a reopen. Only at the call's start
//! do plays wait for the POST (for at most `stall_timeout`), so a greeting is not
//! lost to the connection's set-up. Per tick:
//!
//! 1. outbound ([`outbound`]): the pacer hands out the frames due (at most the lead
//!    ahead of the caller's ear); they are encoded into one reused buffer and sent as
//!    one chunk. Plays are fed to the pacer one at a time, the next one queued as
//!    soon as the previous one is fully sent, so consecutive prompts are gapless. A
//!    play the bot starts is written when it comes, not at the next tick, so the
//!    prompt after a barge-in meets what the PBX still holds.
//!    The frames are also handed back (in a reused `Vec`) while a stereo or mixed
//!    recording runs.
//! 2. inbound ([`inbound`]): the bytes the GET stream has delivered since the last
//!    tick are read (one read, no wake-up per chunk) and pushed into the jitter buffer
//!    and, while a recording runs or in-band DTMF is on, decoded losslessly for the
//!    recording writer and the DTMF detector (a stalled stream's late frames are
//!    concealed and dropped by the jitter buffer, which would cut a tone in two). One
//!    frame per 20 ms of call time goes from the jitter buffer to the voice detector
//!    (only while something needs it) and the bot's `audio()` subscribers. When the
//!    caller starts speaking the tick returns `SpeechStarted`, and a prompt speech may
//!    stop is stopped (barge-in).
//!
//! Neither half holds the other: each returns what the other must know, and the core
//! hands it over, so each can be read (and tested) alone. Both count from the call's
//! clock, not from ticks, so a late tick (a busy runtime) catches up exactly, and the
//! clock skips the ticks it missed (`MissedTickBehavior::Skip`, which keeps the grid)
//! instead of bursting them.

mod clock;
mod inbound;
mod links;
mod outbound;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, broadcast, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use voicebot_bot::{CallEvent, Frame, Prompt, RecordEnd};
use voicebot_callcontrol::{AudioIn, AudioOut};
use voicebot_media::Repeat;

use crate::call::{CallCtx, KeySink};
use crate::metrics::MediaCounts;
use crate::writer::RecordingDone;

pub(crate) use self::clock::MediaClock;
use self::inbound::{Inbound, InboundEvent};
use self::links::Link;
use self::outbound::Outbound;

/// The most of the caller's audio read at once: 80 ms, a read tick's (40 ms by default)
/// with room to spare (a late tick reads twice). A 60 ms read tick reads at least twice
/// whenever it runs late.
const IN_BUFFER: usize = 4 * Frame::BYTES;

/// Spreads the calls' reads over the ticks of a read tick: call `n` reads at tick `n`
/// of each, so a shard's ticks all carry about the same work.
static READ_PHASES: AtomicU32 = AtomicU32::new(0);

/// How many media ticks make one read tick: the whole ticks in `read_tick` (reads are
/// never further apart than asked), at least one.
pub(crate) fn ticks_per_read(tick: Duration, read_tick: Duration) -> u32 {
    let ticks = read_tick.as_micros() / tick.as_micros().max(1);
    ticks.clamp(1, 3) as u32
}

/// How often the frame counters are flushed to the engine's.
const COUNT_FLUSH: Duration = Duration::from_secs(1);

/// The tick for `wanted` and `lead`: whole frames, at most the lead's less two frames
/// (the frame the PBX may hold a run's first frame for, and one to cover a late tick),
/// and at least one frame.
pub(crate) fn media_tick(wanted: Duration, lead: Duration) -> Duration {
    let frame = Frame::DURATION.as_micros();
    let lead_frames = (lead.as_micros() / frame).saturating_sub(2);
    let frames = (wanted.as_micros() / frame).min(lead_frames).max(1) as u32;
    Frame::DURATION * frames
}

/// A request to the media task.
#[derive(Debug)]
pub(crate) enum MediaCommand {
    /// Play a prompt after the plays queued before it; `done` gets how it ended.
    /// Dropping the receiver stops it (checked every tick). With `more` (spoken text),
    /// the prompt is the first sentence and the play goes on with what `more` brings
    /// until it closes; a sentence not ready in time leaves a pause, not an end.
    Play {
        id: u64,
        prompt: Prompt,
        more: Option<mpsc::Receiver<Prompt>>,
        repeat: Repeat,
        stop_on_speech: bool,
        done: oneshot::Sender<PlayEnd>,
    },
    /// Stop a play at once (barge-in); its `done` gets `Stopped` with what was heard.
    Stop { id: u64 },
    /// Start recording the caller (lossless) from now on.
    Record {
        id: u64,
        path: std::path::PathBuf,
        channels: voicebot_media::Channels,
        max_length: Duration,
        silence_timeout: Option<Duration>,
        done: RecordingDone,
    },
    /// End a recording; the writer reports on the recording's `done`.
    StopRecording { id: u64, end: RecordEnd },
    /// Discard streamed audio not yet played; reply with the frames discarded.
    ClearAudio { reply: oneshot::Sender<usize> },
    /// Reply once the caller has heard everything sent (before a drop or transfer).
    Drain { reply: oneshot::Sender<()> },
}

/// How a play ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlayEnd {
    /// Every frame was sent (the last lead of it may still be playing).
    Finished,
    /// The caller spoke; the prompt was stopped after `heard`.
    Speech { heard: Duration },
    /// Stopped by request after `heard`.
    Stopped { heard: Duration },
}

/// What the media task needs beyond the call context.
pub(crate) struct MediaSetup {
    pub(crate) ctx: Arc<CallCtx>,
    pub(crate) commands: mpsc::Receiver<MediaCommand>,
    /// `None` when the bot's end of it was taken already (it streams nothing then).
    pub(crate) audio_out: Option<voicebot_bot::__engine::AudioOut>,
    pub(crate) audio_in: broadcast::Sender<Frame>,
    pub(crate) events: broadcast::Sender<CallEvent>,
    pub(crate) digits: KeySink,
    pub(crate) stop: CancellationToken,
}

/// Runs the call's media task until `stop` is cancelled or the call's commands end;
/// then closes every recording. The ticks themselves run on the engine's media clock
/// ([`clock`]): this task carries out commands and (re)opens the two streams, and
/// sleeps otherwise.
pub(crate) async fn run(setup: MediaSetup) {
    let MediaSetup {
        ctx,
        mut commands,
        audio_out,
        audio_in,
        events,
        digits,
        stop,
    } = setup;
    let client = &ctx.shared.client;
    let mut link_in: Link<AudioIn> = Link::open(client.clone(), ctx.dn.clone(), ctx.id, ctx.leg);
    let mut link_out: Link<AudioOut> = Link::open(client.clone(), ctx.dn.clone(), ctx.id, ctx.leg);
    let settings = &ctx.shared.settings;
    let start = Instant::now();
    ctx.clock.start(start);
    let tick = media_tick(settings.media_tick, settings.pacer_lead);
    let ticks_per_read = ticks_per_read(tick, settings.media_read_tick);
    // One write per tick already: the pacer fills the lead at each tick (a tick's worth
    // once it is full), so it needs no minimum chunk of its own.
    let outbound = Outbound::new(
        settings.pacer_lead,
        Frame::DURATION,
        audio_out.map_or(outbound::Streamed::None, outbound::Streamed::Waiting),
        events.clone(),
    );
    let inbound = Inbound::new(
        settings.inband_dtmf.then_some(digits),
        audio_in,
        events,
        ctx.shared.writer.clone(),
    )
    .reporting_lost_audio(Arc::clone(&ctx.audio_lost))
    .labelled(ctx.shared.counters.pbx_label())
    .taking_frames((tick.as_micros() / Frame::DURATION.as_micros()) as u32 * ticks_per_read);
    let wake = Arc::new(Notify::new());
    let core = Arc::new(Mutex::new(MediaCore::new(
        start,
        tick,
        ticks_per_read,
        settings.stall_timeout,
        inbound,
        outbound,
        Arc::clone(&ctx.shared.counters),
        Arc::clone(&wake),
    )));
    ctx.shared.media_clock.add(Arc::clone(&core));
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            command = commands.recv() => match command {
                Some(command) => lock(&core).command(command),
                None => break,
            },
            () = wake.notified() => {
                let (lost_in, lost_out) = lock(&core).take_lost();
                if let Some(why) = lost_in {
                    link_in.lost(&why);
                }
                if let Some(why) = lost_out {
                    link_out.lost(&why);
                }
            },
            opened = link_in.opened() => if let Some(stream) = opened {
                lock(&core).stream_in_opened(stream);
            },
            opened = link_out.opened() => if let Some(stream) = opened {
                lock(&core).stream_out_opened(stream);
            },
        }
    }
    // The clock lets go of the call at its next tick; from now on nothing ticks it.
    let stream_in = {
        let mut core = lock(&core);
        core.closed = true;
        core.stream_in.take()
    };
    // The caller's last words before a hang-up still go to the recordings: the stream is
    // read to its end (the PBX ends it with the call), for at most one more read tick.
    if let Some(mut stream) = stream_in {
        // On the heap: an array here would be room the task keeps for the whole call.
        let mut buffer = vec![0u8; IN_BUFFER];
        let _ = tokio::time::timeout(tick * ticks_per_read, async {
            while let Ok(read @ 1..) = stream.read(&mut buffer).await {
                lock(&core).inbound.bytes(&buffer[..read], start.elapsed());
            }
        })
        .await;
    }
    lock(&core).close();
}

/// The call's media core, whoever held it before (a tick cannot leave it half done:
/// a panic in one would end the call's media, not the engine).
fn lock(core: &Mutex<MediaCore>) -> std::sync::MutexGuard<'_, MediaCore> {
    core.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What the media clock runs every tick for one call: both halves and both streams.
/// The media task holds it too, for commands and (re)opened streams; each holds the
/// lock only for a tick's or a command's work, never across a wait.
pub(crate) struct MediaCore {
    /// The call's time zero.
    start: Instant,
    stall_timeout: Duration,
    inbound: Inbound,
    outbound: Outbound,
    stream_in: Option<AudioIn>,
    stream_out: Option<AudioOut>,
    /// When (call time) the caller's stream last delivered, or was (re)opened.
    last_bytes: Duration,
    /// Since when (call time) the upload has kept a backlog the socket did not take.
    out_blocked_since: Option<Duration>,
    /// Whether the upload was ever up: until it first is (for at most `stall_timeout`),
    /// plays wait for it instead of starting unheard.
    out_ever_opened: bool,
    counts: MediaCounts,
    counters: Arc<crate::stats::Counters>,
    /// Call time of the next flush of `counts`.
    next_flush: Duration,
    /// Caller frames taken out of the jitter buffer so far: one per 20 ms of call time.
    frames_in: u32,
    /// Media ticks per read of the caller's audio.
    ticks_per_read: u32,
    /// Ticks left until the next read (0: this one reads).
    ticks_to_read: u32,
    /// A lead's audio plus a tick's: one write per tick, never regrown.
    out_buffer: Vec<u8>,
    /// The caller's audio as read: whatever has arrived since the last read.
    in_buffer: Box<[u8; IN_BUFFER]>,
    /// The frames of one tick, from the outbound half to stereo and mixed recordings.
    sent_frames: Vec<Frame>,
    /// Why a stream was lost at a tick, for the media task to reopen it.
    lost_in: Option<String>,
    lost_out: Option<String>,
    /// Wakes the media task when a stream was lost.
    wake: Arc<Notify>,
    /// The media task is done with the call: the clock drops it.
    pub(crate) closed: bool,
}

impl MediaCore {
    #[allow(clippy::too_many_arguments)] // called once, from `run`, each argument named there
    fn new(
        start: Instant,
        tick: Duration,
        ticks_per_read: u32,
        stall_timeout: Duration,
        inbound: Inbound,
        outbound: Outbound,
        counters: Arc<crate::stats::Counters>,
        wake: Arc<Notify>,
    ) -> Self {
        let out_buffer =
            Vec::with_capacity((outbound.lead() + tick).as_millis() as usize / 20 * Frame::BYTES);
        let sent_frames = Vec::with_capacity(out_buffer.capacity() / Frame::BYTES);
        Self {
            start,
            stall_timeout,
            inbound,
            outbound,
            stream_in: None,
            stream_out: None,
            last_bytes: Duration::ZERO,
            out_blocked_since: None,
            out_ever_opened: false,
            counts: MediaCounts::default(),
            counters,
            next_flush: COUNT_FLUSH,
            frames_in: 0,
            ticks_per_read,
            ticks_to_read: READ_PHASES.fetch_add(1, Ordering::Relaxed) % ticks_per_read,
            out_buffer,
            in_buffer: Box::new([0; IN_BUFFER]),
            sent_frames,
            lost_in: None,
            lost_out: None,
            wake,
            closed: false,
        }
    }

    /// Carries out a command of the bot's verbs at once. A play is written at once
    /// too, not at the next tick: after a barge-in the PBX holds only what was in
    /// flight, and with a write every 40 ms a prompt waiting for its tick could let
    /// that run dry (the caller would hear a gap after every key).
    fn command(&mut self, command: MediaCommand) {
        let now = self.start.elapsed();
        let plays = matches!(command, MediaCommand::Play { .. });
        if let Some(command) = self.outbound.command(command, now) {
            // A recording starts or ends after the audio arrived before it.
            self.take_arrived(now);
            self.inbound.command(command, now);
        }
        if plays {
            self.write_out(now);
        }
    }

    /// The upload is up (again). Nothing to catch up on a reopen: the pacer kept time.
    fn stream_out_opened(&mut self, stream: AudioOut) {
        self.out_ever_opened = true;
        self.stream_out = Some(stream);
    }

    /// The caller's stream is up (again).
    fn stream_in_opened(&mut self, stream: AudioIn) {
        // Stall detection starts from the open, not from the last bytes of the
        // stream before it.
        self.last_bytes = self.start.elapsed();
        self.stream_in = Some(stream);
    }

    /// The streams lost since the last call, for the media task to reopen.
    fn take_lost(&mut self) -> (Option<String>, Option<String>) {
        (self.lost_in.take(), self.lost_out.take())
    }

    fn lose_in(&mut self, why: String) {
        self.stream_in = None;
        self.inbound.stream_lost(self.last_bytes);
        self.lost_in = Some(why);
        self.wake.notify_one();
    }

    fn lose_out(&mut self, why: String) {
        // Dropping the upload aborts it.
        self.stream_out = None;
        self.out_blocked_since = None;
        self.lost_out = Some(why);
        self.wake.notify_one();
    }

    /// One tick at `clock` (when the tick ran, not when it was due: a run of audio
    /// starts playing when it is written, and a drain must not answer before the PBX
    /// is done): what is due goes out; at a read tick, the caller's audio that arrived
    /// goes in and one caller frame per 20 ms of call time goes to the taps. The media
    /// clock reads the time once per batch of calls, not once per call: a clock read
    /// was 2.6% of the engine's CPU at 1024 calls, and a batch takes well under a
    /// millisecond, so a call's `now` is at most that early (the pacer then holds back
    /// at most that much, never sending more than the lead).
    pub(crate) fn tick(&mut self, clock: Instant) {
        let now = clock.saturating_duration_since(self.start);
        let reads = self.ticks_to_read == 0;
        self.ticks_to_read = match reads {
            true => self.ticks_per_read - 1,
            false => self.ticks_to_read - 1,
        };
        if reads {
            self.take_arrived(now);
            if self.stream_in.is_some() && now.saturating_sub(self.last_bytes) >= self.stall_timeout
            {
                // Open but silent: a PBX may keep a dead stream open. What was not
                // delivered since the last bytes is lost either way.
                let stall = self.stall_timeout;
                self.lose_in(format!("nothing received for {stall:?}"));
            }
        }
        self.write_out(now);
        if reads {
            self.take_frames(now);
        }
        if now >= self.next_flush {
            self.next_flush = now + COUNT_FLUSH;
            self.inbound.count_jitter(&mut self.counts);
            self.counts.flush(&self.counters);
        }
    }

    /// Sends what is due at `now` (the outbound half's tick) and hands it to the
    /// recordings that hear the bot.
    fn write_out(&mut self, now: Duration) {
        // At the call's start the upload is still connecting: a greeting played at
        // once waits for it rather than start unheard. Later losses are faults, and
        // the pacer keeps time through them.
        if !self.out_ever_opened && now < self.stall_timeout {
            return;
        }
        let hears_bot = self.inbound.hears_bot();
        let sent = self.outbound.tick(
            now,
            &mut self.out_buffer,
            hears_bot.then_some(&mut self.sent_frames),
            &mut self.counts,
            self.stream_out.as_mut(),
        );
        if hears_bot {
            self.inbound.bot_frames(&self.sent_frames);
        }
        match sent {
            Err(why) => self.lose_out(why),
            Ok(()) => self.check_backlog(now),
        }
    }

    /// One caller frame per 20 ms of call time out of the jitter buffer, however late
    /// this tick ran; the frames of one read are 20 ms apart, the last at the real time
    /// now (the tick's: the clock is read once per tick).
    fn take_frames(&mut self, real: Duration) {
        let frames_due = (real.as_micros() / Frame::DURATION.as_micros()) as u32;
        while self.frames_in < frames_due {
            self.frames_in += 1;
            let at = real.saturating_sub(Frame::DURATION * (frames_due - self.frames_in));
            let barge_in = self.outbound.speech_interruptible();
            if let Some(InboundEvent::SpeechStarted) = self.inbound.tick(at, barge_in.is_some())
                && let Some(id) = barge_in
            {
                // Barge-in by speech stops the prompt at once (in call time, the
                // pacer's clock, not heard time); the play verb counts it.
                self.outbound.stop(id, real, true);
            }
        }
    }

    /// An upload whose socket has not taken its audio for `stall_timeout` is lost: the
    /// PBX stopped reading it.
    fn check_backlog(&mut self, now: Duration) {
        let Some(stream) = &self.stream_out else {
            return;
        };
        if stream.backlog() == 0 {
            self.out_blocked_since = None;
            return;
        }
        let since = *self.out_blocked_since.get_or_insert(now);
        if now.saturating_sub(since) >= self.stall_timeout {
            let stall = self.stall_timeout;
            self.lose_out(format!("a chunk waited {stall:?} to be sent"));
        }
    }

    /// Hands what the caller's stream has delivered by `now` to the inbound half. A
    /// stream that broke is dropped, its audio counted as lost from its last bytes, and
    /// reopened.
    fn take_arrived(&mut self, now: Duration) {
        let Self {
            stream_in,
            in_buffer,
            last_bytes,
            inbound,
            ..
        } = self;
        let read = read_audio(stream_in, &mut in_buffer[..], |bytes| {
            *last_bytes = now;
            inbound.bytes(bytes, now);
        });
        if let Err(why) = read {
            self.lose_in(why);
        }
    }

    /// The call is over: counts flushed, recordings closed, plays ended, the upload
    /// aborted (nothing is left to hear).
    fn close(&mut self) {
        self.closed = true;
        self.inbound.count_jitter(&mut self.counts);
        self.counts.flush(&self.counters);
        self.inbound.finish_all(RecordEnd::Hangup);
        self.outbound.close();
        self.stream_in = None;
        self.stream_out = None;
    }
}

/// Takes what has arrived of the caller's audio, without waiting, and hands it to
/// `arrived` in pieces of at most `buffer`'s size; `Err` says why the stream is gone.
fn read_audio(
    stream: &mut Option<AudioIn>,
    buffer: &mut [u8],
    mut arrived: impl FnMut(&[u8]),
) -> Result<(), String> {
    let Some(stream) = stream else {
        return Ok(());
    };
    loop {
        match stream.read_now(buffer) {
            None => return Ok(()),
            Some(Ok(0)) => return Err("the PBX ended the stream".to_owned()),
            Some(Ok(read)) => {
                arrived(&buffer[..read]);
                // A read that did not fill the buffer took all there was.
                if read < buffer.len() {
                    return Ok(());
                }
            }
            Some(Err(error)) => return Err(error.to_string()),
        }
    }
}

#[cfg(test)]
mod size {
    /// Every call holds a `MediaCore` for its whole life: what only some calls need
    /// (the detectors, kilobytes each) is boxed when made, not reserved inline.
    #[test]
    fn a_calls_media_state_stays_small() {
        let size = std::mem::size_of::<super::MediaCore>();
        assert!(size <= 4096, "MediaCore is {size} bytes");
    }
}

#[cfg(test)]
mod read_tick {
    use std::time::Duration;

    use super::ticks_per_read;

    fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    /// Reads come every whole number of ticks, never further apart than the read tick
    /// asks, and at least at every tick.
    #[test]
    fn a_read_tick_is_whole_media_ticks_rounded_down() {
        assert_eq!(ticks_per_read(ms(20), ms(40)), 2);
        assert_eq!(ticks_per_read(ms(20), ms(60)), 3);
        assert_eq!(ticks_per_read(ms(20), ms(20)), 1);
        assert_eq!(ticks_per_read(ms(40), ms(40)), 1);
        assert_eq!(ticks_per_read(ms(40), ms(60)), 1, "80 ms would be late");
        assert_eq!(ticks_per_read(ms(60), ms(20)), 1, "never less than a tick");
        assert_eq!(ticks_per_read(ms(20), Duration::ZERO), 1);
    }
}

#[cfg(test)]
mod play_start {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::{Notify, broadcast, mpsc, oneshot};
    use tokio::time::Instant;
    use voicebot_bot::{Frame, Prompt};
    use voicebot_media::Repeat;

    use super::outbound::Streamed;
    use super::{Inbound, MediaCommand, MediaCore, Outbound};
    use crate::stats::Counters;

    /// With writes every 40 ms, a play is written when it comes, not at the next tick:
    /// after a barge-in the PBX holds only what was in flight, and waiting up to a tick
    /// for the next prompt let it run dry (the load bench heard a gap after 4% of the
    /// key presses).
    #[tokio::test(start_paused = true)]
    async fn a_play_is_written_when_it_comes_not_at_the_next_tick() {
        let (events, _) = broadcast::channel(4);
        let (audio_in, _) = broadcast::channel(4);
        let (writer, _) = mpsc::unbounded_channel();
        let inbound = Inbound::new(None, audio_in, events.clone(), writer);
        let lead = Duration::from_millis(100);
        let outbound = Outbound::new(lead, Frame::DURATION, Streamed::None, events);
        // No stall timeout: the upload counts as up from the start (without a stream,
        // what is due is counted and discarded).
        let mut core = MediaCore::new(
            Instant::now(),
            Duration::from_millis(40),
            1,
            Duration::ZERO,
            inbound,
            outbound,
            Arc::new(Counters::default()),
            Arc::new(Notify::new()),
        );
        core.tick(Instant::now());
        assert_eq!(core.counts.frames_out, 0, "nothing to play yet");
        let prompt = Prompt::from_samples(vec![1000; Frame::SAMPLES * 50]).expect("a prompt");
        let (done, _end) = oneshot::channel();
        core.command(MediaCommand::Play {
            id: 1,
            prompt,
            more: None,
            repeat: Repeat::Times(1),
            stop_on_speech: false,
            done,
        });
        assert_eq!(
            core.counts.frames_out, 5,
            "a lead's worth goes out with the command, before any tick"
        );
    }
}
