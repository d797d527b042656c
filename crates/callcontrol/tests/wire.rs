//! What the audio upload looks like on the wire. The simulator hands its handler
//! decoded body frames, so this test reads the raw bytes from a plain TCP peer
//! instead: each `AudioOut::send` must be one `<hex>\r\n<payload>\r\n` chunk and
//! `finish` must end with `0\r\n\r\n`. Our HTTP stack runs unmodified against it.

use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use voicebot_callcontrol::{Client, Secret};
use voicebot_model::{Dn, ParticipantId};

use crate::support::within;

/// One request as it came off the socket.
#[derive(Debug)]
struct Captured {
    head: String,
    chunks: Vec<Vec<u8>>,
    terminated: bool,
}

async fn read_head(reader: &mut BufReader<TcpStream>) -> Option<String> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            return Some(head);
        }
    }
}

async fn read_chunks(reader: &mut BufReader<TcpStream>) -> (Vec<Vec<u8>>, bool) {
    let mut chunks = Vec::new();
    loop {
        let mut size = String::new();
        if reader.read_line(&mut size).await.unwrap_or(0) == 0 {
            return (chunks, false);
        }
        let Ok(len) = usize::from_str_radix(size.trim(), 16) else {
            return (chunks, false);
        };
        let mut payload = vec![0; len + 2];
        if reader.read_exact(&mut payload).await.is_err() {
            return (chunks, false);
        }
        if len == 0 {
            return (chunks, payload == b"\r\n");
        }
        assert_eq!(&payload[len..], b"\r\n", "chunk payload must end with CRLF");
        payload.truncate(len);
        chunks.push(payload);
    }
}

/// Serves the token endpoint and captures every other request, on keep-alive
/// connections, until the test ends.
async fn serve(listener: TcpListener, captured: mpsc::UnboundedSender<Captured>) {
    while let Ok((socket, _)) = listener.accept().await {
        let captured = captured.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(socket);
            while let Some(head) = read_head(&mut reader).await {
                let lower = head.to_ascii_lowercase();
                let length = lower
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|value| value.trim().parse::<usize>().ok());
                let body = match head.starts_with("POST /connect/token") {
                    true => {
                        let mut form = vec![0; length.unwrap_or(0)];
                        let _ = reader.read_exact(&mut form).await;
                        r#"{"token_type":"Bearer","expires_in":3600,"access_token":"wire-token","refresh_token":null}"#
                    }
                    false => {
                        let (chunks, terminated) =
                            match lower.contains("transfer-encoding: chunked") {
                                true => read_chunks(&mut reader).await,
                                false => (Vec::new(), false),
                            };
                        let _ = captured.send(Captured {
                            head: head.clone(),
                            chunks,
                            terminated,
                        });
                        ""
                    }
                };
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                if reader
                    .get_mut()
                    .write_all(response.as_bytes())
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
    }
}

#[tokio::test]
async fn each_send_is_one_chunk_and_finish_sends_the_zero_chunk() {
    within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (sender, mut captured) = mpsc::unbounded_channel();
        let server = tokio::spawn(serve(listener, sender));
        let client = Client::builder(format!("http://{address}"))
            .credentials("800", Secret::new("secret"))
            .build()
            .unwrap();
        let mut out = client
            .audio_to(&Dn::new("800"), ParticipantId(7))
            .await
            .unwrap();
        let sizes = [5usize, 333, 1, 4096, 2];
        for (index, size) in sizes.iter().enumerate() {
            out.send(Bytes::from(vec![index as u8 + 1; *size]))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        out.send(Bytes::new()).await.unwrap();
        out.finish().await.unwrap();

        let request = captured.recv().await.unwrap();
        let head = request.head.to_ascii_lowercase();
        assert!(
            head.starts_with("post /callcontrol/800/participants/7/stream http/1.1"),
            "{head}"
        );
        assert!(head.contains("transfer-encoding: chunked"), "{head}");
        assert!(
            head.contains("content-type: application/octet-stream"),
            "{head}"
        );
        assert!(head.contains("authorization: bearer wire-token"), "{head}");
        assert!(!head.contains("content-length"), "{head}");
        let got: Vec<usize> = request.chunks.iter().map(Vec::len).collect();
        assert_eq!(got, sizes, "one chunk per send, empty sends skipped");
        for (index, chunk) in request.chunks.iter().enumerate() {
            assert!(chunk.iter().all(|byte| *byte == index as u8 + 1));
        }
        assert!(
            request.terminated,
            "finish ends the body with 0\\r\\n\\r\\n"
        );
        server.abort();
    })
    .await;
}

#[tokio::test]
async fn dropping_the_upload_sends_no_zero_chunk() {
    within(10, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (sender, mut captured) = mpsc::unbounded_channel();
        let server = tokio::spawn(serve(listener, sender));
        let client = Client::builder(format!("http://{address}"))
            .credentials("800", Secret::new("secret"))
            .build()
            .unwrap();
        let mut out = client
            .audio_to(&Dn::new("800"), ParticipantId(7))
            .await
            .unwrap();
        out.send(Bytes::from_static(b"abcd")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(out);
        let request = captured.recv().await.unwrap();
        assert_eq!(request.chunks, vec![b"abcd".to_vec()]);
        assert!(!request.terminated);
        server.abort();
    })
    .await;
}
