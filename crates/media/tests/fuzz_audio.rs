//! Property and fuzz tests of audio input: WAV headers and data, raw PCM, and the PCM byte
//! stream of a call. Whatever the bytes, loading returns a prompt or an error naming what
//! is wrong, never a panic, and never more audio than the input and the limits allow.
//!
//! Quick by default (proptest's 256 cases per target); `PROPTEST_CASES=1000000` runs a
//! million.

use std::time::Duration;

use proptest::prelude::*;
use voicebot_media::{
    AudioLimits, Frame, FrameDecoder, JitterBuffer, JitterConfig, Lookup, Prompt,
};

/// The most 8 kHz samples `input_bytes` can become: one byte per frame at the lowest
/// accepted rate (4 kHz) doubles, plus the resampler's rounding.
fn max_samples(input_bytes: usize) -> usize {
    input_bytes * 2 + 16
}

/// A WAV file built from fuzzed header fields: the format tag, channels, rate, block
/// align, bits, the data length it declares, an optional chunk before `fmt `, and data.
fn wav_file() -> impl Strategy<Value = Vec<u8>> {
    let tag = prop_oneof![Just(1u16), Just(3), Just(0xFFFE), any::<u16>()];
    let channels = prop_oneof![1u16..=2, 0u16..=8, any::<u16>()];
    let rate = prop_oneof![
        Just(8_000u32),
        Just(44_100),
        3_990u32..=4_010,
        191_990u32..=192_010,
        any::<u32>()
    ];
    let bits = prop_oneof![Just(8u16), Just(16), Just(24), Just(32), any::<u16>()];
    let fmt_length = prop_oneof![Just(16u32), Just(18), Just(40), 0u32..64];
    let declared = prop_oneof![
        Just(None),
        any::<u32>().prop_map(Some),
        (0u32..4_096).prop_map(Some)
    ];
    (
        (tag, channels, rate, bits, any::<u16>()),
        (fmt_length, declared, any::<bool>()),
        prop::collection::vec(any::<u8>(), 0..2_048),
    )
        .prop_map(
            |(
                (tag, channels, rate, bits, align_noise),
                (fmt_length, declared, junk_chunk),
                data,
            )| {
                // Mostly a consistent block align, sometimes noise.
                let align = match align_noise % 4 {
                    0 => align_noise,
                    _ => channels.wrapping_mul(bits.div_ceil(8)),
                };
                let mut fmt = Vec::new();
                fmt.extend_from_slice(&tag.to_le_bytes());
                fmt.extend_from_slice(&channels.to_le_bytes());
                fmt.extend_from_slice(&rate.to_le_bytes());
                fmt.extend_from_slice(&rate.wrapping_mul(u32::from(align)).to_le_bytes());
                fmt.extend_from_slice(&align.to_le_bytes());
                fmt.extend_from_slice(&bits.to_le_bytes());
                fmt.extend_from_slice(&22u16.to_le_bytes());
                fmt.extend_from_slice(&bits.to_le_bytes());
                fmt.extend_from_slice(&0u32.to_le_bytes());
                fmt.extend_from_slice(&(tag % 4).to_le_bytes());
                fmt.resize(fmt_length as usize, 0);
                let mut file = b"RIFF\0\0\0\0WAVE".to_vec();
                if junk_chunk {
                    file.extend_from_slice(b"LIST\x03\0\0\0abc\0");
                }
                file.extend_from_slice(b"fmt ");
                file.extend_from_slice(&fmt_length.to_le_bytes());
                file.extend_from_slice(&fmt);
                file.extend_from_slice(b"data");
                let length = declared.unwrap_or(data.len() as u32);
                file.extend_from_slice(&length.to_le_bytes());
                file.extend_from_slice(&data);
                file
            },
        )
}

