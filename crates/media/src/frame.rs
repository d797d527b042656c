//! 20 ms frames of 8 kHz s16le mono audio, and the byte-stream decoder and encoder.

use std::{fmt, time::Duration};

/// The sample rate of all call audio, in Hz.
pub const SAMPLE_RATE: u32 = 8_000;

/// 20 ms of call audio: 160 samples of 8 kHz mono. `Copy`, 320 bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    samples: [i16; Frame::SAMPLES],
}

impl Frame {
    /// Samples in one frame.
    pub const SAMPLES: usize = 160;
    /// Bytes in one frame on the wire (s16le).
    pub const BYTES: usize = Self::SAMPLES * 2;
    /// The duration of one frame.
    pub const DURATION: Duration = Duration::from_millis(20);

    /// A frame of digital silence.
    #[must_use]
    pub const fn silence() -> Self {
        Self {
            samples: [0; Self::SAMPLES],
        }
    }

    /// Wraps 160 samples.
    #[must_use]
    pub const fn from_samples(samples: [i16; Self::SAMPLES]) -> Self {
        Self { samples }
    }

    /// Copies up to 160 samples from `samples` and pads the rest with silence.
    #[must_use]
    pub fn from_slice_padded(samples: &[i16]) -> Self {
        let mut frame = Self::silence();
        let n = samples.len().min(Self::SAMPLES);
        frame.samples[..n].copy_from_slice(&samples[..n]);
        frame
    }

    /// Decodes 320 s16le bytes.
    #[must_use]
    pub fn from_bytes(bytes: &[u8; Self::BYTES]) -> Self {
        let mut frame = Self::silence();
        for (sample, pair) in frame.samples.iter_mut().zip(bytes.chunks_exact(2)) {
            *sample = i16::from_le_bytes([pair[0], pair[1]]);
        }
        frame
    }

    /// The samples.
    #[must_use]
    pub const fn as_samples(&self) -> &[i16; Self::SAMPLES] {
        &self.samples
    }

    /// The samples, mutably (for gain, mixing, concealment).
    pub fn as_samples_mut(&mut self) -> &mut [i16; Self::SAMPLES] {
        &mut self.samples
    }

    /// Encodes the frame as s16le into `out`.
    pub fn to_bytes_into(&self, out: &mut [u8; Self::BYTES]) {
        for (pair, sample) in out.chunks_exact_mut(2).zip(self.samples) {
            pair.copy_from_slice(&sample.to_le_bytes());
        }
    }

    /// Encodes the frame as s16le.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let mut out = [0; Self::BYTES];
        self.to_bytes_into(&mut out);
        out
    }

    /// Whether every sample is zero.
    #[must_use]
    pub fn is_silent(&self) -> bool {
        self.samples.iter().all(|&s| s == 0)
    }
}

impl Default for Frame {
    fn default() -> Self {
        Self::silence()
    }
}

impl fmt::Debug for Frame {
    // 160 numbers help nobody; the peak says whether there is audio in it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let peak = self.samples.iter().map(|s| s.unsigned_abs()).max();
        f.debug_struct("Frame").field("peak", &peak).finish()
    }
}

/// Turns an s16le byte stream, delivered in chunks of any size, into [`Frame`]s.
///
/// Chunks may split a sample (an odd byte is carried to the next chunk) or a frame. The decoder
/// keeps one internal buffer that grows only when a chunk larger than any before arrives, so it
/// stops allocating once the stream has settled.
#[derive(Debug, Default, Clone)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
    start: usize,
    frames_out: u64,
}

impl FrameDecoder {
    /// Creates an empty decoder.
    #[must_use]
    pub fn new() -> Self {
        Self {
            buffer: Vec::with_capacity(4 * Frame::BYTES),
            start: 0,
            frames_out: 0,
        }
    }

