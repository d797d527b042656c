//! The one checked way into an audio file: metadata, header and limits first
//! ([`AudioSource::open`]), decoding after ([`AudioSource::decode_mono`]).

use std::{
    fs::File,
    io::{BufReader, Cursor, Read, Seek, SeekFrom},
    path::Path,
    sync::Arc,
    time::Duration,
};

use super::{
    RAW_EXTENSIONS,
    riff::{self, Encoding, WavHeader},
};
use crate::{
    error::{PromptError, PromptErrorKind, Result},
    frame::SAMPLE_RATE,
    limits::{AudioInfo, AudioLimits, AudioWarning},
};

/// Samples decoded per read (bounded so a 65,535-channel header cannot ask for a huge buffer).
const CHUNK_BYTES: usize = 64 * 1024;

/// An audio input whose header has been read and checked, positioned at its first sample.
#[derive(Debug)]
pub(crate) struct AudioSource<R> {
    info: AudioInfo,
    encoding: Encoding,
    reader: R,
}

impl AudioSource<BufReader<File>> {
    /// Opens `path` and checks it against `limits`: a regular file, not too large, then (WAV) a
    /// valid header with a rate in range, then not too long.
    pub(crate) fn open(path: &Path, limits: &AudioLimits) -> Result<Self> {
        let named = |kind| PromptError::new(path, kind);
        // Checked before opening: opening a FIFO blocks until a writer appears.
        let metadata = std::fs::metadata(path).map_err(|e| named(io_error(e)))?;
        check_file_type(&metadata).map_err(named)?;
        let file = File::open(path).map_err(|e| named(io_error(e)))?;
        // Again on the open file, in case the path was swapped in between.
        let metadata = file.metadata().map_err(|e| named(io_error(e)))?;
        check_file_type(&metadata).map_err(named)?;
        let is_raw = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| RAW_EXTENSIONS.iter().any(|raw| raw.eq_ignore_ascii_case(e)));
        Self::new(BufReader::new(file), metadata.len(), is_raw, limits).map_err(named)
    }
}

impl<'a> AudioSource<Cursor<&'a [u8]>> {
    /// A WAV file held in memory, checked against `limits`.
    pub(crate) fn wav_bytes(
        bytes: &'a [u8],
        limits: &AudioLimits,
    ) -> Result<Self, PromptErrorKind> {
        Self::new(Cursor::new(bytes), bytes.len() as u64, false, limits)
    }
}

impl<R: Read + Seek> AudioSource<R> {
    fn new(
        mut reader: R,
        file_bytes: u64,
        is_raw: bool,
        limits: &AudioLimits,
    ) -> Result<Self, PromptErrorKind> {
        if file_bytes > limits.max_file_bytes() {
            return Err(PromptErrorKind::FileTooLarge {
                bytes: file_bytes,
                max_bytes: limits.max_file_bytes(),
            });
        }
        let mut magic = [0u8; 4];
        let is_riff = matches!(reader.read_exact(&mut magic), Ok(()) if &magic == b"RIFF");
        reader.seek(SeekFrom::Start(0)).map_err(io_error)?;
        let header = match (is_riff, is_raw) {
            (true, _) => riff::read_header(&mut reader)?,
            (false, true) => raw_header(),
            (false, false) => return Err(PromptErrorKind::NotWav),
        };
        let info = describe(&header, file_bytes, limits)?;
        Ok(Self {
            info,
            encoding: header.encoding,
            reader,
        })
    }
}

impl<R: Read> AudioSource<R> {
    /// What the file holds.
    pub(crate) fn info(&self) -> &AudioInfo {
        &self.info
    }

    /// Decodes every whole frame, channels averaged, as `-1.0..1.0` samples at the file's rate.
    /// Allocates exactly the frames [`Self::info`] counted, which the limits bound.
    pub(crate) fn decode_mono(mut self) -> Result<Vec<f32>, PromptErrorKind> {
        let frame_bytes = usize::from(self.info.frame_bytes);
        let channels = usize::from(self.info.channels);
        let sample_bytes = frame_bytes / channels;
        let frames = usize::try_from(self.info.frames).map_err(|_| PromptErrorKind::TooLong {
            duration: self.info.duration,
            max: Duration::ZERO,
        })?;
        let mut mono = Vec::with_capacity(frames);
        let frames_per_chunk = (CHUNK_BYTES / frame_bytes).max(1);
        let mut chunk = vec![0u8; frames_per_chunk * frame_bytes];
        let scale = 1.0 / channels as f32;
        let mut left = frames;
        while left > 0 {
            let take = left.min(frames_per_chunk);
            let bytes = &mut chunk[..take * frame_bytes];
            // The file was measured before reading; ending early means it shrank meanwhile.
            self.reader.read_exact(bytes).map_err(io_error)?;
            for frame in bytes.chunks_exact(frame_bytes) {
                let sum: f32 = frame
                    .chunks_exact(sample_bytes)
                    .map(|sample| decode_sample(self.encoding, sample))
                    .sum();
                mono.push(sum * scale);
            }
            left -= take;
        }
        Ok(mono)
    }
}

