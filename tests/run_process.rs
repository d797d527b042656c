//! Helpers of the tests that run `voicebot run` as a process against a simulator:
//! free ports, plain HTTP reads of its `/health` and `/metrics`, and waiting for a
//! bot to take a call.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use voicebot_sim::{JournalKind, Sim};

/// A port nothing listens on right now (bound, then released).
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// `GET path` on a fresh connection: the status and the body, or `None` while
/// nothing listens yet.
pub(crate) async fn http_get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await.ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// Waits until the engine has opened the caller's audio on route point 800: the bot
/// has the call.
pub(crate) async fn wait_stream_opened(sim: &Sim, participant: i64) {
    let stream = format!("/callcontrol/800/participants/{participant}/stream");
    loop {
        let opened = sim.journal().into_iter().any(|entry| {
            matches!(entry.kind, JournalKind::Http { method, path, .. }
                if method == "GET" && path == stream)
        });
        if opened {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
