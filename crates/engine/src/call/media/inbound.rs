//! The inbound half of the media task: the caller's audio through the jitter buffer
//! to the taps, and losslessly to recordings.
//!
//! When the GET stream is lost (cut, failed or stalled) the time until its reopened
//! stream delivers again is a *gap*: recordings get that much silence, so the file
//! keeps wall-clock time, and list it; the taps get nothing, and voice detection and
//! silence timeouts run on *heard time*, the call's time less its gaps, so a gap is
//! never taken for the caller being silent.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::broadcast;
use voicebot_bot::__engine::DigitSource;
use voicebot_bot::{CallEvent, Digit, Frame, RecordEnd};
use voicebot_media::{
    Channels, DtmfDetector, FrameDecoder, JitterBuffer, JitterConfig, Lookup, VadConfig,
    VoiceDetector, VoiceEvent, duration_to_samples, samples_to_duration,
};

use super::MediaCommand;
use crate::call::KeySink;
use crate::metrics::MediaCounts;
use crate::writer::{Gap, WriterCommand, WriterSender};

/// A recording in progress.
struct Recording {
    id: u64,
    /// Stereo or mixed: the frames sent to the caller go into the file too.
    with_bot: bool,
    samples_left: u64,
    silence_timeout: Option<Duration>,
    /// When it started, in heard time.
    started: Duration,
    /// When it started, in call time.
    started_at: Duration,
    /// Samples in the file so far (audio and gap silence).
    written: u64,
    gaps: Vec<Gap>,
}

/// What the inbound half reports for the rest of the media task to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum InboundEvent {
    /// The caller started speaking in the frame of this tick: a prompt speech may stop
    /// stops now (the pacer's stop takes call time, which the loop has).
    SpeechStarted,
}

pub(super) struct Inbound {
    jitter: JitterBuffer,
    /// The jitter buffer's settings (a new buffer starts after each gap).
    jitter_config: JitterConfig,
    /// The lossless tap: the byte stream cut into frames for recordings.
    decoder: FrameDecoder,
    // Boxed: both detectors hold kilobytes of state, and most calls need neither
    // (in-band DTMF is opt-in; voice detection runs only while something listens).
    dtmf: Option<Box<(DtmfDetector, KeySink)>>,
    vad: Option<Box<VoiceDetector>>,
    audio_in: broadcast::Sender<Frame>,
    events: broadcast::Sender<CallEvent>,
    writer: WriterSender,
    recordings: Vec<Recording>,
    counted: (u64, u64, u64),
    /// Since when (call time) the caller's audio has been lost, while it is.
    lost_since: Option<Duration>,
    /// The gaps so far, added up: call time less this is heard time.
    gap_total: Duration,
    /// The latest heard time handed out.
    last_heard: Duration,
    /// Counts of jitter buffers replaced since the last flush.
    carried: MediaCounts,
    /// The audio lost so far (gaps, the open one included), in microseconds, for the
    /// call's gathers to extend their timeouts by.
    lost_audio: Arc<AtomicU64>,
    /// The `pbx` label of the in-band digit counter.
    pbx: metrics::SharedString,
}

impl Inbound {
    pub(super) fn new(
        digits: Option<KeySink>,
        audio_in: broadcast::Sender<Frame>,
        events: broadcast::Sender<CallEvent>,
        writer: WriterSender,
    ) -> Self {
        Self {
            jitter: JitterBuffer::new(JitterConfig::default())
                .expect("the default jitter settings are valid"),
            jitter_config: JitterConfig::default(),
            decoder: FrameDecoder::new(),
            dtmf: digits.map(|sink| Box::new((DtmfDetector::new(), sink))),
            vad: None,
            audio_in,
            events,
            writer,
            recordings: Vec::new(),
            counted: (0, 0, 0),
            lost_since: None,
            gap_total: Duration::ZERO,
            last_heard: Duration::ZERO,
            carried: MediaCounts::default(),
            lost_audio: Arc::default(),
            pbx: metrics::SharedString::const_str(voicebot_callcontrol::DEFAULT_PBX_LABEL),
        }
    }

    /// Labels its metrics with the engine's PBX.
    pub(super) fn labelled(mut self, pbx: metrics::SharedString) -> Self {
        self.pbx = pbx;
        self
    }

