use test_case::test_case;

use super::*;
use crate::testutil::{rms_db, sine, sine_i16, tone_amplitude};

#[test_case(48_000, ResamplerKind::Fft)]
#[test_case(44_100, ResamplerKind::Fft)]
#[test_case(24_000, ResamplerKind::Fft)]
#[test_case(22_050, ResamplerKind::Fft)]
#[test_case(16_000, ResamplerKind::Fft)]
#[test_case(11_025, ResamplerKind::Fft)]
#[test_case(44_101, ResamplerKind::Sinc; "odd rate uses sinc")]
fn prompt_rates_pass_the_band_and_reject_aliases(rate: u32, kind: ResamplerKind) {
    assert_eq!(resampler_kind(rate, 8_000), kind);
    let n = rate as usize; // one second
    let measure = |hz: f64| {
        let out = resample_to_8k(&sine(hz, 0.9, rate, n), rate).expect("resamples");
        assert!(out.len().abs_diff(8_000) <= 2, "length {}", out.len());
        // Skip the edges, where the clip starts and stops abruptly.
        out[400..7_600].to_vec()
    };
    let at_1k = tone_amplitude(&measure(1_000.0), 1_000.0, 8_000);
    let at_3k4 = tone_amplitude(&measure(3_400.0), 3_400.0, 8_000);
    assert!(
        (20.0 * (at_1k / 0.9).log10()).abs() < 0.1,
        "1 kHz gain {at_1k}"
    );
    assert!(
        20.0 * (at_3k4 / 0.9).log10() > -1.0,
        "3.4 kHz gain {at_3k4}"
    );
    if rate >= 11_000 {
        // 5 kHz would fold to 3 kHz; it must vanish (0.9 amplitude ≈ −3.9 dB RMS in).
        let alias = rms_db(&measure(5_000.0));
        assert!(alias < -3.9 - 80.0, "5 kHz alias at {alias:.1} dBFS");
    }
}

#[test]
fn eight_khz_passes_through() {
    let x = sine(440.0, 0.5, 8_000, 800);
    let out = resample_to_8k(&x, 8_000).expect("identity");
    assert_eq!(out.len(), 800);
    assert_eq!(out[2], f32_to_i16(x[2]));
}

#[test_case(0, 8_000; "zero input rate")]
#[test_case(8_000, 0; "zero output rate")]
fn zero_rates_are_rejected(from: u32, to: u32) {
    assert!(matches!(
        StreamResampler::new(from, to, 160),
        Err(ConfigError::UnsupportedRate { .. })
    ));
}

#[test]
fn upsampler_doubles_rate_without_loss() {
    let mut up = Upsampler8To16::new().expect("builds");
    let tone = sine_i16(1_000.0, 0.5, 8_000, 8_000);
    let mut wide = Vec::new();
    let mut out = [0i16; 320];
    for chunk in tone.chunks_exact(160) {
        up.process(&Frame::from_slice_padded(chunk), &mut out)
            .expect("processes");
        wide.extend_from_slice(&out);
    }
    assert_eq!(wide.len(), 16_000);
    let amp = tone_amplitude(&wide[1_600..14_400], 1_000.0, 16_000);
    assert!((amp - 0.5).abs() < 0.005, "amplitude {amp}");
    // Nothing was created above 4 kHz: the image of 1 kHz at 7 kHz is gone.
    assert!(tone_amplitude(&wide[1_600..14_400], 7_000.0, 16_000) < 1e-4);
}

#[test]
fn stream_resampler_checks_lengths() {
    let mut r = StreamResampler::new(8_000, 16_000, 160).expect("builds");
    let mut out = vec![0i16; r.output_samples_max()];
    assert_eq!(
        r.process_into(&[0; 100], &mut out),
        Err(ResampleError::InputLength {
            expected: 160,
            actual: 100
        })
    );
    assert!(matches!(
        r.process_into(&[0; 160], &mut [0; 10]),
        Err(ResampleError::OutputTooSmall { .. })
    ));
    assert_eq!(r.process_into(&[0; 160], &mut out), Ok(320));
}

#[test]
fn resamplers_are_send() {
    fn is_send<T: Send>() {}
    is_send::<StreamResampler>();
    is_send::<Upsampler8To16>();
}
