//! Plain HTTP/WS client helpers (no voicebot client code).

use std::future::Future;
use std::sync::Once;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use voicebot_model::{Participant, TokenResponse, WsEnvelope};
use voicebot_sim::Sim;

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Runs a test body with a hard timeout.
pub(crate) async fn within<F: Future<Output = ()>>(secs: u64, body: F) {
    voicebot_sim::within(Duration::from_secs(secs), body).await;
}

pub(crate) fn client() -> reqwest::Client {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder().build().expect("client builds")
}

/// `samples` samples of `value` as s16le PCM.
fn pcm(value: i16, samples: usize) -> Vec<u8> {
    std::iter::repeat_n(value.to_le_bytes(), samples)
        .flatten()
        .collect()
}

/// POSTs `samples` samples of `value` to an audio stream's `url` and returns the status.
pub(crate) async fn post_pcm(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    value: i16,
    samples: usize,
) -> reqwest::StatusCode {
    client
        .post(url)
        .bearer_auth(token)
        .body(pcm(value, samples))
        .send()
        .await
        .unwrap()
        .status()
}

pub(crate) async fn token(sim: &Sim) -> String {
    let response = client()
        .post(format!("{}/connect/token", sim.base_url()))
        .form(&[
            ("client_id", sim.client_id()),
            ("client_secret", sim.client_secret()),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json::<TokenResponse>().await.unwrap().access_token
}

pub(crate) async fn get(sim: &Sim, token: &str, path: &str) -> reqwest::Response {
    client()
        .get(format!("{}{path}", sim.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn post_json(
    sim: &Sim,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    client()
        .post(format!("{}{path}", sim.base_url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// `POST /callcontrol/{from}/makecall` to `destination`.
pub(crate) async fn makecall(
    sim: &Sim,
    token: &str,
    from: &str,
    destination: &str,
) -> reqwest::Response {
    let path = format!("/callcontrol/{from}/makecall");
    post_json(
        sim,
        token,
        &path,
        serde_json::json!({ "destination": destination }),
    )
    .await
}

/// `POST /callcontrol/{dn}/participants/{id}/{action}` with an empty body: its status.
pub(crate) async fn act(sim: &Sim, token: &str, dn: &str, id: i64, action: &str) -> u16 {
    let path = format!("/callcontrol/{dn}/participants/{id}/{action}");
    post_json(sim, token, &path, serde_json::json!({}))
        .await
        .status()
        .as_u16()
}

pub(crate) async fn participant(sim: &Sim, token: &str, dn: &str, id: i64) -> Participant {
    let response = get(sim, token, &format!("/callcontrol/{dn}/participants/{id}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub(crate) async fn connect_ws(sim: &Sim, token: &str) -> Result<Ws, tungstenite::Error> {
    let url = format!("ws://{}/callcontrol/ws", sim.local_addr());
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

/// The next text frame, parsed.
pub(crate) async fn next_event(ws: &mut Ws) -> WsEnvelope {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("an event within 10 s")
            .expect("socket open")
            .expect("frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).expect("an event envelope");
        }
    }
}

#[allow(dead_code)]
pub(crate) async fn send_text(ws: &mut Ws, text: String) {
    ws.send(Message::Text(text.into())).await.unwrap();
}