    /// Takes `frames` caller frames out of the jitter buffer at a time (one tick's): the
    /// buffer then holds back at least that much, or every tick would run it dry.
    pub(super) fn taking_frames(mut self, frames: u32) -> Self {
        let least = (Frame::DURATION * frames.max(1)).min(Duration::from_millis(60));
        let defaults = JitterConfig::default();
        self.jitter_config =
            defaults.with_delay_bounds(least.max(defaults.min_delay), defaults.max_delay);
        self.jitter =
            JitterBuffer::new(self.jitter_config).expect("a delay of at most 60 ms is valid");
        self
    }

    /// Keeps `lost` up to date with the audio lost so far.
    pub(super) fn reporting_lost_audio(mut self, lost: Arc<AtomicU64>) -> Self {
        self.lost_audio = lost;
        self
    }

    fn report_lost(&self, now: Duration) {
        let open_gap = self
            .lost_since
            .map_or(Duration::ZERO, |since| now.saturating_sub(since));
        let lost = u64::try_from((self.gap_total + open_gap).as_micros()).unwrap_or(u64::MAX);
        self.lost_audio.store(lost, Ordering::Relaxed);
    }

    /// Call time `now` as heard time: without the gaps. Never goes back, though a gap
    /// found out late (a stall) starts before frames already played.
    fn heard_time(&mut self, now: Duration) -> Duration {
        let open_gap = self
            .lost_since
            .map_or(Duration::ZERO, |since| now.saturating_sub(since));
        let heard = now.saturating_sub(self.gap_total + open_gap);
        self.last_heard = self.last_heard.max(heard);
        self.last_heard
    }

    /// The caller's audio stopped arriving at `since` (call time): its stream was
    /// lost. Repeated calls keep the first.
    pub(super) fn stream_lost(&mut self, since: Duration) {
        self.lost_since.get_or_insert(since);
    }

    /// Audio arrives again at `now` after a loss: the gap ends. Recordings get its
    /// silence; the jitter buffer starts afresh, as for a new stream.
    fn gap_ended(&mut self, now: Duration) {
        let Some(since) = self.lost_since.take() else {
            return;
        };
        let len = now.saturating_sub(since);
        self.gap_total += len;
        self.report_lost(now);
        // The new buffer counts from zero: keep the old one's counts for the next flush.
        let (frames_in, underruns, drops) = self.jitter_delta();
        self.carried.frames_in += frames_in;
        self.carried.underruns += underruns;
        self.carried.drops += drops;
        self.jitter =
            JitterBuffer::new(self.jitter_config).expect("the jitter settings were checked");
        self.counted = (0, 0, 0);
        self.decoder = FrameDecoder::new();
        tracing::info!(gap = ?len, "the caller's audio is back");
        let mut full = None;
        for recording in &mut self.recordings {
            // A recording begun during the gap gets only its own part of it.
            let own = now.saturating_sub(since.max(recording.started_at));
            let pad = duration_to_samples(own).min(recording.samples_left);
            if pad == 0 {
                continue;
            }
            recording.gaps.push(Gap {
                at: samples_to_duration(recording.written),
                len: samples_to_duration(pad),
            });
            recording.samples_left -= pad;
            recording.written += pad;
            let _ = self.writer.send(WriterCommand::Silence {
                id: recording.id,
                samples: pad,
            });
            if recording.samples_left == 0 {
                full = Some(recording.id);
            }
        }
        if let Some(id) = full {
            self.finish(id, RecordEnd::MaxLength);
        }
    }

    /// Handles the recording commands.
    pub(super) fn command(&mut self, command: MediaCommand, now: Duration) {
        match command {
            MediaCommand::Record {
                id,
                path,
                channels,
                max_length,
                silence_timeout,
                done,
            } => {
                if self.recordings.is_empty() && self.dtmf.is_none() {
                    // Start the lossless tap afresh: the recording begins at this chunk.
                    // (With in-band DTMF on, the tap is always fed, so it is current.)
                    self.decoder = FrameDecoder::new();
                }
                let _ = self.writer.send(WriterCommand::Open {
                    id,
                    path,
                    channels,
                    done,
                });
                let started = self.heard_time(now);
                self.recordings.push(Recording {
                    id,
                    with_bot: channels != Channels::Caller,
                    samples_left: duration_to_samples(max_length),
                    silence_timeout,
                    started,
                    started_at: now,
                    written: 0,
                    gaps: Vec::new(),
                });
            }
            MediaCommand::StopRecording { id, end } => self.finish(id, end),
            other => tracing::debug!(?other, "media command ignored"),
        }
    }

