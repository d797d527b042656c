//! The RIFF/WAVE header, read by hand rather than by hound so that the loader knows where the
//! samples start, what length the header declares (or that it declares none, as streaming
//! writers do) and can check both against the file's real size before decoding anything.
//! Nothing here allocates more than a fixed 40 bytes, whatever the header claims.

use std::io::{self, Read};

use crate::error::PromptErrorKind;

/// Data chunk lengths at or above this are a streaming writer's placeholder (espeak writes
/// `0x7FFFF000`, ffmpeg and sox on a pipe `0xFFFFFFFF`): the length is unknown.
const STREAMING_LENGTH: u32 = 0x7FFF_0000;

/// `WAVE_FORMAT_PCM`, `WAVE_FORMAT_IEEE_FLOAT` and `WAVE_FORMAT_EXTENSIBLE`.
const FORMAT_PCM: u16 = 0x0001;
const FORMAT_FLOAT: u16 = 0x0003;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// How one sample is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// Little-endian integer in a container of this many bytes (1 = unsigned 8-bit), the value
    /// left-justified (so 12-bit in 2 bytes and 24-bit in 4 decode as their container).
    Int { container_bytes: u8 },
    /// Little-endian IEEE 754 32-bit float.
    Float32,
}

/// What the `fmt ` and `data` chunks say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WavHeader {
    pub(crate) encoding: Encoding,
    pub(crate) channels: u16,
    pub(crate) sample_rate_hz: u32,
    /// Bytes per sample frame (all channels).
    pub(crate) frame_bytes: u16,
    /// Bytes from the start of the file to the first sample.
    pub(crate) data_offset: u64,
    /// The data chunk's declared length; `None` when a streaming writer left it unknown.
    pub(crate) declared_data_bytes: Option<u64>,
}

/// Reads the header up to the first sample. `reader` must be at the start of the file.
///
/// # Errors
/// [`PromptErrorKind::NotWav`] without a RIFF/WAVE signature; [`PromptErrorKind::Unsupported`]
/// for encodings other than integer PCM and 32-bit float; [`PromptErrorKind::Malformed`] naming
/// what is wrong otherwise.
pub(crate) fn read_header<R: Read>(reader: &mut R) -> Result<WavHeader, PromptErrorKind> {
    let mut riff = [0u8; 12];
    if read_full(reader, &mut riff)? < 12 || &riff[..4] != b"RIFF" || &riff[8..] != b"WAVE" {
        return Err(PromptErrorKind::NotWav);
    }
    let mut offset = 12u64;
    let mut format = None;
    loop {
        let mut chunk = [0u8; 8];
        if read_full(reader, &mut chunk)? < 8 {
            return Err(malformed(match format {
                None => "the file ends before the fmt chunk",
                Some(_) => "the file ends before the data chunk",
            }));
        }
        offset += 8;
        let length = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        match &chunk[..4] {
            b"fmt " => {
                format = Some(read_format(reader, length)?);
                // Chunks are padded to an even length.
                offset += u64::from(length) + u64::from(length % 2);
                skip(reader, u64::from(length % 2), "fmt")?;
            }
            b"data" => {
                let (encoding, channels, sample_rate_hz, frame_bytes) =
                    format.ok_or_else(|| malformed("the data chunk comes before the fmt chunk"))?;
                let declared_data_bytes = match length {
                    0 => None,
                    streaming if streaming >= STREAMING_LENGTH => None,
                    known => Some(u64::from(known)),
                };
                return Ok(WavHeader {
                    encoding,
                    channels,
                    sample_rate_hz,
                    frame_bytes,
                    data_offset: offset,
                    declared_data_bytes,
                });
            }
            _ => {
                let padded = u64::from(length) + u64::from(length % 2);
                skip(reader, padded, "chunk before the data")?;
                offset += padded;
            }
        }
    }
}

type Format = (Encoding, u16, u32, u16);

fn read_format<R: Read>(reader: &mut R, length: u32) -> Result<Format, PromptErrorKind> {
    if length < 16 {
        return Err(malformed("the fmt chunk is shorter than 16 bytes"));
    }
    let mut fmt = [0u8; 40];
    let kept = (length as usize).min(fmt.len());
    if read_full(reader, &mut fmt[..kept])? < kept {
        return Err(malformed("the file ends inside the fmt chunk"));
    }
    skip(reader, u64::from(length) - kept as u64, "fmt")?;
    let u16_at = |at: usize| u16::from_le_bytes([fmt[at], fmt[at + 1]]);
    let mut tag = u16_at(0);
    let channels = u16_at(2);
    let sample_rate_hz = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
    let frame_bytes = u16_at(12);
    let bits = u16_at(14);
    if tag == FORMAT_EXTENSIBLE {
        if kept < 40 {
            return Err(malformed(
                "the extensible fmt chunk is shorter than 40 bytes",
            ));
        }
        // The sub-format GUID starts with the plain format tag.
        tag = u16_at(24);
    }
    if channels == 0 {
        return Err(malformed("the fmt chunk declares zero channels"));
    }
    if frame_bytes == 0 || !frame_bytes.is_multiple_of(channels) {
        return Err(malformed(&format!(
            "block align {frame_bytes} does not fit {channels} channel(s)"
        )));
    }
    let container_bytes = frame_bytes / channels;
    let encoding = match (tag, container_bytes) {
        (FORMAT_PCM, 1..=4) if bits > 0 && bits <= container_bytes * 8 => Encoding::Int {
            container_bytes: container_bytes as u8,
        },
        (FORMAT_FLOAT, 4) if bits == 32 => Encoding::Float32,
        (FORMAT_PCM | FORMAT_FLOAT, _) => {
            return Err(PromptErrorKind::Unsupported(format!(
                "{bits}-bit {} in {container_bytes}-byte samples",
                if tag == FORMAT_PCM {
                    "integer"
                } else {
                    "float"
                }
            )));
        }
        (other, _) => {
            return Err(PromptErrorKind::Unsupported(format!(
                "format tag {other:#06x}: only PCM and IEEE float (not A-law, µ-law or ADPCM)"
            )));
        }
    };
    Ok((encoding, channels, sample_rate_hz, frame_bytes))
}

/// Reads into `buffer` until it is full or the input ends; returns the bytes read.
fn read_full<R: Read>(reader: &mut R, buffer: &mut [u8]) -> Result<usize, PromptErrorKind> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(PromptErrorKind::Io(std::sync::Arc::new(e))),
        }
    }
    Ok(filled)
}

fn skip<R: Read>(reader: &mut R, bytes: u64, what: &str) -> Result<(), PromptErrorKind> {
    let skipped = io::copy(&mut reader.by_ref().take(bytes), &mut io::sink())
        .map_err(|e| PromptErrorKind::Io(std::sync::Arc::new(e)))?;
    match skipped == bytes {
        true => Ok(()),
        false => Err(malformed(&format!("the file ends inside the {what} chunk"))),
    }
}

fn malformed(what: &str) -> PromptErrorKind {
    PromptErrorKind::Malformed(what.to_owned())
}
