use std::time::Duration;

use test_case::test_case;

use super::*;

const MS: Duration = Duration::from_millis(1);

/// A scripted caller stream: `chunk_ms` of audio sent every `chunk_ms` of the sender's clock
/// (scaled by `drift`), with an optional stall, popped every 20 ms for `total_ms`.
#[derive(Clone, Copy)]
struct Scenario {
    chunk_ms: u64,
    split_bytes: usize,
    drift: f64,
    stall_at_ms: u64,
    stall_ms: u64,
    total_ms: u64,
}

const STEADY: Scenario = Scenario {
    chunk_ms: 20,
    split_bytes: 0,
    drift: 1.0,
    stall_at_ms: u64::MAX,
    stall_ms: 0,
    total_ms: 10_000,
};

struct Outcome {
    stats: JitterStats,
    real_bytes: Vec<u8>,
    sent_bytes: Vec<u8>,
    max_delay: Duration,
    max_target: Duration,
}

fn sample_bytes(n: usize, offset: usize) -> Vec<u8> {
    (offset..offset + n)
        .flat_map(|i| (i as u16 as i16).to_le_bytes())
        .collect()
}

impl Outcome {
    /// Frames skipped between consecutive real frames. Samples count up by one, so a gap in the
    /// count is audio that was dropped.
    fn skipped_frames(&self) -> u64 {
        let starts: Vec<u16> = self
            .real_bytes
            .chunks_exact(320)
            .map(|f| u16::from_le_bytes([f[0], f[1]]))
            .collect();
        for f in self.real_bytes.chunks_exact(320) {
            let first = u16::from_le_bytes([f[0], f[1]]);
            let last = u16::from_le_bytes([f[318], f[319]]);
            assert_eq!(last.wrapping_sub(first), 159, "a frame is contiguous");
        }
        starts
            .windows(2)
            .map(|w| u64::from(w[1].wrapping_sub(w[0]) / 160 - 1))
            .sum()
    }
}

fn run(s: Scenario) -> Outcome {
    let mut jb = JitterBuffer::new(JitterConfig::default()).expect("default config is valid");
    let mut events: Vec<(Duration, Option<Vec<u8>>)> = Vec::new();
    let mut sent_bytes = Vec::new();
    let mut media_ms = 0;
    while media_ms < s.total_ms {
        media_ms += s.chunk_ms;
        let samples = (s.chunk_ms * 8) as usize;
        let chunk = sample_bytes(samples, sent_bytes.len() / 2);
        sent_bytes.extend_from_slice(&chunk);
        let mut at = Duration::from_secs_f64(media_ms as f64 / 1000.0 * s.drift) + 5 * MS;
        if media_ms >= s.stall_at_ms && media_ms < s.stall_at_ms + s.stall_ms {
            at = Duration::from_millis(s.stall_at_ms + s.stall_ms).max(at);
        }
        match s.split_bytes {
            0 => events.push((at, Some(chunk))),
            n => events.extend(chunk.chunks(n).map(|c| (at, Some(c.to_vec())))),
        }
    }
    let mut tick = 13 * MS;
    // Stop popping when the caller stops sending, or the end would read as an underrun.
    while tick < Duration::from_millis(s.total_ms) {
        events.push((tick, None));
        tick += Frame::DURATION;
    }
    // Stable sort keeps chunk order; pushes at the same instant go before the pop.
    events.sort_by_key(|(t, e)| (*t, e.is_none()));
    let mut real_bytes = Vec::new();
    let mut max_delay = Duration::ZERO;
    let mut max_target = Duration::ZERO;
    for (t, e) in events {
        match e {
            Some(bytes) => jb.push(&bytes, t),
            None => {
                if let Lookup::Frame(f) = jb.pop(t) {
                    real_bytes.extend_from_slice(&f.to_bytes());
                }
                max_delay = max_delay.max(jb.stats().delay);
                max_target = max_target.max(jb.stats().target);
            }
        }
    }
    Outcome {
        stats: jb.stats(),
        real_bytes,
        sent_bytes,
        max_delay,
        max_target,
    }
}

#[test_case(STEADY, 0, 0; "steady 20 ms chunks")]
#[test_case(Scenario { split_bytes: 161, ..STEADY }, 0, 0; "chunks split mid-sample")]
#[test_case(Scenario { split_bytes: 7, ..STEADY }, 0, 0; "tiny odd chunks")]
#[test_case(Scenario { chunk_ms: 100, ..STEADY }, 0, 0; "bursts of 100 ms")]
#[test_case(Scenario { chunk_ms: 180, ..STEADY }, 0, 1; "bursts of 180 ms")]
fn regular_streams_play_losslessly(s: Scenario, max_underruns: u64, max_trims: u64) {
    let out = run(s);
    assert!(
        out.stats.underruns <= max_underruns,
        "underruns {}",
        out.stats.underruns
    );
    assert!(
        out.stats.trimmed_frames <= max_trims,
        "trims {}",
        out.stats.trimmed_frames
    );
    assert_eq!(out.stats.overrun_drops, 0);
    assert_eq!(out.skipped_frames(), out.stats.trimmed_frames);
    if out.stats.trimmed_frames == 0 {
        // Nothing concealed or dropped: every byte came out, in order.
        assert_eq!(out.real_bytes, out.sent_bytes[..out.real_bytes.len()]);
        assert!(out.real_bytes.len() + 320 * 30 >= out.sent_bytes.len());
    }
    assert!(out.max_delay <= Duration::from_millis(200) + Frame::DURATION * 10);
}