    /// Bytes from the GET stream, as they arrive.
    pub(super) fn bytes(&mut self, bytes: &[u8], arrival: Duration) {
        self.gap_ended(arrival);
        self.jitter.push(bytes, arrival);
        if self.recordings.is_empty() && self.dtmf.is_none() {
            return;
        }
        self.decoder.push(bytes);
        while let Some(frame) = self.decoder.pop() {
            // In-band DTMF listens to the lossless tap, not to the jitter buffer's
            // playout: a stream that stalls (a busy machine, a slow network) makes the
            // buffer conceal and then drop late frames, which would cut a tone in two.
            self.detect_digit(&frame);
            let mut full = None;
            for recording in &mut self.recordings {
                let len = recording.samples_left.min(Frame::SAMPLES as u64);
                if len > 0 {
                    recording.samples_left -= len;
                    recording.written += len;
                    let command = WriterCommand::Caller {
                        id: recording.id,
                        frame,
                        len: len as u16,
                    };
                    let _ = self.writer.send(command);
                }
                if recording.samples_left == 0 {
                    full = Some(recording.id);
                }
            }
            if let Some(id) = full {
                self.finish(id, RecordEnd::MaxLength);
            }
        }
    }

    /// Runs the in-band DTMF detector (if on) on one frame of the caller's audio as it
    /// arrived; a key it hears is a digit, counted once with the PBX's own reports.
    fn detect_digit(&mut self, frame: &Frame) {
        if let Some(dtmf) = self.dtmf.as_deref_mut()
            && let Some(key) = dtmf.0.process(frame)
            && let Ok(digit) = Digit::new(key)
            && dtmf.1.push(DigitSource::InBand, digit)
        {
            metrics::counter!(
                crate::metrics::DIGITS,
                "pbx" => self.pbx.clone(),
                "source" => "in_band"
            )
            .increment(1);
            let _ = self.events.send(CallEvent::Digit(digit));
        }
    }

    /// Whether a recording running now hears the bot too (stereo or mixed): only then
    /// does it need the frames sent to the caller.
    pub(super) fn hears_bot(&self) -> bool {
        self.recordings.iter().any(|recording| recording.with_bot)
    }

    /// Frames sent to the caller, for stereo and mixed recordings.
    pub(super) fn bot_frames(&mut self, frames: &[Frame]) {
        for frame in frames {
            for recording in self.recordings.iter().filter(|r| r.with_bot) {
                let command = WriterCommand::Bot {
                    id: recording.id,
                    frame: *frame,
                };
                let _ = self.writer.send(command);
            }
        }
    }

    /// One frame's worth of processing; nothing during a gap. `barge_in` says a prompt
    /// playing now may be stopped by speech (so voice detection is needed).
    pub(super) fn tick(&mut self, now: Duration, barge_in: bool) -> Option<InboundEvent> {
        if self.lost_since.is_some() {
            self.report_lost(now);
            return None;
        }
        let lookup = self.jitter.pop(now);
        if lookup == Lookup::Filling {
            return None;
        }
        let frame = lookup.frame();
        // Only real audio says whether the caller speaks: a made-up frame (the buffer ran
        // dry, perhaps a stream stalling before it is found out) is no silence of theirs.
        let event = match lookup.is_real() {
            true => {
                let heard = self.heard_time(now);
                self.voice(&frame, heard, barge_in)
            }
            false => None,
        };
        if self.audio_in.receiver_count() > 0 {
            // Lossy by design: a slow subscriber loses its oldest frames.
            let _ = self.audio_in.send(frame);
        }
        event
    }

