//! The session task of [`CommandRecognizer`](super::CommandRecognizer): writes audio to the
//! child, reads its results on a second task, restarts it when it dies or stalls.

use std::{process::Stdio, sync::Arc, time::Duration};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStdin, Command},
    task::JoinHandle,
};
use voicebot_media::{Frame, Upsampler8To16};

use super::{AudioRate, CommandConfig};
use crate::{
    error::{Result, SpeechError},
    restart::Backoff,
    session::SessionOptions,
    wire::Timeline,
    worker::{FrameReceiver, ResultSender, WorkerIo},
};

/// How long a child that closed stdin may take to print its last results.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// Spawns the program with the session's settings in its environment.
pub(super) fn spawn_child(config: &CommandConfig, options: &SessionOptions) -> Result<Child> {
    let mut command = Command::new(&config.program);
    command
        .args(&config.args)
        .env("VOICEBOT_SAMPLE_RATE", config.rate.hz().to_string())
        .env(
            "VOICEBOT_PARTIALS",
            if options.partial_results { "1" } else { "0" },
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(grammar) = &options.grammar {
        command.env("VOICEBOT_GRAMMAR_JSGF", grammar.to_jsgf());
        if let Some(phrases) = grammar.phrases() {
            command.env(
                "VOICEBOT_PHRASES",
                serde_json::to_string(&phrases).unwrap_or_default(),
            );
        }
    }
    Ok(command.spawn()?)
}

/// How one child's run ended.
enum Outcome {
    /// The session finished and the child was told (stdin closed).
    Finished,
    /// The child died or stopped reading.
    Failed,
}

pub(super) async fn run(
    config: Arc<CommandConfig>,
    options: SessionOptions,
    first: Child,
    mut io: WorkerIo,
) -> Result<()> {
    let mut backoff = Backoff::new(config.restart);
    let mut upsampler = match config.rate {
        AudioRate::Hz16000 => Some(Upsampler8To16::new().map_err(|_| SpeechError::Decoder {
            operation: "Upsampler8To16::new",
        })?),
        AudioRate::Hz8000 => None,
    };
    let timeline = Timeline::default();
    let mut next_child = Some(first);
    loop {
        let mut child = match next_child.take() {
            Some(child) => child,
            None => match spawn_child(&config, &options) {
                Ok(child) => child,
                Err(error) => {
                    tracing::warn!(%error, "recogniser command failed to start; retrying");
                    match backoff.wait(&mut io.frames, &io.counters).await {
                        true => continue,
                        false => return Ok(()),
                    }
                }
            },
        };
        backoff.started();
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(SpeechError::Protocol {
                reason: "the child's pipes were not set up".to_owned(),
            });
        };
        let stderr = child.stderr.take().map(log_stderr);
        let mut reader = tokio::spawn(read_results(stdout, io.results.clone(), timeline.clone()));
        let outcome = pump(
            stdin,
            &mut io.frames,
            upsampler.as_mut(),
            &timeline,
            config.restart.stall_timeout,
        )
        .await;
        match outcome {
            Outcome::Finished => {
                // Stdin is closed: give the child a moment to print its last result and exit.
                if tokio::time::timeout(EXIT_GRACE, &mut reader).await.is_err() {
                    tracing::warn!("recogniser command did not exit after end of audio");
                }
                stop(child, reader, stderr).await;
                return Ok(());
            }
            Outcome::Failed => {
                tracing::warn!("recogniser command died or stalled; restarting");
                let _ = child.start_kill();
                // What it printed before dying still counts; a stalled child's reader is cut.
                let _ = tokio::time::timeout(Duration::from_millis(200), &mut reader).await;
                stop(child, reader, stderr).await;
                if !backoff.wait(&mut io.frames, &io.counters).await {
                    return Ok(());
                }
            }
        }
    }
}

/// Kills the child (if still running), reaps it and stops its reader tasks.
async fn stop(mut child: Child, reader: JoinHandle<()>, stderr: Option<JoinHandle<()>>) {
    let _ = child.start_kill();
    let _ = child.wait().await;
    reader.abort();
    if let Some(stderr) = stderr {
        stderr.abort();
    }
}

/// Writes frames to the child until the session ends or the child fails.
async fn pump(
    mut stdin: ChildStdin,
    frames: &mut FrameReceiver,
    mut upsampler: Option<&mut Upsampler8To16>,
    timeline: &Timeline,
    stall_timeout: Duration,
) -> Outcome {
    let mut first = true;
    let mut wide = [0i16; Upsampler8To16::OUTPUT_SAMPLES];
    let mut bytes = Vec::with_capacity(2 * Upsampler8To16::OUTPUT_SAMPLES);
    loop {
        let Some(timed) = frames.recv().await else {
            // Dropping stdin closes it: the child's end-of-audio signal.
            drop(stdin);
            return Outcome::Finished;
        };
        if first {
            timeline.restart_at(timed.start);
            first = false;
        }
        bytes.clear();
        let samples: &[i16] = match upsampler.as_deref_mut() {
            Some(upsampler) => match upsampler.process(&timed.frame, &mut wide) {
                Ok(()) => &wide,
                Err(_) => timed.frame.as_samples(),
            },
            None => timed.frame.as_samples(),
        };
        bytes.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
        match tokio::time::timeout(stall_timeout, stdin.write_all(&bytes)).await {
            Ok(Ok(())) => timeline.heard(timed.start + Frame::DURATION),
            Ok(Err(error)) => {
                tracing::debug!(%error, "writing to the recogniser command failed");
                return Outcome::Failed;
            }
            Err(_) => {
                tracing::debug!(?stall_timeout, "the recogniser command stopped reading");
                return Outcome::Failed;
            }
        }
    }
}

/// Reads result lines until the child closes stdout.
async fn read_results(
    stdout: tokio::process::ChildStdout,
    results: ResultSender,
    timeline: Timeline,
) {
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(result) = timeline.parse(&line)
            && !results.send(result).await
        {
            return;
        }
    }
}

fn log_stderr(stderr: tokio::process::ChildStderr) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            tracing::debug!(line, "recogniser command stderr");
        }
    })
}
