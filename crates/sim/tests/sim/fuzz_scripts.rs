//! Fuzz targets of scenario scripts: any text parses to a script or an error, never a
//! panic; every duration a script holds is within [`MAX_STEP_DURATION`] (so running it
//! allocates and adds up boundedly); and a script written out reads back the same.
//!
//! Quick by default (proptest's 256 cases per target); `PROPTEST_CASES=1000000` runs a
//! million.

use std::path::PathBuf;
use std::time::Duration;

use proptest::prelude::*;
use voicebot_sim::{MAX_STEP_DURATION, Script, Step};

const SCENARIO: &str = r#"steps = [
  { wait_connected = true },
  { wait_heard = "1.5s" },
  { press = "1" },
  { send_wav = "samples/hello_8k.wav" },
  { send_pcm = [1, -2, 300] },
  { send_silence = 0.2 },
  { wait_silence = "2m" },
  { wait = "500ms" },
  "hang_up",
]"#;

/// The scenario with up to six random character edits.
fn mutated() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<char>(),
        prop::sample::select(vec![
            '"', '[', ']', '{', '}', '=', ',', '.', 'e', '9', '-', 's', 'm'
        ]),
    ];
    prop::collection::vec((any::<u16>(), 0u8..3, pieces), 0..6).prop_map(|edits| {
        let mut chars: Vec<char> = SCENARIO.chars().collect();
        for (at, op, piece) in edits {
            let at = usize::from(at) % (chars.len() + 1);
            match op {
                0 if at < chars.len() => chars[at] = piece,
                2 if at < chars.len() => {
                    chars.remove(at);
                }
                _ => chars.insert(at, piece),
            }
        }
        chars.into_iter().collect()
    })
}

fn durations(script: &Script) -> impl Iterator<Item = Duration> + '_ {
    script.steps.iter().filter_map(|step| match step {
        Step::Wait(d) | Step::SendSilence(d) | Step::WaitHeard(d) | Step::WaitSilence(d) => {
            Some(*d)
        }
        _ => None,
    })
}

/// Steps that survive a round trip exactly (durations in whole milliseconds, as written).
fn step() -> impl Strategy<Value = Step> {
    let millis = (0u64..=MAX_STEP_DURATION.as_millis() as u64).prop_map(Duration::from_millis);
    prop_oneof![
        millis.clone().prop_map(Step::Wait),
        any::<bool>().prop_map(Step::WaitConnected),
        "[0-9*#A-D]{0,8}".prop_map(Step::Press),
        "[a-z/_.]{1,20}".prop_map(|path| Step::SendWav(PathBuf::from(path))),
        prop::collection::vec(any::<i16>(), 0..20).prop_map(Step::SendPcm),
        millis.clone().prop_map(Step::SendSilence),
        millis.clone().prop_map(Step::WaitHeard),
        millis.prop_map(Step::WaitSilence),
        Just(Step::HangUp),
    ]
}

proptest! {
    #[test]
    fn scripts_parse_or_fail_and_stay_bounded(text in prop_oneof![
        mutated(),
        any::<String>(),
        "steps = \\[[{}\"a-z_=0-9., e-]{0,80}\\]",
        (prop_oneof![any::<f64>(), 0.0..1e20f64], 0u8..4).prop_map(|(seconds, step)| {
            let step = ["wait", "send_silence", "wait_heard", "wait_silence"][usize::from(step)];
            format!("steps = [ {{ {step} = {seconds:e} }}, {{ {step} = \"{seconds}s\" }} ]")
        }),
    ]) {
        match Script::from_toml(&text) {
            Ok(script) => {
                for duration in durations(&script) {
                    prop_assert!(duration <= MAX_STEP_DURATION);
                }
                // `voicebot call` adds the steps up; that must not overflow.
                let total = durations(&script).try_fold(Duration::ZERO, Duration::checked_add);
                prop_assert!(total.is_some());
            }
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }

    #[test]
    fn scripts_round_trip_through_toml(steps in prop::collection::vec(step(), 0..12)) {
        let script = Script::from(steps);
        let text = toml::to_string(&script).expect("a script serialises");
        prop_assert_eq!(Script::from_toml(&text).expect("what we wrote parses"), script);
    }
}