fn check_wav(bytes: &[u8]) -> Result<(), TestCaseError> {
    let limits = AudioLimits::default();
    match Prompt::from_wav_bytes_checked(bytes, &limits) {
        Ok(loaded) => {
            prop_assert!(loaded.prompt.len_samples() > 0);
            prop_assert!(loaded.prompt.len_samples() <= max_samples(bytes.len()));
            prop_assert!(
                loaded.prompt.duration() <= limits.max_duration() + Duration::from_millis(1)
            );
        }
        Err(error) => {
            prop_assert!(
                error.to_string().starts_with("prompt <memory>: "),
                "{}",
                error
            );
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn wav_headers_never_panic(bytes in wav_file()) {
        check_wav(&bytes)?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_wav(&bytes)?;
        let mut riff = b"RIFF\0\0\0\0WAVE".to_vec();
        riff.extend_from_slice(&bytes);
        check_wav(&riff)?;
    }

    /// What hound writes at 8 kHz, 16-bit mono, loads back sample for sample.
    #[test]
    fn an_8k_16_bit_wav_round_trips(samples in prop::collection::vec(any::<i16>(), 1..2_000)) {
        let mut bytes = Vec::new();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::new(std::io::Cursor::new(&mut bytes), spec).unwrap();
        for &sample in &samples {
            writer.write_sample(sample).unwrap();
        }
        writer.finalize().unwrap();
        let loaded = Prompt::from_wav_bytes_checked(&bytes, &AudioLimits::default()).unwrap();
        prop_assert!(loaded.warnings.is_empty());
        prop_assert_eq!(loaded.prompt.samples(), &samples[..]);
    }

    /// Raw PCM: every whole sample, in order; an odd byte is left out.
    #[test]
    fn raw_pcm_keeps_every_whole_sample(bytes in prop::collection::vec(any::<u8>(), 0..1_024)) {
        match Prompt::from_pcm(&bytes) {
            Ok(prompt) => {
                prop_assert_eq!(prompt.len_samples(), bytes.len() / 2);
                for (sample, pair) in prompt.samples().iter().zip(bytes.chunks_exact(2)) {
                    prop_assert_eq!(*sample, i16::from_le_bytes([pair[0], pair[1]]));
                }
            }
            Err(_) => prop_assert!(bytes.len() < 2),
        }
    }

    /// The call's PCM byte stream, cut anywhere: frames come out whole and in order.
    #[test]
    fn the_pcm_stream_reassembles_however_it_is_cut(
        bytes in prop::collection::vec(any::<u8>(), 0..4_000),
        cuts in prop::collection::vec(0usize..700, 0..20),
    ) {
        let mut decoder = FrameDecoder::new();
        let mut jitter = JitterBuffer::new(JitterConfig::default()).unwrap();
        let mut out = Vec::new();
        let mut played = Vec::new();
        let mut rest = &bytes[..];
        let mut now = Duration::ZERO;
        for cut in cuts.into_iter().chain(std::iter::once(usize::MAX)) {
            let (chunk, tail) = rest.split_at(cut.min(rest.len()));
            rest = tail;
            decoder.push(chunk);
            jitter.push(chunk, now);
            while let Some(frame) = decoder.pop() {
                out.extend_from_slice(&frame.to_bytes());
            }
            now += Frame::DURATION;
            if let Lookup::Frame(frame) = jitter.pop(now) {
                played.push(frame.to_bytes());
            }
        }
        prop_assert_eq!(out.len(), bytes.len() / Frame::BYTES * Frame::BYTES);
        prop_assert_eq!(&out[..], &bytes[..out.len()]);
        prop_assert_eq!(decoder.pending_bytes(), bytes.len() % Frame::BYTES);
        // The jitter buffer may drop or conceal (its policy), but the real frames it plays
        // are the caller's, in order.
        prop_assert_eq!(jitter.stats().frames_in, (bytes.len() / Frame::BYTES) as u64);
        let mut input = out.chunks_exact(Frame::BYTES);
        for frame in &played {
            prop_assert!(input.any(|candidate| candidate == &frame[..]), "a frame out of order");
        }
    }
}
