//! Per-frame costs of the media core (`voicebot-media`), against the 20 ms frame budget.
//!
//! Run with `cargo bench --bench media`. Inputs are built outside the measured loops; each
//! iteration handles one 20 ms frame unless its name says otherwise.

use std::{hint::black_box, time::Duration};

use criterion::{Criterion, criterion_group, criterion_main};
use voicebot_media::{
    Channels, DtmfDetector, Frame, FrameDecoder, JitterBuffer, JitterConfig, Pacer, Prompt,
    RecorderBuilder, Repeat, StreamResampler, Upsampler8To16, VadConfig, VadModel, VoiceDetector,
    resample_to_8k,
};

fn speech() -> Vec<Frame> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/media/tests/fixtures/speech_8k.wav"
    );
    let prompt = Prompt::load(path).expect("speech fixture loads");
    prompt.frames().collect()
}

fn bytes_of(frames: &[Frame]) -> Vec<u8> {
    frames.iter().flat_map(Frame::to_bytes).collect()
}

fn receive_side(c: &mut Criterion) {
    let frames = speech();
    let bytes = bytes_of(&frames);
    let mut g = c.benchmark_group("receive");

    g.bench_function("decode frame (chunks split mid-sample)", |b| {
        let mut decoder = FrameDecoder::new();
        let mut pos = 0;
        b.iter(|| {
            let chunk = &bytes[pos..pos + 320];
            decoder.push(black_box(&chunk[..161]));
            decoder.push(black_box(&chunk[161..]));
            pos = (pos + 320) % (bytes.len() - 320);
            while let Some(frame) = decoder.pop() {
                black_box(frame);
            }
        });
    });

    g.bench_function("jitter push+pop", |b| {
        let mut jitter = JitterBuffer::new(JitterConfig::default()).expect("valid");
        let mut tick = 0u32;
        b.iter(|| {
            let now = Frame::DURATION * tick;
            let i = tick as usize % frames.len();
            jitter.push(black_box(&bytes[i * 320..i * 320 + 320]), now);
            black_box(jitter.pop(now + Duration::from_millis(3)));
            tick = tick.wrapping_add(1);
        });
    });

    g.bench_function("dtmf detect", |b| {
        let mut dtmf = DtmfDetector::new();
        let mut i = 0;
        b.iter(|| {
            black_box(dtmf.process(black_box(&frames[i])));
            i = (i + 1) % frames.len();
        });
    });

    for (name, model) in [
        ("vad (voiced, default)", VadModel::DEFAULT),
        (
            "vad (earshot + energy)",
            VadModel::Both {
                threshold: 0.5,
                margin_db: 6.0,
            },
        ),
        ("vad (energy only)", VadModel::Energy { margin_db: 9.0 }),
    ] {
        g.bench_function(name, |b| {
            let config = VadConfig {
                model,
                ..VadConfig::default()
            };
            let mut vad = VoiceDetector::new(config).expect("valid");
            let mut tick = 0u32;
            b.iter(|| {
                let frame = &frames[tick as usize % frames.len()];
                black_box(vad.process(black_box(frame), Frame::DURATION * tick));
                tick = tick.wrapping_add(1);
            });
        });
    }

    g.bench_function("whole receive path (decode + jitter + dtmf + vad)", |b| {
        let mut decoder = FrameDecoder::new();
        let mut jitter = JitterBuffer::new(JitterConfig::default()).expect("valid");
        let mut dtmf = DtmfDetector::new();
        let mut vad = VoiceDetector::new(VadConfig::default()).expect("valid");
        let mut tick = 0u32;
        b.iter(|| {
            let now = Frame::DURATION * tick;
            let i = tick as usize % frames.len();
            decoder.push(black_box(&bytes[i * 320..i * 320 + 320]));
            while let Some(frame) = decoder.pop() {
                jitter.push(&frame.to_bytes(), now);
            }
            let frame = jitter.pop(now + Duration::from_millis(3)).frame();
            black_box(dtmf.process(&frame));
            black_box(vad.process(&frame, now));
            tick = tick.wrapping_add(1);
        });
    });

    g.bench_function("upsample 8k to 16k", |b| {
        let mut up = Upsampler8To16::new().expect("builds");
        let mut out = [0i16; 320];
        let mut i = 0;
        b.iter(|| {
            up.process(black_box(&frames[i]), &mut out)
                .expect("upsamples");
            black_box(&out);
            i = (i + 1) % frames.len();
        });
    });
    g.finish();
}

fn send_side(c: &mut Criterion) {
    let frames = speech();
    let mut g = c.benchmark_group("send");

    g.bench_function("pacer poll", |b| {
        let prompt = Prompt::from_samples(
            frames
                .iter()
                .flat_map(|f| *f.as_samples())
                .collect::<Vec<_>>(),
        )
        .expect("non-empty");
        let mut pacer = Pacer::new(Pacer::DEFAULT_LEAD).expect("valid");
        pacer.enqueue_repeat(prompt, Repeat::Forever);
        let mut tick = 0u32;
        b.iter(|| {
            let now = Frame::DURATION * tick;
            while let Some(frame) = pacer.poll(now) {
                black_box(frame);
            }
            tick = tick.wrapping_add(1);
        });
    });

    g.bench_function("recorder write (stereo, caller + bot)", |b| {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut rec = RecorderBuilder::new(dir.path().join("bench.wav"))
            .channels(Channels::Stereo)
            .create()
            .expect("creates");
        let mut i = 0;
        b.iter(|| {
            rec.write_bot(black_box(frames[i].as_samples()))
                .expect("writes");
            rec.write_caller(black_box(frames[(i + 7) % frames.len()].as_samples()))
                .expect("writes");
            i = (i + 1) % frames.len();
        });
    });
    g.finish();
}

fn prompt_resampling(c: &mut Criterion) {
    let mut g = c.benchmark_group("resample to 8k");
    for rate in [48_000u32, 44_100, 22_050, 16_000] {
        // One 20 ms chunk through a streaming resampler: the per-frame cost.
        g.bench_function(format!("{rate} Hz, one 20 ms chunk"), |b| {
            let mut r = StreamResampler::new(rate, 8_000, rate as usize / 50).expect("builds");
            let input: Vec<i16> = (0..r.samples_needed())
                .map(|i| ((i * 977) % 20_000) as i16)
                .collect();
            let mut out = vec![0i16; r.output_samples_max()];
            b.iter(|| {
                black_box(
                    r.process_into(black_box(&input), &mut out)
                        .expect("resamples"),
                )
            });
        });
        // A whole 1 s prompt, as Prompt::load does it (f32 in, including set-up).
        g.bench_function(format!("{rate} Hz, whole 1 s clip"), |b| {
            let clip: Vec<f32> = (0..rate).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
            b.iter(|| black_box(resample_to_8k(black_box(&clip), rate).expect("resamples")));
        });
    }
    g.finish();
}

criterion_group!(benches, receive_side, send_side, prompt_resampling);
criterion_main!(benches);
