//! A local server of the OpenAI-compatible `POST /v1/audio/transcriptions` API over a real
//! recogniser (PocketSphinx with the test menu grammar), for the `HttpTranscriber` tests. It
//! reads the multipart upload, decodes the WAV, runs the recogniser over it and answers
//! `verbose_json` with segment and word times. It can be told to fail the first requests.

use std::{
    io::Cursor,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{Multipart, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::{Value, json};
use voicebot_media::Frame;
use voicebot_speech::{Grammar, PocketSphinx, Recognizer, SessionOptions};

/// What the server saw of one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Seen {
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) authorization: Option<String>,
    pub(crate) file_bytes: usize,
}

#[derive(Debug)]
pub(crate) struct ServerState {
    grammar: Grammar,
    /// Requests still to answer with 503.
    pub(crate) failures: AtomicU32,
    pub(crate) requests: AtomicU32,
    pub(crate) seen: Mutex<Vec<Seen>>,
}

/// Starts the server on a loopback port; it lives as long as the test's runtime.
pub(crate) async fn start(grammar: Grammar, failures: u32) -> (SocketAddr, Arc<ServerState>) {
    let state = Arc::new(ServerState {
        grammar,
        failures: AtomicU32::new(failures),
        requests: AtomicU32::new(0),
        seen: Mutex::default(),
    });
    let app = Router::new()
        .route("/v1/audio/transcriptions", post(transcribe))
        .route("/redirect/v1/audio/transcriptions", post(redirect))
        .with_state(Arc::clone(&state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, state)
}

async fn redirect() -> Response {
    (
        StatusCode::TEMPORARY_REDIRECT,
        [("location", "/v1/audio/transcriptions")],
    )
        .into_response()
}

async fn transcribe(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    state.requests.fetch_add(1, Ordering::SeqCst);
    let mut seen = Seen {
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ..Seen::default()
    };
    let mut audio = None;
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.unwrap_or_default();
        match name.as_str() {
            "file" => {
                seen.file_bytes = bytes.len();
                audio = Some(bytes);
            }
            _ => seen
                .fields
                .push((name, String::from_utf8_lossy(&bytes).into_owned())),
        }
    }
    state.seen.lock().unwrap().push(seen);
    if state
        .failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        // A long error page: the client keeps only its start.
        let page = format!("overloaded {}", "x".repeat(4_000));
        return (StatusCode::SERVICE_UNAVAILABLE, page).into_response();
    }
    let Some(audio) = audio else {
        return (StatusCode::BAD_REQUEST, "no file").into_response();
    };
    let Ok(reader) = hound::WavReader::new(Cursor::new(audio.to_vec())) else {
        return (StatusCode::BAD_REQUEST, "not a WAV file").into_response();
    };
    if reader.spec().channels != 1 || reader.spec().sample_rate != 8_000 {
        return (StatusCode::BAD_REQUEST, "this server takes 8 kHz mono").into_response();
    }
    let samples: Vec<i16> = reader.into_samples::<i16>().map_while(Result::ok).collect();
    match recognise(&state.grammar, &samples).await {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error).into_response(),
    }
}

/// Runs PocketSphinx over the samples; the answer in `verbose_json`.
async fn recognise(grammar: &Grammar, samples: &[i16]) -> Result<Value, String> {
    let recognizer = PocketSphinx::new().map_err(|e| e.to_string())?;
    let options = SessionOptions::new()
        .grammar(grammar.clone())
        .partial_results(false)
        .queue_frames(samples.len() / Frame::SAMPLES + 2)
        .finish_timeout(Duration::from_secs(30));
    let mut session = recognizer.start(options).await.map_err(|e| e.to_string())?;
    for chunk in samples.chunks(Frame::SAMPLES) {
        session
            .feed(&Frame::from_slice_padded(chunk))
            .map_err(|e| e.to_string())?;
    }
    let finals = session.finish().await.map_err(|e| e.to_string())?;
    let secs = |d: Duration| d.as_secs_f64();
    let segments: Vec<Value> = finals
        .iter()
        .enumerate()
        .map(|(id, r)| {
            json!({"id": id, "start": secs(r.start), "end": secs(r.end), "text": format!(" {}", r.text)})
        })
        .collect();
    let words: Vec<Value> = finals
        .iter()
        .flat_map(|r| &r.words)
        .map(|w| json!({"word": w.text, "start": secs(w.start), "end": secs(w.end)}))
        .collect();
    let text: Vec<&str> = finals.iter().map(|r| r.text.as_str()).collect();
    Ok(json!({
        "task": "transcribe",
        "language": "english",
        "duration": samples.len() as f64 / 8_000.0,
        "text": text.join(" "),
        "segments": segments,
        "words": words,
    }))
}
