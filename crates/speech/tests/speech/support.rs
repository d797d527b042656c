//! Fixtures, call audio assembly, feeding helpers and the test recogniser program.

use std::{
    future::Future,
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
    time::Duration,
};

use voicebot_media::Frame;
use voicebot_speech::RecognitionSession;

/// Every async test runs under this limit.
pub(crate) const TEST_LIMIT: Duration = Duration::from_secs(60);

/// Runs `future` under [`TEST_LIMIT`].
pub(crate) async fn limited<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(TEST_LIMIT, future)
        .await
        .expect("the test exceeded its time limit")
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture's 8 kHz samples.
pub(crate) fn fixture(name: &str) -> Vec<i16> {
    let path = fixtures().join(format!("{name}.wav"));
    let mut reader = hound::WavReader::open(&path).expect("fixture exists");
    assert_eq!(reader.spec().sample_rate, 8_000, "{name} is 8 kHz");
    reader.samples::<i16>().map_while(Result::ok).collect()
}

/// `(name, kind, text)` of every spoken phrase (used by the PocketSphinx tests).
#[cfg_attr(not(feature = "pocketsphinx"), allow(dead_code))]
pub(crate) fn phrases() -> Vec<(String, String, String)> {
    std::fs::read_to_string(fixtures().join("phrases.txt"))
        .expect("phrases.txt exists")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut parts = l.split('|').map(str::to_owned);
            Some((parts.next()?, parts.next()?, parts.next()?))
        })
        .collect()
}

/// A piece of a test call.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part<'a> {
    Silence(u64),
    Speech(&'a str),
}

/// Call audio made of parts, as frames, and the call-time span of each spoken part.
pub(crate) fn call(parts: &[Part<'_>]) -> (Vec<Frame>, Vec<(Duration, Duration)>) {
    let mut samples: Vec<i16> = Vec::new();
    let mut spans = Vec::new();
    let at = |n: usize| Duration::from_micros(n as u64 * 125);
    for part in parts {
        match part {
            Part::Silence(ms) => samples.extend(std::iter::repeat_n(0, (*ms * 8) as usize)),
            Part::Speech(name) => {
                let start = samples.len();
                samples.extend(fixture(name));
                spans.push((at(start), at(samples.len())));
            }
        }
    }
    let frames = samples
        .chunks(Frame::SAMPLES)
        .map(Frame::from_slice_padded)
        .collect();
    (frames, spans)
}

/// Feeds every frame at once; asserts `feed` never fails.
pub(crate) fn feed_all(session: &mut dyn RecognitionSession, frames: &[Frame]) {
    for frame in frames {
        session.feed(frame).expect("feed accepts frames");
    }
}

/// Feeds frames `per_frame` apart, as a call delivers them (faster than real time
/// when `per_frame` is short). `feed` is synchronous: it queues a frame or drops it,
/// and never waits for the recogniser; the tests check what was queued, dropped and
/// recognised, not how long a call took (a busy machine stretches that).
pub(crate) async fn feed_paced(
    session: &mut dyn RecognitionSession,
    frames: &[Frame],
    per_frame: Duration,
) {
    for frame in frames {
        session.feed(frame).expect("feed accepts frames");
        tokio::time::sleep(per_frame).await;
    }
}

/// Whether `actual` is within `slack` of `expected`.
/// Edit distance: the insertions, deletions and substitutions that turn `expected` into
/// `heard` (of words or of digits).
#[cfg(feature = "pocketsphinx")]
pub(crate) fn edit_distance<T: PartialEq>(expected: &[T], heard: &[T]) -> usize {
    let mut row: Vec<usize> = (0..=heard.len()).collect();
    for (i, a) in expected.iter().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, b) in heard.iter().enumerate() {
            let next = (previous + usize::from(a != b))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            previous = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[heard.len()]
}

pub(crate) fn near(actual: Duration, expected: Duration, slack: Duration) -> bool {
    actual.abs_diff(expected) <= slack
}

/// The test recogniser program, compiled once per test run with rustc.
pub(crate) fn energy_recognizer() -> &'static Path {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("energy_recognizer");
        let source =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/energy_recognizer.rs");
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let status = Command::new(rustc)
            .args(["--edition", "2021", "-O", "-o"])
            .arg(&out)
            .arg(&source)
            .status()
            .expect("rustc runs");
        assert!(status.success(), "the test recogniser compiles");
        out
    })
}
