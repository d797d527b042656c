//! Table tests of the gather state machine under a paused clock: every timeout and
//! prompt length is virtual, so elapsed times are exact.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use test_case::test_case;
use tokio::time::{Instant, sleep, sleep_until};

use super::*;
use crate::gather::{DigitSink, digit_queue};

/// Plays the test's prompts (files named `menu`, 2 s, and `invalid`, 1 s) with timers;
/// the caller starts speaking at `speech_at`.
#[derive(Debug)]
struct FakePrompter {
    started: Arc<Mutex<Vec<String>>>,
    speech_at: Option<Instant>,
}

impl Prompter for FakePrompter {
    type Error = &'static str;

    fn play(
        &mut self,
        prompt: &PromptSource,
        stop_on_speech: bool,
    ) -> impl Future<Output = Result<PromptEnd, &'static str>> + Send {
        let PromptSource::File(path) = prompt else {
            panic!("the test plays files only");
        };
        let name = path.display().to_string();
        let length = match name.as_str() {
            "menu" => ms(2000),
            "invalid" => ms(1000),
            other => panic!("no prompt {other}"),
        };
        self.started.lock().unwrap().push(name);
        let end = Instant::now() + length;
        let speech = self.speech_at.filter(|at| stop_on_speech && *at < end);
        async move {
            match speech {
                Some(at) => {
                    sleep_until(at).await;
                    Ok(PromptEnd::Speech)
                }
                None => {
                    sleep_until(end).await;
                    Ok(PromptEnd::Finished)
                }
            }
        }
    }
}

type Spec = GatherRequest;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn file(name: &str) -> PromptSource {
    PromptSource::File(Path::new(name).to_path_buf())
}

fn base_spec() -> Spec {
    Spec {
        prompt: Some(file("menu")),
        invalid_prompt: Some(file("invalid")),
        min_digits: 1,
        max_digits: 4,
        first_digit_timeout: ms(5000),
        inter_digit_timeout: ms(2000),
        ..Spec::default()
    }
}

fn press(sink: &DigitSink, key: char) {
    sink.push(Digit::new(key).unwrap());
}

struct Run {
    result: Digits,
    elapsed_ms: u128,
    prompts: Vec<String>,
}

/// Types `typed_ahead` before the gather starts, then presses each `(ms, key)` at
/// that virtual time after the start.
async fn run(
    spec: Spec,
    typed_ahead: &str,
    presses: &'static [(u64, char)],
    speech_at_ms: Option<u64>,
) -> Run {
    let (sink, queue) = digit_queue();
    for key in typed_ahead.chars() {
        press(&sink, key);
    }
    let start = Instant::now();
    let caller = tokio::spawn(async move {
        for (at, key) in presses {
            sleep_until(start + ms(*at)).await;
            press(&sink, *key);
        }
        // Keep the queue open: the call has not ended.
        sleep(Duration::from_secs(3600)).await;
    });
    let started = Arc::new(Mutex::new(Vec::new()));
    let mut prompter = FakePrompter {
        started: Arc::clone(&started),
        speech_at: speech_at_ms.map(|at| start + ms(at)),
    };
    let result = tokio::time::timeout(
        Duration::from_secs(600),
        gather(&queue, &mut prompter, &spec),
    )
    .await
    .expect("gather ends within the hard test timeout")
    .expect("the call is still up");
    caller.abort();
    let prompts = started.lock().unwrap().clone();
    Run {
        result,
        elapsed_ms: start.elapsed().as_millis(),
        prompts,
    }
}

fn no_change(_: &mut Spec) {}

#[test_case(no_change, "", &[(2500, '1'), (2600, '2'), (2700, '3'), (2800, '4')], None,
    "1234", GatherEnd::MaxDigits, 2800, &["menu"] ; "max digits end input")]
#[test_case(no_change, "", &[(2500, '1'), (2600, '2'), (2700, '#')], None,
    "12", GatherEnd::Terminator, 2700, &["menu"] ; "terminator ends input and is not a digit")]
#[test_case(no_change, "", &[(2500, '1'), (2600, '2')], None,
    "12", GatherEnd::Timeout, 4600, &["menu"] ; "inter digit timeout ends input")]