    /// Voice activity, only while something needs it: a prompt speech may stop, a
    /// recording with a silence timeout, or a bot watching the call's events. `now` is
    /// heard time.
    fn voice(&mut self, frame: &Frame, now: Duration, barge_in: bool) -> Option<InboundEvent> {
        let needed = barge_in
            || self.recordings.iter().any(|r| r.silence_timeout.is_some())
            || self.events.receiver_count() > 0;
        if !needed {
            self.vad = None;
            return None;
        }
        if self.vad.is_none() {
            self.vad = VoiceDetector::new(VadConfig::default()).ok().map(Box::new);
        }
        let vad = self.vad.as_mut()?;
        let event = match vad.process(frame, now) {
            Some(VoiceEvent::SpeechStarted { .. }) => {
                let _ = self.events.send(CallEvent::SpeechStarted);
                Some(InboundEvent::SpeechStarted)
            }
            Some(VoiceEvent::SpeechStopped { .. }) => {
                let _ = self.events.send(CallEvent::SpeechStopped);
                None
            }
            None => None,
        };
        let speaking = vad.is_speaking();
        let speech_end = vad
            .silence_for(now)
            .map(|silence| now.saturating_sub(silence));
        let silent = self.recordings.iter().find(|recording| {
            recording.silence_timeout.is_some_and(|timeout| {
                let quiet_since =
                    speech_end.map_or(recording.started, |end| end.max(recording.started));
                !speaking && now.saturating_sub(quiet_since) >= timeout
            })
        });
        if let Some(id) = silent.map(|recording| recording.id) {
            self.finish(id, RecordEnd::Silence);
        }
        event
    }

    /// Adds the jitter buffer's counters since the last call to `counts`.
    pub(super) fn count_jitter(&mut self, counts: &mut MediaCounts) {
        let carried = std::mem::take(&mut self.carried);
        let (frames_in, underruns, drops) = self.jitter_delta();
        counts.frames_in += carried.frames_in + frames_in;
        counts.underruns += carried.underruns + underruns;
        counts.drops += carried.drops + drops;
    }

    /// The jitter buffer's counts since they were last taken.
    fn jitter_delta(&mut self) -> (u64, u64, u64) {
        let stats = self.jitter.stats();
        let drops = stats.overrun_drops + stats.trimmed_frames;
        let (frames_in, underruns, dropped) = self.counted;
        self.counted = (stats.frames_in, stats.underruns, drops);
        (
            stats.frames_in - frames_in,
            stats.underruns - underruns,
            drops - dropped,
        )
    }

    /// Closes recording `id` with `end`.
    fn finish(&mut self, id: u64, end: RecordEnd) {
        let Some(index) = self.recordings.iter().position(|r| r.id == id) else {
            return;
        };
        let recording = self.recordings.swap_remove(index);
        let command = WriterCommand::Finish {
            id,
            end,
            gaps: recording.gaps,
        };
        let _ = self.writer.send(command);
    }

    /// Closes every recording (the call's media is over). A gap still open is the
    /// end of the call's audio, not a gap in it.
    pub(super) fn finish_all(&mut self, end: RecordEnd) {
        while let Some(recording) = self.recordings.pop() {
            let command = WriterCommand::Finish {
                id: recording.id,
                end,
                gaps: recording.gaps,
            };
            let _ = self.writer.send(command);
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;
    use voicebot_media::Prompt;

    use super::*;

    fn inbound() -> Inbound {
        // No receivers: only `barge_in` can make voice detection needed.
        let (audio_in, _) = broadcast::channel(4);
        let (events, _) = broadcast::channel(4);
        let (writer, _) = mpsc::unbounded_channel();
        Inbound::new(None, audio_in, events, writer)
    }

    /// Feeds recorded speech in, a frame per 20 ms tick; returns the ticks' events.
    fn hear_speech(inbound: &mut Inbound, barge_in: bool) -> Vec<InboundEvent> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../media/tests/fixtures/speech_8k.wav"
        );
        let speech = Prompt::load(path).expect("the media crate's speech fixture loads");
        let mut events = Vec::new();
        for (index, frame) in speech.frames().enumerate() {
            let now = Frame::DURATION * index as u32;
            inbound.bytes(&frame.to_bytes(), now);
            events.extend(inbound.tick(now, barge_in));
        }
        events
    }

    #[test]
    fn speech_is_returned_as_an_event_while_a_prompt_may_stop() {
        let events = hear_speech(&mut inbound(), true);
        assert!(
            matches!(events.first(), Some(InboundEvent::SpeechStarted)),
            "{events:?}"
        );
    }

    #[test]
    fn no_voice_detection_runs_when_nothing_needs_it() {
        assert_eq!(hear_speech(&mut inbound(), false), []);
    }
}
