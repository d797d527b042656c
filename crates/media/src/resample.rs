//! Resampling with rubato: whole prompts to 8 kHz, and streaming call audio (8 kHz → 16 kHz for
//! recognisers and the voice detector).
//!
//! Fixed integer ratios use rubato's `Fft` with `FixedSync::Both`, which keeps 3.4 kHz at 0 dB and
//! puts aliases about 145 dB down (`FixedSync::Input` picks a small FFT from 48 kHz and cuts at
//! 3 kHz, so it is not used). A ratio whose reduced form is too large for an FFT (an odd rate such
//! as 44,101 Hz) falls back to a 256-tap sinc interpolator.

use std::fmt;

use rubato::{
    Async, Fft, FixedAsync, FixedSync, Resampler, SincInterpolationParameters,
    SincInterpolationType, WindowFunction, audioadapter_buffers::direct::InterleavedSlice,
};

use crate::{
    error::{ConfigError, ResampleError},
    frame::{Frame, SAMPLE_RATE},
};

/// The largest reduced input rate the FFT resampler is used for; beyond it, sinc.
const MAX_FFT_REDUCED_RATE: u32 = 2_048;

/// Which rubato resampler a ratio gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResamplerKind {
    /// `Fft` with `FixedSync::Both` (integer ratio with a small reduced form).
    Fft,
    /// `Async` sinc, 256 taps, cubic interpolation.
    Sinc,
}

/// Picks the resampler for `from_hz → to_hz`.
#[must_use]
pub fn resampler_kind(from_hz: u32, to_hz: u32) -> ResamplerKind {
    let g = gcd(from_hz, to_hz).max(1);
    match from_hz / g <= MAX_FFT_REDUCED_RATE && to_hz / g <= MAX_FFT_REDUCED_RATE {
        true => ResamplerKind::Fft,
        false => ResamplerKind::Sinc,
    }
}

fn build(
    from_hz: u32,
    to_hz: u32,
    chunk: usize,
) -> Result<Box<dyn Resampler<f32> + Send>, ConfigError> {
    let unsupported = ConfigError::UnsupportedRate { from_hz, to_hz };
    if from_hz == 0 || to_hz == 0 || chunk == 0 {
        return Err(unsupported);
    }
    match resampler_kind(from_hz, to_hz) {
        ResamplerKind::Fft => {
            Fft::<f32>::new(from_hz as usize, to_hz as usize, chunk, 1, FixedSync::Both)
                .map(|r| Box::new(r) as Box<dyn Resampler<f32> + Send>)
                .map_err(|_| unsupported)
        }
        ResamplerKind::Sinc => {
            let params = SincInterpolationParameters::new(256, WindowFunction::BlackmanHarris2)
                .interpolation(SincInterpolationType::Cubic)
                .oversampling_factor(128);
            let ratio = f64::from(to_hz) / f64::from(from_hz);
            Async::<f32>::new_sinc(ratio, 1.1, &params, chunk, 1, FixedAsync::Input)
                .map(|r| Box::new(r) as Box<dyn Resampler<f32> + Send>)
                .map_err(|_| unsupported)
        }
    }
}

/// Resamples a whole mono clip (samples in `-1.0..1.0`) to 8 kHz, trimming the filter delay.
///
/// # Errors
/// [`ConfigError::UnsupportedRate`] if rubato cannot build a resampler for `from_hz`.
pub fn resample_to_8k(samples: &[f32], from_hz: u32) -> Result<Vec<i16>, ConfigError> {
    if from_hz == SAMPLE_RATE || samples.is_empty() {
        return Ok(samples.iter().map(|&s| f32_to_i16(s)).collect());
    }
    let chunk = (from_hz as usize / 50).max(1);
    let mut resampler = build(from_hz, SAMPLE_RATE, chunk)?;
    let unsupported = ConfigError::UnsupportedRate {
        from_hz,
        to_hz: SAMPLE_RATE,
    };
    let input = InterleavedSlice::new(samples, 1, samples.len()).map_err(|_| unsupported)?;
    let output = resampler
        .process_all(&input, samples.len(), None)
        .map_err(|_| unsupported)?;
    Ok(output.take_data().into_iter().map(f32_to_i16).collect())
}

/// Converts an `i16` sample to `-1.0..1.0` (exact: every `i16` is an `f32`).
fn i16_to_f32(sample: i16) -> f32 {
    f32::from(sample) / 32_768.0
}

