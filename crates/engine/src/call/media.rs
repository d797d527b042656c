//! The media task of one call: a tick (`media_tick`, 40 ms) that paces audio out to the PBX and
//! plays the caller's audio out of the jitter buffer to the taps. The task reads and writes
//! the two streams' sockets itself ([`voicebot_callcontrol::AudioIn::read_now`],
//! [`AudioOut::send`]): no other task per call, and it wakes only for its tick, a
//! command, or a stream (re)opened.
//!
//! Both audio streams open when the call is connected and stay open for the call
//! (the POST is one long chunked request, as 3CX's own IVR keeps it). Either may be
//! cut, fail or stall mid-call: it is then reopened with backoff for as long as the
//! call lives ([`links`]). The GET counts as stalled after `stall_timeout` without a
//! byte; the POST when a chunk cannot be handed over within it. The caller's audio
//! lost meanwhile is a *gap* ([`inbound`]): recordings get silence there (and list
//! it), and voice detection and silence timeouts skip it. Audio due to the caller
//! while the POST is down is lost; the pacer keeps time, so a prompt resumes where
//! it would be by then and no verb fails because of a reopen. Per tick:
//!
//! 1. outbound ([`outbound`]): the pacer hands out the frames due (at most the lead
//!    ahead of the caller's ear); they are encoded into one reused buffer and sent as
//!    one chunk. Plays are fed to the pacer one at a time, the next one queued as
//!    soon as the previous one is fully sent, so consecutive prompts are gapless.
//!    The frames are also handed back (in a reused `Vec`) for stereo and mixed recordings.
//! 2. inbound ([`inbound`]): one frame from the jitter buffer goes to the in-band
//!    DTMF detector, the voice detector (only while something needs it) and the
//!    bot's `audio()` subscribers. The bytes the GET stream has delivered since the
//!    last tick are read at the tick (one read, no wake-up per chunk) and pushed into
//!    the jitter buffer and, while a recording runs, decoded losslessly for the
//!    recording writer. When the caller starts speaking the tick returns
//!    `SpeechStarted`, and the loop stops a prompt speech may stop (barge-in).
//!
//! Neither half holds the other: each returns what the other must know, and this
//! loop hands it over, so each can be read (and tested) alone.
//!
//! The tick is `media_tick` (40 ms by default, whole frames): each tick sends what is due
//! in one write of at least a tick's audio, and takes one caller frame out of the jitter
//! buffer per 20 ms of call time since the last tick. Both sides count from the clock,
//! not from ticks, so a late tick (a busy runtime) catches up exactly and the interval
//! skips the ticks it missed (`MissedTickBehavior::Skip`, which keeps the grid) instead
//! of bursting them.

mod inbound;
mod links;
mod outbound;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use voicebot_bot::{CallEvent, Frame, Prompt, RecordEnd, SinkItem};
use voicebot_callcontrol::{AudioIn, AudioOut};
use voicebot_media::Repeat;

use crate::call::{CallCtx, KeySink};
use crate::metrics::MediaCounts;
use crate::writer::RecordingDone;

use self::inbound::{Inbound, InboundEvent};
use self::links::Link;
use self::outbound::Outbound;

/// The most of the caller's audio read at once: 80 ms, a tick's with room to spare (a
/// late tick reads twice).
const IN_BUFFER: usize = 4 * Frame::BYTES;

/// How often the frame counters are flushed to the engine's.
const COUNT_FLUSH: Duration = Duration::from_secs(1);

/// The tick for `wanted` and `lead`: whole frames, at most the lead's.
fn media_tick(wanted: Duration, lead: Duration) -> Duration {
    let frames = (wanted.min(lead).as_micros() / Frame::DURATION.as_micros()).max(1) as u32;
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
    pub(crate) audio_out: mpsc::Receiver<SinkItem>,
    pub(crate) audio_in: broadcast::Sender<Frame>,
    pub(crate) events: broadcast::Sender<CallEvent>,
    pub(crate) digits: KeySink,
    pub(crate) stop: CancellationToken,
}

