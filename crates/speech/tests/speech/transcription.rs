//! `HttpTranscriber` against a local server of the transcription API over PocketSphinx
//! (`transcription_server.rs`), and `transcribe_recording` on stereo recordings, with the
//! server failing first (5xx) and redirecting.

use std::{path::Path, sync::atomic::Ordering, time::Duration};

use voicebot_speech::{
    Grammar, HttpTranscriber, RetryPolicy, SpeechError, Transcriber, transcribe_recording,
};

use super::{
    support::{fixture, limited},
    transcription_server,
};

fn grammar() -> Grammar {
    Grammar::choices(["sales", "support", "billing", "operator"]).unwrap()
}

/// Writes a stereo 8 kHz recording: `left` on channel 0 after 0.5 s, `right` on channel 1
/// after 2 s.
fn stereo_recording(path: &Path, left: &str, right: &str) {
    let (left, right) = (fixture(left), fixture(right));
    let length: usize = 8_000 * 4;
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..length {
        let at = |samples: &[i16], start: usize| {
            i.checked_sub(start)
                .and_then(|j| samples.get(j))
                .copied()
                .unwrap_or(0)
        };
        writer.write_sample(at(&left, 4_000)).unwrap();
        writer.write_sample(at(&right, 16_000)).unwrap();
    }
    writer.finalize().unwrap();
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        tries: 4,
        first_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    }
}

#[tokio::test]
async fn each_channel_is_transcribed_with_times_after_the_server_fails_twice() {
    limited(async {
        let (addr, server) = transcription_server::start(grammar(), 2).await;
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("call.wav");
        stereo_recording(&wav, "support", "billing");
        let transcriber = HttpTranscriber::builder(format!("http://{addr}"))
            .model("menu")
            .language("en")
            .build()
            .unwrap();
        let transcripts = transcribe_recording(&transcriber, &wav, &quick())
            .await
            .unwrap();
        // Two 503s, then one request per channel.
        assert_eq!(server.requests.load(Ordering::SeqCst), 4);
        assert_eq!(transcripts.len(), 2);
        let caller = &transcripts[0].results;
        assert_eq!(caller.len(), 1, "{caller:?}");
        assert_eq!(caller[0].text, "support");
        // Spoken from 0.5 s: the segment and its word start near there.
        let near = |at: Duration, secs: f64| (at.as_secs_f64() - secs).abs() < 0.4;
        assert!(near(caller[0].start, 0.5), "{caller:?}");
        assert_eq!(caller[0].words.len(), 1);
        assert!(near(caller[0].words[0].start, 0.5), "{caller:?}");
        let bot = &transcripts[1].results;
        assert_eq!(bot[0].text, "billing");
        assert!(near(bot[0].start, 2.0), "{bot:?}");
        // What the server was sent: the API's fields, one mono file per request.
        let seen = server.seen.lock().unwrap().clone();
        let fields = &seen.last().unwrap().fields;
        for (name, value) in [
            ("model", "menu"),
            ("response_format", "verbose_json"),
            ("timestamp_granularities[]", "segment"),
            ("timestamp_granularities[]", "word"),
            ("language", "en"),
        ] {
            assert!(
                fields.iter().any(|(n, v)| n == name && v == value),
                "{name}={value} missing from {fields:?}"
            );
        }
        assert_eq!(seen.last().unwrap().authorization, None);
        assert!(wav.exists(), "the recording is kept");
    })
    .await;
}

#[tokio::test]
async fn errors_are_capped_redirects_are_not_followed_and_the_key_is_sent() {
    limited(async {
        let (addr, server) = transcription_server::start(grammar(), 1).await;
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("call.wav");
        stereo_recording(&wav, "sales", "operator");
        // PATH stands in for a key variable: it is set in every test environment.
        let transcriber = HttpTranscriber::builder(format!("http://{addr}"))
            .api_key_env("PATH")
            .build()
            .unwrap();
        let mono = dir.path().join("sales.wav");
        hound::WavWriter::create(
            &mono,
            hound::WavSpec {
                channels: 1,
                sample_rate: 8_000,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            },
        )
        .unwrap()
        .finalize()
        .unwrap();
        match transcriber.transcribe(&mono).await {
            Err(SpeechError::Rejected { status, body }) => {
                assert_eq!(status, 503);
                assert!(
                    body.len() <= 512 && body.starts_with("overloaded"),
                    "{body}"
                );
            }
            other => panic!("{other:?}"),
        }
        let seen = server.seen.lock().unwrap().clone();
        let key = std::env::var("PATH").unwrap();
        assert_eq!(seen[0].authorization, Some(format!("Bearer {key}")));
        // An endpoint that redirects: the answer is the redirect, not a second upload.
        let redirected = HttpTranscriber::builder(format!("http://{addr}/redirect"))
            .build()
            .unwrap();
        let before = server.requests.load(Ordering::SeqCst);
        assert!(matches!(
            redirected.transcribe(&mono).await,
            Err(SpeechError::Rejected { status: 307, .. })
        ));
        assert_eq!(server.requests.load(Ordering::SeqCst), before);
        // A server that is not there: unreachable, and retried until the tries run out.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed = listener.local_addr().unwrap();
        drop(listener);
        let nobody = HttpTranscriber::builder(format!("http://{closed}"))
            .build()
            .unwrap();
        assert!(matches!(
            transcribe_recording(&nobody, &wav, &quick()).await,
            Err(SpeechError::Unreachable { .. })
        ));
    })
    .await;
}
