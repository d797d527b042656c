//! Digits: gather with type-ahead, timeouts, tries and invalid input; barge-in.

use std::time::Duration;

use voicebot_bot::{Digit, GatherEnd, Interruption, PlayOutcome, Prompt, RecordEnd, bot_fn};
use voicebot_media::DtmfGenerator;

use crate::support::{Harness, report, sawtooth, timeout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gather_takes_type_ahead_and_stops_the_prompt() {
    timeout(async {
        let (results, mut result) = report();
        let harness = Harness::start(bot_fn(move |call| {
            let results = results.clone();
            async move {
                // Keys typed during this prompt stop it and wait for the gather.
                let played = call.play(sawtooth(100)).await?;
                let digits = call.gather().prompt(sawtooth(100)).max_digits(3).await?;
                let _ = results.send((played, digits));
                Ok(())
            }
        }))
        .await;
        let caller = harness.sim.call_in("+15550101").await.unwrap();
        caller.wait_heard(Duration::from_millis(200)).await.unwrap();
        caller.press("12").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        caller.press("3").await.unwrap();
        let (played, digits) = result.recv().await.unwrap();
        assert!(matches!(
            played,
            PlayOutcome::Interrupted { by: Interruption::Digit(d), .. } if d == Digit::new('1').unwrap()
        ), "{played:?}");
        assert_eq!(digits.as_str(), "123");
        assert_eq!(digits.ended_by(), GatherEnd::MaxDigits);
        // Both 2 s prompts were cut short: in all, the caller heard less than one of them.
        assert!(caller.heard().audio_duration() < Duration::from_secs(2));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gather_retries_after_invalid_input_and_times_out_to_empty() {
    timeout(async {
        let (results, mut result) = report();
        let harness = Harness::start(bot_fn(move |call| {
            let results = results.clone();
            async move {
                let pin = call
                    .gather()
                    .prompt(sawtooth(10))
                    .invalid_prompt(sawtooth(5))
                    .digits(2)
                    // Far longer than the test's 400 ms pause between the two tries, so
                    // a busy machine cannot make the pause a timeout.
                    .timeout(Duration::from_secs(3))
                    .inter_digit_timeout(Duration::from_secs(2))
                    .tries(3)
                    .validate(|digits| digits == "42")
                    .await?;
                let _ = results.send(pin);
                let nothing = call
                    .gather()
                    .timeout(Duration::from_millis(300))
                    .tries(2)
                    .await?;
                let _ = results.send(nothing);
                Ok(())
            }
        }))
        .await;
        let caller = harness.sim.call_in("+15550102").await.unwrap();
        caller.wait_heard(Duration::from_millis(200)).await.unwrap();
        caller.press("99").await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        caller.press("42").await.unwrap();
        let pin = result.recv().await.unwrap();
        assert_eq!(pin.as_str(), "42");
        assert_eq!(pin.tries(), 2);
        let nothing = result.recv().await.unwrap();
        assert!(nothing.is_empty());
        assert_eq!(nothing.ended_by(), GatherEnd::NoInput);
        assert_eq!(nothing.tries(), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digit_stops_the_prompt_within_the_pacer_lead() {
    // Measured in media time only (what the PBX received and played), never in wall
    // time: a busy machine delays the digit's trip, not what these bounds compare.
    timeout(async {
        let lead = Duration::from_millis(100);
        // The second prompt is one constant value the sawtooth never takes, so the end
        // of the first prompt can be found in what the caller heard.
        const MARKER: i16 = -7000;
        let (results, mut result) = report();
        let bot = std::sync::Arc::new(bot_fn(move |call| {
            let results = results.clone();
            async move {
                let played = call.play(sawtooth(150)).await?;
                let _ = results.send(played);
                let marker = Prompt::from_samples(vec![MARKER; 800]).expect("not empty");
                call.play(marker).not_interruptible().await?;
                Ok(())
            }
        }));
        let harness = Harness::start_with(Default::default(), |b| b.pacer_lead(lead), bot).await;
        let caller = harness.sim.call_in("+15550103").await.unwrap();
        caller.wait_heard(Duration::from_millis(600)).await.unwrap();
        caller.press("5").await.unwrap();
        let played = result.recv().await.unwrap();
        let PlayOutcome::Interrupted { by, heard } = played else {
            panic!("not interrupted: {played:?}");
        };
        assert_eq!(by, Interruption::Digit(Digit::new('5').unwrap()));
        assert_eq!(caller.wait_ended().await, voicebot_sim::CallEnd::Dropped);
        // The caller's playout position at the press, from the PBX journal.
        let heard_at_press = harness
            .sim
            .journal()
            .into_iter()
            .find_map(|entry| match entry.kind {
                voicebot_sim::JournalKind::DtmfPressed { heard, .. } => Some(heard),
                _ => None,
            })
            .expect("the press is journaled");
        // Everything the engine sent of the first prompt was played before the second
        // one: the samples before the marker are exactly what the PBX received of it.
        let audio = caller.heard().audio();
        let first_samples = audio
            .iter()
            .position(|&sample| sample == MARKER)
            .expect("the second prompt was heard");
        let first = Duration::from_micros(first_samples as u64 * 125);
        assert!(first >= heard_at_press, "{first:?} < {heard_at_press:?}");
        // Stopped within the lead: once the digit reached the engine, the PBX got no
        // more of the prompt than the pacer had queued ahead of the caller's ear. So
        // what the outcome says was heard falls short of what the PBX played by at
        // most the lead, and never exceeds it.
        assert!(
            heard <= first && first <= heard + lead,
            "the outcome says {heard:?} heard; the PBX received {first:?} of the prompt"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_pressed_while_recording_stay_queued_for_the_next_gather() {
    timeout(async {
        let (results, mut result) = report();
        let harness = Harness::start(bot_fn(move |call| {
            let results = results.clone();
            async move {
                let recording = call
                    .record()
                    .beep(false)
                    .no_silence_timeout()
                    .finish_on("#")
                    .await?;
                let digits = call
                    .gather()
                    .max_digits(4)
                    .timeout(Duration::from_millis(500))
                    .await?;
                let _ = results.send((recording.ended_by, digits));
                Ok(())
            }
        }))
        .await;
        let caller = harness.sim.call_in("+15550104").await.unwrap();
        caller.wait_connected().await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        caller.press("12").await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        caller.press("#").await.unwrap();
        let (ended_by, digits) = result.recv().await.unwrap();
        assert_eq!(ended_by, RecordEnd::Terminator(Digit::new('#').unwrap()));
        // The `#` ended the recording only: had it been queued, it would end this
        // gather too.
        assert_eq!(digits.as_str(), "12");
        assert_eq!(digits.terminator(), None);
        assert_eq!(digits.ended_by(), GatherEnd::Timeout);
    })
    .await;
}

/// In-band DTMF: tones in the caller's audio are digits; a press heard on both paths
/// counts once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_band_tones_are_digits_and_a_press_on_both_paths_counts_once() {
    timeout(async {
        let (results, mut result) = report();
        let bot = std::sync::Arc::new(bot_fn(move |call| {
            let results = results.clone();
            async move {
                for _ in 0..2 {
                    let digits = call
                        .gather()
                        .max_digits(3)
                        .timeout(Duration::from_secs(3))
                        .inter_digit_timeout(Duration::from_millis(800))
                        .await?;
                    let _ = results.send(digits);
                }
                Ok(())
            }
        }));
        let harness = Harness::start_with(Default::default(), |b| b.inband_dtmf(true), bot).await;
        let caller = harness.sim.call_in("+15550105").await.unwrap();
        caller.wait_connected().await.unwrap();
        let tones = DtmfGenerator::new().generate("123").unwrap();
        caller.send_pcm(&tones).await;
        let tones_only = result.recv().await.unwrap();
        assert_eq!(tones_only.as_str(), "123");
        // The same press by both paths, as a phone whose tones the PBX also reports.
        let tone = DtmfGenerator::new().generate("4").unwrap();
        caller.send_pcm(&tone).await;
        caller.press("4").await.unwrap();
        let both = result.recv().await.unwrap();
        assert_eq!(both.as_str(), "4");
        assert_eq!(both.ended_by(), GatherEnd::Timeout);
    })
    .await;
}

/// Issue #16: 3CX cannot drop audio it holds, so after a barge-in the PBX still plays
/// what the engine had sent. The next prompt must queue behind it within the lead, not
/// start a fresh lead on top of it; otherwise every later barge-in hears up to two
/// leads of the interrupted prompt. Measured in the simulator's playout model (media
/// time), never in wall time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_16_every_barge_in_tail_stays_within_the_lead() {
    timeout(async {
        let lead = Duration::from_millis(100);
        // Each prompt is one value, so where each ended is plain in what the caller heard.
        const VALUES: [i16; 4] = [1111, 2222, 3333, 4444];
        let caller_slot = std::sync::Arc::new(std::sync::OnceLock::<voicebot_sim::Caller>::new());
        let slot = std::sync::Arc::clone(&caller_slot);
        let (results, mut result) = report();
        let bot = std::sync::Arc::new(bot_fn(move |call| {
            let (results, slot) = (results.clone(), std::sync::Arc::clone(&slot));
            async move {
                for value in VALUES {
                    let prompt = Prompt::from_samples(vec![value; 8000 * 3]).expect("not empty");
                    let played = call.play(prompt).await?;
                    // The PBX's media time once the engine has stopped the prompt.
                    let stopped_at = slot.get().map(voicebot_sim::Caller::media_time);
                    let _ = results.send((played, stopped_at));
                    // The key that stopped it stays queued (type-ahead): take it.
                    call.gather().max_digits(1).await?;
                }
                Ok(())
            }
        }));
        let harness = Harness::start_with(Default::default(), |b| b.pacer_lead(lead), bot).await;
        let caller = harness.sim.call_in("+15550105").await.unwrap();
        let _ = caller_slot.set(caller.clone());
        let mut stops = Vec::new();
        for (n, _) in VALUES.iter().enumerate().take(3) {
            // Well into each prompt (its own 300 ms), so the lead is full when the key comes.
            caller
                .wait_heard(Duration::from_millis(400) * (n as u32 + 1))
                .await
                .unwrap();
            caller.press("1").await.unwrap();
            let (played, stopped_at) = result.recv().await.unwrap();
            assert!(
                matches!(played, PlayOutcome::Interrupted { .. }),
                "prompt {n}: {played:?}"
            );
            stops.push(stopped_at.expect("the caller was known before the first press"));
        }
        caller
            .wait_heard(Duration::from_millis(1_500))
            .await
            .unwrap();
        let heard = caller.heard();
        for (n, stopped_at) in stops.into_iter().enumerate() {
            let end = heard
                .samples
                .iter()
                .rposition(|&sample| sample == VALUES[n])
                .expect("the prompt was heard");
            let end = Duration::from_micros((end as u64 + 1) * 125);
            let tail = end.saturating_sub(stopped_at);
            eprintln!("barge-in {}: tail {tail:?}", n + 1);
            assert!(
                tail <= lead,
                "barge-in {}: the caller heard {tail:?} of the prompt after it was stopped",
                n + 1
            );
        }
        assert!(
            heard.max_lead <= lead,
            "the PBX held {:?} at most",
            heard.max_lead
        );
    })
    .await;
}

/// In-band DTMF on a stream that stalls and then delivers in a burst (a busy network or
/// machine): the late frames the jitter buffer drops from playout still reach the
/// detector, so no tone is cut in two and no digit lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_band_tones_survive_a_stream_that_stalls_and_bursts() {
    timeout(async {
        let (results, mut result) = report();
        let bot = std::sync::Arc::new(bot_fn(move |call| {
            let results = results.clone();
            async move {
                let digits = call
                    .gather()
                    .max_digits(6)
                    .timeout(Duration::from_secs(5))
                    .inter_digit_timeout(Duration::from_secs(2))
                    .await?;
                let _ = results.send(digits);
                Ok(())
            }
        }));
        // Every 1.2 s of the caller's audio, the first 800 ms arrive at once, late: more
        // than the jitter buffer holds (500 ms), so its playout drops the oldest.
        let config = voicebot_sim::SimConfig {
            audio: voicebot_sim::AudioConfig {
                bursts: Some(voicebot_sim::Bursts {
                    every: Duration::from_millis(1200),
                    hold: Duration::from_millis(800),
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let harness = Harness::start_with(config, |b| b.inband_dtmf(true), bot).await;
        let caller = harness.sim.call_in("+15550106").await.unwrap();
        caller.wait_connected().await.unwrap();
        let tones = DtmfGenerator::new().generate("147258").unwrap();
        caller.send_pcm(&tones).await;
        let digits = result.recv().await.unwrap();
        assert_eq!(digits.as_str(), "147258");
        // The bursts did overflow the playout (its counters reach the engine's within
        // a second; the test's timeout fails it otherwise).
        while harness.engine.stats().jitter_drops == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
}