    /// Appends a chunk of the byte stream. Complete frames become available from [`Self::pop`].
    pub fn push(&mut self, bytes: &[u8]) {
        // Compact before growing, so the buffer only ever holds one chunk plus a frame.
        if self.start > 0 && self.buffer.len() + bytes.len() > self.buffer.capacity() {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// Takes the next complete frame, if one is buffered.
    pub fn pop(&mut self) -> Option<Frame> {
        let end = self.start + Frame::BYTES;
        let bytes: &[u8; Frame::BYTES] = self.buffer.get(self.start..end)?.try_into().ok()?;
        let frame = Frame::from_bytes(bytes);
        self.start = end;
        if self.start == self.buffer.len() {
            self.buffer.clear();
            self.start = 0;
        }
        self.frames_out += 1;
        Some(frame)
    }

    /// Bytes buffered that have not been returned as frames yet (complete frames included).
    #[must_use]
    pub fn pending_bytes(&self) -> usize {
        self.buffer.len() - self.start
    }

    /// Complete frames ready to [`Self::pop`].
    #[must_use]
    pub fn frames_ready(&self) -> usize {
        self.pending_bytes() / Frame::BYTES
    }

    /// Frames returned so far.
    #[must_use]
    pub fn frames_out(&self) -> u64 {
        self.frames_out
    }

    /// At the end of the stream: returns the next frame, padding a final partial frame with
    /// silence. A trailing odd byte (half a sample) is dropped. Returns `None` once empty.
    pub fn flush_padded(&mut self) -> Option<Frame> {
        if let Some(frame) = self.pop() {
            return Some(frame);
        }
        let rest = &self.buffer[self.start..];
        if rest.len() < 2 {
            self.buffer.clear();
            self.start = 0;
            return None;
        }
        let mut frame = Frame::silence();
        for (sample, pair) in frame.as_samples_mut().iter_mut().zip(rest.chunks_exact(2)) {
            *sample = i16::from_le_bytes([pair[0], pair[1]]);
        }
        self.buffer.clear();
        self.start = 0;
        self.frames_out += 1;
        Some(frame)
    }
}

impl Iterator for FrameDecoder {
    type Item = Frame;

    fn next(&mut self) -> Option<Frame> {
        self.pop()
    }
}

/// Encodes frames or sample slices as s16le bytes into a buffer it owns (no allocation per frame).
#[derive(Debug, Clone)]
pub struct FrameEncoder {
    bytes: [u8; Frame::BYTES],
}

impl FrameEncoder {
    /// Creates an encoder.
    #[must_use]
    pub fn new() -> Self {
        Self {
            bytes: [0; Frame::BYTES],
        }
    }

    /// Encodes one frame; the bytes stay valid until the next call.
    pub fn encode(&mut self, frame: &Frame) -> &[u8; Frame::BYTES] {
        frame.to_bytes_into(&mut self.bytes);
        &self.bytes
    }
}

impl Default for FrameEncoder {
    fn default() -> Self {
        Self::new()
    }
}

/// Encodes samples as s16le into `out`; returns the number of bytes written
/// (`2 * min(samples.len(), out.len() / 2)`).
pub fn encode_samples(samples: &[i16], out: &mut [u8]) -> usize {
    let mut written = 0;
    for (pair, sample) in out.chunks_exact_mut(2).zip(samples) {
        pair.copy_from_slice(&sample.to_le_bytes());
        written += 2;
    }
    written
}

/// Decodes s16le bytes into `out`; returns the number of samples written. A trailing odd byte
/// is ignored.
pub fn decode_samples(bytes: &[u8], out: &mut [i16]) -> usize {
    let mut written = 0;
    for (sample, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *sample = i16::from_le_bytes([pair[0], pair[1]]);
        written += 1;
    }
    written
}

/// The duration of `samples` samples at 8 kHz.
#[must_use]
pub fn samples_to_duration(samples: u64) -> Duration {
    Duration::from_nanos(samples.saturating_mul(125_000))
}

/// The number of whole 8 kHz samples in `duration`.
#[must_use]
pub fn duration_to_samples(duration: Duration) -> u64 {
    (duration.as_nanos() / 125_000) as u64
}

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::*;

    fn ramp_bytes(samples: usize) -> Vec<u8> {
        (0..samples)
            .flat_map(|i| ((i as i16).wrapping_mul(97)).to_le_bytes())
            .collect()
    }

    #[test_case(1; "one byte at a time")]
    #[test_case(3; "odd chunks split samples")]
    #[test_case(319; "one byte short of a frame")]
    #[test_case(320; "exact frames")]
    #[test_case(321; "frame plus a byte")]
    #[test_case(4096; "large chunks")]
    fn decoder_reassembles_any_chunking(chunk: usize) {
        let bytes = ramp_bytes(160 * 7 + 33);
        let mut decoder = FrameDecoder::new();
        let mut frames = Vec::new();
        for piece in bytes.chunks(chunk) {
            decoder.push(piece);
            frames.extend(decoder.by_ref());
        }
        assert_eq!(frames.len(), 7);
        assert_eq!(decoder.pending_bytes(), 66);
        let last = decoder.flush_padded().expect("partial frame");
        frames.push(last);
        assert_eq!(decoder.flush_padded(), None);
        let decoded: Vec<u8> = frames.iter().flat_map(Frame::to_bytes).collect();
        assert_eq!(&decoded[..bytes.len()], &bytes[..]);
        assert!(decoded[bytes.len()..].iter().all(|&b| b == 0));
    }

    #[test_case(&[], None; "empty")]
    #[test_case(&[7], None; "lone odd byte is dropped")]
    #[test_case(&[1, 0, 9], Some(1); "odd byte after a sample")]
    fn flush_handles_tails(bytes: &[u8], first: Option<i16>) {
        let mut decoder = FrameDecoder::new();
        decoder.push(bytes);
        let frame = decoder.flush_padded();
        assert_eq!(frame.map(|f| f.as_samples()[0]), first);
        assert_eq!(decoder.pending_bytes(), 0);
    }

    #[test]
    fn encoder_round_trips() {
        let frame = Frame::from_slice_padded(&[i16::MIN, -1, 0, 1, i16::MAX]);
        let mut encoder = FrameEncoder::new();
        let bytes = *encoder.encode(&frame);
        assert_eq!(Frame::from_bytes(&bytes), frame);
        let mut samples = [0i16; 160];
        assert_eq!(decode_samples(&bytes, &mut samples), 160);
        let mut again = [0u8; 320];
        assert_eq!(encode_samples(&samples, &mut again), 320);
        assert_eq!(again, bytes);
    }

    #[test_case(Duration::from_millis(20), 160)]
    #[test_case(Duration::from_micros(125), 1)]
    #[test_case(Duration::from_micros(124), 0)]
    fn durations_convert(duration: Duration, samples: u64) {
        assert_eq!(duration_to_samples(duration), samples);
        assert!(samples_to_duration(samples) <= duration);
    }

    proptest::proptest! {
        #[test]
        fn decoder_never_loses_bytes(data in proptest::collection::vec(proptest::num::u8::ANY, 0..2000),
                                     cuts in proptest::collection::vec(1usize..500, 1..20)) {
            let mut decoder = FrameDecoder::new();
            let mut pos = 0;
            let mut out = Vec::new();
            for cut in cuts.iter().cycle() {
                if pos >= data.len() { break; }
                let end = (pos + cut).min(data.len());
                decoder.push(&data[pos..end]);
                pos = end;
                out.extend(decoder.by_ref().flat_map(|f| f.to_bytes()));
            }
            proptest::prop_assert_eq!(out.len() + decoder.pending_bytes(), data.len());
            proptest::prop_assert_eq!(&out[..], &data[..out.len()]);
        }
    }
}
