use test_case::test_case;

use super::*;

fn read_all(path: &Path) -> (hound::WavSpec, Vec<i16>) {
    let mut reader = hound::WavReader::open(path).expect("opens");
    let spec = reader.spec();
    let samples = reader
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .expect("reads");
    (spec, samples)
}

#[test_case(Channels::Caller, &[1, 2, 3, 4, 5, 6]; "caller only ignores the bot")]
#[test_case(Channels::Mixed, &[1, 2, 13, 14, 5, 6]; "mixed sums")]
#[test_case(Channels::Stereo, &[1, 0, 2, 0, 3, 10, 4, 10, 5, 0, 6, 0]; "stereo aligns the bot")]
fn bot_audio_lands_where_it_was_sent(channels: Channels, want: &[i16]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.wav");
    let mut rec = RecorderBuilder::new(&path)
        .channels(channels)
        .create()
        .expect("creates");
    rec.write_caller(&[1, 2]).expect("writes");
    rec.write_bot(&[10, 10]).expect("writes"); // sent when the caller was at sample 2
    rec.write_caller(&[3, 4, 5, 6]).expect("writes");
    let summary = rec.finish().expect("finishes");
    assert_eq!(summary.caller_samples, 6);
    let (spec, samples) = read_all(&path);
    assert_eq!(
        spec.channels,
        if channels == Channels::Stereo { 2 } else { 1 }
    );
    assert_eq!(samples, want);
}

#[test]
fn bot_ahead_of_caller_waits_then_continues() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.wav");
    let mut rec = RecorderBuilder::new(&path)
        .channels(Channels::Stereo)
        .create()
        .expect("creates");
    // The pacer sends ahead: two bot chunks before any caller audio, then more after a gap.
    rec.write_bot(&[7, 7]).expect("writes");
    rec.write_bot(&[8]).expect("writes");
    rec.write_caller(&[1, 1, 1, 1, 1]).expect("writes");
    rec.write_bot(&[9]).expect("writes");
    rec.write_caller(&[2]).expect("writes");
    rec.finish().expect("finishes");
    let right: Vec<i16> = read_all(&path).1.chunks(2).map(|f| f[1]).collect();
    assert_eq!(right, [7, 7, 8, 0, 0, 9]);
}

#[test]
fn stalled_caller_is_filled_with_silence() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.wav");
    let mut rec = RecorderBuilder::new(&path)
        .channels(Channels::Stereo)
        .max_bot_ahead(Duration::from_millis(10))
        .create()
        .expect("creates");
    rec.write_bot(&[5; 200]).expect("writes");
    let summary = rec.finish().expect("finishes");
    assert_eq!(summary.caller_gap_samples, 200);
    assert_eq!(summary.bot_samples, 200);
    assert_eq!(summary.duration, Duration::from_millis(25));
}

#[test]
fn header_is_valid_after_each_flush() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.wav");
    let mut rec = RecorderBuilder::new(&path)
        .flush_interval(Duration::from_millis(100))
        .create()
        .expect("creates");
    rec.write_caller(&[3; 800]).expect("writes");
    // Not finalized, yet a reader already sees the flushed 100 ms.
    assert_eq!(hound::WavReader::open(&path).expect("opens").len(), 800);
    rec.write_caller(&[3; 100]).expect("writes");
    assert_eq!(hound::WavReader::open(&path).expect("opens").len(), 800);
    drop(rec);
}

#[test_case(b"" as &[u8], "shorter"; "empty file")]
#[test_case(b"RIFF\0\0\0\0AVI LIST", "signature"; "not wave")]
#[test_case(b"RIFF\0\0\0\0WAVEjunk\x02\0\0\0ab", "data"; "no data chunk")]
fn repair_rejects_non_wav(content: &[u8], why: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.wav");
    std::fs::write(&path, content).expect("writes");
    let err = repair_wav(&path).expect_err("must fail");
    assert_eq!(err.path, path);
    assert!(err.to_string().contains(why), "{err}");
}

#[test_case(1, 16; "mono 16-bit")]
#[test_case(2, 16; "stereo 16-bit")]
#[test_case(1, 24; "extensible header")]
fn repair_fixes_stale_headers(channels: u16, bits: u16) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.wav");
    let spec = hound::WavSpec {
        channels,
        sample_rate: 8_000,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).expect("creates");
    for i in 0..1_000 * i32::from(channels) {
        w.write_sample(i).expect("writes");
    }
    w.finalize().expect("finalizes");
    assert_eq!(repair_wav(&path).expect("valid"), Repair::AlreadyValid);
    // Simulate a kill: header says 0 data bytes, plus half a sample frame dangling at the end.
    let mut bytes = std::fs::read(&path).expect("reads");
    let data_at = bytes
        .windows(4)
        .position(|w| w == b"data")
        .expect("data chunk");
    bytes[data_at + 4..data_at + 8].copy_from_slice(&0u32.to_le_bytes());
    bytes.push(0x55);
    std::fs::write(&path, &bytes).expect("writes");
    let actual = 1_000 * u32::from(channels) * u32::from(bits / 8);
    assert_eq!(
        repair_wav(&path).expect("repairs"),
        Repair::Repaired {
            claimed_bytes: 0,
            actual_bytes: actual
        }
    );
    assert_eq!(
        hound::WavReader::open(&path).expect("opens").duration(),
        1_000
    );
}
