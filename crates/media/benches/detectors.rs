//! The detector measurement suite in full: 2,000 tones per DTMF condition, an hour of espeak-ng
//! speech and of music-like audio for talk-off, ten minutes per voice-detection condition, and
//! every voice-detection model side by side. Prints Markdown tables (quoted in
//! `crates/media/docs/detectors.md`) and the targets missed.
//!
//! Run with `cargo bench -p voicebot-media --bench detectors` (needs espeak-ng); add `-- dtmf`
//! or `-- vad` for one half.

#[path = "../tests/support/detectors/mod.rs"]
mod suite;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, briefly.
    let args: Vec<String> = std::env::args().collect();
    let mut scale = match args.iter().any(|arg| arg == "--bench") {
        true => suite::Scale::FULL,
        false => suite::Scale::QUICK,
    };
    let only = |part: &str| args.iter().any(|arg| arg == part);
    if only("dtmf") || only("vad") {
        scale.dtmf = only("dtmf");
        scale.vad = only("vad");
    }
    let report = suite::run(scale);
    println!("{}", report.text);
    match report.missed.is_empty() {
        true => println!("All targets met."),
        false => println!("Targets missed:\n{}", report.missed.join("\n")),
    }
}
