//! CPU cost of the built-in PocketSphinx recogniser per second of call audio, in grammar and
//! free-form modes (feature `pocketsphinx`).
//!
//! Run with `cargo bench --bench speech --features pocketsphinx`. Each iteration decodes one
//! simulated call of [`CALL_SECONDS`] s (the spoken test phrases of `crates/speech` between
//! pauses, as 20 ms frames): the session is started outside the measurement (loading the model
//! takes a moment and is paid once per call); feeding every frame and waiting for the last
//! final is measured. The decoder thread does the work while the feeding thread waits, so the
//! time per iteration divided by [`CALL_SECONDS`] is the CPU cost per call-second.

use std::{
    hint::black_box,
    path::Path,
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};
use voicebot_media::Frame;
use voicebot_speech::{Grammar, PocketSphinx, Recognizer, SessionOptions};

/// Length of the simulated call.
const CALL_SECONDS: u32 = 20;

fn fixture(name: &str) -> Vec<i16> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/speech/tests/fixtures")
        .join(format!("{name}.wav"));
    let mut reader = hound::WavReader::open(&path).expect("speech fixture exists");
    reader.samples::<i16>().map_while(Result::ok).collect()
}

/// A call of [`CALL_SECONDS`]: phrases separated by 700 ms of silence, padded with silence.
fn call(names: &[&str]) -> Vec<Frame> {
    let total = CALL_SECONDS as usize * 8_000;
    let mut samples = Vec::with_capacity(total);
    for name in names.iter().cycle() {
        samples.extend(std::iter::repeat_n(0, 5_600));
        let phrase = fixture(name);
        if samples.len() + phrase.len() > total {
            break;
        }
        samples.extend(phrase);
    }
    samples.resize(total, 0);
    samples
        .chunks(Frame::SAMPLES)
        .map(Frame::from_slice_padded)
        .collect()
}

fn decode(
    runtime: &tokio::runtime::Runtime,
    recognizer: &PocketSphinx,
    grammar: Option<&Grammar>,
    frames: &[Frame],
) -> Duration {
    runtime.block_on(async {
        // Partials stay on, as in a call; the queues hold the whole call.
        let mut options = SessionOptions::new()
            .queue_frames(frames.len() + 1)
            .results_capacity(frames.len() + 1)
            .finish_timeout(Duration::from_secs(120));
        if let Some(grammar) = grammar {
            options = options.grammar(grammar.clone());
        }
        let mut session = recognizer.start(options).await.expect("session starts");
        let began = Instant::now();
        for frame in frames {
            session.feed(frame).expect("feed");
        }
        black_box(session.finish().await.expect("finish"));
        began.elapsed()
    })
}

fn pocketsphinx(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let recognizer = PocketSphinx::new().expect("pocketsphinx-en-us is installed");
    let menu = Grammar::choices([
        "sales",
        "support",
        "billing",
        "operator",
        "speak to an agent",
    ])
    .expect("grammar");
    let digits = Grammar::digits(1, 8).expect("grammar");
    let menu_call = call(&["sales", "support", "billing", "operator", "agent"]);
    let digit_call = call(&["digits_1234", "digits_55501", "digits_987", "digits_2024"]);

    let mut g = c.benchmark_group(format!("pocketsphinx {CALL_SECONDS} s call"));
    g.sample_size(10);
    let cases: [(&str, Option<&Grammar>, &[Frame]); 3] = [
        ("grammar: menu", Some(&menu), &menu_call),
        ("grammar: digits", Some(&digits), &digit_call),
        ("free-form", None, &menu_call),
    ];
    for (name, grammar, frames) in cases {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| decode(&runtime, &recognizer, grammar, frames))
                    .sum()
            });
        });
    }
    g.finish();
}

criterion_group!(benches, pocketsphinx);
criterion_main!(benches);
