use test_case::{test_case, test_matrix};

use std::f64::consts::TAU;

use super::*;
use crate::testutil::Noise;

const ALL: &str = "123A456B789C*0#D";

fn detect(samples: &[i16]) -> String {
    let mut detector = DtmfDetector::new();
    let mut out = String::new();
    detector.process_with(samples, |d| out.push(d));
    out
}

/// `lead` samples of silence, a tone pair, then 100 ms of silence.
fn burst(low: f64, high: f64, low_db: f64, high_db: f64, on_ms: f64, lead: usize) -> Vec<i16> {
    let amp = |db: f64| 10f64.powf(db / 20.0);
    let mut out = vec![0i16; lead];
    out.extend(tone_pair(
        low,
        high,
        amp(low_db),
        amp(high_db),
        (on_ms * 8.0).round() as usize,
    ));
    out.resize(out.len() + 800, 0);
    out
}

#[test_case(0.0; "loud")]
#[test_case(-10.0; "nominal")]
#[test_case(-30.0; "quiet")]
#[test_case(-36.0; "at the Q.24 floor")]
fn every_digit_once_at_level(dbm0: f64) {
    let samples = DtmfGenerator::new()
        .level(dbm0)
        .generate(ALL)
        .expect("valid digits");
    assert_eq!(detect(&samples), ALL);
}

#[test]
fn too_quiet_is_ignored() {
    let samples = DtmfGenerator::new()
        .level(-45.0)
        .generate("5")
        .expect("valid");
    assert_eq!(detect(&samples), "");
}

#[test]
fn long_tone_reported_once_despite_dropout() {
    let mut samples = DtmfGenerator::new()
        .on(Duration::from_secs(1))
        .generate("7")
        .expect("valid");
    samples[4_000..4_080].fill(0); // a 10 ms dropout mid-tone
    assert_eq!(detect(&samples), "7");
}

#[test_case(40; "minimum interdigit pause")]
#[test_case(60; "normal pause")]
fn fast_dialling_keeps_every_digit(pause_ms: u64) {
    let generator = DtmfGenerator::new()
        .on(Duration::from_millis(40))
        .off(Duration::from_millis(pause_ms));
    assert_eq!(
        detect(&generator.generate("1155#").expect("valid")),
        "1155#"
    );
}

#[test]
fn invalid_digit_is_an_error() {
    assert_eq!(
        DtmfGenerator::new().generate("12x"),
        Err(crate::DtmfError::InvalidDigit('x'))
    );
    assert_eq!(digit_frequencies('d'), Some((941.0, 1633.0)));
}

/// Q.24 frequency tolerance: each of the 8 tones off by the given percentage, the other nominal.
#[test_matrix([0, 1, 2, 3, 4, 5, 6, 7], [-1.5, 1.5, -3.5, 3.5])]
fn frequency_tolerance(tone: usize, offset_percent: f64) {
    let (row, col) = (tone.min(3), tone.saturating_sub(4));
    let (mut low, mut high) = (
        LOW_GROUP_HZ[if tone < 4 { row } else { 1 }],
        HIGH_GROUP_HZ[if tone < 4 { 1 } else { col }],
    );
    match tone < 4 {
        true => low *= 1.0 + offset_percent / 100.0,
        false => high *= 1.0 + offset_percent / 100.0,
    }
    let want = offset_percent.abs() <= 1.5;
    for lead in [0, 37, 71] {
        let got = detect(&burst(low, high, -10.0, -10.0, 60.0, lead));
        assert_eq!(
            !got.is_empty(),
            want,
            "{low:.1}+{high:.1} Hz, lead {lead}: {got:?}"
        );
    }
}

/// Q.24 timing: 40 ms and longer detected, 23 ms and shorter rejected, at every alignment.
#[test_case(40.0, true)]
#[test_case(45.0, true)]
#[test_case(60.0, true)]
#[test_case(23.0, false)]
#[test_case(20.0, false)]
#[test_case(10.0, false)]
fn duration_limits(on_ms: f64, detected: bool) {
    for (digit, (low, high)) in ALL
        .chars()
        .map(|d| (d, digit_frequencies(d).expect("valid")))
    {
        for lead in (0..80).step_by(3) {
            let got = detect(&burst(low, high, -10.0, -10.0, on_ms, lead));
            let want = if detected {
                digit.to_string()
            } else {
                String::new()
            };
            assert_eq!(got, want, "{digit} for {on_ms} ms, lead {lead}");
        }
    }
}

/// Q.24 twist: high tone up to 8 dB weaker (normal) or up to 4 dB stronger (reverse).
#[test_case(-8.0; "normal twist 8 dB")]
#[test_case(-4.0; "normal twist 4 dB")]
#[test_case(4.0; "reverse twist 4 dB")]
fn twist_accepted(high_minus_low: f64) {
    let generator = DtmfGenerator::new()
        .level(-8.0)
        .twist(high_minus_low)
        .on(Duration::from_millis(50));
    assert_eq!(detect(&generator.generate(ALL).expect("valid")), ALL);
}

#[test_case(-12.0; "normal twist 12 dB")]
#[test_case(7.0; "reverse twist 7 dB")]
fn excessive_twist_rejected(high_minus_low: f64) {
    let generator = DtmfGenerator::new().level(-8.0).twist(high_minus_low);
    assert_eq!(detect(&generator.generate(ALL).expect("valid")), "");
}