/// Converts a `-1.0..1.0` sample to `i16`, rounding (truncating would add a
/// small distortion) and saturating.
#[must_use]
pub fn f32_to_i16(sample: f32) -> i16 {
    (sample * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16
}

/// A streaming resampler between two fixed rates: fixed-size `i16` chunks in, fixed-size chunks
/// out, no allocation after construction. Shaped like rubato's `process_into_buffer`: ask
/// [`Self::samples_needed`], pass exactly that many samples.
pub struct StreamResampler {
    inner: Box<dyn Resampler<f32> + Send>,
    from_hz: u32,
    to_hz: u32,
    input: Vec<f32>,
    output: Vec<f32>,
}

impl StreamResampler {
    /// Builds a resampler taking `chunk_samples` input samples per call.
    ///
    /// # Errors
    /// [`ConfigError::UnsupportedRate`] if a rate is zero or rubato refuses the ratio.
    pub fn new(from_hz: u32, to_hz: u32, chunk_samples: usize) -> Result<Self, ConfigError> {
        let inner = build(from_hz, to_hz, chunk_samples)?;
        let output = vec![0.0; inner.output_frames_max()];
        let input = vec![0.0; inner.input_frames_max()];
        Ok(Self {
            inner,
            from_hz,
            to_hz,
            input,
            output,
        })
    }

    /// Input samples the next [`Self::process_into`] call needs.
    #[must_use]
    pub fn samples_needed(&self) -> usize {
        self.inner.input_frames_next()
    }

    /// The most output samples one call can produce.
    #[must_use]
    pub fn output_samples_max(&self) -> usize {
        self.output.len()
    }

    /// Output samples of latency the filter adds.
    #[must_use]
    pub fn delay_samples(&self) -> usize {
        self.inner.output_delay()
    }

    /// Resamples one chunk; returns the number of samples written to `out`.
    ///
    /// # Errors
    /// [`ResampleError::InputLength`] unless `input.len() == samples_needed()`;
    /// [`ResampleError::OutputTooSmall`] if `out` is shorter than `output_samples_max()`.
    pub fn process_into(&mut self, input: &[i16], out: &mut [i16]) -> Result<usize, ResampleError> {
        let needed = self.samples_needed();
        if input.len() != needed {
            return Err(ResampleError::InputLength {
                expected: needed,
                actual: input.len(),
            });
        }
        if out.len() < self.output.len() {
            return Err(ResampleError::OutputTooSmall {
                needed: self.output.len(),
                actual: out.len(),
            });
        }
        for (dst, &src) in self.input.iter_mut().zip(input) {
            *dst = i16_to_f32(src);
        }
        let cap = self.output.len();
        let inp = InterleavedSlice::new(&self.input[..needed], 1, needed)
            .map_err(|_| ResampleError::Internal)?;
        let mut outp = InterleavedSlice::new_mut(&mut self.output, 1, cap)
            .map_err(|_| ResampleError::Internal)?;
        let (_, produced) = self
            .inner
            .process_into_buffer(&inp, &mut outp, None)
            .map_err(|_| ResampleError::Internal)?;
        for (dst, &src) in out.iter_mut().zip(&self.output[..produced]) {
            *dst = f32_to_i16(src);
        }
        Ok(produced)
    }

    /// Clears the filter state (between unrelated streams).
    pub fn reset(&mut self) {
        self.inner.reset();
    }
}

impl fmt::Debug for StreamResampler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamResampler")
            .field("from_hz", &self.from_hz)
            .field("to_hz", &self.to_hz)
            .field("chunk", &self.samples_needed())
            .finish()
    }
}

/// Streaming 8 kHz → 16 kHz for recognisers that want wideband input: one [`Frame`] in,
/// 320 samples out, allocation-free. Adds 10 ms of delay.
#[derive(Debug)]
pub struct Upsampler8To16 {
    inner: StreamResampler,
}

impl Upsampler8To16 {
    /// Output samples per frame.
    pub const OUTPUT_SAMPLES: usize = 2 * Frame::SAMPLES;

    /// Builds the upsampler.
    ///
    /// # Errors
    /// Never in practice; [`ConfigError`] if rubato rejects the fixed 1:2 ratio.
    pub fn new() -> Result<Self, ConfigError> {
        Ok(Self {
            inner: StreamResampler::new(SAMPLE_RATE, 2 * SAMPLE_RATE, Frame::SAMPLES)?,
        })
    }

    /// Upsamples one frame into `out`.
    ///
    /// # Errors
    /// [`ResampleError::Internal`] if rubato fails (a broken invariant).
    pub fn process(
        &mut self,
        frame: &Frame,
        out: &mut [i16; Self::OUTPUT_SAMPLES],
    ) -> Result<(), ResampleError> {
        let written = self.inner.process_into(frame.as_samples(), out)?;
        match written == Self::OUTPUT_SAMPLES {
            true => Ok(()),
            false => Err(ResampleError::Internal),
        }
    }

    /// Output samples of latency (at 16 kHz).
    #[must_use]
    pub fn delay_samples(&self) -> usize {
        self.inner.delay_samples()
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    match b {
        0 => a,
        _ => gcd(b, a % b),
    }
}

#[cfg(test)]
mod tests;
