//! Shared helpers: a simulator plus a client tuned for fast tests, timeouts, and
//! journal queries.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use voicebot_callcontrol::{
    AudioIn, AudioOut, Client, ClientBuilder, EventStream, ExpiresInUnit, RetryPolicy, Secret,
};
use voicebot_model::PbxEvent;
use voicebot_sim::{JournalKind, Sim, SimConfig};

/// Runs `future`, failing the test if it takes longer than `seconds`.
pub(crate) async fn within<F>(seconds: u64, future: F) -> F::Output
where
    F: Future,
{
    voicebot_sim::within(Duration::from_secs(seconds), future).await
}

/// A client builder for `sim` with short intervals so reconnects happen quickly.
pub(crate) fn builder(sim: &Sim) -> ClientBuilder {
    Client::builder(sim.base_url())
        .credentials(sim.client_id(), Secret::new(sim.client_secret()))
        .expires_in_unit(ExpiresInUnit::Seconds)
        .request_timeout(Duration::from_secs(3))
        .get_retry(RetryPolicy {
            max_attempts: 3,
            initial_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(100),
        })
        .ping_interval(Duration::from_millis(100))
        .dead_after_pings(3)
        .reconnect_backoff(Duration::from_millis(50), Duration::from_millis(400))
}

/// A simulator with `config` and a client for it.
pub(crate) async fn start(config: SimConfig) -> (Sim, Client) {
    let sim = Sim::start_with(config).await.expect("simulator starts");
    let client = builder(&sim).build().expect("client builds");
    (sim, client)
}

/// How many tokens the simulator issued.
pub(crate) fn tokens_issued(sim: &Sim) -> usize {
    sim.journal()
        .iter()
        .filter(|entry| matches!(entry.kind, JournalKind::TokenIssued { .. }))
        .count()
}

/// `(method, path, status)` of every HTTP request the simulator saw whose path starts
/// with `prefix`.
pub(crate) fn requests(sim: &Sim, prefix: &str) -> Vec<(String, String, u16)> {
    sim.journal()
        .into_iter()
        .filter_map(|entry| match entry.kind {
            JournalKind::Http {
                method,
                path,
                status,
            } if path.starts_with(prefix) => Some((method, path, status)),
            _ => None,
        })
        .collect()
}

/// Reads events until one matches `wanted`, returning it and everything before it.
pub(crate) async fn until<P>(events: &mut EventStream, mut wanted: P) -> (PbxEvent, Vec<PbxEvent>)
where
    P: FnMut(&PbxEvent) -> bool,
{
    let mut seen = Vec::new();
    loop {
        let event = events.next().await.expect("event stream ended early");
        if wanted(&event) {
            return (event, seen);
        }
        seen.push(event);
    }
}

/// Waits for the first `Connected` and returns it with the resync events before it.
pub(crate) async fn connected(events: &mut EventStream) -> (u64, Vec<PbxEvent>) {
    let (event, before) = until(events, |event| matches!(event, PbxEvent::Connected { .. })).await;
    match event {
        PbxEvent::Connected { connection } => (connection, before),
        _ => unreachable!("until returned a matching event"),
    }
}

/// PCM bytes (s16le) of `samples`.
pub(crate) fn pcm(samples: &[i16]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|sample| sample.to_le_bytes())
        .collect()
}

/// Reads `audio` with `read_now`, sleeping `poll` whenever nothing has arrived, until
/// `want` has come after the silence before it; returns the size of each read and how
/// many polls found nothing.
pub(crate) async fn read_now_until(
    audio: &mut AudioIn,
    want: &[u8],
    poll: Duration,
) -> (Vec<usize>, usize) {
    let mut buf = [0u8; 1024];
    let mut received = Vec::new();
    let (mut reads, mut empty_polls) = (Vec::new(), 0);
    loop {
        match audio.read_now(&mut buf) {
            None => {
                empty_polls += 1;
                tokio::time::sleep(poll).await;
            }
            Some(read) => {
                let read = read.expect("no error");
                reads.push(read);
                received.extend_from_slice(&buf[..read]);
            }
        }
        let start = received.iter().position(|byte| *byte != 0);
        if let Some(start) = start.filter(|start| received.len() - start >= want.len()) {
            assert_eq!(received[start..start + want.len()], want[..]);
            return (reads, empty_polls);
        }
    }
}

/// Sends `bytes` with `send_now` in 960-byte chunks (60 ms, a media tick's) at about
/// real time, with a lead.
pub(crate) async fn send_now_paced(out: &mut AudioOut, bytes: &[u8]) {
    for (index, chunk) in bytes.chunks(960).enumerate() {
        out.send_now(chunk).unwrap();
        if index > 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A test signal none of whose bytes is zero, so it stands out from the silence
/// the simulator sends around it.
pub(crate) fn signal(len: usize) -> Vec<i16> {
    (0..len)
        .map(|i| {
            let low = 1 + (i * 7 % 254) as u16;
            let high = 1 + (i * 13 % 120) as u16;
            ((high << 8) | low) as i16
        })
        .collect()
}
