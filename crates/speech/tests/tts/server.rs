//! A local speech server for tests: `POST /v1/audio/speech` as OpenAI's API defines it, with
//! the audio made by espeak-ng (so tests hear real speech, not canned bytes).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

/// The key the server accepts.
pub(crate) const API_KEY: &str = "sk-test-key-never-logged";

/// espeak-ng's output rate, which the server also uses for PCM.
pub(crate) const PCM_RATE: u32 = 22_050;

/// One request as the server saw it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub(crate) struct SpeechRequest {
    pub(crate) model: String,
    pub(crate) input: String,
    #[serde(default)]
    pub(crate) voice: Option<String>,
    #[serde(default)]
    pub(crate) speed: Option<f32>,
    #[serde(default)]
    pub(crate) response_format: Option<String>,
}

/// A running server and what it received.
pub(crate) struct SpeechServer {
    pub(crate) addr: SocketAddr,
    pub(crate) requests: Arc<Mutex<Vec<SpeechRequest>>>,
}

impl SpeechServer {
    /// Starts the server on a free loopback port. Also serves `/slow/v1/audio/speech` (never
    /// answers) and `/moved/v1/audio/speech` (a redirect to the real endpoint).
    pub(crate) async fn start() -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let app = Router::new()
            .route("/v1/audio/speech", post(speech))
            .route(
                "/slow/v1/audio/speech",
                post(|| async {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    StatusCode::OK
                }),
            )
            .route(
                "/moved/v1/audio/speech",
                post(|| async { Redirect::temporary("/v1/audio/speech") }),
            )
            .with_state(Arc::clone(&requests));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, requests }
    }

    /// The base URL of the server.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn requests(&self) -> Vec<SpeechRequest> {
        self.requests.lock().unwrap().clone()
    }
}

async fn speech(
    State(requests): State<Arc<Mutex<Vec<SpeechRequest>>>>,
    headers: HeaderMap,
    Json(request): Json<SpeechRequest>,
) -> Response {
    let authorised = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        == Some(&format!("Bearer {API_KEY}"));
    if !authorised {
        // A long error body, as some servers send (HTML pages, stack traces).
        let body = format!(
            "{{\"error\": \"invalid api key\", \"detail\": \"{}\"}}",
            "x".repeat(4_000)
        );
        return (StatusCode::UNAUTHORIZED, body).into_response();
    }
    requests.lock().unwrap().push(request.clone());
    let speed = request.speed.unwrap_or(1.0);
    let rate = ((175.0 * speed) as u32).clamp(80, 450);
    let voice = request.voice.clone().unwrap_or_else(|| "en-us".to_owned());
    let mut child = tokio::process::Command::new("espeak-ng")
        .args(["--stdout", "-v", &voice, "-s", &rate.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("espeak-ng is installed (.ci/apt-packages)");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(request.input.as_bytes()).await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr).into_owned();
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    let wav = output.stdout;
    match request.response_format.as_deref() {
        Some("pcm") => {
            // espeak-ng writes a canonical 44-byte header; PCM is what follows it.
            assert_eq!(&wav[36..40], b"data", "espeak-ng's header layout");
            ([(header::CONTENT_TYPE, "audio/pcm")], wav[44..].to_vec()).into_response()
        }
        _ => ([(header::CONTENT_TYPE, "audio/wav")], wav).into_response(),
    }
}
