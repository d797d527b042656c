//! Text-to-speech in calls: `call.say` against the simulator, with espeak-ng speaking.

use std::sync::Arc;
use std::time::Duration;

use voicebot_bot::speech::TtsError;
use voicebot_bot::speech::tts::{Espeak, Speaker, SynthesizedAudio, Synthesizer};
use voicebot_bot::{CallError, Interruption, PlayOutcome, async_trait, bot_fn};
use voicebot_model::Digit;
use voicebot_sim::SimConfig;

use crate::support::{Harness, report, timeout};

/// Long enough that a caller can barge in well before its end.
const LONG_TEXT: &str = "Thank you for calling the voicebot test line. Please listen \
     carefully, as our menu options have changed. Press 1 for sales. Press 2 for support. \
     Press 3 to leave a message.";

/// About four seconds: a cut after the first second leaves speech to hear after the reopen.
const CUT_TEXT: &str = "Thank you for calling. Please stay on the line. Press 1 for sales.";

fn espeak() -> Speaker {
    Speaker::new(
        Espeak::builder()
            .build()
            .expect("default espeak-ng settings"),
    )
}

/// Samples louder than -30 dBFS: speech, not silence or noise.
fn loud(samples: &[i16]) -> usize {
    samples.iter().filter(|sample| sample.abs() > 1_000).count()
}

async fn harness_saying(
    text: &'static str,
    speaker: Speaker,
) -> (
    Harness,
    tokio::sync::mpsc::UnboundedReceiver<Result<PlayOutcome, CallError>>,
) {
    let (results, result) = report();
    let bot = bot_fn(move |call| {
        let results = results.clone();
        async move {
            let outcome = call.say(text).await;
            let _ = results.send(outcome);
            Ok(())
        }
    });
    let harness = Harness::start_with(
        SimConfig::default(),
        |builder| builder.speaker(speaker),
        Arc::new(bot),
    )
    .await;
    (harness, result)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_hears_said_text_as_speech_of_its_length() {
    timeout(async {
        let text = "Welcome. Press 1 for sales.";
        let whole = espeak().synthesize(text, None).await.unwrap().duration();
        let (harness, mut result) = harness_saying(text, espeak()).await;
        let caller = harness.sim.call_in("+15550401").await.unwrap();
        let outcome = result.recv().await.unwrap();
        assert_eq!(outcome.unwrap(), PlayOutcome::Finished);
        caller.wait_heard(whole).await.unwrap();
        let heard = caller.heard();
        let audio = heard.audio();
        // All of it (within a frame), and speech: a fifth of it at least is loud.
        let missing = whole.saturating_sub(heard.audio_duration());
        assert!(
            missing <= Duration::from_millis(20),
            "{missing:?} short of {whole:?}"
        );
        assert!(
            loud(&audio) * 5 > audio.len(),
            "{} loud of {}",
            loud(&audio),
            audio.len()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digit_barges_into_said_text_and_the_bot_learns_how_much_was_heard() {
    timeout(async {
        let whole = espeak()
            .synthesize(LONG_TEXT, None)
            .await
            .unwrap()
            .duration();
        let (harness, mut result) = harness_saying(LONG_TEXT, espeak()).await;
        let caller = harness.sim.call_in("+15550402").await.unwrap();
        caller
            .wait_heard(Duration::from_millis(1_500))
            .await
            .unwrap();
        assert!(
            loud(&caller.heard().audio()) > 4_000,
            "speech before the key"
        );
        caller.press("1").await.unwrap();
        let outcome = result.recv().await.unwrap().unwrap();
        let PlayOutcome::Interrupted { by, heard } = outcome else {
            panic!("the key should interrupt the speech: {outcome:?}")
        };
        assert_eq!(by, Interruption::Digit(Digit::new('1').unwrap()));
        assert!(heard >= Duration::from_millis(1_400), "heard {heard:?}");
        assert!(
            heard + Duration::from_secs(2) < whole,
            "heard {heard:?} of {whole:?}"
        );
        // The caller stops hearing it: no more than the pacer's lead after the key.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let total = caller.heard().audio_duration();
        assert!(
            total <= heard + Duration::from_millis(400),
            "{total:?} after {heard:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn said_text_goes_on_through_cut_audio_streams() {
    timeout(async {
        let whole = espeak()
            .synthesize(CUT_TEXT, None)
            .await
            .unwrap()
            .duration();
        let (harness, mut result) = harness_saying(CUT_TEXT, espeak()).await;
        let caller = harness.sim.call_in("+15550403").await.unwrap();
        caller.wait_heard(Duration::from_secs(1)).await.unwrap();
        harness.sim.faults().cut_audio_streams();
        let at_cut = caller.heard().audio_duration();
        let outcome = result.recv().await.unwrap();
        // The cut costs the caller a stretch, never the verb.
        assert_eq!(outcome.unwrap(), PlayOutcome::Finished);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let heard = caller.heard();
        let after = heard.audio_duration().saturating_sub(at_cut);
        assert!(
            after >= Duration::from_secs(2),
            "speech went on after the reopen: {after:?}"
        );
        assert!(heard.audio_duration() <= whole + Duration::from_millis(100));
        assert!(loud(&heard.audio()) > 8_000, "speech");
    })
    .await;
}

/// A synthesiser at the outside-service boundary: speaks the first sentence as a tone and
/// fails on the next, as a server that goes down mid-text would.
#[derive(Debug)]
struct FailsAfterOneSentence;

#[async_trait]
impl Synthesizer for FailsAfterOneSentence {
    fn identity(&self) -> String {
        "fails-after-one".to_owned()
    }

    fn default_voice(&self) -> Option<&str> {
        None
    }

    async fn synthesize(&self, text: &str, _: Option<&str>) -> Result<SynthesizedAudio, TtsError> {
        match text.starts_with("First") {
            true => Ok(SynthesizedAudio::Pcm {
                samples: (0..8_000)
                    .map(|n| if n % 16 < 8 { 8_000 } else { -8_000 })
                    .collect(),
                rate: 8_000,
            }),
            false => Err(TtsError::Status {
                status: 503,
                body: "overloaded".to_owned(),
            }),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synthesis_failure_mid_text_stops_the_speech_with_a_media_error() {
    timeout(async {
        let speaker = Speaker::new(FailsAfterOneSentence);
        let (harness, mut result) = harness_saying("First sentence. Second one.", speaker).await;
        let caller = harness.sim.call_in("+15550404").await.unwrap();
        let outcome = result.recv().await.unwrap();
        let Err(CallError::Media(error)) = outcome else {
            panic!("expected a media error, got {outcome:?}")
        };
        assert!(error.to_string().contains("503"), "{error}");
        // The sentence made before the failure was still said (the failure came at once;
        // the last lead of the sentence may still be on its way when the verb returns).
        let heard = caller.heard().audio_duration();
        assert!(
            heard >= Duration::from_millis(700),
            "heard {heard:?} of 1 s"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_synthesiser_say_is_refused_and_nothing_plays() {
    timeout(async {
        let (results, mut result) = report();
        let bot = bot_fn(move |call| {
            let results = results.clone();
            async move {
                let _ = results.send(call.say("Hello.").await);
                Ok(())
            }
        });
        let harness = Harness::start(bot).await;
        let caller = harness.sim.call_in("+15550405").await.unwrap();
        let outcome = result.recv().await.unwrap();
        assert!(
            matches!(&outcome, Err(CallError::InvalidRequest(why)) if why.contains("synthesiser")),
            "{outcome:?}"
        );
        assert_eq!(caller.heard().audio_duration(), Duration::ZERO);
    })
    .await;
}
