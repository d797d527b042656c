//! Helpers for the end-to-end tests: a simulator and an engine running one bot against
//! it (`voicebot-testkit`'s `TestPbx`), and small audio utilities. Tests assert on what
//! the simulator saw and what the caller heard, never on engine internals.

use std::future::Future;
use std::time::Duration;

use tokio::sync::mpsc;
use voicebot_bot::Prompt;

/// Every end-to-end test finishes within this.
pub(crate) const TEST_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs a test body under the hard timeout.
pub(crate) async fn timeout<F: Future>(body: F) -> F::Output {
    timeout_for(TEST_TIMEOUT, body).await
}

/// Runs a test body under a hard timeout of its own, for tests that must let real
/// PBX timers run (a destination ringing 15 s).
pub(crate) async fn timeout_for<F: Future>(limit: Duration, body: F) -> F::Output {
    // `RUST_LOG=voicebot_engine=debug cargo test --test tests` shows the engine's logs.
    voicebot_testkit::init_logging();
    voicebot_testkit::within(limit, body).await
}

/// A simulator and an engine running one bot against it: the test kit's, which bot
/// authors use too, so voicebot's own tests and theirs share one harness.
pub(crate) use voicebot_testkit::TestPbx as Harness;

/// A sender the bot reports through, and the test's receiver.
pub(crate) fn report<T>() -> (mpsc::UnboundedSender<T>, mpsc::UnboundedReceiver<T>) {
    mpsc::unbounded_channel()
}

/// A prompt of `frames` 20 ms frames whose samples are all non-zero and distinct
/// from frame to frame (a sawtooth), so what the caller heard can be compared
/// sample by sample.
pub(crate) fn sawtooth(frames: usize) -> Prompt {
    let samples: Vec<i16> = (0..frames * 160)
        .map(|n| 1000 + ((n * 37) % 8000) as i16)
        .collect();
    Prompt::from_samples(samples).expect("the prompt is not empty")
}

/// A prompt of `frames` 20 ms frames that voice detection takes for speech: a buzz at a
/// speaking pitch (125 Hz, rich in harmonics) in 250 ms syllables with 100 ms dips between them.
/// (A steady sound, like [`sawtooth`], becomes the noise floor within a second.)
pub(crate) fn voiced(frames: usize) -> Prompt {
    let samples: Vec<i16> = (0..frames * 160)
        .map(|n| {
            let ramp = (n % 64) as i32 * 190 - 6_000;
            let syllable = if n % 2_800 < 2_000 { 1 } else { 20 };
            (ramp / syllable) as i16
        })
        .collect();
    Prompt::from_samples(samples).expect("the prompt is not empty")
}

/// Where `needle` starts in `haystack`, if it is there.
pub(crate) fn find(haystack: &[i16], needle: &[i16]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Samples of a [`constant_prompt`]: 300 ms.
pub(crate) const CONSTANT_PROMPT_SAMPLES: usize = 2_400;

/// Writes a 300 ms WAV prompt into `dir` whose samples are all `value`, so what the
/// caller heard of it can be counted; returns its path.
pub(crate) fn constant_prompt(dir: &std::path::Path, value: i16) -> std::path::PathBuf {
    let path = dir.join(format!("{value}.wav"));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&path, spec).expect("prompt file");
    for _ in 0..CONSTANT_PROMPT_SAMPLES {
        writer.write_sample(value).expect("prompt sample");
    }
    writer.finalize().expect("prompt finalised");
    path
}
