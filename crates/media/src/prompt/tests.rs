use std::{io::Cursor, path::PathBuf};

use test_case::test_case;

use super::*;
use crate::{error::PromptErrorKind, testutil::tone_amplitude};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Writes a 0.5 s 1 kHz tone at amplitude 0.5 in the given format; stereo puts it in both channels.
fn write_wav(dir: &Path, rate: u32, channels: u16, bits: u16, float: bool) -> PathBuf {
    let path = dir.join(format!("t_{rate}_{channels}_{bits}_{float}.wav"));
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: match float {
            true => hound::SampleFormat::Float,
            false => hound::SampleFormat::Int,
        },
    };
    let mut w = hound::WavWriter::create(&path, spec).expect("create wav");
    for i in 0..rate / 2 {
        let v = 0.5 * (std::f64::consts::TAU * 1_000.0 * f64::from(i) / f64::from(rate)).sin();
        for _ in 0..channels {
            match (float, bits) {
                (true, _) => w.write_sample(v as f32),
                (false, 8) => w.write_sample((v * 127.0).round() as i8),
                (false, 16) => w.write_sample((v * 32_767.0).round() as i16),
                (false, b) => w.write_sample((v * ((1i64 << (b - 1)) - 1) as f64).round() as i32),
            }
            .expect("write sample");
        }
    }
    w.finalize().expect("finalize");
    path
}

#[test_case(8_000, 1, 16, false; "8k 16-bit mono")]
#[test_case(16_000, 1, 16, false; "16k 16-bit mono")]
#[test_case(22_050, 1, 16, false; "22.05k 16-bit mono")]
#[test_case(44_100, 2, 24, false; "44.1k 24-bit stereo")]
#[test_case(48_000, 2, 32, true; "48k float stereo")]
#[test_case(24_000, 1, 32, false; "24k 32-bit int")]
#[test_case(11_025, 1, 8, false; "11.025k 8-bit")]
fn loads_any_wav_as_8k(rate: u32, channels: u16, bits: u16, float: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let prompt = Prompt::load(write_wav(dir.path(), rate, channels, bits, float)).expect("loads");
    assert!(
        prompt.len_samples().abs_diff(4_000) <= 2,
        "{} samples",
        prompt.len_samples()
    );
    let amp = tone_amplitude(&prompt.samples()[400..3_600], 1_000.0, 8_000);
    assert!((amp - 0.5).abs() < 0.01, "amplitude {amp}");
}

#[test_case("espeak_stdout.wav", 500; "streaming header from espeak stdout")]
#[test_case("u8_11k.wav", 790; "unsigned 8-bit from sox")]
#[test_case("speech_8k.wav", 100_000; "speech")]
fn loads_fixtures(name: &str, min_samples: usize) {
    let prompt = Prompt::load(fixture(name)).expect("loads");
    assert!(
        prompt.len_samples() >= min_samples,
        "{} samples",
        prompt.len_samples()
    );
    assert!(prompt.samples().iter().any(|&s| s.unsigned_abs() > 1_000));
}

#[test]
fn raw_pcm_by_extension() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("beep.sln");
    std::fs::write(&path, [1u8, 0, 2, 0, 3]).expect("write");
    let prompt = Prompt::load(&path).expect("loads raw");
    assert_eq!(prompt.samples(), &[1, 2]);
    assert_eq!(prompt.frames().len(), 1);
}

fn kind_of(result: Result<Prompt>) -> (PathBuf, PromptErrorKind) {
    let err = result.expect_err("must fail");
    assert!(
        err.to_string().contains(&err.path.display().to_string()),
        "message names the file"
    );
    (err.path, err.kind)
}

#[test_case("missing.wav", b"" as &[u8], "Io"; "missing file")]
#[test_case("text.wav", b"hello, not audio", "NotWav"; "not a wav")]
#[test_case("empty.wav", b"", "NotWav"; "zero-length wav")]
#[test_case("empty.raw", b"", "Empty"; "zero-length raw")]
#[test_case("odd.pcm", b"\x01", "Empty"; "half a sample")]
#[test_case("broken.wav", b"RIFF\x10\x00\x00\x00WAVEfmt ", "Malformed"; "truncated header")]
fn bad_files_name_file_and_problem(name: &str, content: &[u8], kind: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    if name != "missing.wav" {
        std::fs::write(&path, content).expect("write");
    }
    let (err_path, err_kind) = kind_of(Prompt::load(&path));
    assert_eq!(err_path, path);
    assert!(format!("{err_kind:?}").starts_with(kind), "{err_kind:?}");
}

#[test]
fn alaw_is_unsupported() {
    let (path, kind) = kind_of(Prompt::load(fixture("alaw.wav")));
    assert!(path.ends_with("alaw.wav"));
    assert!(matches!(kind, PromptErrorKind::Unsupported(_)), "{kind:?}");
}

#[test]
fn header_only_wav_is_empty() {
    let mut bytes = Vec::new();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    hound::WavWriter::new(Cursor::new(&mut bytes), spec)
        .expect("writer")
        .finalize()
        .expect("finalize");
    let (path, kind) = kind_of(Prompt::from_wav_bytes(&bytes));
    assert_eq!(path, PathBuf::from("<memory>"));
    assert!(matches!(kind, PromptErrorKind::Empty));
}

#[test]
fn cache_loads_once_and_shares() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_wav(dir.path(), 16_000, 1, 16, false);
    let cache = PromptCache::new();
    let a = cache.get(&path).expect("loads");
    std::fs::remove_file(&path).expect("remove");
    // Served from memory now; the same allocation is shared.
    let b = cache.clone().get(&path).expect("cached");
    assert!(Arc::ptr_eq(&a.samples, &b.samples));
    assert_eq!(cache.len(), 1);
    assert!(cache.get(dir.path().join("nope.wav")).is_err());
    assert_eq!(cache.len(), 1, "failures are not cached");
}

#[test]
fn frames_pad_the_tail() {
    let prompt = Prompt::from_samples(vec![7i16; 200]).expect("non-empty");
    let frames: Vec<Frame> = prompt.frames().collect();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1].as_samples()[39], 7);
    assert_eq!(frames[1].as_samples()[40], 0);
    assert_eq!(prompt.duration(), Duration::from_millis(25));
}

proptest::proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
        let mut riff = b"RIFF".to_vec();
        riff.extend_from_slice(&bytes);
        let _ = Prompt::from_wav_bytes(&riff);
        let _ = Prompt::from_wav_bytes(&bytes);
        let _ = Prompt::from_pcm(&bytes);
    }
}

/// Found by `fuzz_audio::wav_headers_never_panic`: 32-bit float data far beyond full scale
/// (random bytes read as floats reach 1e38) overflowed rubato's FFT into NaN and panicked it.
#[test]
fn float_samples_beyond_full_scale_clip_instead_of_panicking() {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 44_100,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut bytes = Vec::new();
    let mut writer = hound::WavWriter::new(Cursor::new(&mut bytes), spec).expect("writer");
    let wild = [
        f32::MAX,
        -f32::MAX,
        f32::NAN,
        f32::INFINITY,
        3.0e38,
        -1.0e30,
    ];
    for n in 0..4_410 {
        writer
            .write_sample(wild[(n / 441) % wild.len()])
            .expect("write");
    }
    writer.finalize().expect("finalize");
    let prompt = Prompt::from_wav_bytes(&bytes).expect("loads");
    assert_eq!(prompt.len_samples(), 800);
    assert!(prompt.samples().iter().any(|s| s.unsigned_abs() > 10_000));
}
