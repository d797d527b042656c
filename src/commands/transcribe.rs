//! `voicebot transcribe FILE.wav`: the transcriber bot's pipeline on a recording.
//! The file goes through the checked prompt loader (any WAV → 8 kHz mono, within the
//! prompt limits), its frames are fed
//! at full speed (not real time) to the recogniser, and results are printed as the
//! bot's sinks write them, timed in seconds from the start of the file.
//!
//! With `--engine URL|COMMAND` the file goes to a batch transcriber instead (a server of
//! the OpenAI-compatible `/v1/audio/transcriptions` API, or a program given `{wav}`), each
//! channel of a stereo file on its own, retried with backoff.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use voicebot_speech::{Grammar, RetryPolicy, SessionOptions};
use voicebot_transcriber::{Sinks, StdoutFormat, transcribe, transcribe_file};

use crate::config::{EngineSpec, RecognizerSpec};
use crate::exit::Exit;

/// Options of `voicebot transcribe`.
#[derive(Debug, Args)]
pub(crate) struct TranscribeArgs {
    /// The recording: a WAV file (any rate, channels averaged) or raw s16le 8 kHz.
    file: PathBuf,
    /// `pocketsphinx`, a Vosk server `ws://host:port`, or a recogniser program's
    /// command line (it reads PCM on stdin and prints JSON lines).
    #[arg(long, default_value = "pocketsphinx")]
    recognizer: String,
    /// The sample rate a recogniser program wants on stdin: 8000 or 16000.
    #[arg(long)]
    rate: Option<u32>,
    /// Restrict recognition to these words or phrases (comma-separated), e.g.
    /// `--grammar sales,support,operator`.
    #[arg(long, value_delimiter = ',')]
    grammar: Vec<String>,
    /// Print JSON lines (as the transcriber's JSONL file) instead of text.
    #[arg(long)]
    json: bool,
    /// Print partial results too.
    #[arg(long)]
    partials: bool,
    /// Refuse recordings longer than this (default 10m; a longer call needs it raised).
    #[arg(long, value_name = "DURATION", value_parser = humantime_serde::re::humantime::parse_duration)]
    max_duration: Option<Duration>,
    /// Transcribe with a batch engine instead of a streaming recogniser: an
    /// `http(s)://` server of the `/v1/audio/transcriptions` API, or a program's
    /// command line holding `{wav}` (e.g. `"whisper-cli -f {wav} -ojf -of -"`).
    #[arg(long, conflicts_with_all = ["recognizer", "grammar", "partials", "rate"])]
    engine: Option<String>,
    /// The environment variable holding the batch server's API key.
    #[arg(long, requires = "engine")]
    api_key_env: Option<String>,
    /// Attempts per channel for `--engine` (with backoff from 1 s).
    #[arg(long, default_value_t = 5, requires = "engine")]
    tries: u32,
}

/// Transcribes `args.file` and prints the results.
pub(crate) async fn run(args: TranscribeArgs) -> anyhow::Result<()> {
    if let Some(engine) = &args.engine {
        // The same limits as every audio input, before anything is uploaded.
        super::audio_input::load(&args.file, args.max_duration)?;
        return batch(&args, engine).await;
    }
    let prompt = super::audio_input::load(&args.file, args.max_duration)?;
    let recognizer = RecognizerSpec::parse(&args.recognizer, args.rate)
        .build()
        .map_err(|error| Exit::Usage.error(format!("--recognizer: {error}")))?;
    let frames: Vec<_> = prompt.frames().collect();
    // Fed at full speed: the queue holds the whole file, so no frame is dropped, and
    // the recogniser gets as long as real time (plus a margin) to finish.
    let audio = Duration::from_millis(20 * frames.len() as u64);
    // Times count from the start of the file (the bot's, from the start of the call).
    let mut options = SessionOptions::new()
        .call_offset(Duration::ZERO)
        .partial_results(args.partials)
        .queue_frames(frames.len() + 1)
        .finish_timeout(audio + Duration::from_secs(10));
    if !args.grammar.is_empty() {
        let grammar = Grammar::choices(&args.grammar)
            .map_err(|error| Exit::Usage.error(format!("--grammar: {error}")))?;
        options = options.grammar(grammar);
    }
    let session = recognizer
        .start(options)
        .await
        .map_err(|error| anyhow::anyhow!("the recogniser did not start: {error}"))?;
    let format = match args.json {
        true => StdoutFormat::Json,
        false => StdoutFormat::Text,
    };
    let mut sinks = Sinks::new().stdout(format).partials(args.partials);
    let stream = futures::stream::iter(frames);
    let summary = transcribe(session, stream, 0, &mut sinks, std::future::pending()).await;
    tracing::info!(finals = summary.finals, stats = ?summary.stats, "transcribed");
    match summary.error {
        Some(error) => Err(anyhow::anyhow!("the recogniser failed: {error}")),
        None => Ok(()),
    }
}

/// `--engine`: the whole file through a batch transcriber.
async fn batch(args: &TranscribeArgs, engine: &str) -> anyhow::Result<()> {
    let mut spec = EngineSpec::parse(engine);
    if let (EngineSpec::Http { api_key_env, .. }, Some(variable)) = (&mut spec, &args.api_key_env) {
        *api_key_env = Some(variable.clone());
    }
    let transcriber = spec
        .build()
        .map_err(|error| Exit::Usage.error(format!("--engine: {error}")))?;
    if !args.file.is_file() {
        return Err(Exit::Usage.error(format!("{}: no such file", args.file.display())));
    }
    let retry = RetryPolicy {
        tries: args.tries.max(1),
        ..RetryPolicy::default()
    };
    let format = match args.json {
        true => StdoutFormat::Json,
        false => StdoutFormat::Text,
    };
    let mut sinks = Sinks::new().stdout(format);
    let summary = transcribe_file(&transcriber, &retry, &args.file, 0, &mut sinks)
        .await
        .map_err(|error| anyhow::anyhow!("the transcription failed: {error}"))?;
    tracing::info!(
        lines = summary.lines,
        channels = summary.channels,
        "transcribed"
    );
    Ok(())
}
