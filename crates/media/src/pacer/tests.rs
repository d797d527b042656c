use std::time::Duration;

use test_case::test_case;

use super::*;

const MS: Duration = Duration::from_millis(1);

fn prompt_ms(ms: u32, value: i16) -> Prompt {
    Prompt::from_samples(vec![value; ms as usize * 8]).expect("non-empty")
}

/// Polls every 20 ms from `from` to `to` (exclusive); returns the frames sent.
fn tick(pacer: &mut Pacer, from: Duration, to: Duration) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut now = from;
    while now < to {
        while let Some(frame) = pacer.poll(now) {
            out.push(frame);
        }
        now += Frame::DURATION;
    }
    out
}

#[test_case(0, 1; "zero lead sends a frame at a time")]
#[test_case(20, 1; "one frame")]
#[test_case(100, 5; "default lead")]
#[test_case(500, 25; "the 3CX sample's lead")]
fn lead_bounds_audio_in_flight(lead_ms: u64, burst: usize) {
    let mut pacer = Pacer::new(Duration::from_millis(lead_ms)).expect("valid lead");
    pacer.enqueue(prompt_ms(2_000, 1));
    assert_eq!(
        tick(&mut pacer, Duration::ZERO, MS),
        vec![Frame::from_samples([1; 160]); burst]
    );
    // Then one frame per tick, and never more than the lead in flight. With two frames
    // of lead or more, the first frame is taken as played a frame late (the PBX's grid
    // has a phase of its own), so the second tick sends nothing.
    for i in 1..50u32 {
        let now = Frame::DURATION * i;
        let sent = tick(&mut pacer, now, now + MS).len();
        let expected = usize::from(!(i == 1 && burst > 1));
        assert_eq!(sent, expected, "tick {i}");
        assert!(pacer.in_flight(now) <= Duration::from_millis(lead_ms).max(Frame::DURATION));
    }
}

#[test_case(500, 500, 500; "barge-in halfway")]
#[test_case(0, 0, 1_000; "before anything played")]
#[test_case(990, 990, 10; "just before the end")]
fn flush_reports_heard_exactly(at_ms: u32, heard_ms: u64, discarded_ms: u64) {
    let mut pacer = Pacer::new(Pacer::DEFAULT_LEAD).expect("valid");
    pacer.enqueue(prompt_ms(1_000, 3));
    tick(&mut pacer, Duration::ZERO, MS * at_ms + MS);
    let flushed = pacer.flush(MS * at_ms);
    assert_eq!(flushed.heard, Duration::from_millis(heard_ms));
    assert_eq!(flushed.discarded, Duration::from_millis(discarded_ms));
    assert!(pacer.is_idle());
    assert_eq!(pacer.poll(MS * at_ms), None);
    assert_eq!(pacer.sent(), pacer.heard(MS * at_ms));
    // The PBX still plays what it holds, and that is no longer the prompt's audio.
    assert!(pacer.is_playing(MS * at_ms));
    assert!(!pacer.is_playing(MS * at_ms + Pacer::DEFAULT_LEAD));
    assert_eq!(pacer.heard(MS * at_ms + MS * 500), pacer.heard(MS * at_ms));
}

#[test_case(500; "mid-prompt")]
#[test_case(510; "mid-frame")]
#[test_case(990; "near the end")]
fn the_next_prompt_queues_behind_what_the_pbx_still_holds(at_ms: u32) {
    let lead = Pacer::DEFAULT_LEAD;
    let mut pacer = Pacer::new(lead).expect("valid");
    pacer.enqueue(prompt_ms(1_000, 3));
    tick(&mut pacer, Duration::ZERO, MS * at_ms + MS);
    let barge_in = MS * at_ms;
    let held = pacer.in_flight(barge_in);
    assert!(held > Duration::ZERO);
    pacer.flush(barge_in);
    assert_eq!(pacer.in_flight(barge_in), held, "the PBX cannot drop it");
    let before = pacer.sent();
    pacer.enqueue(prompt_ms(1_000, 4));
    // The lead holds across the change of prompt: never more than `lead` in flight.
    let mut now = barge_in;
    let mut first_new = None;
    while now < barge_in + MS * 400 {
        while let Some(frame) = pacer.poll(now) {
            if frame.as_samples()[0] == 4 {
                first_new.get_or_insert(now);
            }
        }
        assert!(
            pacer.in_flight(now) <= lead,
            "{:?} in flight at {now:?}",
            pacer.in_flight(now)
        );
        now += MS * 5;
    }
    // It plays once the old audio is out: nothing of it is heard before.
    assert!(first_new.is_some(), "the new prompt is sent");
    assert_eq!(pacer.heard(barge_in + held), before);
    assert_eq!(pacer.heard(barge_in + held + MS * 100), before + MS * 100);
}

#[test]
fn chunks_fill_the_lead_once_a_chunk_fits() {
    let mut pacer = Pacer::new(Pacer::DEFAULT_LEAD)
        .expect("valid")
        .with_chunk(Duration::from_millis(50));
    pacer.enqueue(prompt_ms(2_000, 1));
    let sent: Vec<usize> = (0..10u32)
        .map(|i| tick(&mut pacer, Frame::DURATION * i, Frame::DURATION * i + MS).len())
        .collect();
    // 50 ms rounds up to three frames: the lead goes out, then three frames every 60 ms
    // (from a frame later: the first frame counts as played once the PBX's next slot
    // has surely passed).
    assert_eq!(sent, [5, 0, 0, 0, 3, 0, 0, 3, 0, 0]);
}