#[test_case(no_change, "", &[], None,
    "", GatherEnd::NoInput, 7000, &["menu"] ; "first digit timeout counts from the prompt end")]
#[test_case(no_change, "", &[(500, '1'), (600, '2'), (700, '3'), (800, '4')], None,
    "1234", GatherEnd::MaxDigits, 800, &["menu"] ; "digits barge in on the prompt")]
#[test_case(|s| s.barge_in.digits = false, "", &[(500, '1'), (600, '2')], None,
    "12", GatherEnd::Timeout, 4000, &["menu"] ; "without barge in the prompt plays out and digits wait")]
#[test_case(no_change, "12", &[], None,
    "12", GatherEnd::Timeout, 2000, &[] ; "type ahead skips the prompt")]
#[test_case(|s| s.max_digits = 2, "123", &[], None,
    "12", GatherEnd::MaxDigits, 0, &[] ; "type ahead beyond max is left queued")]
#[test_case(|s| { s.min_digits = 2; s.tries = 2; }, "",
    &[(2500, '1'), (2600, '#'), (6000, '4'), (6100, '2'), (6200, '#')], None,
    "42", GatherEnd::Terminator, 6200, &["menu", "invalid", "menu"] ; "too few digits retry after the invalid prompt")]
#[test_case(|s| s.terminator_required = true, "", &[(2500, '1'), (2600, '2')], None,
    "", GatherEnd::Invalid, 4600, &["menu"] ; "required terminator missing is invalid")]
#[test_case(|s| { s.terminator_required = true; s.max_digits = 2; }, "",
    &[(2500, '1'), (2600, '2'), (2700, '#')], None,
    "12", GatherEnd::Terminator, 2700, &["menu"] ; "required terminator after max digits")]
#[test_case(|s| { s.terminator_required = true; s.max_digits = 2; }, "",
    &[(2500, '1'), (2600, '2'), (2700, '3')], None,
    "", GatherEnd::Invalid, 2700, &["menu"] ; "a digit past max instead of the terminator is invalid")]
#[test_case(|s| { s.max_digits = 2; s.tries = 2; s.validator = Some(Arc::new(|d: &str| d.starts_with('1'))); }, "",
    &[(2500, '2'), (2600, '2'), (5700, '1'), (5800, '5')], None,
    "15", GatherEnd::MaxDigits, 5800, &["menu", "invalid", "menu"] ; "validator rejects then accepts")]
#[test_case(|s| s.tries = 2, "", &[], None,
    "", GatherEnd::NoInput, 14000, &["menu", "menu"] ; "silence retries without the invalid prompt")]
#[test_case(|s| s.min_digits = 0, "", &[], None,
    "", GatherEnd::Timeout, 7000, &["menu"] ; "min zero accepts nothing")]
#[test_case(|s| s.min_digits = 0, "", &[(2500, '#')], None,
    "", GatherEnd::Terminator, 2500, &["menu"] ; "terminator alone with min zero")]
#[test_case(|s| s.barge_in.speech = true, "", &[], Some(500),
    "", GatherEnd::NoInput, 5500, &["menu"] ; "speech stops the prompt and starts the timer")]
#[test_case(no_change, "", &[], Some(500),
    "", GatherEnd::NoInput, 7000, &["menu"] ; "speech ignored unless enabled")]
#[test_case(|s| { s.min_digits = 2; s.tries = 2; }, "",
    &[(2500, '1'), (2600, '#'), (3000, '7'), (3100, '8'), (3200, '#')], None,
    "78", GatherEnd::Terminator, 3200, &["menu", "invalid"] ; "digits during the invalid prompt are type ahead for the next try")]
#[test_case(|s| s.prompt = None, "", &[(100, '1')], None,
    "1", GatherEnd::Timeout, 2100, &[] ; "no prompt starts the timer at once")]
#[test_case(|s| s.terminators.push(Digit::new('*').unwrap()), "", &[(2500, '3'), (2600, '*')], None,
    "3", GatherEnd::Terminator, 2600, &["menu"] ; "any of several terminators")]
