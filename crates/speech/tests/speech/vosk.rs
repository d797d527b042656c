//! `VoskRecognizer` against the local Vosk-protocol server in `vosk_server.rs`.

use std::time::Duration;

use voicebot_media::Frame;
use voicebot_speech::{
    ConfigError, Grammar, Recognizer, RestartPolicy, SessionOptions, SpeechError, VoskRecognizer,
};

use super::{
    support::{Part, call, feed_all, feed_paced, limited, near},
    vosk_server::VoskServer,
};

#[tokio::test]
async fn streams_audio_and_reads_partials_and_finals() {
    limited(async {
        let server = VoskServer::start(None).await;
        let recognizer = VoskRecognizer::new(&server.url).unwrap();
        let (frames, spans) = call(&[
            Part::Silence(400),
            Part::Speech("support"),
            Part::Silence(800),
            Part::Speech("digits_987"),
            Part::Silence(100),
        ]);
        let grammar = Grammar::choices(["support", "sales"]).unwrap();
        let offset = Duration::from_secs(3);
        let options = SessionOptions::new()
            .grammar(grammar.clone())
            .call_offset(offset)
            .queue_frames(10_000);
        let mut session = recognizer.start(options).await.unwrap();
        feed_all(session.as_mut(), &frames);
        let first = session.results().next_final().await.expect("a final");
        // The second utterance is still open at the end: `eof` makes the server flush it.
        let rest = session.finish().await.unwrap();
        let finals: Vec<_> = std::iter::once(first).chain(rest).collect();
        assert_eq!(finals.len(), 2, "{finals:?}");
        for (result, (start, end)) in finals.iter().zip(&spans) {
            assert_eq!(grammar.choice(result).map(|c| c.index), Some(0), "{result:?}");
            assert_eq!(result.confidence, Some(0.8));
            assert!(near(result.start, offset + *start, Duration::from_millis(60)), "{result:?}");
            assert!(near(result.end, offset + *end, Duration::from_millis(60)), "{result:?}");
        }
        let journal = server.journal.lock().unwrap();
        assert_eq!(
            journal.configs[0]["config"],
            serde_json::json!({"sample_rate": 8000, "words": 1, "phrase_list": ["support", "sales"]})
        );
        assert_eq!(journal.audio_bytes[0], frames.len() * Frame::BYTES);
        assert_eq!(journal.eofs, [true]);
    })
    .await;
}

#[tokio::test]
async fn reconnects_when_the_server_drops_the_connection() {
    limited(async {
        // The first connection dies after 1 s of audio.
        let server = VoskServer::start(Some(16_000)).await;
        let policy = RestartPolicy {
            min_backoff: Duration::from_millis(20),
            ..RestartPolicy::default()
        };
        let recognizer = VoskRecognizer::with_policy(&server.url, policy).unwrap();
        let (frames, spans) = call(&[
            Part::Silence(2_000),
            Part::Speech("sales"),
            Part::Silence(500),
        ]);
        let mut session = recognizer.start(SessionOptions::new()).await.unwrap();
        feed_paced(session.as_mut(), &frames, Duration::from_millis(4)).await;
        let stats = session.stats();
        let finals = session.finish().await.unwrap();
        assert_eq!(stats.restarts, 1, "{stats:?}");
        assert_eq!(finals.len(), 1, "{finals:?}");
        assert_eq!(finals[0].text, "speech");
        assert!(
            near(finals[0].start, spans[0].0, Duration::from_millis(60)),
            "{finals:?}"
        );
        let journal = server.journal.lock().unwrap();
        assert_eq!(
            journal.configs.len(),
            2,
            "a second connection with its own config"
        );
        assert_eq!(journal.eofs, [false, true]);
    })
    .await;
}

#[tokio::test]
async fn bad_urls_and_unreachable_servers_fail_early() {
    limited(async {
        assert!(matches!(
            VoskRecognizer::new("http://localhost:2700"),
            Err(ConfigError::InvalidUrl { .. })
        ));
        assert!(VoskRecognizer::new("not a url").is_err());
        // Bind then drop a listener to get a port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let recognizer = VoskRecognizer::new(&format!("ws://127.0.0.1:{port}")).unwrap();
        let error = recognizer
            .start(SessionOptions::new())
            .await
            .err()
            .expect("no server");
        assert!(matches!(error, SpeechError::Connection(_)), "{error:?}");
    })
    .await;
}