#[test_case(0; "on the frame boundary")]
#[test_case(1; "just after it")]
#[test_case(19; "just before the next")]
fn a_late_poll_never_goes_over_the_lead(late_ms: u32) {
    let lead = Pacer::DEFAULT_LEAD;
    let mut pacer = Pacer::new(lead).expect("valid");
    pacer.enqueue(prompt_ms(2_000, 1));
    let mut sent = 0u32;
    for i in 0..50u32 {
        // The run starts on time; later polls come late.
        let now = Frame::DURATION * i + MS * if i == 0 { 0 } else { late_ms };
        sent += tick(&mut pacer, now, now + MS).len() as u32;
        // The PBX plays whole frames: at the boundary before `now` it held all that was
        // sent less the frames it finished.
        let played = Frame::DURATION * i;
        assert!(Frame::DURATION * sent - played <= lead, "tick {i}");
    }
}

#[test]
fn loops_are_gapless_and_padding_is_not_audio() {
    let mut pacer = Pacer::new(Pacer::DEFAULT_LEAD).expect("valid");
    pacer.enqueue_repeat(prompt_ms(30, 9), Repeat::Times(3));
    let frames = tick(&mut pacer, Duration::ZERO, MS * 200);
    assert_eq!(frames.len(), 5);
    let samples: Vec<i16> = frames.iter().flat_map(|f| *f.as_samples()).collect();
    assert!(samples[..720].iter().all(|&s| s == 9));
    assert!(samples[720..].iter().all(|&s| s == 0));
    assert_eq!(pacer.sent(), MS * 90);
    assert_eq!(pacer.heard(MS * 500), MS * 90);
}

#[test]
fn forever_loop_discards_only_the_current_pass() {
    let mut pacer = Pacer::new(Pacer::DEFAULT_LEAD).expect("valid");
    pacer.enqueue_repeat(prompt_ms(50, 1), Repeat::Forever);
    pacer.enqueue(prompt_ms(1_000, 2));
    tick(&mut pacer, Duration::ZERO, MS * 1_000);
    assert!(!pacer.is_idle(), "still looping after a second");
    let flushed = pacer.flush(MS * 990);
    assert_eq!(flushed.heard, MS * 990);
    // 100 ms in flight, plus 10 ms left of the pass, plus the whole 1 s prompt behind it.
    assert_eq!(flushed.discarded, MS * 1_110);
}

#[test]
fn marks_fire_when_heard() {
    let mut pacer = Pacer::new(Pacer::DEFAULT_LEAD).expect("valid");
    pacer.enqueue(prompt_ms(50, 1));
    pacer.enqueue_mark(1);
    pacer.enqueue(prompt_ms(50, 2));
    pacer.enqueue_mark(2);
    // All 100 ms go out at once (the lead); the marks fire as the caller hears them.
    assert_eq!(tick(&mut pacer, Duration::ZERO, MS).len(), 5);
    let fired = |pacer: &mut Pacer, ms: u32| {
        std::iter::from_fn(|| pacer.poll_mark(MS * ms)).collect::<Vec<_>>()
    };
    assert_eq!(fired(&mut pacer, 49), Vec::<u64>::new());
    assert_eq!(fired(&mut pacer, 50), [1]);
    assert_eq!(fired(&mut pacer, 99), Vec::<u64>::new());
    assert_eq!(fired(&mut pacer, 100), [2]);
    // A mark on an idle pacer fires at once.
    pacer.enqueue_mark(3);
    assert_eq!(fired(&mut pacer, 300), [3]);
}

#[test]
fn flush_drops_unheard_marks() {
    let mut pacer = Pacer::new(Pacer::DEFAULT_LEAD).expect("valid");
    pacer.enqueue(prompt_ms(40, 1));
    pacer.enqueue_mark(7);
    pacer.enqueue(prompt_ms(400, 1));
    tick(&mut pacer, Duration::ZERO, MS * 30);
    pacer.flush(MS * 30);
    assert_eq!(pacer.poll_mark(MS * 1_000), None);
}

#[test]
fn heard_counts_the_current_run_only() {
    let mut pacer = Pacer::new(Pacer::DEFAULT_LEAD).expect("valid");
    pacer.enqueue(prompt_ms(100, 1));
    tick(&mut pacer, Duration::ZERO, MS * 500);
    assert!(!pacer.is_playing(MS * 500));
    // A second prompt, started later, then barged into after 300 ms.
    pacer.enqueue(prompt_ms(1_000, 2));
    tick(&mut pacer, MS * 500, MS * 801);
    let flushed = pacer.flush(MS * 800);
    assert_eq!(flushed.heard, MS * 300);
    assert_eq!(pacer.heard(MS * 800), MS * 400);
}

#[test]
fn streamed_samples_play_and_empty_is_ignored() {
    let mut pacer = Pacer::new(Duration::ZERO).expect("valid");
    pacer.enqueue_samples(Vec::<i16>::new());
    assert!(pacer.is_idle());
    pacer.enqueue_samples(vec![5i16; 160]);
    assert_eq!(
        pacer.poll(Duration::ZERO),
        Some(Frame::from_samples([5; 160]))
    );
    assert_eq!(pacer.poll(Duration::ZERO), None);
}

#[test]
fn too_much_lead_is_rejected() {
    assert!(matches!(
        Pacer::new(Duration::from_secs(11)),
        Err(ConfigError::OutOfRange {
            setting: "lead",
            ..
        })
    ));
}
