//! Audio streams both ways.

use std::time::Duration;

use futures::StreamExt;
use voicebot_sim::{AudioConfig, InboundMode, JournalKind, Sim, SimConfig, StreamDirection};

use super::util::{client, post_pcm, token, within};

fn pattern(len: usize) -> Vec<i16> {
    (0..len).map(|i| (i as i16 % 1000) + 1).collect()
}

/// Reads a GET stream until `want` non-silent samples arrived (sample-aligned).
async fn read_audio(response: reqwest::Response, want: usize) -> (Vec<i16>, Vec<usize>) {
    let mut stream = response.bytes_stream();
    let mut pending: Vec<u8> = Vec::new();
    let mut audible: Vec<i16> = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let chunk = stream.next().await.expect("stream open").expect("chunk");
        sizes.push(chunk.len());
        pending.extend_from_slice(&chunk);
        let whole = pending.len() & !1;
        for pair in pending[..whole].chunks_exact(2) {
            let sample = i16::from_le_bytes([pair[0], pair[1]]);
            // Leading silence (before the caller spoke) is skipped.
            if sample != 0 || !audible.is_empty() {
                audible.push(sample);
            }
        }
        pending.drain(..whole);
        if audible.len() >= want {
            audible.truncate(want);
            return (audible, sizes);
        }
    }
}