#[test_case(20, 40; "burst size 20 ms keeps delay low")]
#[test_case(100, 100; "burst size 100 ms raises target")]
#[test_case(300, 200; "huge bursts clamp at max")]
fn target_follows_jitter(chunk_ms: u64, expect_target_ms: u64) {
    let out = run(Scenario { chunk_ms, ..STEADY });
    let target = out.stats.target.as_millis() as u64;
    assert!(
        target.abs_diff(expect_target_ms) <= 20,
        "target {target} ms, jitter {:?}",
        out.stats.jitter
    );
}

#[test_case(300, false; "300 ms stall")]
#[test_case(1_000, true; "1 s stall overruns capacity")]
fn stall_underruns_conceals_and_recovers(stall_ms: u64, overruns: bool) {
    let s = Scenario {
        stall_at_ms: 3_000,
        stall_ms,
        total_ms: 20_000,
        ..STEADY
    };
    let out = run(s);
    assert!(out.stats.underruns >= 1);
    assert!(out.stats.concealed_frames >= (stall_ms / 20).saturating_sub(10));
    assert_eq!(out.stats.overrun_drops > 0, overruns);
    // The stall pushed the target up; later it decayed and the backlog was trimmed.
    assert_eq!(out.max_target, Duration::from_millis(200));
    assert_eq!(out.stats.mode, PlayoutMode::Playing);
    assert!(out.stats.trimmed_frames > 0);
    // Trimming follows the decaying target a second behind, so bound by the configured maximum.
    assert!(
        out.stats.delay <= Duration::from_millis(200),
        "{:?}",
        out.stats
    );
    // Every frame not played was counted as trimmed or dropped.
    assert_eq!(
        out.skipped_frames(),
        out.stats.trimmed_frames + out.stats.overrun_drops
    );
}

#[test_case(1.01, true; "sender 1% slow: underruns, never overruns")]
#[test_case(0.99, false; "sender 1% fast: trims, delay bounded")]
fn clock_drift_is_absorbed(drift: f64, slow: bool) {
    let out = run(Scenario {
        drift,
        total_ms: 30_000,
        ..STEADY
    });
    assert_eq!(out.stats.overrun_drops, 0);
    match slow {
        true => assert!(out.stats.underruns >= 1 && out.stats.trimmed_frames == 0),
        false => assert!(out.stats.trimmed_frames >= 5 && out.stats.underruns <= 1),
    }
    assert!(
        out.max_delay <= Duration::from_millis(200),
        "max delay {:?}",
        out.max_delay
    );
    assert_eq!(out.skipped_frames(), out.stats.trimmed_frames);
}

#[test]
fn overrun_drops_oldest_and_counts() {
    let mut jb = JitterBuffer::new(JitterConfig::default()).expect("valid");
    let bytes = sample_bytes(8_000, 0); // 1 s at once, capacity is 500 ms
    jb.push(&bytes, Duration::ZERO);
    let stats = jb.stats();
    assert_eq!(stats.overrun_drops, 25);
    assert_eq!(stats.delay, Duration::from_millis(500));
    let Lookup::Frame(first) = jb.pop(Duration::ZERO) else {
        panic!("a full buffer plays at once");
    };
    // The newest 500 ms survived.
    assert_eq!(first.to_bytes()[..], bytes[25 * 320..26 * 320]);
}

#[test]
fn filling_then_playing_then_concealed() {
    let mut jb = JitterBuffer::new(JitterConfig::default()).expect("valid");
    assert_eq!(jb.pop(Duration::ZERO), Lookup::Filling);
    let loud = [0x10u8, 0x27].repeat(160); // a frame of 10,000
    for i in 0..3 {
        jb.push(&loud, Frame::DURATION * i);
    }
    assert_eq!(jb.stats().target, Duration::from_millis(60));
    assert_eq!(jb.mode(), PlayoutMode::Filling);
    let looks: Vec<Lookup> = (2..10).map(|i| jb.pop(Frame::DURATION * i)).collect();
    assert!(looks[..3].iter().all(Lookup::is_real));
    let concealed: Vec<i16> = looks[3..]
        .iter()
        .map(|l| match l {
            Lookup::Concealed(f) => f.as_samples()[0],
            other => panic!("expected concealment, got {other:?}"),
        })
        .collect();
    assert_eq!(concealed, [5_000, 2_500, 1_250, 0, 0]);
    assert_eq!(jb.stats().underruns, 1);
    assert_eq!(jb.stats().concealed_frames, 5);
}

#[test_case(JitterConfig::default().with_delay_bounds(MS * 10, MS * 200), "min_delay")]
#[test_case(JitterConfig::default().with_delay_bounds(MS * 100, MS * 50), "max_delay")]
#[test_case(JitterConfig::default().with_initial_delay(MS * 300), "initial_delay")]
#[test_case(JitterConfig::default().with_capacity(MS * 200), "capacity")]
#[test_case(JitterConfig::default().with_decay_half_life(Duration::ZERO), "decay_half_life")]
fn bad_configs_are_rejected(config: JitterConfig, setting: &str) {
    match JitterBuffer::new(config) {
        Err(ConfigError::OutOfRange { setting: s, .. }) => assert_eq!(s, setting),
        other => panic!("expected error for {setting}, got {other:?}"),
    }
}

#[test]
fn buffer_is_send_and_sync() {
    fn assert_send<T: Send + Sync + 'static>(_: &T) {}
    let jb = JitterBuffer::new(JitterConfig::default()).expect("valid");
    assert_send(&jb);
}
