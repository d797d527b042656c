//! Verb tests against the fake call task (a real implementation of the protocol).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, sleep};

use crate::testutil::fake_call;
use crate::{
    BargeIn, Bot, BotError, Call, CallError, CallEvent, Digit, GatherEnd, Interruption,
    PlayOutcome, PromptSource, RecordEnd, StreamExt, bot_fn,
};

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
    let mut fake = fake_call();
    let bot: Arc<dyn Bot> = Arc::new(bot_fn(|call: Call| async move {
        call.play(silence(10)).not_interruptible().await?;
        Ok(())
    }));
    let call = fake.call.clone();
    let task = tokio::spawn(async move { bot.handle(call).await });
    sleep(secs(1)).await;
    fake.hang_up();
    let result = tokio::time::timeout(secs(60), task).await.unwrap().unwrap();
    assert!(result.unwrap_err().is_hangup());
    // Later verbs fail the same way.
    assert!(fake.call.answer().await.unwrap_err().is_hangup());
}

#[tokio::test(start_paused = true)]
async fn play_finishes_or_is_interrupted_and_the_digit_is_type_ahead() {
    let fake = fake_call();
    assert_eq!(
        fake.call.play(silence(2)).loops(2).await.unwrap(),
        PlayOutcome::Finished
    );
    let start = Instant::now();
    let pressing = async {
        sleep(secs(3)).await;
        fake.press("5");
    };
    let (outcome, ()) = tokio::join!(fake.call.play(silence(10)).into_future(), pressing);
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
    let digits = fake.call.gather().max_digits(2).await.unwrap();
    assert_eq!(digits, "57");
    assert_eq!(digits.ended_by(), GatherEnd::MaxDigits);
}

#[tokio::test(start_paused = true)]
async fn not_interruptible_plays_to_the_end() {
    let fake = fake_call();
    fake.press("1");
    let outcome = fake
        .call
        .play(silence(4))
        .barge_in(BargeIn::NONE)
        .await
        .unwrap();
    assert_eq!(outcome, PlayOutcome::Finished);
    assert_eq!(fake.call.clear_digits().await.unwrap(), 1);
}

#[tokio::test(start_paused = true)]
async fn gather_sends_its_settings_and_returns_empty_digits_on_timeout() {
    let fake = fake_call();
    let start = Instant::now();
    let digits = fake
        .call
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
}

#[tokio::test(start_paused = true)]
async fn gather_validates_with_an_anchored_regex_and_reports_the_terminator() {
    let fake = fake_call();
    fake.press("12#");
    let rejected = fake
        .call
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
        .call
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
    let fake = fake_call();
    for gather in [
        fake.call.gather().min_digits(5).max_digits(4),
        fake.call.gather().finish_on("x"),
        fake.call.gather().tries(0),
        fake.call.gather().finish_on("").terminator_required(true),
    ] {
        assert!(matches!(gather.await, Err(CallError::InvalidRequest(_))));
    }
}

#[tokio::test(start_paused = true)]
async fn route_to_loops_its_prompt_until_routed_then_drops_our_leg() {
    let fake = fake_call();
    let start = Instant::now();
    fake.call.route_to("200").prompt(silence(1)).await.unwrap();
    assert_eq!(start.elapsed(), secs(3), "the fake routes in 3 s");
    // Let the fake notice the stopped prompt.
    sleep(Duration::from_millis(1)).await;
    let mut journal = fake.journal();
    // The request goes first, then the prompt.
    journal[..2].sort();
    assert_eq!(
        journal,
        [
            "play Silence(1s) start",
            "routeto 200",
            "play stopped",
            "drop"
        ]
    );
    assert!(matches!(fake.call.hangup().await, Err(CallError::Ended)));
}

#[tokio::test(start_paused = true)]
async fn a_failed_route_keeps_the_caller() {
    let fake = fake_call();
    let error = fake.call.route_to("busy").await.unwrap_err();
    assert!(matches!(error, CallError::Rejected { .. }));
    sleep(Duration::from_millis(1)).await;
    // Without a prompt of its own, the route plays the engine's ringback meanwhile.
    assert_eq!(
        fake.journal(),
        ["routeto busy", "play Ringback start", "play stopped"]
    );
    assert!(!fake.call.is_ended());
}

#[tokio::test(start_paused = true)]
async fn record_expands_its_path_and_returns_the_recording() {
    let fake = fake_call();
    let recording = fake
        .call
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
}

#[tokio::test(start_paused = true)]
async fn actions_carry_their_destination() {
    let fake = fake_call();
    fake.call.answer().await.unwrap();
    fake.call.transfer("100").await.unwrap();
    sleep(Duration::from_millis(1)).await;
    fake.call
        .divert("101", crate::DiversionReason::NoAnswer)
        .await
        .unwrap();
    fake.call
        .attach_data([("crm".to_owned(), "42".to_owned())].into())
        .await
        .unwrap();
    assert_eq!(
        fake.journal(),
        [
            "answer",
            "transferto 100",
            "play Ringback start",
            "play stopped",
            "divert 101",
            "attach_participant_data"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn events_stream_digits_then_hangup_and_end() {
    let mut fake = fake_call();
    let mut events = fake.call.events();
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
    assert_eq!(fake.call.events().next().await, None);
}

#[tokio::test(start_paused = true)]
async fn slow_event_readers_are_told_what_they_missed() {
    let fake = fake_call();
    let mut events = fake.call.events();
    for _ in 0..70 {
        fake.emit(CallEvent::SpeechStarted);
    }
    assert_eq!(events.next().await, Some(CallEvent::Lagged(6)));
}

#[tokio::test(start_paused = true)]
async fn audio_sink_queues_frames_and_clear_discards_them() {
    let fake = fake_call();
    let sink = fake.call.audio_sink();
    for _ in 0..3 {
        sink.send(crate::Frame::silence()).await.unwrap();
    }
    sink.mark("said").await.unwrap();
    assert_eq!(fake.call.audio_sink().clear().await.unwrap(), 4);
}

#[tokio::test(start_paused = true)]
async fn elapsed_is_call_time_from_when_the_engine_starts_the_clock() {
    let participant = voicebot_model::Participant {
        id: voicebot_model::ParticipantId(12),
        dn: "800".into(),
        callid: 7,
        ..voicebot_model::Participant::default()
    };
    let (call, endpoint) = crate::message::call_channel(
        crate::CallInfo::new(&participant, crate::Direction::Inbound),
        crate::message::ChannelCapacity::default(),
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
