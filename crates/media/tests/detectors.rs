//! The detector measurement suite in its quick form: a few minutes of generated tones, espeak-ng
//! speech, noise and music-like audio, asserting the targets in
//! `crates/media/docs/detectors.md`. `cargo bench -p voicebot-media --bench detectors` runs it
//! in full (an hour of speech and of music). Needs espeak-ng (`.ci/apt-packages`).

#[path = "support/detectors/mod.rs"]
mod suite;

#[test]
fn detectors_meet_their_targets() {
    let report = suite::run(suite::Scale::QUICK);
    println!("{}", report.text);
    assert!(
        report.missed.is_empty(),
        "targets missed:\n{}",
        report.missed.join("\n")
    );
}
