//! Decoding a response body framed as HTTP/1.1 `Transfer-Encoding: chunked`, in place:
//! the decoder points at the payload inside the bytes read, so audio is copied once,
//! from the read buffer to the reader's.

use std::ops::Range;

/// Where the decoder is in the chunked framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex size of the next chunk (`digits` read so far).
    Size { size: u64, digits: u8 },
    /// After the size: an extension or whitespace up to the line's end.
    SizeRest { size: u64 },
    /// Inside a chunk's payload, this many bytes left.
    Data(u64),
    /// After a payload: its CRLF (`\r` seen or not).
    DataEnd { cr: bool },
    /// After the last chunk: at the start of a trailer line or the final empty line.
    TrailerStart,
    /// Inside a trailer line (skipped).
    Trailer,
    /// The final empty line's `\r` was seen.
    FinalLf,
    /// The body is complete.
    Done,
}

/// What one [`Chunked::decode`] step found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Step {
    /// Bytes of the input used (framing and payload).
    pub(super) consumed: usize,
    /// Payload within the input (empty when the step found none).
    pub(super) data: Range<usize>,
}

/// A malformed chunked body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed chunked body: {0}")]
pub(super) struct ChunkedError(&'static str);

/// The chunked framing decoder of one body.
#[derive(Debug, Clone)]
pub(super) struct Chunked {
    state: State,
}

impl Default for Chunked {
    fn default() -> Self {
        Self {
            state: State::Size { size: 0, digits: 0 },
        }
    }
}

impl Chunked {
    /// Whether the last chunk and the trailer have been read.
    pub(super) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Reads framing from `input` up to the next payload and returns at most `max`
    /// bytes of that payload; an empty `data` with everything consumed means more input
    /// is needed (or the body is done).
    pub(super) fn decode(&mut self, input: &[u8], max: usize) -> Result<Step, ChunkedError> {
        let mut at = 0;
        while at < input.len() {
            let byte = input[at];
            self.state = match self.state {
                State::Data(left) => {
                    let take = (left.min((input.len() - at) as u64) as usize).min(max);
                    if take == 0 {
                        break;
                    }
                    let left = left - take as u64;
                    self.state = match left {
                        0 => State::DataEnd { cr: false },
                        left => State::Data(left),
                    };
                    return Ok(Step {
                        consumed: at + take,
                        data: at..at + take,
                    });
                }
                State::Size { size, digits } => match (byte as char).to_digit(16) {
                    Some(digit) if digits < 15 => State::Size {
                        size: size << 4 | u64::from(digit),
                        digits: digits + 1,
                    },
                    Some(_) => return Err(ChunkedError("chunk size too large")),
                    None if digits == 0 => return Err(ChunkedError("chunk size is not hex")),
                    None => Self::after_size(size, byte)?,
                },
                State::SizeRest { size } => Self::after_size(size, byte)?,
                State::DataEnd { cr: false } if byte == b'\r' => State::DataEnd { cr: true },
                State::DataEnd { .. } if byte == b'\n' => State::Size { size: 0, digits: 0 },
                State::DataEnd { .. } => {
                    return Err(ChunkedError("chunk payload not followed by CRLF"));
                }
                State::TrailerStart => match byte {
                    b'\r' => State::FinalLf,
                    b'\n' => State::Done,
                    _ => State::Trailer,
                },
                State::Trailer => match byte {
                    b'\n' => State::TrailerStart,
                    _ => State::Trailer,
                },
                State::FinalLf if byte == b'\n' => State::Done,
                State::FinalLf => return Err(ChunkedError("bad end of the last chunk")),
                State::Done => break,
            };
            at += 1;
        }
        Ok(Step {
            consumed: at,
            data: at..at,
        })
    }

    /// The state after byte `byte` that follows a chunk size.
    fn after_size(size: u64, byte: u8) -> Result<State, ChunkedError> {
        Ok(match byte {
            b'\n' if size == 0 => State::TrailerStart,
            b'\n' => State::Data(size),
            b'\r' | b';' | b' ' | b'\t' => State::SizeRest { size },
            _ if byte.is_ascii_graphic() => State::SizeRest { size },
            _ => return Err(ChunkedError("bad byte after the chunk size")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `wire` in pieces of `piece` bytes and `max`-byte reads; returns the payload.
    fn decode_all(wire: &[u8], piece: usize, max: usize) -> (Vec<u8>, bool) {
        let mut decoder = Chunked::default();
        let mut payload = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        for part in wire.chunks(piece) {
            pending.extend_from_slice(part);
            loop {
                let step = decoder.decode(&pending, max).unwrap();
                payload.extend_from_slice(&pending[step.data.clone()]);
                pending.drain(..step.consumed);
                if step.data.is_empty() {
                    break;
                }
            }
        }
        (payload, decoder.is_done())
    }

    #[test]
    fn payload_comes_out_whole_however_the_wire_is_split() {
        let wire = b"5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nx-trailer: 1\r\n\r\n";
        for piece in 1..wire.len() {
            for max in [1, 3, 64] {
                let (payload, done) = decode_all(wire, piece, max);
                assert_eq!(payload, b"hello 0123456789", "piece {piece}, max {max}");
                assert!(done);
            }
        }
    }

    #[test]
    fn an_unfinished_body_is_not_done() {
        let (payload, done) = decode_all(b"4\r\nabcd\r\n2\r\nx", 3, 64);
        assert_eq!(payload, b"abcdx");
        assert!(!done);
    }

    #[test]
    fn bad_framing_is_named() {
        let error = |wire: &[u8]| {
            let mut decoder = Chunked::default();
            let mut at = 0;
            loop {
                match decoder.decode(&wire[at..], 64) {
                    Ok(step) if step.consumed == 0 => return None,
                    Ok(step) => at += step.consumed,
                    Err(error) => return Some(error.to_string()),
                }
            }
        };
        assert!(error(b"zz\r\n").unwrap().contains("not hex"));
        assert!(error(b"2\r\nabX").unwrap().contains("CRLF"));
        assert!(
            error(b"fffffffffffffffff\r\n")
                .unwrap()
                .contains("too large")
        );
        assert_eq!(error(b"2\r\nab\r\n"), None);
    }
}