/// Runs the media task until `stop` is cancelled or the call's commands end; then
/// closes every recording.
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
    let mut stream_in: Option<AudioIn> = None;
    let mut stream_out: Option<AudioOut> = None;
    let settings = &ctx.shared.settings;
    let stall_timeout = settings.stall_timeout;
    let start = Instant::now();
    ctx.clock.start(start);
    let tick = media_tick(settings.media_tick, settings.pacer_lead);
    // One write per tick already: the pacer fills the lead at each tick (a tick's worth
    // once it is full), so it needs no minimum chunk of its own.
    let mut outbound = Outbound::new(
        settings.pacer_lead,
        Frame::DURATION,
        audio_out,
        events.clone(),
    );
    let mut inbound = Inbound::new(
        settings.inband_dtmf.then_some(digits),
        audio_in,
        events,
        ctx.shared.writer.clone(),
    )
    .reporting_lost_audio(Arc::clone(&ctx.audio_lost))
    .labelled(ctx.shared.counters.pbx_label())
    .taking_frames((tick.as_micros() / Frame::DURATION.as_micros()) as u32);
    let mut last_bytes = Duration::ZERO;
    let mut counts = MediaCounts::default();
    let mut ticks = 0u32;
    let count_flush_ticks = (COUNT_FLUSH.as_millis() / tick.as_millis()).max(1) as u32;
    // Caller frames taken out of the jitter buffer so far: one per 20 ms of call time.
    let mut frames_in = 0u32;
    let mut interval = tokio::time::interval_at(start, tick);
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    // A lead's audio plus a tick's: one write per tick, never regrown.
    let mut out_buffer =
        Vec::with_capacity((settings.pacer_lead + tick).as_millis() as usize / 20 * Frame::BYTES);
    // The caller's audio as read: whatever has arrived since the last read.
    let mut in_buffer = [0u8; IN_BUFFER];
    // The frames of one tick, from the outbound half to stereo and mixed recordings (reused).
    let mut sent_frames: Vec<Frame> = Vec::with_capacity(out_buffer.capacity() / Frame::BYTES);
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            command = commands.recv() => match command {
                Some(command) => {
                    let now = start.elapsed();
                    if let Some(command) = outbound.command(command, now) {
                        // A recording starts or ends after the audio arrived before it.
                        take_arrived(&mut stream_in, &mut in_buffer, &mut last_bytes, &mut inbound, &mut link_in, now);
                        inbound.command(command, now);
                    }
                }
                None => break,
            },
            opened = link_in.opened() => if let Some(stream) = opened {
                // Stall detection starts from the open, not from the last bytes of the
                // stream before it.
                last_bytes = start.elapsed();
                stream_in = Some(stream);
            },
            // Nothing to catch up on a reopened POST: the pacer kept time.
            opened = link_out.opened() => if let Some(stream) = opened {
                stream_out = Some(stream);
            },
            _ = interval.tick() => {
                // When the tick ran, not when it was due: a run of audio starts playing
                // when it is written, and a drain must not answer before the PBX is done.
                let now = start.elapsed();
                take_arrived(&mut stream_in, &mut in_buffer, &mut last_bytes, &mut inbound, &mut link_in, now);
                if stream_in.is_some() && now.saturating_sub(last_bytes) >= stall_timeout {
                    // Open but silent: a PBX may keep a dead stream open. What was not
                    // delivered since the last bytes is lost either way.
                    stream_in = None;
                    inbound.stream_lost(last_bytes);
                    link_in.lost(&format!("nothing received for {stall_timeout:?}"));
                }
                let sent = outbound
                    .tick(now, &mut out_buffer, &mut sent_frames, &mut counts, stream_out.as_mut(), stall_timeout)
                    .await;
                inbound.bot_frames(&sent_frames);
                if let Err(why) = sent {
                    // Dropping the upload aborts it.
                    stream_out = None;
                    link_out.lost(&why);
                }
                // One caller frame per 20 ms of call time, however late this tick ran;
                // the frames of one tick are 20 ms apart, the last at the real time now.
                let real = start.elapsed();
                let frames_due = (real.as_micros() / Frame::DURATION.as_micros()) as u32;
                while frames_in < frames_due {
                    frames_in += 1;
                    let at = real.saturating_sub(Frame::DURATION * (frames_due - frames_in));
                    let barge_in = outbound.speech_interruptible();
                    if let Some(InboundEvent::SpeechStarted) = inbound.tick(at, barge_in.is_some())
                        && let Some(id) = barge_in
                    {
                        // Barge-in by speech stops the prompt at once (in call time, the
                        // pacer's clock, not heard time); the play verb counts it.
                        outbound.stop(id, real, true);
                    }
                }
                ticks += 1;
                if ticks.is_multiple_of(count_flush_ticks) {
                    inbound.count_jitter(&mut counts);
                    counts.flush(&ctx.shared.counters);
                }
            }
        }
    }
    // The caller's last words before a hang-up still go to the recordings: the stream is
    // read to its end (the PBX ends it with the call), for at most one more tick.
    if let Some(stream) = stream_in.as_mut() {
        let _ = tokio::time::timeout(tick, async {
            while let Ok(read @ 1..) = stream.read(&mut in_buffer).await {
                inbound.bytes(&in_buffer[..read], start.elapsed());
            }
        })
        .await;
    }
    inbound.count_jitter(&mut counts);
    counts.flush(&ctx.shared.counters);
    inbound.finish_all(RecordEnd::Hangup);
    outbound.close();
    // Dropping the upload aborts it; the call is over, nothing is left to hear.
    drop(stream_out);
}

/// Hands what the caller's stream has delivered by `now` to `inbound`. A stream that
/// broke is dropped, its audio counted as lost from its last bytes, and reopened.
fn take_arrived(
    stream_in: &mut Option<AudioIn>,
    buffer: &mut [u8],
    last_bytes: &mut Duration,
    inbound: &mut Inbound,
    link_in: &mut Link<AudioIn>,
    now: Duration,
) {
    let read = read_audio(stream_in, buffer, |bytes| {
        *last_bytes = now;
        inbound.bytes(bytes, now);
    });
    if let Err(why) = read {
        *stream_in = None;
        inbound.stream_lost(*last_bytes);
        link_in.lost(&why);
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
