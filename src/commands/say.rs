//! `voicebot say TEXT -o out.wav`: what callers would hear for a text prompt, as a file.
//!
//! Goes through the same [`Speaker`](voicebot_speech::Speaker) calls use (sentences,
//! resampling to 8 kHz), with the `[tts]` of `-c FILE` or the built-in espeak-ng, so the file is
//! exactly what a caller hears. It bypasses the disk cache: it is also how to try an engine.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::commands::convert::write_wav;
use crate::config::{Config, Tts};
use crate::exit::Exit;

/// Options of `voicebot say`.
#[derive(Debug, Args)]
pub(crate) struct SayArgs {
    /// The text to speak.
    text: String,
    /// Where to write the audio: an 8 kHz mono s16 WAV file.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: PathBuf,
    /// Take the engine from this configuration's `[tts]` (default: espeak-ng).
    #[arg(short = 'c', long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The voice, instead of the configured one.
    #[arg(long)]
    voice: Option<String>,
    /// Speaking speed, 1.0 = normal, instead of the configured one.
    #[arg(long)]
    rate: Option<f32>,
    /// Replace FILE if it exists.
    #[arg(long, short = 'f')]
    force: bool,
}

/// Synthesises `args.text` into `args.output`.
pub(crate) async fn run(args: SayArgs) -> anyhow::Result<()> {
    if !args.force && args.output.exists() {
        return Err(Exit::Usage.error(format!(
            "{} exists: pass --force to replace it",
            args.output.display()
        )));
    }
    let mut tts = match &args.config {
        Some(path) => Config::load(path)?.tts,
        None => Tts::default(),
    };
    if args.voice.is_some() {
        tts.voice = args.voice.clone();
    }
    if args.rate.is_some() {
        tts.rate = args.rate;
    }
    let speaker = tts
        .speaker()
        .map_err(|(key, message)| Exit::Usage.error(format!("{key}: {message}")))?;
    let started = Instant::now();
    let mut stream = speaker.speak(&args.text, None);
    let mut samples: Vec<i16> = Vec::new();
    let mut first_ready = None;
    let mut sentences = 0;
    while let Some(sentence) = stream.next().await {
        let sentence = sentence.map_err(|error| {
            Exit::Runtime.error(format!(
                "{} cannot say it: {error}",
                speaker.engine().identity()
            ))
        })?;
        first_ready.get_or_insert_with(|| started.elapsed());
        sentences += 1;
        samples.extend_from_slice(sentence.samples());
    }
    write_wav(&args.output, &samples)?;
    println!(
        "{}: {:.2} s of 8 kHz speech, {sentences} sentence{} ({}); first sentence ready after {} ms, all after {} ms",
        args.output.display(),
        samples.len() as f64 / 8_000.0,
        if sentences == 1 { "" } else { "s" },
        speaker.engine().identity(),
        first_ready.unwrap_or_default().as_millis(),
        started.elapsed().as_millis(),
    );
    Ok(())
}
