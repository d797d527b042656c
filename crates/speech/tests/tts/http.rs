//! The HTTP engine against the local espeak-ng speech server.

use std::time::Duration;

use voicebot_speech::TtsError;
use voicebot_speech::tts::{HttpSynthesizer, ResponseFormat, Speaker};

use super::server::{API_KEY, PCM_RATE, SpeechServer};

fn loud_samples(samples: &[i16]) -> usize {
    samples.iter().filter(|sample| sample.abs() > 1_000).count()
}

#[tokio::test]
async fn wav_answers_become_8_khz_speech_and_the_request_carries_the_settings() {
    let server = SpeechServer::start().await;
    let engine = HttpSynthesizer::builder(server.url(), "kokoro")
        .voice("en-gb")
        .speed(1.25)
        .api_key(API_KEY)
        .build()
        .unwrap();
    let speaker = Speaker::new(engine);
    let prompt = speaker
        .synthesize("Thank you for calling. Press one for sales.", None)
        .await
        .unwrap();
    let seconds = prompt.duration().as_secs_f64();
    assert!((1.0..6.0).contains(&seconds), "{seconds} s of speech");
    assert!(loud_samples(prompt.samples()) > 4_000, "not silence");
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one request per sentence");
    assert_eq!(requests[0].input, "Thank you for calling.");
    assert_eq!(requests[1].input, "Press one for sales.");
    assert_eq!(requests[0].model, "kokoro");
    assert_eq!(requests[0].voice.as_deref(), Some("en-gb"));
    assert_eq!(requests[0].speed, Some(1.25));
    assert_eq!(requests[0].response_format.as_deref(), Some("wav"));
}

#[tokio::test]
async fn pcm_answers_are_resampled_from_the_configured_rate() {
    let server = SpeechServer::start().await;
    let build = |format| {
        Speaker::new(
            HttpSynthesizer::builder(server.url(), "m")
                .api_key(API_KEY)
                .format(format)
                .build()
                .unwrap(),
        )
    };
    let text = "Your call is important to us.";
    let wav = build(ResponseFormat::Wav)
        .synthesize(text, None)
        .await
        .unwrap();
    let pcm = build(ResponseFormat::Pcm { rate: PCM_RATE })
        .synthesize(text, None)
        .await
        .unwrap();
    assert_eq!(server.requests()[1].response_format.as_deref(), Some("pcm"));
    // The same speech either way: the same length within a frame, both loud.
    let difference = wav.len_samples().abs_diff(pcm.len_samples());
    assert!(
        difference <= 160,
        "wav {} vs pcm {}",
        wav.len_samples(),
        pcm.len_samples()
    );
    assert!(loud_samples(pcm.samples()) > 2_000);
}

#[tokio::test]
async fn a_refused_key_is_a_status_error_with_a_capped_body() {
    let server = SpeechServer::start().await;
    let speaker = Speaker::new(
        HttpSynthesizer::builder(server.url(), "m")
            .api_key("sk-wrong")
            .build()
            .unwrap(),
    );
    let error = speaker.synthesize("Hello.", None).await.unwrap_err();
    let TtsError::Status { status, body } = &error else {
        panic!("expected a status error, got {error}")
    };
    assert_eq!(*status, 401);
    assert!(body.starts_with("{\"error\": \"invalid api key\""));
    assert!(body.len() <= 512 + '…'.len_utf8(), "{} bytes", body.len());
    assert!(!error.to_string().contains("sk-wrong"));
}

#[tokio::test]
async fn the_servers_complaint_about_a_voice_reaches_the_error() {
    let server = SpeechServer::start().await;
    let speaker = Speaker::new(
        HttpSynthesizer::builder(server.url(), "m")
            .api_key(API_KEY)
            .build()
            .unwrap(),
    );
    let error = speaker
        .synthesize("Hello.", Some("xx-nowhere"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, TtsError::Status { status: 400, body } if body.contains("voice")),
        "{error}"
    );
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = SpeechServer::start().await;
    let speaker = Speaker::new(
        HttpSynthesizer::builder(format!("{}/moved", server.url()), "m")
            .api_key(API_KEY)
            .build()
            .unwrap(),
    );
    let error = speaker.synthesize("Hello.", None).await.unwrap_err();
    assert!(
        matches!(error, TtsError::Status { status: 307, .. }),
        "{error}"
    );
    assert!(
        server.requests().is_empty(),
        "the key never went to the redirect target"
    );
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_answers_times_out() {
    let server = SpeechServer::start().await;
    let speaker = Speaker::new(
        HttpSynthesizer::builder(format!("{}/slow", server.url()), "m")
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
    );
    let error = speaker.synthesize("Hello.", None).await.unwrap_err();
    assert!(
        matches!(&error, TtsError::Connection { reason } if reason.contains("timed out")),
        "{error}"
    );
}

#[tokio::test]
async fn nothing_listening_is_a_connection_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let speaker = Speaker::new(
        HttpSynthesizer::builder(format!("http://{addr}"), "m")
            .build()
            .unwrap(),
    );
    let error = speaker.synthesize("Hello.", None).await.unwrap_err();
    assert!(matches!(error, TtsError::Connection { .. }), "{error}");
}
