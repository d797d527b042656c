//! The media task of one call: a 20 ms tick that paces audio out to the PBX and
//! plays the caller's audio out of the jitter buffer to the taps.
//!
//! Both audio streams open when the call is connected and stay open for the call
//! (the POST is one long chunked request, as 3CX's own IVR keeps it). Per tick:
//!
//! 1. outbound ([`outbound`]): the pacer hands out the frames due (at most the lead
//!    ahead of the caller's ear); they are encoded into one reused buffer and sent as
//!    one chunk. Plays are fed to the pacer one at a time, the next one queued as
//!    soon as the previous one is fully sent, so consecutive prompts are gapless.
//! 2. inbound ([`inbound`]): one frame from the jitter buffer goes to the in-band
//!    DTMF detector, the voice detector (only while something needs it) and the
//!    bot's `audio()` subscribers. Bytes from the GET stream are pushed into the
//!    jitter buffer as they arrive and, while a recording runs, decoded losslessly
//!    for the recording writer.
//!
//! The interval uses `MissedTickBehavior::Burst`: the inbound side takes exactly one
//! frame per tick, so after a stall (a busy runtime) the missed ticks must still
//! happen, or the jitter buffer would fill and trim real audio. The outbound side
//! computes what is due from the clock, not from the tick count, so burst ticks send
//! nothing extra.

mod inbound;
mod outbound;

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use voicebot_bot::{AudioOut as BotAudioOut, CallEvent, Frame, Prompt, RecordEnd};
use voicebot_callcontrol::{AudioIn, AudioOut};
use voicebot_media::Repeat;

use crate::call::{CallCtx, KeySink};
use crate::metrics::MediaCounts;
use crate::writer::RecordingDone;

use self::inbound::Inbound;
use self::outbound::Outbound;

/// Ticks between flushes of the frame counters (one second).
const COUNT_FLUSH_TICKS: u32 = 50;

/// A request to the media task.
#[derive(Debug)]
pub(crate) enum MediaCommand {
    /// Play a prompt after the plays queued before it; `done` gets how it ended.
    /// Dropping the receiver stops it (checked every tick).
    Play {
        id: u64,
        prompt: Prompt,
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
        stereo: bool,
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
    /// The audio could not be sent (the POST stream failed).
    Failed,
}

/// What the media task needs beyond the call context.
pub(crate) struct MediaSetup {
    pub(crate) ctx: Arc<CallCtx>,
    pub(crate) commands: mpsc::Receiver<MediaCommand>,
    pub(crate) audio_out: mpsc::Receiver<BotAudioOut>,
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
    tokio::select! {
        () = stop.cancelled() => return,
        checked = ctx.ensure_leg() => if checked.is_err() { return },
    }
    let (stream_in, stream_out) = tokio::select! {
        () = stop.cancelled() => return,
        streams = async { tokio::join!(client.audio_from(&ctx.dn, ctx.id), client.audio_to(&ctx.dn, ctx.id)) } => streams,
    };
    let mut stream_in: Option<AudioIn> = match stream_in {
        Ok(stream) => Some(stream.whole_samples()),
        Err(error) => {
            tracing::warn!(%error, "cannot open the caller's audio; continuing without it");
            None
        }
    };
    let stream_out: Option<AudioOut> = match stream_out {
        Ok(stream) => Some(stream),
        Err(error) => {
            tracing::warn!(%error, "cannot open the audio to the caller");
            None
        }
    };
    let settings = &ctx.shared.settings;
    let start = Instant::now();
    ctx.clock.start(start);
    let mut outbound = Outbound::new(settings.pacer_lead, stream_out, audio_out, events.clone());
    let mut inbound = Inbound::new(
        settings.inband_dtmf.then_some(digits),
        audio_in,
        events,
        ctx.shared.writer.clone(),
    );
    let mut counts = MediaCounts::default();
    let mut ticks = 0u32;
    let mut interval = tokio::time::interval(Frame::DURATION);
    interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut out_buffer = BytesMut::with_capacity(64 * Frame::BYTES);
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => break,
            command = commands.recv() => match command {
                Some(command) => {
                    let now = start.elapsed();
                    if let Some(command) = outbound.command(command, now) {
                        inbound.command(command, now).await;
                    }
                }
                None => break,
            },
            chunk = next_chunk(&mut stream_in) => match chunk {
                Some(bytes) => inbound.bytes(&bytes, start.elapsed()).await,
                None => stream_in = None,
            },
            _ = interval.tick() => {
                let now = start.elapsed();
                outbound.tick(now, &mut out_buffer, &mut inbound, &mut counts).await;
                inbound.tick(now, &mut outbound).await;
                ticks += 1;
                if ticks.is_multiple_of(COUNT_FLUSH_TICKS) {
                    inbound.count_jitter(&mut counts);
                    counts.flush(&ctx.shared.counters);
                }
            }
        }
    }
    inbound.count_jitter(&mut counts);
    counts.flush(&ctx.shared.counters);
    inbound.finish_all(RecordEnd::Hangup).await;
    outbound.close();
}

/// The next chunk of the caller's audio; pending forever once the stream is gone.
async fn next_chunk(stream: &mut Option<AudioIn>) -> Option<bytes::Bytes> {
    match stream {
        Some(stream) => match stream.next().await {
            Some(Ok(bytes)) => Some(bytes),
            Some(Err(error)) => {
                tracing::debug!(%error, "the caller's audio stream failed");
                None
            }
            None => None,
        },
        None => std::future::pending().await,
    }
}
