//! Repairing WAV headers left stale by a killed writer.

use std::{
    fs::OpenOptions,
    io::{Read, Seek, SeekFrom, Write},
    path::Path,
};

use super::io_error;
use crate::error::{RecorderError, RecorderErrorKind};

/// What [`repair_wav`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// The header already matched the file.
    AlreadyValid,
    /// The sizes were rewritten.
    Repaired {
        /// Data bytes the old header claimed.
        claimed_bytes: u32,
        /// Data bytes actually present (whole sample frames).
        actual_bytes: u32,
    },
}

/// Rewrites the RIFF and `data` sizes of a WAV file to match what is on disk, so a recording
/// whose writer was killed plays to its last byte. Works for hound's plain and
/// `WAVE_FORMAT_EXTENSIBLE` headers alike (it walks the chunks).
///
/// # Errors
/// [`RecorderError`] naming the file if it cannot be read or written, or is not a RIFF/WAVE file
/// with `fmt ` and `data` chunks.
pub fn repair_wav(path: impl AsRef<Path>) -> Result<Repair, RecorderError> {
    let path = path.as_ref();
    let not_wav = |why| RecorderError::new(path, RecorderErrorKind::NotWav(why));
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| io_error(path, e))?;
    let file_len = file.metadata().map_err(|e| io_error(path, e))?.len();
    let mut header = [0u8; 12];
    file.read_exact(&mut header)
        .map_err(|_| not_wav("shorter than a RIFF header"))?;
    if &header[..4] != b"RIFF" || &header[8..] != b"WAVE" {
        return Err(not_wav("no RIFF/WAVE signature"));
    }
    let mut block_align = 0u64;
    let mut pos = 12u64;
    loop {
        let mut chunk = [0u8; 8];
        file.seek(SeekFrom::Start(pos))
            .map_err(|e| io_error(path, e))?;
        file.read_exact(&mut chunk)
            .map_err(|_| not_wav("no data chunk"))?;
        let size = u64::from(u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]));
        match &chunk[..4] {
            b"fmt " => {
                let mut fmt = [0u8; 14];
                file.read_exact(&mut fmt)
                    .map_err(|_| not_wav("truncated fmt chunk"))?;
                block_align = u64::from(u16::from_le_bytes([fmt[12], fmt[13]]));
            }
            b"data" => {
                if block_align == 0 {
                    return Err(not_wav("data chunk before a valid fmt chunk"));
                }
                let data_start = pos + 8;
                let present = file_len.saturating_sub(data_start);
                let actual =
                    (present - present % block_align).min(u64::from(u32::MAX) - data_start);
                if actual == size {
                    return Ok(Repair::AlreadyValid);
                }
                let riff = (data_start - 8 + actual) as u32;
                write_u32(&mut file, 4, riff).map_err(|e| io_error(path, e))?;
                write_u32(&mut file, pos + 4, actual as u32).map_err(|e| io_error(path, e))?;
                file.sync_all().map_err(|e| io_error(path, e))?;
                return Ok(Repair::Repaired {
                    claimed_bytes: size as u32,
                    actual_bytes: actual as u32,
                });
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        pos += 8 + size + size % 2;
    }
}

fn write_u32(file: &mut std::fs::File, at: u64, value: u32) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(at))?;
    file.write_all(&value.to_le_bytes())
}
