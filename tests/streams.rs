//! Audio streams that heal: the caller's audio (GET) and the audio to the caller
//! (POST) cut, stalled or refused by the PBX mid-call. Every claim is measured in the
//! simulator's media time or in samples, never in wall time.

use std::sync::Arc;
use std::time::Duration;

use voicebot_bot::{PlayOutcome, Prompt, RecordEnd, Recording, bot_fn};
use voicebot_sim::{JournalKind, SimConfig, StreamDirection};

use crate::support::{Harness, find, report, sawtooth, timeout, voiced};

fn read_wav(path: &std::path::Path) -> Vec<i16> {
    let mut reader = hound::WavReader::open(path).expect("the recording is a valid WAV file");
    reader.samples::<i16>().map(Result::unwrap).collect()
}

/// A second recognisable signal: negative, so it never matches the sawtooth.
fn descending(frames: usize) -> Vec<i16> {
    (0..frames * 160)
        .map(|n| -1000 - ((n * 13) % 6000) as i16)
        .collect()
}

/// A 4 s prompt whose every sample is different, so a position in it is never
/// ambiguous (a replay would show as a jump back).
fn ramp() -> Prompt {
    Prompt::from_samples(
        (0..32_000i32)
            .map(|n| (n - 16_000) as i16)
            .collect::<Vec<_>>(),
    )
    .expect("not empty")
}

fn samples(duration: Duration) -> usize {
    (duration.as_micros() / 125) as usize
}

fn duration(samples: usize) -> Duration {
    Duration::from_micros(samples as u64 * 125)
}

/// How many audio streams of `direction` the simulator opened.
fn opened(harness: &Harness, direction: StreamDirection) -> usize {
    harness
        .sim
        .journal()
        .iter()
        .filter(|entry| {
            matches!(&entry.kind, JournalKind::StreamOpened { direction: d, .. } if *d == direction)
        })
        .count()
}

/// Waits until the recording has begun: its beep was heard and played out.
async fn wait_recording(caller: &voicebot_sim::Caller) {
    caller.wait_heard(Duration::from_millis(250)).await.unwrap();
    caller
        .wait_silence(Duration::from_millis(300))
        .await
        .unwrap();
}

