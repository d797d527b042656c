//! voicebot-media: the synchronous signal-processing core every call runs through.
//!
//! This crate owns call audio from bytes to decisions: 20 ms [`Frame`]s of 8 kHz s16le mono and
//! their byte-stream [`FrameDecoder`]; G.711 μ-law and A-law ([`G711`]); the caller-side [`JitterBuffer`]; [`Prompt`] loading within
//! [`AudioLimits`] and resampling ([`PromptCache`], [`StreamResampler`], [`Upsampler8To16`]); the bot-side [`Pacer`];
//! WAV [`Recorder`]s and [`repair_wav`]; DTMF ([`DtmfGenerator`], [`DtmfDetector`]); voice activity
//! ([`VoiceDetector`]); and level metering and mixing ([`LevelMeter`], [`mix_into`]).
//!
//! It must not depend on any other workspace crate, nor on tokio or any async runtime: the
//! engine's media task calls into it once per 20 ms tick. Everything here is a plain state
//! machine that takes time as a `Duration` argument (never reads a clock), so tests are
//! deterministic, and the per-frame paths do not allocate after construction. Digits are plain
//! `char`s for the same reason.
//!
//! Which audio goes where: real-time consumers (barge-in, voice and DTMF detection, streaming
//! bots) read from the [`JitterBuffer`], which conceals underruns and drops on overrun. The
//! [`Recorder`] does not: it takes the lossless byte stream, so nothing the caller said is lost.
//!
//! Errors: settings rejected at construction are [`ConfigError`]; per-chunk failures on the hot
//! path are small `Copy` enums ([`ResampleError`]); file problems ([`PromptError`],
//! [`RecorderError`]) name the file.
//!
//! ```no_run
//! use std::time::Duration;
//! use voicebot_media::{DtmfDetector, JitterBuffer, JitterConfig, Lookup, Pacer, Prompt};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut jitter = JitterBuffer::new(JitterConfig::default())?;
//! let mut dtmf = DtmfDetector::new();
//! let mut pacer = Pacer::new(Pacer::DEFAULT_LEAD)?;
//! pacer.enqueue(Prompt::load("samples/welcome.wav")?);
//!
//! // Whenever bytes arrive from the PBX:
//! jitter.push(&[0u8; 333], Duration::from_millis(5));
//! // Every 20 ms tick:
//! let now = Duration::from_millis(20);
//! if let Lookup::Frame(frame) = jitter.pop(now) {
//!     if let Some(digit) = dtmf.process(&frame) {
//!         let flushed = pacer.flush(now); // barge-in
//!         println!("{digit} after {:?} of the prompt", flushed.heard);
//!     }
//! }
//! while let Some(frame) = pacer.poll(now) {
//!     let _bytes = frame.to_bytes(); // send to the PBX
//! }
//! # Ok(())
//! # }
//! ```

pub mod dtmf;
pub mod error;
pub mod frame;
pub mod g711;
pub mod jitter;
pub mod level;
pub mod limits;
pub mod pacer;
pub mod prompt;
pub mod recorder;
pub mod resample;
pub mod vad;

#[cfg(test)]
mod testutil;

pub use crate::{
    dtmf::{
        DBM0_PEAK_DBFS, DtmfConfig, DtmfDetector, DtmfGenerator, HIGH_GROUP_HZ, LOW_GROUP_HZ,
        digit_frequencies,
    },
    error::{
        ConfigError, DtmfError, PromptError, PromptErrorKind, RecorderError, RecorderErrorKind,
        ResampleError,
    },
    frame::{
        Frame, FrameDecoder, FrameEncoder, SAMPLE_RATE, decode_samples, duration_to_samples,
        encode_samples, samples_to_duration,
    },
    g711::{G711, alaw_decode, alaw_encode, ulaw_decode, ulaw_encode},
    jitter::{JitterBuffer, JitterConfig, JitterStats, Lookup, PlayoutMode},
    level::{Level, LevelMeter, SILENCE_DBFS, measure, mix_into},
    limits::{AudioInfo, AudioLimits, AudioWarning},
    pacer::{Flushed, Pacer, Repeat},
    prompt::{CacheStats, LoadedPrompt, Prompt, PromptCache},
    recorder::{Channels, Recorder, RecorderBuilder, RecordingSummary, Repair, repair_wav},
    resample::{
        ResamplerKind, StreamResampler, Upsampler8To16, f32_to_i16, resample_to_8k, resampler_kind,
    },
    vad::{VadConfig, VadModel, VoiceDetector, VoiceEvent},
};

#[cfg(test)]
mod tests {
    // Compile-time checks: these fail to build, not to run, if a bound is lost.
    fn assert_send<T: Send + 'static>() {}
    fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}

    /// Every per-call component can move into the engine's media task.
    #[test]
    fn components_are_send() {
        assert_send::<crate::JitterBuffer>();
        assert_send::<crate::Pacer>();
        assert_send::<crate::Recorder>();
        assert_send::<crate::DtmfDetector>();
        assert_send::<crate::VoiceDetector>();
        assert_send::<crate::StreamResampler>();
        assert_send::<crate::PromptCache>();
        assert_send::<crate::Prompt>();
    }

    /// Errors can travel across tasks and into `anyhow`/`Box<dyn Error>`.
    #[test]
    fn errors_are_std_errors() {
        assert_error::<crate::ConfigError>();
        assert_error::<crate::ResampleError>();
        assert_error::<crate::PromptError>();
        assert_error::<crate::RecorderError>();
        assert_error::<crate::DtmfError>();
    }
}
