//! Recordings: lossless, sample-exact, and complete after a hang-up.

use std::time::Duration;

use voicebot_bot::{Channels, Prompt, RecordEnd, bot_fn};

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

/// A stereo recording holds the caller on the left and what the bot played on the
/// right, sample for sample (the engine hands the frames it sends only to recordings
/// that hear the bot).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stereo_recording_holds_the_caller_left_and_the_bot_right() {
    timeout(async {
        const BOT: i16 = 4321;
        let (results, mut result) = report();
        let harness = Harness::start(bot_fn(move |call| {
            let results = results.clone();
            async move {
                let record = call
                    .record()
                    .beep(false)
                    .no_silence_timeout()
                    .finish_on("")
                    .max_length(Duration::from_millis(1500))
                    .channels(Channels::Stereo)
                    .path_template("{callid}.wav");
                // Half a second of the bot, while the recording runs.
                let prompt = Prompt::from_samples(vec![BOT; 4000]).expect("a prompt");
                let (recording, played) = tokio::join!(async { record.await }, async {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    call.play(prompt).await
                });
                played?;
                let _ = results.send(recording?);
                Ok(())
            }
        }))
        .await;
        let caller = harness.sim.call_in("+15550204").await.unwrap();
        caller.wait_connected().await.unwrap();
        let said = sawtooth(2000);
        caller.send_pcm(said.samples()).await;
        let recording = result.recv().await.unwrap();
        assert_eq!(recording.ended_by, RecordEnd::MaxLength);
        let mut reader = hound::WavReader::open(&recording.path).expect("a valid WAV file");
        assert_eq!(reader.spec().channels, 2);
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
        let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
        assert_eq!(left.len(), 12_000, "1.5 s a channel");
        assert_eq!(
            right.iter().filter(|&&sample| sample == BOT).count(),
            4000,
            "the whole prompt on the right"
        );
        assert!(
            find(&right, &[BOT; 4000]).is_some(),
            "the prompt on the right in one piece"
        );
        // The caller on the left: a stretch of what they said, and none of the bot.
        let middle = &said.samples()[4000..6400];
        assert!(find(&left, middle).is_some(), "the caller on the left");
        assert!(find(&left, &[BOT; 160]).is_none(), "no bot on the left");
    })
    .await;
}
