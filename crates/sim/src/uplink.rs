//! What a caller has yet to say: pieces of s16le audio queued without copying them, so
//! that a crowd of callers saying the same recording shares one buffer (a thousand
//! copies of a minute each were most of the memory the simulator's media clock walked).

use std::collections::VecDeque;

use bytes::{Buf, Bytes};

/// A queue of byte pieces, taken from the front a frame at a time.
#[derive(Debug, Default)]
pub(crate) struct Uplink {
    pieces: VecDeque<Bytes>,
    len: usize,
}

impl Uplink {
    /// Queues `bytes` after what is queued.
    pub(crate) fn push(&mut self, bytes: Bytes) {
        if !bytes.is_empty() {
            self.len += bytes.len();
            self.pieces.push_back(bytes);
        }
    }

    /// Bytes queued.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Moves the first `out.len()` bytes (no more than are queued) into `out`.
    pub(crate) fn take_into(&mut self, out: &mut [u8]) {
        let mut filled = 0;
        while filled < out.len() {
            let Some(front) = self.pieces.front_mut() else {
                break;
            };
            let take = front.len().min(out.len() - filled);
            out[filled..filled + take].copy_from_slice(&front[..take]);
            front.advance(take);
            filled += take;
            if front.is_empty() {
                self.pieces.pop_front();
            }
        }
        self.len -= filled;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_taken_across_pieces() {
        let mut uplink = Uplink::default();
        let shared = Bytes::from_static(b"abcdef");
        uplink.push(shared.clone());
        uplink.push(Bytes::new());
        uplink.push(Bytes::from_static(b"gh"));
        assert_eq!(uplink.len(), 8);
        let mut frame = [0u8; 5];
        uplink.take_into(&mut frame);
        assert_eq!(&frame, b"abcde");
        uplink.take_into(&mut frame[..3]);
        assert_eq!(&frame[..3], b"fgh");
        assert_eq!(uplink.len(), 0);
        // The shared piece itself is untouched.
        assert_eq!(&shared[..], b"abcdef");
    }
}
