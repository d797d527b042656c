//! The inbound half of the media task: the caller's audio through the jitter buffer
//! to the taps, and losslessly to recordings.

use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use voicebot_bot::{CallEvent, Digit, Frame, RecordEnd};
use voicebot_dispatch::DigitSource;
use voicebot_media::{
    Channels, DtmfDetector, FrameDecoder, JitterBuffer, JitterConfig, Lookup, VadConfig,
    VoiceDetector, VoiceEvent, duration_to_samples,
};

use super::MediaCommand;
use super::outbound::Outbound;
use crate::call::KeySink;
use crate::metrics::MediaCounts;
use crate::writer::{RecordingDone, WriterCommand};

/// A recording in progress.
struct Recording {
    id: u64,
    stereo: bool,
    samples_left: u64,
    silence_timeout: Option<Duration>,
    started: Duration,
    done: RecordingDone,
}

pub(super) struct Inbound {
    jitter: JitterBuffer,
    /// The lossless tap: the byte stream cut into frames for recordings.
    decoder: FrameDecoder,
    dtmf: Option<(DtmfDetector, KeySink)>,
    vad: Option<VoiceDetector>,
    audio_in: broadcast::Sender<Frame>,
    events: broadcast::Sender<CallEvent>,
    writer: mpsc::Sender<WriterCommand>,
    recordings: Vec<Recording>,
    counted: (u64, u64, u64),
}

impl Inbound {
    pub(super) fn new(
        digits: Option<KeySink>,
        audio_in: broadcast::Sender<Frame>,
        events: broadcast::Sender<CallEvent>,
        writer: mpsc::Sender<WriterCommand>,
    ) -> Self {
        Self {
            jitter: JitterBuffer::new(JitterConfig::default())
                .expect("the default jitter settings are valid"),
            decoder: FrameDecoder::new(),
            dtmf: digits.map(|sink| (DtmfDetector::new(), sink)),
            vad: None,
            audio_in,
            events,
            writer,
            recordings: Vec::new(),
            counted: (0, 0, 0),
        }
    }

    /// Handles the recording commands.
    pub(super) async fn command(&mut self, command: MediaCommand, now: Duration) {
        match command {
            MediaCommand::Record {
                id,
                path,
                stereo,
                max_length,
                silence_timeout,
                done,
            } => {
                if self.recordings.is_empty() {
                    // Start the lossless tap afresh: the recording begins at this chunk.
                    self.decoder = FrameDecoder::new();
                }
                let channels = match stereo {
                    true => Channels::Stereo,
                    false => Channels::Caller,
                };
                let _ = self
                    .writer
                    .send(WriterCommand::Open { id, path, channels })
                    .await;
                self.recordings.push(Recording {
                    id,
                    stereo,
                    samples_left: duration_to_samples(max_length),
                    silence_timeout,
                    started: now,
                    done,
                });
            }
            MediaCommand::StopRecording { id, end } => self.finish(id, end).await,
            other => tracing::debug!(?other, "media command ignored"),
        }
    }

    /// Bytes from the GET stream, as they arrive.
    pub(super) async fn bytes(&mut self, bytes: &[u8], arrival: Duration) {
        self.jitter.push(bytes, arrival);
        if self.recordings.is_empty() {
            return;
        }
        self.decoder.push(bytes);
        while let Some(frame) = self.decoder.pop() {
            let mut full = None;
            for recording in &mut self.recordings {
                let len = recording.samples_left.min(Frame::SAMPLES as u64);
                if len > 0 {
                    recording.samples_left -= len;
                    let command = WriterCommand::Caller {
                        id: recording.id,
                        frame,
                        len: len as u16,
                    };
                    let _ = self.writer.send(command).await;
                }
                if recording.samples_left == 0 {
                    full = Some(recording.id);
                }
            }
            if let Some(id) = full {
                self.finish(id, RecordEnd::MaxLength).await;
            }
        }
    }

    /// A frame sent to the caller, for stereo recordings.
    pub(super) async fn bot_frame(&mut self, frame: &Frame) {
        for recording in self.recordings.iter().filter(|r| r.stereo) {
            let command = WriterCommand::Bot {
                id: recording.id,
                frame: *frame,
            };
            let _ = self.writer.send(command).await;
        }
    }

    /// One frame's worth of processing.
    pub(super) async fn tick(&mut self, now: Duration, outbound: &mut Outbound) {
        let lookup = self.jitter.pop(now);
        if lookup == Lookup::Filling {
            return;
        }
        let frame = lookup.frame();
        if let Some((detector, sink)) = &mut self.dtmf
            && let Some(key) = detector.process(&frame)
            && let Ok(digit) = Digit::new(key)
            && sink.push(DigitSource::InBand, digit)
        {
            metrics::counter!(crate::metrics::DIGITS, "source" => "in_band").increment(1);
            let _ = self.events.send(CallEvent::Digit(digit));
        }
        self.voice(&frame, now, outbound).await;
        if self.audio_in.receiver_count() > 0 {
            // Lossy by design: a slow subscriber loses its oldest frames.
            let _ = self.audio_in.send(frame);
        }
    }

    /// Voice activity, only while something needs it: a prompt speech may stop, a
    /// recording with a silence timeout, or a bot watching the call's events.
    async fn voice(&mut self, frame: &Frame, now: Duration, outbound: &mut Outbound) {
        let needed = outbound.speech_interruptible().is_some()
            || self.recordings.iter().any(|r| r.silence_timeout.is_some())
            || self.events.receiver_count() > 0;
        if !needed {
            self.vad = None;
            return;
        }
        if self.vad.is_none() {
            self.vad = VoiceDetector::new(VadConfig::default()).ok();
        }
        let Some(vad) = &mut self.vad else {
            return;
        };
        match vad.process(frame, now) {
            Some(VoiceEvent::SpeechStarted { .. }) => {
                let _ = self.events.send(CallEvent::SpeechStarted);
                if let Some(id) = outbound.speech_interruptible() {
                    // Barge-in by speech stops the prompt here, at once; the play
                    // verb counts it.
                    outbound.stop(id, now, true);
                }
            }
            Some(VoiceEvent::SpeechStopped { .. }) => {
                let _ = self.events.send(CallEvent::SpeechStopped);
            }
            None => {}
        }
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
            self.finish(id, RecordEnd::Silence).await;
        }
    }

    /// Adds the jitter buffer's counters since the last call to `counts`.
    pub(super) fn count_jitter(&mut self, counts: &mut MediaCounts) {
        let stats = self.jitter.stats();
        let drops = stats.overrun_drops + stats.trimmed_frames;
        let (frames_in, underruns, dropped) = self.counted;
        counts.frames_in += stats.frames_in - frames_in;
        counts.underruns += stats.underruns - underruns;
        counts.drops += drops - dropped;
        self.counted = (stats.frames_in, stats.underruns, drops);
    }

    /// Closes recording `id` with `end`.
    async fn finish(&mut self, id: u64, end: RecordEnd) {
        let Some(index) = self.recordings.iter().position(|r| r.id == id) else {
            return;
        };
        let recording = self.recordings.swap_remove(index);
        let command = WriterCommand::Finish {
            id,
            end,
            done: recording.done,
        };
        let _ = self.writer.send(command).await;
    }

    /// Closes every recording (the call's media is over).
    pub(super) async fn finish_all(&mut self, end: RecordEnd) {
        while let Some(recording) = self.recordings.pop() {
            let command = WriterCommand::Finish {
                id: recording.id,
                end,
                done: recording.done,
            };
            let _ = self.writer.send(command).await;
        }
    }
}
