//! Recordings: lossless, sample-exact, and complete after a hang-up.

use std::time::Duration;

use voicebot_bot::{RecordEnd, bot_fn};

use crate::support::{Harness, find, report, sawtooth, timeout};

fn read_wav(path: &std::path::Path) -> Vec<i16> {
    let mut reader = hound::WavReader::open(path).expect("the recording is a valid WAV file");
    assert_eq!(reader.spec().sample_rate, 8000);
    reader
        .samples::<i16>()
        .map(|sample| sample.unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_is_what_the_caller_said_and_survives_a_hangup() {
    timeout(async {
        let (results, mut result) = report();
        let harness = Harness::start(bot_fn(move |call| {
            let results = results.clone();
            async move {
                let recording = call
                    .record()
                    .beep(false)
                    .no_silence_timeout()
                    .finish_on("")
                    .max_length(Duration::from_secs(10))
                    .path_template("{callid}.wav")
                    .await?;
                let _ = results.send(recording);
                Ok(())
            }
        }))
        .await;
        let caller = harness.sim.call_in("+15550201").await.unwrap();
        caller.wait_connected().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let said = sawtooth(60);
        caller.send_pcm(said.samples()).await;
        caller.wait_sent().await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        caller.hang_up().await.unwrap();
        let recording = result.recv().await.unwrap();
        assert_eq!(recording.ended_by, RecordEnd::Hangup);
        assert!(recording.path.starts_with(harness.dir()));
        let samples = read_wav(&recording.path);
        assert!(
            find(&samples, said.samples()).is_some(),
            "the recording holds what was said, sample for sample"
        );
        assert_eq!(recording.duration.as_micros() as usize, samples.len() * 125);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_stops_at_its_maximum_length_exactly() {
    timeout(async {
        let (results, mut result) = report();
        let harness = Harness::start(bot_fn(move |call| {
            let results = results.clone();
            async move {
                let recording = call
                    .record()
                    .no_silence_timeout()
                    .max_length(Duration::from_millis(500))
                    .await?;
                let _ = results.send(recording);
                Ok(())
            }
        }))
        .await;
        let caller = harness.sim.call_in("+15550202").await.unwrap();
        caller.wait_connected().await.unwrap();
        caller.send_pcm(sawtooth(100).samples()).await;
        let recording = result.recv().await.unwrap();
        assert_eq!(recording.ended_by, RecordEnd::MaxLength);
        assert_eq!(read_wav(&recording.path).len(), 4000);
        // The beep came first, then the engine hung up once the bot returned.
        assert_eq!(caller.wait_ended().await, voicebot_sim::CallEnd::Dropped);
        assert!(caller.heard().audio_duration() >= Duration::from_millis(240));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trim_silence_cuts_the_quiet_around_what_was_said() {
    timeout(async {
        let (results, mut result) = report();
        let harness = Harness::start(bot_fn(move |call| {
            let results = results.clone();
            async move {
                let recording = call
                    .record()
                    .beep(false)
                    .no_silence_timeout()
                    .trim_silence(true)
                    .max_length(Duration::from_secs(10))
                    .await?;
                let _ = results.send(recording);
                Ok(())
            }
        }))
        .await;
        let caller = harness.sim.call_in("+15550203").await.unwrap();
        caller.wait_connected().await.unwrap();
        caller.send_silence(Duration::from_millis(1000)).await;
        let said = sawtooth(40);
        caller.send_pcm(said.samples()).await;
        caller.send_silence(Duration::from_millis(1000)).await;
        caller.wait_sent().await;
        caller.press("#").await.unwrap();
        let recording = result.recv().await.unwrap();
        let samples = read_wav(&recording.path);
        let start = find(&samples, said.samples()).expect("the audio is kept, sample for sample");
        let after = samples.len() - start - said.samples().len();
        // 100 ms of padding each side, plus up to one 20 ms frame of alignment; well
        // under the ~1 s of silence the caller sent on either side.
        for kept in [start, after] {
            assert!(
                (800..=1000).contains(&kept),
                "{kept} samples of silence kept"
            );
        }
        assert_eq!(recording.duration.as_micros() as usize, samples.len() * 125);
    })
    .await;
}
