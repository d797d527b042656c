//! `record().trim_silence(true)`: cuts leading and trailing silence from a finished
//! recording. Nothing between the first and the last sound is touched, so the file
//! stays a lossless copy of what the caller said.
//!
//! A 20 ms frame is *sound* when its RMS level (`voicebot_media::level`) reaches
//! [`SOUND_DBFS`], or lies within [`RELATIVE_DB`] of the loudest frame when that is
//! higher (a noisy line must not count as sound throughout). [`PAD`] is kept on both
//! sides so soft onsets and word endings survive. A file without any sound is cut to
//! zero length. Runs on the blocking pool once the writer has closed the file.

use std::path::Path;
use std::time::Duration;

use voicebot_media::level::measure;

/// Frames at or above this RMS level (dBFS) are sound.
pub(crate) const SOUND_DBFS: f32 = -50.0;
/// Frames more than this far below the loudest frame are silence.
pub(crate) const RELATIVE_DB: f32 = 40.0;
/// Audio kept before the first and after the last frame of sound.
pub(crate) const PAD: Duration = Duration::from_millis(100);

/// Trims `path` in place and returns the length of the audio left in it.
///
/// # Errors
/// When the file cannot be read or rewritten; the original file is then untouched
/// (the trimmed copy replaces it by a rename).
pub(crate) fn trim_file(path: &Path) -> std::io::Result<Duration> {
    let mut reader = hound::WavReader::open(path).map_err(std::io::Error::other)?;
    let spec = reader.spec();
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .map_err(std::io::Error::other)?;
    drop(reader);
    let channels = usize::from(spec.channels.max(1));
    let (start, end) = sound_span(&samples, channels, spec.sample_rate);
    let duration = |len: usize| {
        Duration::from_secs_f64((len / channels) as f64 / f64::from(spec.sample_rate.max(1)))
    };
    if (start, end) == (0, samples.len()) {
        return Ok(duration(samples.len()));
    }
    // Write a sibling and rename it over the original: a failure leaves the whole file.
    let temporary = path.with_extension("trimming");
    let written = (|| {
        let mut writer = hound::WavWriter::create(&temporary, spec)?;
        for &sample in &samples[start..end] {
            writer.write_sample(sample)?;
        }
        writer.finalize()
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(std::io::Error::other(error));
    }
    std::fs::rename(&temporary, path)?;
    Ok(duration(end - start))
}

/// The interleaved sample range `start..end` to keep (empty when nothing is sound).
fn sound_span(samples: &[i16], channels: usize, sample_rate: u32) -> (usize, usize) {
    let frame_len = (sample_rate as usize / 50).max(1) * channels;
    let levels: Vec<f32> = samples
        .chunks(frame_len)
        .map(|frame| measure(frame).rms_dbfs)
        .collect();
    let loudest = levels.iter().copied().fold(f32::MIN, f32::max);
    let threshold = SOUND_DBFS.max(loudest - RELATIVE_DB);
    let first = levels.iter().position(|&level| level >= threshold);
    let last = levels.iter().rposition(|&level| level >= threshold);
    let (Some(first), Some(last)) = (first, last) else {
        return (0, 0);
    };
    let pad = (PAD.as_secs_f64() * f64::from(sample_rate)) as usize * channels;
    let start = (first * frame_len).saturating_sub(pad);
    let end = ((last + 1) * frame_len + pad).min(samples.len());
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(samples: usize) -> Vec<i16> {
        (0..samples)
            .map(|n| ((n as f64 * 0.3).sin() * 8000.0) as i16)
            .collect()
    }

    #[test]
    fn silence_around_sound_is_cut_with_padding() {
        let mut samples = vec![0i16; 8000];
        samples.extend(tone(4000));
        samples.extend(vec![3i16; 8000]);
        let (start, end) = sound_span(&samples, 1, 8000);
        assert_eq!((start, end), (8000 - 800, 12_000 + 800));
    }

    #[test]
    fn only_silence_leaves_nothing_and_only_sound_everything() {
        assert_eq!(sound_span(&[0; 1600], 1, 8000), (0, 0));
        assert_eq!(sound_span(&tone(1600), 1, 8000), (0, 1600));
    }

    #[test]
    fn a_file_is_rewritten_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        let said = tone(8000);
        for sample in [vec![0; 16_000], said.clone(), vec![0; 16_000]].concat() {
            writer.write_sample(sample).unwrap();
        }
        writer.finalize().unwrap();
        let duration = trim_file(&path).unwrap();
        assert_eq!(duration, Duration::from_millis(1200));
        let kept: Vec<i16> = hound::WavReader::open(&path)
            .unwrap()
            .samples::<i16>()
            .map(Result::unwrap)
            .collect();
        assert_eq!(&kept[800..8800], &said[..]);
    }
}
