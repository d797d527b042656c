//! The body of a POSTed audio stream as it arrives on a socket of the simulator's own:
//! HTTP/1.1 chunked framing (what clients send for a stream of unknown length) or a
//! `Content-Length`, decoded a read at a time.

/// A chunk size larger than this is refused: no client sends audio in chunks of
/// 16 MiB, and a bogus size would otherwise have the stream wait for ever.
const MAX_CHUNK: u64 = 16 << 20;

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BodyError {
    /// A chunk size line that is not hexadecimal.
    #[error("chunk size is not hexadecimal")]
    BadSize,
    /// A chunk size over [`MAX_CHUNK`].
    #[error("chunk size over {MAX_CHUNK} bytes")]
    TooLarge,
    /// A chunk's data not followed by CRLF.
    #[error("chunk data not followed by CRLF")]
    MissingCrlf,
}

/// How a request body is framed, and how much of it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// `Transfer-Encoding: chunked`.
    Chunked(State),
    /// `Content-Length`: the bytes still to come.
    Length(u64),
}

/// Where a chunked body's decoding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Reading a chunk size: the value so far, whether a digit was seen, and whether an
    /// extension (`;name=value`) is being skipped.
    Size {
        value: u64,
        digits: bool,
        extension: bool,
    },
    /// The size line's CR was seen; its LF comes next.
    SizeLf { value: u64 },
    /// In a chunk's data: the bytes still to come.
    Data(u64),
    /// After a chunk's data: CR, then LF.
    DataCr,
    /// After a chunk's data and its CR.
    DataLf,
    /// In the trailer after the last chunk: the length of the line so far.
    Trailer { line: usize },
    /// A trailer line's CR was seen.
    TrailerLf { line: usize },
    /// The body is complete.
    Done,
}

const NEW_SIZE: State = State::Size {
    value: 0,
    digits: false,
    extension: false,
};

impl Body {
    /// A chunked body, nothing read yet.
    pub(crate) fn chunked() -> Self {
        Self::Chunked(NEW_SIZE)
    }

    /// Whether the whole body has been read.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self, Self::Chunked(State::Done) | Self::Length(0))
    }

    /// Decodes `input`, appending the body's payload to `payload`. Bytes after the end
    /// of the body are ignored (the connection closes after the stream's answer).
    ///
    /// # Errors
    /// Chunked framing that is not valid.
    pub(crate) fn feed(&mut self, input: &[u8], payload: &mut Vec<u8>) -> Result<(), BodyError> {
        match self {
            Self::Length(left) => {
                let take = input
                    .len()
                    .min(usize::try_from(*left).unwrap_or(usize::MAX));
                payload.extend_from_slice(&input[..take]);
                *left -= take as u64;
                Ok(())
            }
            Self::Chunked(state) => feed_chunked(state, input, payload),
        }
    }
}

fn feed_chunked(state: &mut State, input: &[u8], payload: &mut Vec<u8>) -> Result<(), BodyError> {
    let mut at = 0;
    while at < input.len() {
        let byte = input[at];
        *state = match *state {
            State::Size {
                value,
                digits,
                extension,
            } => match byte {
                b'\r' if digits => State::SizeLf { value },
                _ if extension => *state,
                b';' | b' ' | b'\t' if digits => State::Size {
                    value,
                    digits,
                    extension: true,
                },
                _ => {
                    let digit = (byte as char).to_digit(16).ok_or(BodyError::BadSize)?;
                    let value = value * 16 + u64::from(digit);
                    if value > MAX_CHUNK {
                        return Err(BodyError::TooLarge);
                    }
                    State::Size {
                        value,
                        digits: true,
                        extension: false,
                    }
                }
            },
            State::SizeLf { value } => match (byte, value) {
                (b'\n', 0) => State::Trailer { line: 0 },
                (b'\n', size) => State::Data(size),
                _ => return Err(BodyError::BadSize),
            },
            State::Data(left) => {
                let take = (input.len() - at).min(usize::try_from(left).unwrap_or(usize::MAX));
                payload.extend_from_slice(&input[at..at + take]);
                at += take;
                *state = match left - take as u64 {
                    0 => State::DataCr,
                    left => State::Data(left),
                };
                continue;
            }
            State::DataCr => match byte {
                b'\r' => State::DataLf,
                _ => return Err(BodyError::MissingCrlf),
            },
            State::DataLf => match byte {
                b'\n' => NEW_SIZE,
                _ => return Err(BodyError::MissingCrlf),
            },
            State::Trailer { line } => match byte {
                b'\r' => State::TrailerLf { line },
                _ => State::Trailer { line: line + 1 },
            },
            State::TrailerLf { line } => match (byte, line) {
                (b'\n', 0) => State::Done,
                (b'\n', _) => State::Trailer { line: 0 },
                _ => return Err(BodyError::MissingCrlf),
            },
            State::Done => return Ok(()),
        };
        at += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(wire: &[u8], piece: usize) -> (Body, Vec<u8>, Result<(), BodyError>) {
        let mut body = Body::chunked();
        let mut payload = Vec::new();
        for part in wire.chunks(piece) {
            if let Err(error) = body.feed(part, &mut payload) {
                return (body, payload, Err(error));
            }
        }
        (body, payload, Ok(()))
    }

    #[test]
    fn chunks_decode_whatever_the_reads() {
        let wire = b"4\r\nabcd\r\n3;ext=1\r\nefg\r\nA\r\n0123456789\r\n0\r\nx-trailer: 1\r\n\r\n";
        for piece in 1..wire.len() {
            let (body, payload, result) = decode_in_pieces(wire, piece);
            assert_eq!(result, Ok(()), "reads of {piece}");
            assert!(body.is_done(), "reads of {piece}");
            assert_eq!(payload, b"abcdefg0123456789", "reads of {piece}");
        }
    }

    #[test]
    fn a_body_stops_at_its_last_chunk() {
        let (body, payload, result) = decode_in_pieces(b"2\r\nab\r\n0\r\n\r\nGET / HTTP/1.1", 64);
        assert_eq!(result, Ok(()));
        assert!(body.is_done());
        assert_eq!(payload, b"ab");
    }

    #[test]
    fn bad_framing_is_named() {
        assert_eq!(decode_in_pieces(b"zz\r\n", 8).2, Err(BodyError::BadSize));
        assert_eq!(decode_in_pieces(b"\r\n", 8).2, Err(BodyError::BadSize));
        assert_eq!(
            decode_in_pieces(b"2\r\nabc\r\n", 8).2,
            Err(BodyError::MissingCrlf)
        );
        assert_eq!(
            decode_in_pieces(b"ffffffff\r\n", 16).2,
            Err(BodyError::TooLarge)
        );
        // What came before the bad frame is kept.
        let (_, payload, result) = decode_in_pieces(b"1\r\nx\r\nq\r\n", 4);
        assert_eq!(payload, b"x");
        assert_eq!(result, Err(BodyError::BadSize));
    }

    #[test]
    fn a_length_body_takes_its_length() {
        let mut body = Body::Length(5);
        let mut payload = Vec::new();
        body.feed(b"abc", &mut payload).unwrap();
        assert!(!body.is_done());
        body.feed(b"defgh", &mut payload).unwrap();
        assert!(body.is_done());
        assert_eq!(payload, b"abcde");
    }
}
