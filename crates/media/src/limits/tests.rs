use std::path::{Path, PathBuf};

use super::*;
use crate::{Prompt, PromptError, PromptErrorKind};

/// A canonical 44-byte header for 16-bit mono PCM at `rate`, declaring `declared` data bytes,
/// followed by `data`.
pub(crate) fn wav_bytes(rate: u32, declared: u32, data: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(44 + data.len());
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&declared.saturating_add(36).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
    bytes.extend_from_slice(&1u16.to_le_bytes()); // mono
    bytes.extend_from_slice(&rate.to_le_bytes());
    bytes.extend_from_slice(&rate.wrapping_mul(2).to_le_bytes());
    bytes.extend_from_slice(&2u16.to_le_bytes()); // block align
    bytes.extend_from_slice(&16u16.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&declared.to_le_bytes());
    bytes.extend_from_slice(data);
    bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

/// The error of loading `path` within `limits`, after checking it names the file.
fn load_error(path: &Path, limits: &AudioLimits) -> PromptErrorKind {
    let error: PromptError = Prompt::load_checked(path, limits).expect_err("must be refused");
    assert_eq!(error.path, path);
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    error.kind
}

/// Issue #12: 16 KB of data declaring 1 Hz would decode to 8000 s (384 MB at 8 kHz).
#[test]
fn issue_12_a_1_hz_header_is_refused_before_decoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "one_hz.wav",
        &wav_bytes(1, 16_384, &[0x55; 16_384]),
    );
    let kind = load_error(&path, &AudioLimits::default());
    assert!(
        matches!(
            kind,
            PromptErrorKind::SampleRate {
                hz: 1,
                min_hz: 4_000,
                max_hz: 192_000
            }
        ),
        "{kind:?}"
    );
    assert_eq!(
        kind.to_string(),
        "sample rate 1 Hz is outside 4000–192000 Hz"
    );
    let too_fast = write(dir.path(), "fast.wav", &wav_bytes(384_000, 64, &[0; 64]));
    assert!(matches!(
        load_error(&too_fast, &AudioLimits::default()),
        PromptErrorKind::SampleRate { hz: 384_000, .. }
    ));
}

#[test]
fn the_rate_limits_are_inclusive() {
    for rate in [AudioLimits::MIN_RATE_HZ, AudioLimits::MAX_RATE_HZ] {
        let bytes = wav_bytes(rate, 4_000, &[0x10; 4_000]);
        let loaded = Prompt::from_wav_bytes_checked(&bytes, &AudioLimits::default())
            .unwrap_or_else(|e| panic!("{rate} Hz: {e}"));
        assert!(loaded.warnings.is_empty());
    }
}

/// A sparse 100 MiB file: reading it would take seconds and hundreds of MB, so an immediate
/// `TooLong` shows the duration came from the header and the size, not from decoding.
#[test]
fn duration_is_checked_from_header_and_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "long.wav", &wav_bytes(8_000, 0xFFFF_FFFF, &[]));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|file| file.set_len(100 * 1024 * 1024))
        .expect("grow the file");
    let kind = load_error(&path, &AudioLimits::default());
    match kind {
        PromptErrorKind::TooLong { duration, max } => {
            assert_eq!(max, Duration::from_secs(600));
            // (100 MiB - 44 bytes) / 2 bytes / 8000 Hz.
            assert_eq!(duration.as_secs(), 6_553);
        }
        other => panic!("{other:?}"),
    }
    let raised = AudioLimits::default()
        .with_max_duration(Duration::from_secs(7_000))
        .inspect(&path)
        .expect("within a raised limit");
    assert_eq!(raised.frames, (100 * 1024 * 1024 - 44) / 2);
    let shorter = AudioLimits::default().with_max_duration(Duration::from_millis(100));
    let small = write(
        dir.path(),
        "small.wav",
        &wav_bytes(8_000, 3_200, &[0; 3_200]),
    );
    assert!(matches!(
        load_error(&small, &shorter),
        PromptErrorKind::TooLong { .. }
    ));
}

#[test]
fn file_size_is_checked_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "big.pcm", &[0; 2_000]);
    let limits = AudioLimits::default().with_max_file_bytes(1_000);
    assert!(matches!(
        load_error(&path, &limits),
        PromptErrorKind::FileTooLarge {
            bytes: 2_000,
            max_bytes: 1_000
        }
    ));
}