/// 15 dB SNR: white noise 15 dB below the tone pair's power, over the whole band.
#[test_case(1)]
#[test_case(2)]
#[test_case(3)]
#[test_case(4)]
fn works_at_15_db_snr(seed: u64) {
    let generator = DtmfGenerator::new()
        .level(-13.0)
        .on(Duration::from_millis(50))
        .off(Duration::from_millis(50));
    let mut samples = generator.generate(ALL).expect("valid");
    let amp = 32_767.0 * dbm0_to_amp(-13.0);
    let tone_power = amp * amp; // two tones of amp²/2
    Noise::new(seed).add_to(&mut samples, (tone_power / 10f64.powf(1.5)).sqrt());
    assert_eq!(detect(&samples), ALL);
}

#[test_case(1.0; "as recorded")]
#[test_case(3.0; "10 dB hotter")]
#[test_case(0.3; "10 dB quieter")]
fn talk_off_on_speech(gain: f64) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/speech_8k.wav");
    let speech = crate::Prompt::load(path).expect("fixture loads");
    let samples: Vec<i16> = speech
        .samples()
        .iter()
        .map(|&s| (f64::from(s) * gain).clamp(-32_768.0, 32_767.0) as i16)
        .collect();
    assert_eq!(detect(&samples), "", "false digits in speech");
}

#[test]
fn noise_alone_is_silent() {
    let mut samples = vec![0i16; 80_000];
    Noise::new(9).add_to(&mut samples, 3_000.0);
    assert_eq!(detect(&samples), "");
}

#[test]
fn floor_is_configurable() {
    let samples = DtmfGenerator::new()
        .level(-42.0)
        .generate("5")
        .expect("valid");
    let mut default = DtmfDetector::new();
    let mut lower = DtmfDetector::with_config(DtmfConfig {
        min_level_dbm0: -45.0,
    })
    .expect("valid");
    let (mut by_default, mut by_lower) = (String::new(), String::new());
    default.process_with(&samples, |d| by_default.push(d));
    lower.process_with(&samples, |d| by_lower.push(d));
    assert_eq!((by_default.as_str(), by_lower.as_str()), ("", "5"));
}

#[test_case(f32::NAN)]
#[test_case(1.0)]
#[test_case(-61.0)]
fn bad_floor_rejected(min_level_dbm0: f32) {
    let err = DtmfDetector::with_config(DtmfConfig { min_level_dbm0 }).expect_err("invalid");
    assert_eq!(
        err,
        crate::ConfigError::OutOfRange {
            setting: "min_level_dbm0",
            reason: "must lie within -60..=0 dBm0",
        }
    );
}

/// A digit's two tones, with each tone's pitch swinging by `depth` (relative) at 5.5 Hz, as a
/// singer's or a violin's vibrato does; `start` is the swing's phase at the tone's start.
fn vibrato_pair(digit: char, depth: f64, start: f64, n: usize) -> Vec<i16> {
    let (low, high) = digit_frequencies(digit).expect("valid");
    let amp = 32_767.0 * dbm0_to_amp(-15.0);
    let (mut phase_low, mut phase_high) = (0.0f64, 0.0f64);
    (0..n)
        .map(|i| {
            let swing = 1.0 + depth * (TAU * 5.5 * i as f64 / 8_000.0 + start).sin();
            phase_low += TAU * low * swing / 8_000.0;
            phase_high += TAU * high * swing / 8_000.0;
            (amp * (phase_low.sin() + phase_high.sin())) as i16
        })
        .collect()
}

/// Talk-off: notes on a digit's two frequencies, but held with vibrato, or drifting into the
/// tolerance window rather than starting in it, are no key press.
#[test_case(0.015; "vibrato 1.5%")]
#[test_case(0.025; "vibrato 2.5%")]
fn vibrato_on_dtmf_frequencies_is_no_digit(depth: f64) {
    for start in [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] {
        let got = detect(&vibrato_pair('5', depth, start, 8_000));
        assert_eq!(got, "", "vibrato phase {start}");
    }
}

#[test]
fn steady_tones_with_vibrato_onset_only_no_key_press() {
    // The pitch swings in from 3% off while the notes sound: no silence before the digit.
    let mut samples = vibrato_pair('9', 0.03, 0.0, 800);
    let (low, high) = digit_frequencies('9').expect("valid");
    let amp = dbm0_to_amp(-15.0);
    samples.extend(tone_pair(low, high, amp, amp, 2_000));
    assert_eq!(detect(&samples), "");
}

/// Q.24 timing and twist together: 40 ms tones with the high tone 8 dB weaker, at 400 phase and
/// block alignments, are each detected once.
#[test]
fn forty_ms_at_twist_minus_8_at_every_phase_and_offset() {
    let mut missed = Vec::new();
    for trial in 0..400u64 {
        let digit = ALL.as_bytes()[(trial % 16) as usize] as char;
        let (low, high) = digit_frequencies(digit).expect("valid");
        // Phases and lead-ins spread by multiplicative hashing.
        let phase_low = (trial * 2_654_435_761 % 1_000_003) as f64 / 1_000_003.0 * TAU;
        let phase_high = (trial * 40_503 % 999_983) as f64 / 999_983.0 * TAU;
        let lead = 80 + (trial as usize * 7_919) % 80;
        let (amp_low, amp_high) = (32_767.0 * dbm0_to_amp(-20.0), 32_767.0 * dbm0_to_amp(-28.0));
        let mut samples = vec![0i16; lead];
        samples.extend((0..320).map(|i| {
            let t = i as f64 / 8_000.0;
            let v = amp_low * (TAU * low * t + phase_low).sin()
                + amp_high * (TAU * high * t + phase_high).sin();
            v.round() as i16
        }));
        samples.resize(samples.len() + 800, 0);
        if detect(&samples) != digit.to_string() {
            missed.push((digit, lead));
        }
    }
    assert_eq!(missed, [], "missed (digit, lead)");
}
