//! WAV and PCM helpers for scripted callers (hound directly: the simulator shares
//! no code with the media crate it helps test).

use std::path::Path;

use crate::SimError;

/// Reads a WAV file as 8 kHz mono s16 samples: channels are averaged, other rates
/// are converted by linear interpolation (good enough for a test caller).
pub(crate) fn read_pcm(path: &Path) -> Result<Vec<i16>, SimError> {
    let fail = |reason: String| SimError::Wav {
        path: path.display().to_string(),
        reason,
    };
    let mut reader = hound::WavReader::open(path).map_err(|e| fail(e.to_string()))?;
    let spec = reader.spec();
    // Stop at the first read error: streaming headers carry a bogus length.
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().map_while(Result::ok).collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1i64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .map_while(Result::ok)
                .map(|v| v as f32 * scale)
                .collect()
        }
    };
    let channels = usize::from(spec.channels.max(1));
    let mono: Vec<f32> = samples
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    let mono = resample_linear(&mono, spec.sample_rate, 8000);
    Ok(mono
        .iter()
        .map(|v| (v.clamp(-1.0, 1.0) * 32767.0).round() as i16)
        .collect())
}

fn resample_linear(input: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || from == 0 || input.is_empty() {
        return input.to_vec();
    }
    let out_len = (input.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    let step = f64::from(from) / f64::from(to);
    (0..out_len)
        .map(|i| {
            let position = i as f64 * step;
            let index = position as usize;
            let fraction = (position - index as f64) as f32;
            let a = input[index.min(input.len() - 1)];
            let b = input[(index + 1).min(input.len() - 1)];
            a + (b - a) * fraction
        })
        .collect()
}

/// Samples as s16le bytes.
pub(crate) fn to_bytes(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// Writes 8 kHz mono s16 samples as a WAV file.
///
/// # Errors
/// When the file cannot be written.
pub fn write_wav(path: &Path, samples: &[i16]) -> Result<(), SimError> {
    let fail = |e: hound::Error| SimError::Wav {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(fail)?;
    for &sample in samples {
        writer.write_sample(sample).map_err(fail)?;
    }
    writer.finalize().map_err(fail)
}
