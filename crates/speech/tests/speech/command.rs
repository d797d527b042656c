//! `CommandRecognizer` against the test recogniser program (`tests/support/energy_recognizer.rs`).

use std::time::Duration;

use voicebot_speech::{
    AudioRate, CommandRecognizer, Grammar, Recognizer, RestartPolicy, SessionOptions, SpeechError,
};

use super::support::{Part, call, energy_recognizer, feed_all, feed_paced, limited, near};

fn quick_restarts() -> RestartPolicy {
    RestartPolicy {
        min_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        stall_timeout: Duration::from_millis(300),
    }
}

#[tokio::test]
async fn results_carry_call_times_partials_and_the_grammar() {
    limited(async {
        let recognizer = CommandRecognizer::builder(energy_recognizer())
            .build()
            .unwrap();
        let (frames, spans) = call(&[
            Part::Silence(500),
            Part::Speech("sales"),
            Part::Silence(1_000),
            Part::Speech("digits_1234"),
            Part::Silence(500),
        ]);
        let offset = Duration::from_secs(10);
        let options = SessionOptions::new()
            .grammar(Grammar::choices(["sales", "support"]).unwrap())
            .call_offset(offset)
            .queue_frames(10_000);
        let mut session = recognizer.start(options).await.unwrap();
        feed_all(session.as_mut(), &frames);
        let (mut partials, mut finals) = (0, Vec::new());
        while finals.len() < 2 {
            let result = session.results().recv().await.expect("two finals");
            match result.is_final {
                true => finals.push(result),
                false => partials += 1,
            }
        }
        assert!(partials > 0, "partials while speaking");
        let slack = Duration::from_millis(60);
        for (result, (start, end)) in finals.iter().zip(&spans) {
            // The program names the first phrase of the grammar it was given.
            assert_eq!(result.text, "sales");
            assert_eq!(result.confidence, Some(0.9));
            assert!(
                near(result.start, offset + *start, slack),
                "{result:?} vs {start:?}"
            );
            assert!(
                near(result.end, offset + *end, slack),
                "{result:?} vs {end:?}"
            );
        }
        let stats = session.stats();
        assert_eq!(stats.frames_fed, frames.len() as u64);
        assert_eq!((stats.frames_dropped, stats.restarts), (0, 0));
        assert!(session.finish().await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn vosk_style_lines_and_wideband_audio() {
    limited(async {
        let recognizer = CommandRecognizer::builder(energy_recognizer())
            .arg("--vosk")
            .audio_rate(AudioRate::Hz16000)
            .build()
            .unwrap();
        let (frames, spans) = call(&[
            Part::Silence(300),
            Part::Speech("support"),
            Part::Silence(200),
        ]);
        let mut session = recognizer
            .start(SessionOptions::new().queue_frames(10_000))
            .await
            .unwrap();
        feed_all(session.as_mut(), &frames);
        // The utterance is still open at the end: `finish` must flush it.
        let finals = session.finish().await.unwrap();
        assert_eq!(finals.len(), 1, "{finals:?}");
        assert_eq!(finals[0].text, "speech");
        assert_eq!(finals[0].words.len(), 1);
        assert!(near(finals[0].start, spans[0].0, Duration::from_millis(60)));
    })
    .await;
}

#[tokio::test]
async fn a_crashing_recogniser_is_restarted_and_the_call_goes_on() {
    limited(async {
        let marker = tempfile::tempdir().unwrap();
        let recognizer = CommandRecognizer::builder(energy_recognizer())
            .args(["--crash-after-ms", "2000", "--once"])
            .arg(marker.path().join("crashed"))
            .restart_policy(quick_restarts())
            .build()
            .unwrap();
        let (frames, spans) = call(&[
            Part::Silence(500),
            Part::Speech("sales"),
            Part::Silence(3_000),
            Part::Speech("support"),
            Part::Silence(500),
        ]);
        let mut session = recognizer.start(SessionOptions::new()).await.unwrap();
        // 5x real time, so the restart happens while audio is still arriving.
        feed_paced(session.as_mut(), &frames, Duration::from_millis(4)).await;
        let stats = session.stats();
        let finals = session.finish().await.unwrap();
        assert_eq!(stats.restarts, 1, "{stats:?}");
        assert_eq!(finals.len(), 2, "{finals:?}");
        // After the restart the times are still call times.
        let slack = Duration::from_millis(60);
        assert!(
            near(finals[1].start, spans[1].0, slack),
            "{:?} vs {:?}",
            finals[1],
            spans[1]
        );
    })
    .await;
}

#[tokio::test]
async fn a_stalled_recogniser_does_not_stall_the_call() {
    limited(async {
        let marker = tempfile::tempdir().unwrap();
        let recognizer = CommandRecognizer::builder(energy_recognizer())
            .args(["--stall-after-ms", "1000", "--once"])
            .arg(marker.path().join("stalled"))
            .restart_policy(quick_restarts())
            .build()
            .unwrap();
        // The stalled program stops reading; the pipe takes ~4 s of audio before writes block.
        let (frames, spans) = call(&[
            Part::Silence(12_000),
            Part::Speech("support"),
            Part::Silence(500),
        ]);
        let options = SessionOptions::new().queue_frames(50);
        let mut session = recognizer.start(options).await.unwrap();
        feed_paced(session.as_mut(), &frames, Duration::from_millis(1)).await;
        let stats = session.stats();
        let finals = session.finish().await.unwrap();
        assert_eq!(stats.restarts, 1, "{stats:?}");
        assert!(stats.frames_dropped + stats.frames_lost > 0, "{stats:?}");
        assert_eq!(finals.len(), 1, "{finals:?}");
        assert!(near(finals[0].start, spans[0].0, Duration::from_millis(60)));
    })
    .await;
}

#[tokio::test]
async fn finish_gives_up_on_a_program_that_never_exits() {
    limited(async {
        let recognizer = CommandRecognizer::builder(energy_recognizer())
            .args(["--stall-after-ms", "0"])
            .build()
            .unwrap();
        let options = SessionOptions::new().finish_timeout(Duration::from_millis(300));
        let mut session = recognizer.start(options).await.unwrap();
        let (frames, _) = call(&[Part::Silence(200)]);
        feed_all(session.as_mut(), &frames);
        // The program neither reads nor exits: `finish` stops waiting after its timeout
        // and says so (`limited` fails the test if it waited on).
        let outcome = session.finish().await;
        assert!(
            matches!(outcome, Err(SpeechError::Stalled { .. })),
            "{outcome:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_missing_program_fails_start() {
    limited(async {
        let recognizer = CommandRecognizer::builder("/nonexistent/recogniser")
            .build()
            .unwrap();
        let error = recognizer
            .start(SessionOptions::new())
            .await
            .err()
            .expect("start fails");
        assert!(matches!(error, SpeechError::Io(_)), "{error:?}");
        assert!(CommandRecognizer::builder("").build().is_err());
    })
    .await;
}
