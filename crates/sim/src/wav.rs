//! WAV and PCM helpers for scripted callers. A scenario's WAV obeys the same limits as
//! the engine's prompts (the media crate's [`AudioLimits`], checked before reading any
//! sample); decoding is hound's and this file's own, so the simulator shares no decoder
//! with the media crate it helps test.

use std::path::Path;

use voicebot_media::AudioLimits;

use crate::SimError;

/// Reads a WAV file as 8 kHz mono s16 samples: channels are averaged, other rates
/// are converted by linear interpolation (good enough for a test caller).
///
/// # Errors
/// [`SimError::Wav`] naming the file and what is wrong: over the limits of
/// [`AudioLimits::default`] (not a regular file, too large or too long, a rate
/// outside 4–192 kHz), or not a WAV hound reads.
pub(crate) fn read_pcm(path: &Path) -> Result<Vec<i16>, SimError> {
    let fail = |reason: String| SimError::Wav {
        path: path.display().to_string(),
        reason,
    };
    let info = AudioLimits::default()
        .inspect(path)
        .map_err(|e| fail(e.kind.to_string()))?;
    for warning in &info.warnings {
        tracing::warn!(file = %path.display(), %warning, "scenario audio");
    }
    let mut reader = hound::WavReader::open(path).map_err(|e| fail(e.to_string()))?;
    let spec = reader.spec();
    // No more than the checked length, and stop at the first read error: a truncated
    // file ends early.
    let checked = usize::try_from(info.frames * u64::from(info.channels)).unwrap_or(usize::MAX);
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .take(checked)
            .map_while(Result::ok)
            .collect(),
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1i64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .take(checked)
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

/// Writes 8 kHz mono s16 samples as a WAV file into memory.
pub(crate) fn write_wav_to(out: &mut Vec<u8>, samples: &[i16]) {
    let data_bytes = u32::try_from(samples.len() * 2).unwrap_or(u32::MAX - 36);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_bytes).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_bytes.to_le_bytes());
    out.extend_from_slice(&to_bytes(samples));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(rate: u32, data_bytes: u32) -> Vec<u8> {
        let mut bytes = b"RIFF".to_vec();
        bytes.extend_from_slice(&(36 + data_bytes).to_le_bytes());
        bytes.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x01\0");
        bytes.extend_from_slice(&rate.to_le_bytes());
        bytes.extend_from_slice(&(rate * 2).to_le_bytes());
        bytes.extend_from_slice(b"\x02\0\x10\0data");
        bytes.extend_from_slice(&data_bytes.to_le_bytes());
        bytes
    }

    /// Issue #12: a scenario WAV declaring 1 Hz is refused like a prompt, naming the file.
    #[test]
    fn scenario_wavs_obey_the_prompt_limits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one_hz.wav");
        let mut bytes = header(1, 16_384);
        bytes.resize(bytes.len() + 16_384, 0x11);
        std::fs::write(&path, bytes).unwrap();
        let error = read_pcm(&path).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("one_hz.wav"), "{message}");
        assert!(message.contains("sample rate 1 Hz is outside"), "{message}");

        #[cfg(unix)]
        {
            let zero = dir.path().join("zero.wav");
            std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
            let message = read_pcm(&zero).unwrap_err().to_string();
            assert!(message.contains("not a regular file"), "{message}");
        }
    }

    #[test]
    fn a_truncated_scenario_wav_gives_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.wav");
        // Declares 1 s at 16 kHz, holds 0.25 s.
        let mut bytes = header(16_000, 32_000);
        bytes.resize(bytes.len() + 8_000, 0);
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(read_pcm(&path).unwrap().len(), 2_000);
    }
}