/// Issue #12: `/dev/zero` given as a `.pcm` was read until memory ran out.
#[cfg(unix)]
#[test]
fn issue_12_devices_fifos_and_folders_are_refused() {
    let limits = AudioLimits::default();
    // /dev/zero has no .pcm extension; a symlink named .pcm gives it one.
    let dir = tempfile::tempdir().expect("tempdir");
    let link = dir.path().join("zero.pcm");
    std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
    let kind = load_error(&link, &limits);
    assert!(
        matches!(kind, PromptErrorKind::NotAFile("a character device")),
        "{kind:?}"
    );
    let fifo = dir.path().join("pipe.wav");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    // Opening a FIFO would block until a writer came: it must be refused before opening.
    assert!(matches!(
        load_error(&fifo, &limits),
        PromptErrorKind::NotAFile("a FIFO")
    ));
    assert!(matches!(
        load_error(dir.path(), &limits),
        PromptErrorKind::NotAFile("a directory")
    ));
}

#[test]
fn a_truncated_wav_loads_what_is_there_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Declares 1 s, holds 0.5 s and half a sample.
    let path = write(
        dir.path(),
        "cut.wav",
        &wav_bytes(8_000, 16_000, &[0x20; 8_001]),
    );
    let loaded = Prompt::load_checked(&path, &AudioLimits::default()).expect("usable");
    assert_eq!(loaded.prompt.len_samples(), 4_000);
    assert_eq!(
        loaded.warnings,
        [AudioWarning::Truncated {
            declared: Duration::from_secs(1),
            read: Duration::from_millis(500),
        }]
    );
    assert_eq!(
        loaded.warnings[0].to_string(),
        "truncated: the header declares 1.00 s but the file holds 0.50 s; read 0.50 s"
    );
}

#[test]
fn a_wav_cut_before_its_first_sample_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "cut.wav", &wav_bytes(8_000, 16_000, &[0x20]));
    let kind = load_error(&path, &AudioLimits::default());
    assert!(
        matches!(kind, PromptErrorKind::Truncated { declared } if declared == Duration::from_secs(1)),
        "{kind:?}"
    );
    assert!(kind.to_string().contains("declares 1.00 s"), "{kind}");
}

#[test]
fn odd_length_pcm_reads_the_whole_samples_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "odd.raw", &[1, 0, 2, 0, 3]);
    let loaded = Prompt::load_checked(&path, &AudioLimits::default()).expect("usable");
    assert_eq!(loaded.prompt.samples(), &[1, 2]);
    assert_eq!(
        loaded.warnings,
        [AudioWarning::TrailingBytes {
            bytes: 1,
            read: Duration::from_micros(250),
        }]
    );
    assert_eq!(
        loaded.warnings[0].to_string(),
        "ignored 1 trailing byte after the last whole sample; read 0.00 s"
    );
}

#[test]
fn inspect_describes_without_decoding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "a.wav",
        &wav_bytes(16_000, 32_000, &[0; 32_000]),
    );
    let info = AudioLimits::default().inspect(&path).expect("valid");
    assert_eq!(info.sample_rate_hz, 16_000);
    assert_eq!(info.channels, 1);
    assert_eq!(info.frames, 16_000);
    assert_eq!(info.frame_bytes, 2);
    assert_eq!(info.data_offset, 44);
    assert_eq!(info.duration, Duration::from_secs(1));
    assert!(info.warnings.is_empty());
}

#[test]
fn chunks_before_the_data_are_skipped_and_a_missing_fmt_is_named() {
    let mut bytes = wav_bytes(8_000, 4, &[1, 0, 2, 0]);
    // A 3-byte LIST chunk (padded to 4) between fmt and data.
    bytes.splice(36..36, *b"LIST\x03\x00\x00\x00abc\x00");
    let loaded = Prompt::from_wav_bytes_checked(&bytes, &AudioLimits::default()).expect("valid");
    assert_eq!(loaded.prompt.samples(), &[1, 2]);
    let mut no_fmt = b"RIFF\x0c\x00\x00\x00WAVEdata\x04\x00\x00\x00".to_vec();
    no_fmt.extend_from_slice(&[0; 4]);
    let error = Prompt::from_wav_bytes(&no_fmt).expect_err("no fmt");
    assert!(
        error
            .to_string()
            .contains("data chunk comes before the fmt chunk"),
        "{error}"
    );
}
