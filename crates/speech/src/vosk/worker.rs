//! The session task of [`VoskRecognizer`](super::VoskRecognizer): streams audio, reads results,
//! reconnects when the connection breaks.

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::net::TcpStream;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, tungstenite::Message};
use voicebot_media::{Frame, SAMPLE_RATE};

use super::VoskConfig;
use crate::{
    error::{Result, SpeechError},
    restart::Backoff,
    session::SessionOptions,
    wire::Timeline,
    worker::{FrameReceiver, ResultSender, WorkerIo},
};

type Connection = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects and sends the config message.
pub(super) async fn connect(config: &VoskConfig, options: &SessionOptions) -> Result<Connection> {
    if config.url.starts_with("wss:") {
        // tokio-tungstenite's rustls needs a process-wide provider; ring is the project's.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let connecting = tokio_tungstenite::connect_async(config.url.as_str());
    let (mut connection, _) = tokio::time::timeout(config.connect_timeout, connecting)
        .await
        .map_err(|_| SpeechError::Stalled {
            waited: config.connect_timeout,
        })??;
    let mut settings = json!({ "sample_rate": SAMPLE_RATE, "words": 1 });
    if let Some(phrases) = options.grammar.as_ref().and_then(|g| g.phrases()) {
        settings["phrase_list"] = json!(phrases);
    }
    let message = json!({ "config": settings }).to_string();
    connection.send(Message::text(message)).await?;
    Ok(connection)
}

enum Outcome {
    Finished,
    Broken,
}

pub(super) async fn run(
    config: Arc<VoskConfig>,
    options: SessionOptions,
    first: Connection,
    mut io: WorkerIo,
) -> Result<()> {
    let mut backoff = Backoff::new(config.restart);
    let timeline = Timeline::default();
    let mut next = Some(first);
    loop {
        let connection = match next.take() {
            Some(connection) => connection,
            None => match connect(&config, &options).await {
                Ok(connection) => connection,
                Err(error) => {
                    tracing::warn!(%error, "recogniser server unreachable; retrying");
                    match backoff.wait(&mut io.frames, &io.counters).await {
                        true => continue,
                        false => return Ok(()),
                    }
                }
            },
        };
        backoff.started();
        match stream(connection, &config, &mut io.frames, &io.results, &timeline).await {
            Outcome::Finished => return Ok(()),
            Outcome::Broken => {
                tracing::warn!("recogniser connection broke or stalled; reconnecting");
                if !backoff.wait(&mut io.frames, &io.counters).await {
                    return Ok(());
                }
            }
        }
    }
}

/// Streams audio and results over one connection.
async fn stream(
    mut connection: Connection,
    config: &VoskConfig,
    frames: &mut FrameReceiver,
    results: &ResultSender,
    timeline: &Timeline,
) -> Outcome {
    let stall = config.restart.stall_timeout;
    let batch_bytes = config.frames_per_message.max(1) * Frame::BYTES;
    let mut batch = Vec::with_capacity(batch_bytes);
    let mut first = true;
    loop {
        tokio::select! {
            frame = frames.recv() => {
                let Some(timed) = frame else { break };
                if first {
                    timeline.restart_at(timed.start);
                    first = false;
                }
                batch.extend_from_slice(&timed.frame.to_bytes());
                if batch.len() < batch_bytes {
                    continue;
                }
                let message = Message::binary(std::mem::take(&mut batch));
                match tokio::time::timeout(stall, connection.send(message)).await {
                    Ok(Ok(())) => timeline.heard(timed.start + Frame::DURATION),
                    Ok(Err(_)) | Err(_) => return Outcome::Broken,
                }
            }
            message = connection.next() => match handle(message, results, timeline).await {
                true => {}
                false => return Outcome::Broken,
            },
        }
    }
    // End of audio: the rest of the batch, then `eof`, then results until the server closes.
    let mut ending = Vec::new();
    if !batch.is_empty() {
        ending.push(Message::binary(batch));
    }
    ending.push(Message::text(r#"{"eof" : 1}"#));
    for message in ending {
        if connection.send(message).await.is_err() {
            return Outcome::Finished;
        }
    }
    while handle(connection.next().await, results, timeline).await {}
    Outcome::Finished
}

/// Handles one incoming message; `false` when the connection is over.
async fn handle(
    message: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    results: &ResultSender,
    timeline: &Timeline,
) -> bool {
    match message {
        Some(Ok(Message::Text(text))) => match timeline.parse(text.as_str()) {
            Some(result) => results.send(result).await,
            None => true,
        },
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => false,
        Some(Ok(_)) => true,
    }
}
