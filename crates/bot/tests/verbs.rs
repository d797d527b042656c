//! The verbs of `Call` against the test kit's fake call task (the engine's protocol
//! served on timers, with the engine's own gather).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, sleep};
use voicebot_bot::{
    BargeIn, Bot, BotError, Call, CallError, CallEvent, Digit, DiversionReason, Frame, GatherEnd,
    Interruption, PlayOutcome, PromptSource, RecordEnd, SinkItem, StreamExt, bot_fn,
};
use voicebot_testkit::{Entry, FakeCall};

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

fn silence(seconds: u64) -> PromptSource {
    PromptSource::Silence(secs(seconds))
}

#[test]
fn bots_are_object_safe_and_send() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Call>();
    send_sync::<Arc<dyn Bot>>();
    send_sync::<BotError>();
    send_sync::<CallError>();
    let bots: Vec<Arc<dyn Bot>> = vec![Arc::new(bot_fn(|_call| async { Ok(()) }))];
    assert_eq!(bots.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_bot_runs_on_a_spawned_task_and_its_hangup_is_a_normal_end() {
    let fake = FakeCall::new();
    let bot: Arc<dyn Bot> = Arc::new(bot_fn(|call: Call| async move {
        call.play(silence(10)).not_interruptible().await?;
        Ok(())
    }));
    let call = fake.call();
    let task = tokio::spawn(async move { bot.handle(call).await });
    sleep(secs(1)).await;
    fake.hang_up();
    let result = tokio::time::timeout(secs(60), task).await.unwrap().unwrap();
    assert!(result.unwrap_err().is_hangup());
    // Later verbs fail the same way.
    assert!(fake.call().answer().await.unwrap_err().is_hangup());
}

#[tokio::test(start_paused = true)]
async fn play_finishes_or_is_interrupted_and_the_digit_is_type_ahead() {
    let fake = FakeCall::new();
    let call = fake.call();
    assert_eq!(
        call.play(silence(2)).loops(2).await.unwrap(),
        PlayOutcome::Finished
    );
    let start = Instant::now();
    let pressing = async {
        sleep(secs(3)).await;
        fake.press("5");
    };
    let (outcome, ()) = tokio::join!(call.play(silence(10)).into_future(), pressing);
    let five = Digit::new('5').unwrap();
    assert_eq!(
        outcome.unwrap(),
        PlayOutcome::Interrupted {
            by: Interruption::Digit(five),
            heard: secs(3)
        }
    );
    assert_eq!(start.elapsed(), secs(3));
    // The key that interrupted the prompt is the first digit of the next gather.
    fake.press("7");
    let digits = call.gather().max_digits(2).await.unwrap();
    assert_eq!(digits, "57");
    assert_eq!(digits.ended_by(), GatherEnd::MaxDigits);
    assert_eq!(
        fake.journal(),
        ["play silence 2s x2", "play silence 10s", "gather"]
    );
}

#[tokio::test(start_paused = true)]
async fn speech_interrupts_only_prompts_that_allow_it() {
    let fake = FakeCall::new();
    let call = fake.call();
    let speaking = async {
        sleep(secs(2)).await;
        fake.speak();
    };
    let (outcome, ()) = tokio::join!(
        call.play(silence(5))
            .barge_in(BargeIn::SPEECH)
            .into_future(),
        speaking
    );
    assert_eq!(
        outcome.unwrap(),
        PlayOutcome::Interrupted {
            by: Interruption::Speech,
            heard: secs(2)
        }
    );
    let (outcome, ()) = tokio::join!(call.play(silence(5)).into_future(), async {
        sleep(secs(2)).await;
        fake.speak();
    });
    assert_eq!(outcome.unwrap(), PlayOutcome::Finished);
}

#[tokio::test(start_paused = true)]
async fn not_interruptible_plays_to_the_end() {
    let fake = FakeCall::new();
    fake.press("1");
    let outcome = fake
        .call()
        .play(silence(4))
        .barge_in(BargeIn::NONE)
        .await
        .unwrap();
    assert_eq!(outcome, PlayOutcome::Finished);
    assert_eq!(fake.call().clear_digits().await.unwrap(), 1);
}

#[tokio::test(start_paused = true)]
async fn gather_sends_its_settings_and_returns_empty_digits_on_timeout() {
    let fake = FakeCall::new();
    let start = Instant::now();
    let digits = fake
        .call()
        .gather()
        .prompt(silence(2))
        .timeout(secs(5))
        .tries(2)
        .await
        .unwrap();
    assert!(digits.is_empty());
    assert_eq!(digits.ended_by(), GatherEnd::NoInput);
    assert_eq!(
        start.elapsed(),
        secs(14),
        "two tries of prompt + first-digit timeout"
    );
    let journal = fake.journal();
    assert_eq!(
        journal,
        ["gather", "play silence 2s", "play silence 2s"],
        "each try plays the prompt"
    );
    assert!(matches!(
        journal[0],
        Entry::Gather {
            tries: 2,
            max_digits: 20,
            ..
        }
    ));
}

#[tokio::test(start_paused = true)]
async fn clear_digits_answers_at_once_while_a_gather_waits_for_keys() {
    let fake = FakeCall::new();
    let call = fake.call();
    let gather = tokio::spawn({
        let call = call.clone();
        async move { call.gather().timeout(secs(10)).await }
    });
    sleep(secs(1)).await;
    let start = Instant::now();
    // Nothing holds the digits while the gather waits: no waiting out its timeout.
    assert_eq!(call.clear_digits().await.unwrap(), 0);
    assert_eq!(start.elapsed(), Duration::ZERO);
    fake.press("4#");
    let digits = gather.await.unwrap().unwrap();
    assert_eq!(digits, "4");
    assert_eq!(digits.ended_by(), GatherEnd::Terminator);
}

#[tokio::test(start_paused = true)]
async fn gather_validates_with_an_anchored_regex_and_reports_the_terminator() {
    let fake = FakeCall::new();
    fake.press("12#");
    let rejected = fake
        .call()
        .gather()
        .validate_regex(regex::Regex::new("2").unwrap())
        .await
        .unwrap();
    assert_eq!(
        rejected.ended_by(),
        GatherEnd::Invalid,
        "'2' must match the whole input"
    );
    fake.press("22*");
    let accepted = fake
        .call()
        .gather()
        .finish_on("*#")
        .validate_regex(regex::Regex::new("2+").unwrap())
        .await
        .unwrap();
    assert_eq!(accepted, "22");
    assert_eq!(accepted.terminator(), Some(Digit::new('*').unwrap()));
}

#[tokio::test(start_paused = true)]
async fn contradictory_gathers_are_refused_before_anything_is_sent() {
    let fake = FakeCall::new();
    let call = fake.call();
    for gather in [
        call.gather().min_digits(5).max_digits(4),
        call.gather().finish_on("x"),
        call.gather().tries(0),
        call.gather().finish_on("").terminator_required(true),
    ] {
        assert!(matches!(gather.await, Err(CallError::InvalidRequest(_))));
    }
    assert!(fake.journal().is_empty());
}

#[tokio::test(start_paused = true)]
async fn route_to_loops_its_prompt_until_routed_then_drops_our_leg() {
    let fake = FakeCall::builder().ring_time(secs(3)).start();
    let start = Instant::now();
    fake.call()
        .route_to("200")
        .prompt(silence(1))
        .await
        .unwrap();
    assert_eq!(start.elapsed(), secs(3), "the destination rang 3 s");
    fake.settle().await;
    // The request goes first, then the prompt, stopped once routed; then our leg is
    // dropped (the PBX has usually removed it already: that `drop` fails, unseen).
    assert_eq!(
        fake.journal(),
        ["route_to 200", "play silence 1s forever", "stop", "hangup"]
    );
    assert!(fake.is_ended());
    assert!(matches!(fake.call().hangup().await, Err(CallError::Ended)));
}

#[tokio::test(start_paused = true)]
async fn a_failed_route_keeps_the_caller() {
    let fake = FakeCall::builder().refuse("busy").start();
    let error = fake.call().route_to("busy").await.unwrap_err();
    assert!(matches!(error, CallError::Rejected { .. }));
    fake.settle().await;
    // Without a prompt of its own, the route plays the engine's ringback meanwhile.
    assert_eq!(
        fake.journal(),
        ["route_to busy", "play ringback forever", "stop"]
    );
    assert!(!fake.is_ended());
    assert_eq!(
        fake.call().play(silence(1)).await.unwrap(),
        PlayOutcome::Finished
    );
}

#[tokio::test(start_paused = true)]
async fn record_expands_its_path_and_returns_the_recording() {
    let fake = FakeCall::new();
    let recording = fake
        .call()
        .record()
        .path_template("/tmp/{dn}-{callid}-{caller}.wav")
        .max_length(secs(3))
        .await
        .unwrap();
    assert_eq!(recording.path.to_str(), Some("/tmp/800-7-+15550100.wav"));
    assert_eq!(
        (recording.duration, recording.ended_by),
        (secs(3), RecordEnd::MaxLength)
    );
    assert_eq!(fake.journal(), ["record /tmp/800-7-+15550100.wav"]);
}

#[tokio::test(start_paused = true)]
async fn a_hang_up_ends_a_recording_with_what_was_recorded() {
    let fake = FakeCall::new();
    let call = fake.call();
    let recording = tokio::spawn(async move { call.record().max_length(secs(60)).await });
    sleep(secs(4)).await;
    fake.hang_up();
    let recording = recording.await.unwrap().unwrap();
    assert_eq!(
        (recording.duration, recording.ended_by),
        (secs(4), RecordEnd::Hangup)
    );
}

#[tokio::test(start_paused = true)]
async fn actions_carry_their_destination_and_a_transfer_hands_the_call_off() {
    let fake = FakeCall::new();
    let call = fake.call();
    call.answer().await.unwrap();
    call.attach_data([("crm".to_owned(), "42".to_owned())].into())
        .await
        .unwrap();
    call.transfer("100").await.unwrap();
    // The caller is with 100 now: the call is no longer the bot's.
    let refused = call.divert("101", DiversionReason::NoAnswer).await;
    assert!(matches!(refused, Err(CallError::Ended)), "{refused:?}");
    let journal = fake.journal();
    assert_eq!(
        journal,
        [
            "answer",
            "attach_data",
            "transfer 100",
            "play ringback forever",
            "stop",
            "divert 101"
        ]
    );
    assert!(matches!(
        &journal[5],
        Entry::Divert {
            reason: Some(DiversionReason::NoAnswer),
            ..
        }
    ));
}

#[tokio::test(start_paused = true)]
async fn events_stream_digits_then_hangup_and_end() {
    let fake = FakeCall::new();
    let mut events = fake.call().events();
    fake.press("4");
    fake.hang_up();
    assert_eq!(
        events.next().await,
        Some(CallEvent::Digit(Digit::new('4').unwrap()))
    );
    assert_eq!(events.next().await, Some(CallEvent::Hangup));
    // The call task is gone: the stream ends, and new subscriptions are empty.
    tokio::time::timeout(secs(5), async { while events.next().await.is_some() {} })
        .await
        .unwrap();
    assert_eq!(fake.call().events().next().await, None);
}

#[tokio::test(start_paused = true)]
async fn slow_event_readers_are_told_what_they_missed() {
    let fake = FakeCall::new();
    let mut events = fake.call().events();
    for _ in 0..70 {
        fake.emit(CallEvent::SpeechStarted);
    }
    assert_eq!(events.next().await, Some(CallEvent::Lagged(6)));
}

#[tokio::test(start_paused = true)]
async fn audio_sink_plays_in_real_time_marks_follow_and_clear_discards() {
    let fake = FakeCall::new();
    let sink = fake.call().audio_sink();
    let mut events = fake.call().events();
    let frame = |n: i16| Frame::from_samples([n; Frame::SAMPLES]);
    for n in 1..=3 {
        sink.send(frame(n)).await.unwrap();
    }
    sink.mark("said").await.unwrap();
    let start = Instant::now();
    assert_eq!(
        events.next().await,
        Some(CallEvent::Mark("said".to_owned()))
    );
    assert_eq!(
        start.elapsed(),
        Frame::DURATION * 3,
        "three frames played first"
    );
    assert_eq!(
        fake.played_audio(),
        [
            SinkItem::Frame(frame(1)),
            SinkItem::Frame(frame(2)),
            SinkItem::Frame(frame(3)),
            SinkItem::Mark("said".to_owned())
        ]
    );
    // Queued but not yet played: discarded, and its mark never reached.
    for n in 4..=6 {
        sink.send(frame(n)).await.unwrap();
    }
    sink.mark("never").await.unwrap();
    assert_eq!(
        sink.clear().await.unwrap(),
        2,
        "frame 4 was already playing"
    );
    sleep(secs(1)).await;
    assert_eq!(fake.played_audio().len(), 5);
}

#[tokio::test(start_paused = true)]
async fn elapsed_is_call_time_from_when_the_engine_starts_the_clock() {
    let participant = voicebot_model::Participant {
        id: voicebot_model::ParticipantId(12),
        dn: "800".into(),
        callid: 7,
        ..voicebot_model::Participant::default()
    };
    let (call, endpoint) = voicebot_bot::__engine::call_channel(
        voicebot_bot::CallInfo::new(&participant, voicebot_bot::Direction::Inbound),
        voicebot_bot::__engine::ChannelCapacity::default(),
    );
    // Ringing: no audio yet, so no call time.
    sleep(secs(5)).await;
    assert_eq!(call.elapsed(), Duration::ZERO);
    let audio_started = Instant::now();
    endpoint.clock.start(audio_started);
    sleep(secs(3)).await;
    // Every clone reads the one clock; starting it again changes nothing.
    endpoint.clock.start(Instant::now());
    let clone = call.clone();
    sleep(Duration::from_millis(250)).await;
    assert_eq!(call.elapsed(), Duration::from_millis(3_250));
    assert_eq!(clone.elapsed(), audio_started.elapsed());
}
