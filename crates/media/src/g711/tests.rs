//! The codecs against rows of the published G.711 decoding tables (16-bit linear
//! values, as ITU-T G.711 Tables 1 and 2 give them scaled to 16 bits) and their
//! round trips.

use test_case::test_case;

use super::*;

/// μ-law codes 0x00..=0x0F, 0x10..=0x1F and 0x70..=0x7F; 0x80.. mirror them.
const ULAW_ROWS: [(u8, [i16; 16]); 3] = [
    (
        0x00,
        [
            -32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956, -23932, -22908, -21884,
            -20860, -19836, -18812, -17788, -16764,
        ],
    ),
    (
        0x10,
        [
            -15996, -15484, -14972, -14460, -13948, -13436, -12924, -12412, -11900, -11388, -10876,
            -10364, -9852, -9340, -8828, -8316,
        ],
    ),
    (
        0x70,
        [
            -120, -112, -104, -96, -88, -80, -72, -64, -56, -48, -40, -32, -24, -16, -8, 0,
        ],
    ),
];

/// A-law codes 0x00..=0x0F and 0x10..=0x1F (even bits inverted, so not monotonic);
/// 0x80.. mirror them with the sign flipped.
const ALAW_ROWS: [(u8, [i16; 16]); 2] = [
    (
        0x00,
        [
            -5504, -5248, -6016, -5760, -4480, -4224, -4992, -4736, -7552, -7296, -8064, -7808,
            -6528, -6272, -7040, -6784,
        ],
    ),
    (
        0x10,
        [
            -2752, -2624, -3008, -2880, -2240, -2112, -2496, -2368, -3776, -3648, -4032, -3904,
            -3264, -3136, -3520, -3392,
        ],
    ),
];

#[test]
fn ulaw_decodes_as_the_table_says() {
    for (first, row) in ULAW_ROWS {
        for (offset, expected) in row.into_iter().enumerate() {
            let code = first + offset as u8;
            assert_eq!(ulaw_decode(code), expected, "code {code:#04x}");
            assert_eq!(
                ulaw_decode(code | 0x80),
                -expected,
                "code {:#04x}",
                code | 0x80
            );
        }
    }
}

#[test]
fn alaw_decodes_as_the_table_says() {
    for (first, row) in ALAW_ROWS {
        for (offset, expected) in row.into_iter().enumerate() {
            let code = first + offset as u8;
            assert_eq!(alaw_decode(code), expected, "code {code:#04x}");
            assert_eq!(
                alaw_decode(code | 0x80),
                -expected,
                "code {:#04x}",
                code | 0x80
            );
        }
    }
}

#[test_case(0, 0xFF, 0xD5; "zero")]
#[test_case(i16::MAX, 0x80, 0xAA; "loudest positive")]
#[test_case(i16::MIN, 0x00, 0x2A; "loudest negative")]
#[test_case(-8, 0x7E, 0x55; "smallest negative step")]
fn encodes_the_table_ends(sample: i16, ulaw: u8, alaw: u8) {
    assert_eq!(ulaw_encode(sample), ulaw);
    assert_eq!(alaw_encode(sample), alaw);
}

#[test]
fn every_code_survives_a_round_trip() {
    for code in 0..=255u8 {
        // 0x7F is μ-law's negative zero: it decodes to 0, which encodes as 0xFF.
        if code != 0x7F {
            assert_eq!(ulaw_encode(ulaw_decode(code)), code, "μ-law {code:#04x}");
        }
        assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
    }
}

#[test]
fn the_error_stays_within_half_a_step_of_the_segment() {
    for sample in i16::MIN..=i16::MAX {
        let magnitude = i32::from(sample).abs();
        // Steps double per segment: 8 (μ-law) or 16 (A-law) in 16-bit units at the
        // bottom, 1024 at the top; half a step is within magnitude/32 plus the bottom.
        let ulaw_error = (i32::from(ulaw_decode(ulaw_encode(sample))) - i32::from(sample)).abs();
        let alaw_error = (i32::from(alaw_decode(alaw_encode(sample))) - i32::from(sample)).abs();
        // Beyond the last reconstruction level μ-law clips (32124 is its largest).
        let clipped = (magnitude - 32124).max(0);
        assert!(
            ulaw_error <= magnitude / 32 + 8 + clipped,
            "μ-law {sample}: {ulaw_error}"
        );
        assert!(
            alaw_error <= magnitude / 32 + 16 + clipped,
            "A-law {sample}: {alaw_error}"
        );
    }
}

#[test]
fn slices_convert_up_to_the_shorter_length() {
    let samples = [0i16, 1000, -1000, 32000];
    let mut codes = [0u8; 3];
    assert_eq!(G711::Ulaw.encode_into(&samples, &mut codes), 3);
    assert_eq!(codes, [0xFF, ulaw_encode(1000), ulaw_encode(-1000)]);
    let mut decoded = [0i16; 8];
    assert_eq!(G711::Ulaw.decode_into(&codes, &mut decoded), 3);
    assert_eq!(
        decoded[..3],
        [0, ulaw_decode(codes[1]), ulaw_decode(codes[2])]
    );
    assert_eq!(G711::Alaw.encode_into(&samples, &mut codes), 3);
    assert_eq!(codes[0], 0xD5);
}
