//! The optional idle timeout of `AudioIn`: a stream the PBX keeps open but that
//! delivers nothing ends with a `Timeout` error.

use std::time::Duration;

use futures::StreamExt;
use voicebot_callcontrol::CallControlError;
use voicebot_sim::Sim;

use crate::support::{builder, within};

#[tokio::test]
async fn a_stalled_audio_stream_ends_with_a_timeout() {
    within(15, async {
        let sim = Sim::start().await.unwrap();
        let client = builder(&sim)
            .audio_idle_timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let caller = sim.call_in("+15550001").await.unwrap();
        let mut audio = client
            .audio_from(sim.route_point(), caller.participant_id())
            .await
            .unwrap();
        // A live stream (silence every 20 ms) never trips the timeout. (A second, not
        // less: the simulator shares this thread, and a busy machine may hold the
        // thread up for a few hundred milliseconds.)
        let live_until = tokio::time::Instant::now() + Duration::from_millis(1500);
        while tokio::time::Instant::now() < live_until {
            assert!(audio.next().await.unwrap().is_ok());
        }
        sim.faults().stall_audio_streams(true);
        let stalled_at = tokio::time::Instant::now();
        let error = loop {
            match audio.next().await {
                Some(Ok(_)) => continue,
                Some(Err(error)) => break error,
                None => panic!("the stream ended without an error"),
            }
        };
        assert!(
            matches!(error, CallControlError::Timeout { .. }),
            "{error:?}"
        );
        assert!(stalled_at.elapsed() >= Duration::from_millis(950));
        assert!(
            audio.next().await.is_none(),
            "the stream ends after the error"
        );
        // The call itself goes on: the PBX only stopped sending.
        assert_eq!(caller.state(), voicebot_sim::CallerState::Connected);
    })
    .await;
}

#[tokio::test]
async fn without_the_setting_a_stalled_stream_just_waits() {
    within(15, async {
        let sim = Sim::start().await.unwrap();
        let client = builder(&sim).build().unwrap();
        let caller = sim.call_in("+15550002").await.unwrap();
        let mut audio = client
            .audio_from(sim.route_point(), caller.participant_id())
            .await
            .unwrap();
        assert!(audio.next().await.unwrap().is_ok());
        sim.faults().stall_audio_streams(true);
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Drain what was sent before the stall, then nothing comes.
        while tokio::time::timeout(Duration::from_millis(50), audio.next())
            .await
            .is_ok()
        {}
        let waited = tokio::time::timeout(Duration::from_millis(700), audio.next()).await;
        assert!(waited.is_err(), "no error and no end without the setting");
        sim.faults().stall_audio_streams(false);
        assert!(audio.next().await.unwrap().is_ok(), "audio resumes");
    })
    .await;
}
