//! A local server speaking the Vosk WebSocket protocol, for the client's tests. Its
//! "recognition" is the energy segmenter shared with the test recogniser program (an outside
//! service, so a fake is allowed): each utterance is reported as the first phrase of the
//! client's `phrase_list`, or "speech".

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use crate::energy::{Event, Segmenter};

/// What the server saw, and how it misbehaves.
#[derive(Debug, Default)]
pub(crate) struct Journal {
    /// The config message of each connection.
    pub(crate) configs: Vec<Value>,
    /// Audio bytes received per connection.
    pub(crate) audio_bytes: Vec<usize>,
    /// Whether each connection ended with `eof`.
    pub(crate) eofs: Vec<bool>,
}

/// A running test server.
#[derive(Debug, Clone)]
pub(crate) struct VoskServer {
    pub(crate) url: String,
    pub(crate) journal: Arc<Mutex<Journal>>,
}

impl VoskServer {
    /// Starts a server on 127.0.0.1:0. `drop_first_after` bytes of audio on the first
    /// connection, it drops that connection without a word (a crash).
    pub(crate) async fn start(drop_first_after: Option<usize>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let journal = Arc::new(Mutex::new(Journal::default()));
        let shared = Arc::clone(&journal);
        tokio::spawn(async move {
            let mut index = 0;
            while let Ok((tcp, _)) = listener.accept().await {
                let drop_after = if index == 0 { drop_first_after } else { None };
                index += 1;
                tokio::spawn(serve(tcp, Arc::clone(&shared), drop_after));
            }
        });
        Self {
            url: format!("ws://{addr}"),
            journal,
        }
    }
}

async fn serve(
    tcp: tokio::net::TcpStream,
    journal: Arc<Mutex<Journal>>,
    drop_after: Option<usize>,
) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let connection = {
        let mut j = journal.lock().unwrap();
        j.configs.push(Value::Null);
        j.audio_bytes.push(0);
        j.eofs.push(false);
        j.configs.len() - 1
    };
    let mut label = "speech".to_owned();
    let mut segmenter = Segmenter::default();
    let mut received = 0usize;
    let final_json = |label: &str, event: Option<Event>| match event {
        Some(Event::Final { start_ms, end_ms }) => json!({
            "result": [{"word": label, "start": start_ms as f64 / 1000.0,
                        "end": end_ms as f64 / 1000.0, "conf": 0.8}],
            "text": label,
        }),
        _ => json!({"text": ""}),
    };
    while let Some(Ok(message)) = ws.next().await {
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                if let Some(config) = value.get("config") {
                    if let Some(first) = config["phrase_list"][0].as_str() {
                        label = first.to_owned();
                    }
                    journal.lock().unwrap().configs[connection] = value.clone();
                } else if value.get("eof").is_some() {
                    journal.lock().unwrap().eofs[connection] = true;
                    let last = final_json(&label, segmenter.end());
                    let _ = ws.send(Message::text(last.to_string())).await;
                    let _ = ws.close(None).await;
                    return;
                }
            }
            Message::Binary(audio) => {
                received += audio.len();
                journal.lock().unwrap().audio_bytes[connection] = received;
                if drop_after.is_some_and(|limit| received >= limit) {
                    return; // dropping the socket: the "server" crashed
                }
                let samples: Vec<i16> = audio
                    .chunks_exact(2)
                    .map(|p| i16::from_le_bytes([p[0], p[1]]))
                    .collect();
                // Vosk answers every audio message: a final at an utterance end, else a partial.
                let mut reply = json!({"partial": ""});
                for chunk in samples.chunks(160) {
                    match segmenter.push(chunk) {
                        Some(event @ Event::Final { .. }) => {
                            reply = final_json(&label, Some(event))
                        }
                        Some(Event::Partial) if reply.get("partial").is_some() => {
                            reply = json!({"partial": label});
                        }
                        _ => {}
                    }
                }
                if ws.send(Message::text(reply.to_string())).await.is_err() {
                    return;
                }
            }
            Message::Close(_) => return,
            _ => {}
        }
    }
}