#[tokio::test(start_paused = true)]
#[allow(clippy::too_many_arguments)]
async fn gather_table(
    change: fn(&mut Spec),
    typed_ahead: &str,
    presses: &'static [(u64, char)],
    speech_at_ms: Option<u64>,
    digits: &str,
    end: GatherEnd,
    elapsed_ms: u128,
    prompts: &[&str],
) {
    let mut spec = base_spec();
    change(&mut spec);
    let run = run(spec, typed_ahead, presses, speech_at_ms).await;
    assert_eq!(run.result.as_str(), digits);
    assert_eq!(run.result.ended_by(), end);
    assert_eq!(run.elapsed_ms, elapsed_ms, "virtual time at the end");
    assert_eq!(run.prompts, prompts);
}

#[tokio::test(start_paused = true)]
async fn the_terminator_and_the_try_are_reported() {
    let mut spec = base_spec();
    spec.min_digits = 2;
    spec.tries = 3;
    let run = run(
        spec,
        "",
        &[
            (2500, '1'),
            (2600, '#'),
            (6000, '4'),
            (6100, '2'),
            (6200, '#'),
        ],
        None,
    )
    .await;
    assert_eq!(run.result.terminator(), Some(Digit::new('#').unwrap()));
    assert_eq!(run.result.tries(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_closed_queue_ends_the_gather_with_an_error() {
    let (sink, queue) = digit_queue();
    let mut prompter = FakePrompter {
        started: Arc::default(),
        speech_at: None,
    };
    let spec = base_spec();
    let hangup = tokio::spawn(async move {
        sleep(ms(300)).await;
        drop(sink);
    });
    let start = Instant::now();
    let error = gather(&queue, &mut prompter, &spec).await.unwrap_err();
    assert_eq!(error, GatherError::Closed);
    // The hang-up stopped the prompt instead of waiting for its end.
    assert_eq!(start.elapsed(), ms(300));
    hangup.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_failing_prompt_is_reported() {
    struct Broken;
    impl Prompter for Broken {
        type Error = &'static str;
        async fn play(&mut self, _: &PromptSource, _: bool) -> Result<PromptEnd, &'static str> {
            Err("no media")
        }
    }
    let (_sink, queue) = digit_queue();
    let spec = Spec {
        prompt: Some(file("menu")),
        ..Spec::default()
    };
    let error = gather(&queue, &mut Broken, &spec).await.unwrap_err();
    assert_eq!(error, GatherError::Prompt("no media"));
}

/// A prompter whose caller's audio was lost from `from` for `len` (virtual time).
struct Gappy {
    from: Instant,
    len: Duration,
}

impl Prompter for Gappy {
    type Error = &'static str;
    async fn play(&mut self, _: &PromptSource, _: bool) -> Result<PromptEnd, &'static str> {
        Ok(PromptEnd::Finished)
    }
    fn audio_lost(&self) -> Duration {
        Instant::now()
            .saturating_duration_since(self.from)
            .min(self.len)
    }
}

#[tokio::test(start_paused = true)]
async fn audio_lost_while_waiting_extends_the_timeout() {
    let (sink, queue) = digit_queue();
    // 2 s of the caller's audio lost, starting 1 s into a 3 s wait for the first digit.
    let start = Instant::now();
    let mut prompter = Gappy {
        from: start + ms(1000),
        len: ms(2000),
    };
    let spec = Spec {
        first_digit_timeout: ms(3000),
        ..Spec::default()
    };
    let gathered = gather(&queue, &mut prompter, &spec).await.unwrap();
    assert_eq!(gathered.ended_by(), GatherEnd::NoInput);
    // The caller could not be heard for 2 s: they had 3 s of hearing all the same.
    assert_eq!(start.elapsed(), ms(5000));
    drop(sink);
}

#[tokio::test(start_paused = true)]
async fn a_digit_in_the_extended_time_is_taken() {
    let (sink, queue) = digit_queue();
    let start = Instant::now();
    let mut prompter = Gappy {
        from: start,
        len: ms(1000),
    };
    let spec = Spec {
        first_digit_timeout: ms(2000),
        max_digits: 1,
        ..Spec::default()
    };
    let press = tokio::spawn(async move {
        sleep(ms(2500)).await;
        sink.push(Digit::new('4').unwrap());
        sink
    });
    let gathered = gather(&queue, &mut prompter, &spec).await.unwrap();
    assert_eq!(gathered.as_str(), "4");
    assert_eq!(start.elapsed(), ms(2500));
    drop(press.await.unwrap());
}