#[tokio::test]
async fn get_stream_delivers_exactly_what_the_caller_said() {
    within(30, async {
        let config = SimConfig {
            audio: AudioConfig {
                chunk_bytes: 333,
                jitter: Duration::from_millis(30),
                ..AudioConfig::default()
            },
            ..SimConfig::default()
        };
        let sim = Sim::start_with(config).await.unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+15550200").await.unwrap();
        let url = format!(
            "{}/callcontrol/800/participants/{}/stream",
            sim.base_url(),
            caller.participant_id()
        );
        let response = client().get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "application/octet-stream"
        );
        let said = pattern(4000); // 0.5 s
        caller.send_pcm(&said).await;
        let (heard, sizes) = read_audio(response, said.len()).await;
        assert_eq!(heard, said);
        assert!(
            sizes.iter().all(|s| *s == 333),
            "chunks of the configured size: {sizes:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn streams_before_connect_get_424() {
    within(20, async {
        let sim = Sim::start_with(SimConfig {
            inbound: InboundMode::Ringing,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+15550201").await.unwrap();
        let url = format!(
            "{}/callcontrol/800/participants/{}/stream",
            sim.base_url(),
            caller.participant_id()
        );
        let response = client().get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 424);
        let response = client()
            .post(&url)
            .bearer_auth(&token)
            .body(vec![0u8; 320])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 424);
        let response = client()
            .get(format!(
                "{}/callcontrol/800/participants/77/stream",
                sim.base_url()
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn post_stream_is_heard_with_gaps_and_odd_chunks() {
    within(30, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+15550202").await.unwrap();
        let url = format!(
            "{}/callcontrol/800/participants/{}/stream",
            sim.base_url(),
            caller.participant_id()
        );
        let first = pattern(1600); // 200 ms
        let second: Vec<i16> = pattern(800).iter().map(|s| -s).collect();
        let bytes_of = |s: &[i16]| s.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>();
        let (first_bytes, second_bytes) = (bytes_of(&first), bytes_of(&second));
        let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Vec<u8>, std::io::Error>>();
        let body = reqwest::Body::wrap_stream(rx);
        let request = tokio::spawn(client().post(&url).bearer_auth(&token).body(body).send());
        // Odd chunk sizes that split samples.
        for piece in first_bytes.chunks(333) {
            tx.unbounded_send(Ok(piece.to_vec())).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        for piece in second_bytes.chunks(77) {
            tx.unbounded_send(Ok(piece.to_vec())).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        drop(tx);
        let response = request.await.unwrap().unwrap();
        assert_eq!(response.status(), 200);
        let heard = caller.heard();
        assert_eq!(heard.audio(), [first.clone(), second.clone()].concat());
        // A slow machine may split the bursts further; the long pause is always there.
        assert!(heard.segments.len() >= 2, "{:?}", heard.segments);
        let long: Vec<_> = heard
            .underruns
            .iter()
            .filter(|gap| gap.len >= Duration::from_millis(200))
            .collect();
        assert_eq!(long.len(), 1, "{:?}", heard.underruns);
        assert_eq!(heard.audio_duration(), Duration::from_millis(300));
        assert!(heard.max_lead >= Duration::from_millis(100), "{:?}", heard.max_lead);
        assert_eq!(heard.bytes_received, (first_bytes.len() + second_bytes.len()) as u64);
        assert!(sim.journal().iter().any(|e| matches!(
            &e.kind,
            JournalKind::StreamClosed { direction: StreamDirection::IntoCall, reason, .. } if reason == "end of body"
        )));
    })
    .await;
}

#[tokio::test]
async fn content_length_zero_closes_the_post_stream() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+15550203").await.unwrap();
        let url = format!(
            "{}/callcontrol/800/participants/{}/stream",
            sim.base_url(),
            caller.participant_id()
        );
        let response = client()
            .post(&url)
            .bearer_auth(&token)
            .header("content-length", "0")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(sim.journal().iter().any(|e| matches!(
            &e.kind,
            JournalKind::StreamClosed { reason, .. } if reason == "empty body"
        )));
    })
    .await;
}

#[tokio::test]
async fn invalid_chunked_body_keeps_what_came_before() {
    within(20, async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+15550204").await.unwrap();
        let mut socket = tokio::net::TcpStream::connect(sim.local_addr()).await.unwrap();
        let head = format!(
            "POST /callcontrol/800/participants/{}/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
            caller.participant_id()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let good = vec![5u8; 320];
        socket.write_all(format!("{:x}\r\n", good.len()).as_bytes()).await.unwrap();
        socket.write_all(&good).await.unwrap();
        socket.write_all(b"\r\n").await.unwrap();
        // Raw bytes with no chunk header.
        socket.write_all(b"zz not a chunk\r\n").await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut answer)).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(caller.heard().bytes_received, 320);
        assert!(sim.journal().iter().any(|e| matches!(
            &e.kind,
            JournalKind::StreamClosed { reason, .. } if reason.starts_with("invalid body")
        )));
    })
    .await;
}

#[tokio::test]
async fn a_post_that_expects_100_continue_gets_it_then_its_answer() {
    within(20, async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+15550205").await.unwrap();
        let mut socket = tokio::net::TcpStream::connect(sim.local_addr()).await.unwrap();
        let head = format!(
            "POST /callcontrol/800/participants/{}/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 640\r\nExpect: 100-continue\r\n\r\n",
            caller.participant_id()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let mut interim = vec![0u8; 25];
        socket.read_exact(&mut interim).await.unwrap();
        assert_eq!(interim, b"HTTP/1.1 100 Continue\r\n\r\n");
        socket.write_all(&[9u8; 640]).await.unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
        assert!(sim.journal().iter().any(|e| matches!(
            &e.kind,
            JournalKind::StreamClosed { direction: StreamDirection::IntoCall, bytes: 640, reason, .. } if reason == "end of body"
        )));
        caller.wait_heard(Duration::from_millis(40)).await.unwrap();
        assert_eq!(caller.heard().audio()[..320], [i16::from_le_bytes([9, 9]); 320]);
    })
    .await;
}

#[tokio::test]
async fn a_stream_refused_by_the_pbx_gets_a_whole_answer() {
    within(20, async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let sim = Sim::start().await.unwrap();
        let caller = sim.call_in("+15550206").await.unwrap();
        let mut socket = tokio::net::TcpStream::connect(sim.local_addr())
            .await
            .unwrap();
        // No token: 401, with its JSON body, and the connection closed after it.
        let head = format!(
            "GET /callcontrol/800/participants/{}/stream HTTP/1.1\r\nHost: x\r\n\r\n",
            caller.participant_id()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 401 "), "{answer}");
        let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
        let length: usize = head
            .lines()
            .find_map(|line| {
                line.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(|v| v.trim().parse().unwrap())
            })
            .expect("content-length");
        assert_eq!(body.len(), length);
        assert!(sim.journal().iter().any(|e| matches!(
            &e.kind,
            JournalKind::Http { status: 401, path, .. } if path.ends_with("/stream")
        )));
    })
    .await;
}

#[tokio::test]
async fn a_new_token_revokes_the_old_one_and_its_streams() {
    within(20, async {
        let sim = Sim::start_with(SimConfig {
            revoke_previous_token: true,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let old = token(&sim).await;
        let caller = sim.call_in("+15550205").await.unwrap();
        let url = format!(
            "{}/callcontrol/800/participants/{}/stream",
            sim.base_url(),
            caller.participant_id()
        );
        let response = client().get(&url).bearer_auth(&old).send().await.unwrap();
        let mut stream = response.bytes_stream();
        stream.next().await.unwrap().unwrap();
        let _new = token(&sim).await;
        let ended = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(Ok(_)) = stream.next().await {}
        })
        .await;
        assert!(ended.is_ok(), "the stream of the revoked token ended");
        assert!(
            sim.journal()
                .iter()
                .any(|e| matches!(e.kind, JournalKind::TokenRevoked))
        );
    })
    .await;
}

#[tokio::test]
async fn mixed_get_stream_carries_the_playout_too() {
    within(20, async {
        let sim = Sim::start_with(SimConfig {
            audio: AudioConfig {
                get_stream: voicebot_sim::GetStreamContent::Mixed,
                bursts: Some(voicebot_sim::Bursts {
                    every: Duration::from_millis(500),
                    hold: Duration::from_millis(200),
                }),
                ..AudioConfig::default()
            },
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let token = token(&sim).await;
        let caller = sim.call_in("+15550206").await.unwrap();
        let url = format!(
            "{}/callcontrol/800/participants/{}/stream",
            sim.base_url(),
            caller.participant_id()
        );
        let response = client().get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(post_pcm(&client(), &url, &token, 7, 800).await, 200);
        let (heard, _) = read_audio(response, 800).await;
        let odd = heard.iter().filter(|s| **s != 7).count();
        assert_eq!(odd, 0, "the bot's own audio comes back mixed");
    })
    .await;
}

/// Full-duplex calls in parallel: every GET stream carries what its caller said, and
/// every caller hears what was POSTed on its call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_duplex_calls_in_parallel() {
    const CALLS: usize = 64;
    within(60, async {
        let sim = Sim::start().await.unwrap();
        let token = token(&sim).await;
        let mut tasks = Vec::new();
        for n in 0..CALLS {
            let caller = sim.call_in(&format!("+1666{n:04}")).await.unwrap();
            let url = format!(
                "{}/callcontrol/800/participants/{}/stream",
                sim.base_url(),
                caller.participant_id()
            );
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let said: Vec<i16> = (0..4000).map(|i| ((i + n) % 500) as i16 + 1).collect();
                let response = client().get(&url).bearer_auth(&token).send().await.unwrap();
                caller.send_pcm(&said).await;
                let played: Vec<u8> = said.iter().flat_map(|s| (-s).to_le_bytes()).collect();
                let post = client().post(&url).bearer_auth(&token).body(played).send();
                let (got, post) = tokio::join!(read_audio(response, said.len()), post);
                assert_eq!(post.unwrap().status(), 200);
                assert_eq!(got.0, said);
                caller.wait_heard(Duration::from_millis(500)).await.unwrap();
                let expected: Vec<i16> = said.iter().map(|s| -s).collect();
                assert_eq!(caller.heard().audio(), expected);
                caller.hang_up().await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn the_media_clock_says_how_it_kept_time() {
    let sim = Sim::start().await.unwrap();
    let _ = sim.take_clock_stats();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stats = sim.take_clock_stats();
    assert_eq!(stats.late_ticks, 0);
    assert_eq!(stats.longest_pause, Duration::from_millis(20));
}