fn raw_header() -> WavHeader {
    WavHeader {
        encoding: Encoding::Int { container_bytes: 2 },
        channels: 1,
        sample_rate_hz: SAMPLE_RATE,
        frame_bytes: 2,
        data_offset: 0,
        declared_data_bytes: None,
    }
}

/// Applies the rate and duration limits to what the header and the file's size say.
fn describe(
    header: &WavHeader,
    file_bytes: u64,
    limits: &AudioLimits,
) -> Result<AudioInfo, PromptErrorKind> {
    let rate = header.sample_rate_hz;
    if !(AudioLimits::MIN_RATE_HZ..=AudioLimits::MAX_RATE_HZ).contains(&rate) {
        return Err(PromptErrorKind::SampleRate {
            hz: rate,
            min_hz: AudioLimits::MIN_RATE_HZ,
            max_hz: AudioLimits::MAX_RATE_HZ,
        });
    }
    let frame_bytes = u64::from(header.frame_bytes);
    let present = file_bytes.saturating_sub(header.data_offset);
    let usable = header
        .declared_data_bytes
        .map_or(present, |d| d.min(present));
    let frames = usable / frame_bytes;
    let duration = frames_to_duration(frames, rate);
    if duration > limits.max_duration() {
        return Err(PromptErrorKind::TooLong {
            duration,
            max: limits.max_duration(),
        });
    }
    let mut warnings = Vec::new();
    match header.declared_data_bytes {
        Some(declared) if declared > present => {
            let declared = frames_to_duration(declared / frame_bytes, rate);
            if frames == 0 {
                return Err(PromptErrorKind::Truncated { declared });
            }
            warnings.push(AudioWarning::Truncated {
                declared,
                read: duration,
            });
        }
        _ if !usable.is_multiple_of(frame_bytes) && frames > 0 => {
            warnings.push(AudioWarning::TrailingBytes {
                bytes: usable % frame_bytes,
                read: duration,
            });
        }
        _ => {}
    }
    if frames == 0 {
        return Err(PromptErrorKind::Empty);
    }
    Ok(AudioInfo {
        sample_rate_hz: rate,
        channels: header.channels,
        frames,
        frame_bytes: header.frame_bytes,
        data_offset: header.data_offset,
        duration,
        warnings,
    })
}

fn frames_to_duration(frames: u64, rate_hz: u32) -> Duration {
    let nanos = u128::from(frames) * 1_000_000_000 / u128::from(rate_hz.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

fn decode_sample(encoding: Encoding, bytes: &[u8]) -> f32 {
    match (encoding, bytes) {
        (Encoding::Float32, &[a, b, c, d]) => {
            let value = f32::from_le_bytes([a, b, c, d]);
            // Full scale is ±1.0, and the output clips there anyway. Beyond it, huge values
            // overflow the resampler's FFT into NaN (which made rubato panic), and NaN or
            // infinity would smear through its filter into silence around them.
            match value.is_nan() {
                true => 0.0,
                false => value.clamp(-1.0, 1.0),
            }
        }
        (Encoding::Int { .. }, &[a]) => (f32::from(a) - 128.0) / 128.0,
        (Encoding::Int { .. }, &[a, b]) => f32::from(i16::from_le_bytes([a, b])) / 32_768.0,
        (Encoding::Int { .. }, &[a, b, c]) => {
            i32::from_le_bytes([0, a, b, c]) as f32 / 2_147_483_648.0
        }
        (Encoding::Int { .. }, &[a, b, c, d]) => {
            i32::from_le_bytes([a, b, c, d]) as f32 / 2_147_483_648.0
        }
        // The header check admits no other size.
        _ => 0.0,
    }
}

fn check_file_type(metadata: &std::fs::Metadata) -> Result<(), PromptErrorKind> {
    match metadata.is_file() {
        true => Ok(()),
        false => Err(PromptErrorKind::NotAFile(describe_type(
            &metadata.file_type(),
        ))),
    }
}

fn describe_type(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    match file_type.is_dir() {
        true => "a directory",
        false => "not a regular file",
    }
}

fn io_error(e: std::io::Error) -> PromptErrorKind {
    PromptErrorKind::Io(Arc::new(e))
}
