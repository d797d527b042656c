//! `voicebot convert IN OUT`: what the 3CX guide does with sox. Any WAV (any rate,
//! channels, 8/16/24/32-bit or float) or raw s16le 8 kHz PCM in; 8 kHz mono s16 WAV
//! or raw PCM out, chosen by the output's extension.
//!
//! Input goes through the media crate's checked prompt loader, so a converted file is
//! exactly what the engine would play from the original, and a file the engine would
//! refuse (over 10 minutes unless `--max-duration` says otherwise, a rate outside
//! 4–192 kHz, not a regular file) is refused here too, before anything is written.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use voicebot_media::{SAMPLE_RATE, encode_samples};

use crate::exit::Exit;

/// Extensions written as headerless s16le 8 kHz mono.
const RAW_EXTENSIONS: [&str; 4] = ["pcm", "raw", "sln", "s16"];

/// Options of `voicebot convert`.
#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// Input: a WAV file, or raw s16le 8 kHz mono (`.pcm`, `.raw`, `.sln`, `.s16`).
    input: PathBuf,
    /// Output: `.wav` for an 8 kHz mono s16 WAV, `.pcm`/`.raw` for raw s16le 8 kHz.
    output: PathBuf,
    /// Replace OUTPUT if it exists.
    #[arg(long, short = 'f')]
    force: bool,
    /// Refuse inputs longer than this (default 10m, as `media.max_prompt`).
    #[arg(long, value_name = "DURATION", value_parser = humantime_serde::re::humantime::parse_duration)]
    max_duration: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Wav,
    Raw,
}

fn format_of(path: &Path) -> Option<Format> {
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    match extension.as_str() {
        "wav" => Some(Format::Wav),
        raw if RAW_EXTENSIONS.contains(&raw) => Some(Format::Raw),
        _ => None,
    }
}

/// Converts `args.input` into `args.output`.
pub(crate) fn run(args: ConvertArgs) -> anyhow::Result<()> {
    let format = format_of(&args.output).ok_or_else(|| {
        Exit::Usage.error(format!(
            "{}: unknown output format: name it .wav, .pcm or .raw",
            args.output.display()
        ))
    })?;
    if !args.force && args.output.exists() {
        return Err(Exit::Usage.error(format!(
            "{} exists: pass --force to replace it",
            args.output.display()
        )));
    }
    let prompt = super::audio_input::load(&args.input, args.max_duration)?;
    match format {
        Format::Wav => write_wav(&args.output, prompt.samples())?,
        Format::Raw => {
            let mut bytes = vec![0u8; prompt.len_samples() * 2];
            encode_samples(prompt.samples(), &mut bytes);
            std::fs::write(&args.output, bytes)
                .with_context(|| format!("writing {}", args.output.display()))?;
        }
    }
    println!(
        "{} → {}: {:.2} s of 8 kHz mono s16{}",
        args.input.display(),
        args.output.display(),
        prompt.duration().as_secs_f64(),
        match format {
            Format::Wav => " WAV",
            Format::Raw => "le raw PCM",
        }
    );
    Ok(())
}

/// Writes 8 kHz mono s16 samples as a WAV file.
pub(crate) fn write_wav(path: &Path, samples: &[i16]) -> anyhow::Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let context = || format!("writing {}", path.display());
    let mut writer = hound::WavWriter::create(path, spec).with_context(context)?;
    for &sample in samples {
        writer.write_sample(sample).with_context(context)?;
    }
    writer.finalize().with_context(context)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(format_of(Path::new("a.WAV")), Some(Format::Wav));
        assert_eq!(format_of(Path::new("a.pcm")), Some(Format::Raw));
        assert_eq!(format_of(Path::new("a.raw")), Some(Format::Raw));
        assert_eq!(format_of(Path::new("a.mp3")), None);
        assert_eq!(format_of(Path::new("a")), None);
    }
}