/// A bot that records (after a beep) until the caller hangs up and reports the
/// recording.
fn voicemail(
    silence: Option<Duration>,
) -> (
    Arc<dyn voicebot_bot::Bot>,
    tokio::sync::mpsc::UnboundedReceiver<Recording>,
) {
    let (results, result) = report();
    let bot = bot_fn(move |call| {
        let results = results.clone();
        async move {
            let record = call
                .record()
                .finish_on("")
                .max_length(Duration::from_secs(15));
            let record = match silence {
                Some(silence) => record.silence_timeout(silence),
                None => record.no_silence_timeout(),
            };
            let recording = record.await?;
            let _ = results.send(recording);
            Ok(())
        }
    });
    (Arc::new(bot), result)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_survives_a_cut_of_the_callers_stream_with_the_gap_listed() {
    timeout(async {
        let (bot, mut result) = voicemail(None);
        let harness = Harness::start_with(SimConfig::default(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550301").await.unwrap();
        wait_recording(&caller).await;
        let first = sawtooth(50);
        caller.send_pcm(first.samples()).await;
        caller.wait_sent().await;
        // Three seconds of silence, then a second part: the cut falls into the silence.
        let quiet = Duration::from_secs(3);
        let second = descending(50);
        caller.send_silence(quiet).await;
        caller.send_pcm(&second).await;
        harness.sim.faults().cut_audio_streams();
        caller.wait_sent().await;
        caller.hang_up().await.unwrap();
        let recording = result.recv().await.expect("the bot reports its recording");

        // The recording went on to the hang-up: it was not ended by the cut.
        assert_eq!(recording.ended_by, RecordEnd::Hangup);
        let audio = read_wav(&recording.path);
        let a = find(&audio, first.samples()).expect("the first part, sample for sample");
        let b = find(&audio, &second).expect("the second part, after the reopen");
        // Wall-clock continuity: the second part sits where the caller said it, give
        // or take what the gap's length could be measured to (within 0.5 s).
        let expected = first.samples().len() + samples(quiet);
        let error = duration((b - a).abs_diff(expected));
        assert!(error <= Duration::from_millis(500), "off by {error:?}");
        // The gap is listed, between the two parts.
        assert!(!recording.gaps.is_empty(), "{recording:?}");
        for gap in &recording.gaps {
            assert!(gap.at >= duration(a + first.samples().len()), "{gap:?}");
            assert!(gap.at + gap.len <= duration(b), "{gap:?}");
        }
        // The file ends with the hang-up, right after the second part.
        let end = b + second.len();
        assert!(audio.len() >= end && audio.len() <= end + samples(Duration::from_millis(500)));
        assert_eq!(recording.duration, duration(audio.len()));
        assert!(
            opened(&harness, StreamDirection::FromCall) >= 2,
            "the GET was reopened"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_callers_stream_is_a_gap_not_silence() {
    timeout(async {
        // A one-second silence timeout: a two-second stall taken for silence would end
        // the recording.
        let (bot, mut result) = voicemail(Some(Duration::from_secs(1)));
        let harness = Harness::start_with(SimConfig::default(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550302").await.unwrap();
        wait_recording(&caller).await;
        let speech = voiced(250);
        caller.send_pcm(speech.samples()).await;
        // Stall for two seconds of the call's media time, a second into the speech.
        let stall_from = caller.media_time() + Duration::from_secs(1);
        while caller.media_time() < stall_from {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        harness.sim.faults().stall_audio_streams(true);
        let stalled_at = caller.media_time();
        let stall_until = stalled_at + Duration::from_secs(2);
        while caller.media_time() < stall_until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let resumed_at = caller.media_time();
        harness.sim.faults().stall_audio_streams(false);
        let stall = resumed_at - stalled_at;
        caller.wait_sent().await;
        caller.hang_up().await.unwrap();
        let recording = result.recv().await.expect("the bot reports its recording");
        assert_eq!(
            recording.ended_by,
            RecordEnd::Hangup,
            "the stall was not taken for the caller's silence: {recording:?}"
        );
        let gap: Duration = recording.gaps.iter().map(|gap| gap.len).sum();
        assert!(
            gap.abs_diff(stall) <= Duration::from_millis(500),
            "the {stall:?} stall is listed as a gap: {:?}",
            recording.gaps
        );
        // The speech before and after the stall is in the file, sample for sample.
        let audio = read_wav(&recording.path);
        let said = speech.samples();
        assert!(find(&audio, &said[..samples(Duration::from_millis(800))]).is_some());
        assert!(
            find(
                &audio,
                &said[said.len() - samples(Duration::from_millis(800))..]
            )
            .is_some()
        );
        assert!(
            opened(&harness, StreamDirection::FromCall) >= 2,
            "the GET was reopened"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_goes_on_after_the_stream_to_the_caller_is_cut() {
    timeout(async {
        let (results, mut result) = report();
        let bot = bot_fn(move |call| {
            let results = results.clone();
            async move {
                let played = call.play(ramp()).await?;
                let _ = results.send(played);
                Ok(())
            }
        });
        let harness = Harness::start_with(SimConfig::default(), |b| b, Arc::new(bot)).await;
        let caller = harness.sim.call_in("+15550303").await.unwrap();
        caller.wait_heard(Duration::from_secs(1)).await.unwrap();
        harness.sim.faults().cut_audio_streams();
        let played = result.recv().await.expect("the play ends");
        assert_eq!(
            played,
            PlayOutcome::Finished,
            "no verb fails because of a reopen"
        );
        assert_eq!(caller.wait_ended().await, voicebot_sim::CallEnd::Dropped);
        assert!(
            opened(&harness, StreamDirection::IntoCall) >= 2,
            "the POST was reopened"
        );
        // The caller heard the prompt go on after the reopen, and heard it in order with
        // nothing twice: every frame heard is the prompt's next frame or a later one
        // (the frames due while the stream was down are lost, never replayed).
        let heard = caller.heard();
        assert!(
            heard.audio_duration() > Duration::from_millis(1500),
            "{:?}",
            heard.segments
        );
        let prompt = ramp();
        let (audio, prompt) = (heard.audio(), prompt.samples());
        let (mut at, mut position) = (0, 0);
        while at < audio.len() {
            if position < prompt.len() && audio[at] == prompt[position] {
                at += 1;
                position += 1;
                continue;
            }
            // Only forward jumps: what fell due while the stream was down is lost.
            let probe = &audio[at..(at + 8).min(audio.len())];
            let skip = prompt[position..]
                .windows(probe.len())
                .position(|window| window == probe)
                .unwrap_or_else(|| panic!("heard sample {at} is not later in the prompt"));
            position += skip;
        }
        let stats = harness.engine.stats();
        assert_eq!((stats.bot_errors, stats.bot_panics), (0, 0), "{stats:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_open_of_the_stream_to_the_caller_is_retried() {
    timeout(async {
        let (results, mut result) = report();
        let bot = bot_fn(move |call| {
            let results = results.clone();
            async move {
                let played = call.play(sawtooth(100)).await?;
                let _ = results.send(played);
                Ok(())
            }
        });
        let harness = Harness::start_with(SimConfig::default(), |b| b, Arc::new(bot)).await;
        let stream = format!(
            "POST /callcontrol/{}/participants",
            harness.sim.route_point()
        );
        harness.sim.faults().fail_next(stream.as_str(), 503, 2);
        let caller = harness.sim.call_in("+15550304").await.unwrap();
        let played = result.recv().await.expect("the play ends");
        assert_eq!(played, PlayOutcome::Finished);
        assert_eq!(caller.wait_ended().await, voicebot_sim::CallEnd::Dropped);
        // The caller heard the prompt once the stream opened, in one piece.
        let heard = caller.heard();
        assert!(
            heard.audio_duration() >= Duration::from_millis(500),
            "{:?}",
            heard.segments
        );
        let stats = harness.engine.stats();
        assert_eq!((stats.bot_errors, stats.bot_panics), (0, 0), "{stats:?}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gather_timeout_does_not_count_the_time_the_caller_could_not_be_heard() {
    timeout(async {
        let (started, mut gather_started) = report();
        let (results, mut result) = report();
        let bot = bot_fn(move |call| {
            let (started, results) = (started.clone(), results.clone());
            async move {
                let _ = started.send(());
                let digits = call
                    .gather()
                    .max_digits(1)
                    .timeout(Duration::from_secs(2))
                    .tries(1)
                    .await?;
                let _ = results.send(digits);
                Ok(())
            }
        });
        let harness = Harness::start_with(SimConfig::default(), |b| b, Arc::new(bot)).await;
        let caller = harness.sim.call_in("+15550305").await.unwrap();
        gather_started.recv().await.expect("the gather starts");
        // The caller's audio stalls for 3 s of the gather's 2 s timeout, then the
        // caller presses a key: 1 s of hearing time into the gather.
        harness.sim.faults().stall_audio_streams(true);
        let until = caller.media_time() + Duration::from_secs(3);
        while caller.media_time() < until {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        harness.sim.faults().stall_audio_streams(false);
        caller.press("5").await.unwrap();
        let digits = result.recv().await.expect("the gather ends");
        assert_eq!(digits.as_str(), "5", "{:?}", digits.ended_by());
    })
    .await;
}
