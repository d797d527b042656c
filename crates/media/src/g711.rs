//! G.711 companding: μ-law (PCMU, North America and Japan) and A-law (PCMA, the rest
//! of the world), 8-bit codes to and from 16-bit linear samples.
//!
//! Telephony APIs outside the PBX speak these (the Twilio Media Streams protocol
//! carries base64 μ-law), while the engine works in PCM s16le. The conversions follow
//! ITU-T G.711 as the reference implementation (Sun's `g711.c`) computes it: μ-law
//! works on 14-bit magnitudes with a bias of 33, A-law on 13-bit magnitudes, both in
//! eight segments of sixteen steps. Decoding goes through 256-entry tables built at
//! compile time, so it costs one load per sample; encoding is a short search over the
//! eight segment ends. Neither allocates.

/// A G.711 law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum G711 {
    /// μ-law (PCMU): `audio/x-mulaw`.
    Ulaw,
    /// A-law (PCMA): `audio/x-alaw`.
    Alaw,
}

impl G711 {
    /// Encodes `input` into `output`, one code per sample; returns how many samples were
    /// encoded (the shorter of the two lengths).
    pub fn encode_into(self, input: &[i16], output: &mut [u8]) -> usize {
        let count = input.len().min(output.len());
        let encode = match self {
            Self::Ulaw => ulaw_encode,
            Self::Alaw => alaw_encode,
        };
        for (code, &sample) in output.iter_mut().zip(input) {
            *code = encode(sample);
        }
        count
    }

    /// Decodes `input` into `output`, one sample per code; returns how many codes were
    /// decoded (the shorter of the two lengths).
    pub fn decode_into(self, input: &[u8], output: &mut [i16]) -> usize {
        let count = input.len().min(output.len());
        let table = match self {
            Self::Ulaw => &ULAW_DECODE,
            Self::Alaw => &ALAW_DECODE,
        };
        for (sample, &code) in output.iter_mut().zip(input) {
            *sample = table[usize::from(code)];
        }
        count
    }
}

/// μ-law segment ends, on biased 14-bit magnitudes.
const ULAW_SEGMENT_ENDS: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
/// A-law segment ends, on 13-bit magnitudes.
const ALAW_SEGMENT_ENDS: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
/// The μ-law bias (0x84 on 16-bit samples, 33 on 14-bit ones).
const ULAW_BIAS: i32 = 0x84;
/// The largest 14-bit magnitude μ-law represents before the bias.
const ULAW_CLIP: i32 = 8159;

/// The first segment whose end is at least `value` (8 when none is).
fn segment(value: i32, ends: &[i32; 8]) -> i32 {
    ends.iter().position(|&end| value <= end).unwrap_or(8) as i32
}

/// Encodes one sample as μ-law.
pub fn ulaw_encode(sample: i16) -> u8 {
    let mut value = i32::from(sample) >> 2;
    let mask = match value < 0 {
        true => {
            value = -value;
            0x7F
        }
        false => 0xFF,
    };
    let value = value.min(ULAW_CLIP) + (ULAW_BIAS >> 2);
    let segment = segment(value, &ULAW_SEGMENT_ENDS);
    let code = match segment {
        8 => 0x7F,
        _ => (segment << 4) | ((value >> (segment + 1)) & 0xF),
    };
    (code ^ mask) as u8
}

/// Decodes one μ-law code.
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_DECODE[usize::from(code)]
}

/// Encodes one sample as A-law.
pub fn alaw_encode(sample: i16) -> u8 {
    let mut value = i32::from(sample) >> 3;
    let mask = match value >= 0 {
        true => 0xD5,
        false => {
            value = -value - 1;
            0x55
        }
    };
    let segment = segment(value, &ALAW_SEGMENT_ENDS);
    let code = match segment {
        8 => 0x7F,
        0 | 1 => (segment << 4) | ((value >> 1) & 0xF),
        _ => (segment << 4) | ((value >> segment) & 0xF),
    };
    (code ^ mask) as u8
}

/// Decodes one A-law code.
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_DECODE[usize::from(code)]
}

const fn ulaw_decode_slow(code: u8) -> i16 {
    let code = !code as i32;
    let mut magnitude = ((code & 0x0F) << 3) + ULAW_BIAS;
    magnitude <<= (code & 0x70) >> 4;
    match code & 0x80 != 0 {
        true => (ULAW_BIAS - magnitude) as i16,
        false => (magnitude - ULAW_BIAS) as i16,
    }
}

const fn alaw_decode_slow(code: u8) -> i16 {
    let code = (code ^ 0x55) as i32;
    let mut magnitude = (code & 0x0F) << 4;
    let segment = (code & 0x70) >> 4;
    match segment {
        0 => magnitude += 8,
        1 => magnitude += 0x108,
        _ => {
            magnitude += 0x108;
            magnitude <<= segment - 1;
        }
    }
    match code & 0x80 != 0 {
        true => magnitude as i16,
        false => -magnitude as i16,
    }
}

const ULAW_DECODE: [i16; 256] = {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = ulaw_decode_slow(code as u8);
        code += 1;
    }
    table
};

const ALAW_DECODE: [i16; 256] = {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = alaw_decode_slow(code as u8);
        code += 1;
    }
    table
};

#[cfg(test)]
mod tests;
