//! An in-test WebSocket agent (real WebSocket on loopback, axum): each test gives the
//! code one connection runs.

use std::future::Future;

use axum::Router;
use axum::extract::WebSocketUpgrade;
use axum::extract::ws::WebSocket;
use axum::routing::get;

/// A running agent at `url`.
pub(crate) struct Agent {
    pub(crate) url: String,
}

impl Agent {
    /// Serves `/media`; each connection runs `session`.
    pub(crate) async fn start<F, Fut>(session: F) -> Self
    where
        F: Fn(WebSocket) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let app = Router::new().route(
            "/media",
            get(move |upgrade: WebSocketUpgrade| {
                let session = session.clone();
                async move { upgrade.on_upgrade(session) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/media", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url }
    }
}
