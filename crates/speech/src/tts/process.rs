//! Runs a synthesis program once: text on stdin, audio on stdout, bounded in time and size.

use std::ffi::OsString;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::error::{TtsError, truncate};

/// The most stdout a synthesis program may write: ten minutes of 16-bit 48 kHz audio.
pub(crate) const MAX_AUDIO_BYTES: usize = 10 * 60 * 48_000 * 2;

/// How much of stderr goes into an error.
const STDERR_BYTES: usize = 512;

/// Runs `program args` with `text` on stdin and returns its stdout. The process is killed when
/// it runs past `timeout`, or when the future is dropped.
///
/// # Errors
/// [`TtsError::Spawn`], [`TtsError::Timeout`], [`TtsError::TooLarge`], or
/// [`TtsError::Program`] when it exits with a failure or writes nothing.
pub(crate) async fn run(
    program: &OsString,
    args: &[OsString],
    text: &str,
    timeout: Duration,
) -> Result<Vec<u8>, TtsError> {
    let name = program.to_string_lossy().into_owned();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| TtsError::Spawn {
            program: name.clone(),
            reason: error.to_string(),
        })?;
    let mut stdin = child.stdin.take().expect("stdin was piped");
    let stdout = child.stdout.take().expect("stdout was piped");
    let stderr = child.stderr.take().expect("stderr was piped");
    let input = text.to_owned();
    let work = async move {
        // Writing and reading at once: a program that writes audio before it has read all the
        // text would otherwise block on a full pipe while we block on its stdin.
        let write = async move {
            // A program that exits without reading everything closes the pipe: its exit status
            // and output tell what happened, not this write.
            let _ = stdin.write_all(input.as_bytes()).await;
            let _ = stdin.shutdown().await;
        };
        let (_, audio, errors) = tokio::join!(
            write,
            read_capped(stdout, MAX_AUDIO_BYTES),
            read_head(stderr, STDERR_BYTES)
        );
        // Too much audio: give up now (dropping the child kills it).
        let audio = audio.map_err(|limit_bytes| TtsError::TooLarge { limit_bytes })?;
        Ok::<_, TtsError>((audio, errors, child.wait().await))
    };
    let (audio, errors, status) = tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| TtsError::Timeout { waited: timeout })??;
    let status = status.map_err(|error| TtsError::Spawn {
        program: name.clone(),
        reason: error.to_string(),
    })?;
    let stderr = truncate(&String::from_utf8_lossy(&errors), STDERR_BYTES);
    match (status.success(), audio.is_empty()) {
        (true, false) => Ok(audio),
        (true, true) => Err(TtsError::Program {
            program: name,
            status: status.to_string(),
            stderr: format!("no audio on stdout. {stderr}").trim().to_owned(),
        }),
        (false, _) => Err(TtsError::Program {
            program: name,
            status: status.to_string(),
            stderr,
        }),
    }
}

/// The first `keep` bytes of `reader`, read to the end so the program never blocks on it.
async fn read_head<R>(mut reader: R, keep: usize) -> Vec<u8>
where
    R: AsyncRead + Unpin,
{
    let mut head = Vec::with_capacity(keep);
    let mut chunk = [0u8; 1024];
    while let Ok(count @ 1..) = reader.read(&mut chunk).await {
        let room = keep.saturating_sub(head.len()).min(count);
        head.extend_from_slice(&chunk[..room]);
    }
    head
}

/// Reads `reader` to the end, failing (with the limit) once it passes `limit` bytes; a read
/// error ends the input early (the exit status says what went wrong).
async fn read_capped<R>(reader: R, limit: usize) -> Result<Vec<u8>, usize>
where
    R: AsyncRead + Unpin,
{
    let mut buffer = Vec::new();
    let mut limited = reader.take(limit as u64 + 1);
    let _ = limited.read_to_end(&mut buffer).await;
    match buffer.len() > limit {
        true => Err(limit),
        false => Ok(buffer),
    }
}
