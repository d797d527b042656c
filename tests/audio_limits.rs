//! Issue #12, limits on audio inputs, seen from the command line: `convert` and
//! `transcribe` refuse files over the limits with an error naming the file and the rule,
//! before writing anything, and say what they read from a usable but damaged file.

use std::path::{Path, PathBuf};

use crate::cli::{code, text, voicebot, within};

/// A 16-bit mono PCM WAV at `rate` whose header declares `declared` data bytes, holding
/// `data_bytes` of a ramp.
fn write_wav(path: &Path, rate: u32, declared: u32, data_bytes: u32) {
    let mut bytes = b"RIFF".to_vec();
    bytes.extend_from_slice(&declared.saturating_add(36).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x01\0");
    bytes.extend_from_slice(&rate.to_le_bytes());
    bytes.extend_from_slice(&rate.wrapping_mul(2).to_le_bytes());
    bytes.extend_from_slice(b"\x02\0\x10\0data");
    bytes.extend_from_slice(&declared.to_le_bytes());
    bytes.extend((0..data_bytes).map(|n| (n % 199) as u8));
    std::fs::write(path, bytes).unwrap();
}

fn arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Issue #12: a 16 KB WAV declaring 1 Hz made `convert` write 8000 s (384 MB).
#[tokio::test]
async fn issue_12_convert_refuses_a_1_hz_wav_and_writes_nothing() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("one_hz.wav");
        write_wav(&input, 1, 16_384, 16_384);
        let output_file = dir.path().join("out.wav");
        let output = voicebot(&["convert", &arg(&input), &arg(&output_file)], &[]).await;
        let stderr = text(&output.stderr);
        assert_eq!(code(&output), 2, "{stderr}");
        assert!(stderr.contains(&arg(&input)), "{stderr}");
        assert!(
            stderr.contains("sample rate 1 Hz is outside 4000–192000 Hz"),
            "{stderr}"
        );
        assert!(!output_file.exists(), "nothing was written");
    })
    .await;
}

/// Issue #12: `/dev/zero` given as a `.pcm` was read until memory ran out.
#[cfg(unix)]
#[tokio::test]
async fn issue_12_convert_refuses_a_device_given_as_pcm() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let zero = dir.path().join("zero.pcm");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let output_file = dir.path().join("out.wav");
        let output = voicebot(&["convert", &arg(&zero), &arg(&output_file)], &[]).await;
        let stderr = text(&output.stderr);
        assert_eq!(code(&output), 2, "{stderr}");
        assert!(
            stderr.contains("zero.pcm: not a regular file: it is a character device"),
            "{stderr}"
        );
        assert!(!output_file.exists());
    })
    .await;
}

#[tokio::test]
async fn convert_says_what_it_read_from_a_truncated_wav_and_honours_max_duration() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        // Declares 2 s at 8 kHz, holds 1 s.
        let input = dir.path().join("cut.wav");
        write_wav(&input, 8_000, 32_000, 16_000);
        let out: PathBuf = dir.path().join("out.pcm");
        let output = voicebot(&["convert", &arg(&input), &arg(&out)], &[]).await;
        let stderr = text(&output.stderr);
        assert_eq!(code(&output), 0, "{stderr}");
        assert!(
            stderr.contains(&format!(
                "warning: {}: truncated: the header declares 2.00 s but the file holds 1.00 s",
                input.display()
            )),
            "{stderr}"
        );
        assert_eq!(std::fs::metadata(&out).unwrap().len(), 16_000);

        let limited = dir.path().join("limited.pcm");
        let args = [
            "convert",
            &arg(&input),
            &arg(&limited),
            "--max-duration",
            "500ms",
        ];
        let output = voicebot(&args, &[]).await;
        let stderr = text(&output.stderr);
        assert_eq!(code(&output), 2, "{stderr}");
        assert!(
            stderr.contains("the audio lasts 1.00 s, more than the limit of 0.50 s"),
            "{stderr}"
        );
        assert!(!limited.exists());
    })
    .await;
}

#[tokio::test]
async fn transcribe_refuses_a_file_over_the_limits_before_starting_a_recogniser() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("fast.wav");
        write_wav(&input, 400_000, 1_000, 1_000);
        // The recogniser would be a program that does not exist: the file is checked first.
        let args = [
            "transcribe",
            &arg(&input),
            "--recognizer",
            "/nonexistent/recogniser",
        ];
        let output = voicebot(&args, &[]).await;
        let stderr = text(&output.stderr);
        assert_eq!(code(&output), 2, "{stderr}");
        assert!(stderr.contains("fast.wav"), "{stderr}");
        assert!(stderr.contains("sample rate 400000 Hz"), "{stderr}");
    })
    .await;
}
