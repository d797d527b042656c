//! The campaign against a scripted [`Dialer`]: a real implementation of our trait
//! at the boundary to the outside world (the far ends), on a paused clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;
use voicebot_bot::{CallError, DialOutcome, async_trait};

use super::*;

/// Answers each number with its script, one entry per attempt (the last entry
/// repeats). Answered calls last 10 s, other outcomes take 20 s of ringing.
#[derive(Default)]
struct ScriptedDialer {
    scripts: HashMap<String, Vec<Result<DialOutcome, CallError>>>,
    log: Mutex<Log>,
}

#[derive(Default)]
struct Log {
    /// (number, when, ring timeout) per attempt.
    attempts: Vec<(String, Instant, Option<Duration>)>,
    in_flight: usize,
    most_in_flight: usize,
}

fn answered() -> Result<DialOutcome, CallError> {
    Ok(DialOutcome::Answered {
        call_id: 1,
        talk_time: Duration::from_secs(10),
        bot_error: None,
    })
}

fn busy() -> Result<DialOutcome, CallError> {
    Ok(DialOutcome::Busy {
        reason: "486 Busy Here".to_owned(),
    })
}

fn no_answer() -> Result<DialOutcome, CallError> {
    Ok(DialOutcome::NoAnswer {
        reason: "no answer".to_owned(),
    })
}

fn failed() -> Result<DialOutcome, CallError> {
    Ok(DialOutcome::Failed {
        reason: "unknown destination".to_owned(),
    })
}

impl ScriptedDialer {
    fn with(mut self, number: &str, script: Vec<Result<DialOutcome, CallError>>) -> Self {
        self.scripts.insert(number.to_owned(), script);
        self
    }
}

#[async_trait]
impl Dialer for ScriptedDialer {
    async fn dial(&self, request: DialRequest) -> Result<DialOutcome, CallError> {
        let attempt = {
            let mut log = self.log.lock().unwrap();
            let number = request.destination.clone();
            let attempt = log.attempts.iter().filter(|(n, ..)| *n == number).count();
            log.attempts
                .push((number, Instant::now(), request.ring_timeout));
            log.in_flight += 1;
            log.most_in_flight = log.most_in_flight.max(log.in_flight);
            attempt
        };
        assert_eq!(request.from.as_str(), "800");
        let script = &self.scripts[&request.destination];
        let outcome = script[attempt.min(script.len() - 1)].clone();
        let length = match outcome {
            Ok(DialOutcome::Answered { .. }) => 10,
            _ => 20,
        };
        tokio::time::sleep(Duration::from_secs(length)).await;
        self.log.lock().unwrap().in_flight -= 1;
        outcome
    }
}

fn config(numbers: &[&str], extra: &str) -> Config {
    let list = numbers
        .iter()
        .map(|number| format!("\"{number}\""))
        .collect::<Vec<_>>()
        .join(", ");
    toml::from_str(&format!(
        "prompts = [\"a.wav\"]\n[outbound]\nfrom = \"800\"\nnumbers = [{list}]\n{extra}"
    ))
    .unwrap()
}

/// Runs the campaign; the log's attempt times are made relative to its start.
async fn run(dialer: ScriptedDialer, config: Config) -> (CampaignReport, Log) {
    let dialer = Arc::new(dialer);
    let campaign = Campaign::with_dialer(config, Arc::clone(&dialer) as _).unwrap();
    let report = campaign.run().await;
    let log = std::mem::take(&mut *dialer.log.lock().unwrap());
    (report, log)
}

#[tokio::test(start_paused = true)]
async fn every_number_gets_one_result_in_list_order() {
    let dialer = ScriptedDialer::default()
        .with("1", vec![answered()])
        .with("2", vec![busy()])
        .with("3", vec![no_answer()])
        .with("4", vec![failed()])
        .with("5", vec![Err(CallError::Shutdown)]);
    let (report, log) = run(
        dialer,
        config(&["1", "2", "3", "4", "5"], "concurrency = 5"),
    )
    .await;
    let outcomes: Vec<_> = report
        .results
        .iter()
        .map(|r| (r.number.as_str(), r.outcome, r.attempts, r.talk_time_ms))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("1", Outcome::Answered, 1, 10_000),
            ("2", Outcome::Busy, 1, 0),
            ("3", Outcome::NoAnswer, 1, 0),
            ("4", Outcome::Failed, 1, 0),
            ("5", Outcome::Failed, 1, 0),
        ]
    );
    assert_eq!(report.results[1].reason, "486 Busy Here");
    assert_eq!(report.results[4].reason, "the engine is shutting down");
    assert_eq!(log.most_in_flight, 5);
}

#[tokio::test(start_paused = true)]
async fn never_more_calls_than_the_concurrency_limit() {
    let numbers = ["1", "2", "3", "4", "5", "6", "7"];
    let mut dialer = ScriptedDialer::default();
    for number in numbers {
        dialer = dialer.with(number, vec![answered()]);
    }
    let started = Instant::now();
    let (report, log) = run(dialer, config(&numbers, "concurrency = 2")).await;
    assert_eq!(report.count(Outcome::Answered), 7);
    assert_eq!(log.most_in_flight, 2);
    // Seven 10 s calls, two at a time: four rounds.
    assert_eq!(started.elapsed(), Duration::from_secs(40));
}

#[tokio::test(start_paused = true)]
async fn busy_and_unanswered_numbers_are_retried_after_the_delay() {
    let dialer = ScriptedDialer::default()
        .with("1", vec![busy(), no_answer(), answered()])
        .with("2", vec![busy()])
        .with("3", vec![failed(), answered()]);
    let extra = "retries = 2\nretry_delay = \"60s\"\nring_timeout = \"20s\"\nconcurrency = 3";
    let started = Instant::now();
    let (report, log) = run(dialer, config(&["1", "2", "3"], extra)).await;
    let summary: Vec<_> = report
        .results
        .iter()
        .map(|r| (r.outcome, r.attempts))
        .collect();
    // "failed" is not in the default retry_on, so number 3 is not tried again.
    assert_eq!(
        summary,
        [
            (Outcome::Answered, 3),
            (Outcome::Busy, 3),
            (Outcome::Failed, 1)
        ]
    );
    let times_of = |number: &str| {
        log.attempts
            .iter()
            .filter(|(n, ..)| n == number)
            .map(|(_, at, _)| at.duration_since(started).as_secs())
            .collect::<Vec<_>>()
    };
    // 20 s of ringing, then 60 s of waiting, before each retry.
    assert_eq!(times_of("1"), [0, 80, 160]);
    assert!(
        log.attempts
            .iter()
            .all(|(.., ring)| *ring == Some(Duration::from_secs(20)))
    );
}

#[tokio::test(start_paused = true)]
async fn a_waiting_retry_does_not_hold_a_call_slot() {
    let dialer = ScriptedDialer::default()
        .with("1", vec![busy(), answered()])
        .with("2", vec![answered()]);
    let extra = "retries = 1\nretry_delay = \"5m\"\nretry_on = [\"busy\"]";
    let started = Instant::now();
    let (report, log) = run(dialer, config(&["1", "2"], extra)).await;
    assert_eq!(report.count(Outcome::Answered), 2);
    // Number 2 is dialled as soon as number 1's busy attempt ends, not after
    // number 1's five-minute wait.
    let second = log.attempts.iter().find(|(n, ..)| n == "2").unwrap();
    assert_eq!(second.1.duration_since(started), Duration::from_secs(20));
}

#[tokio::test(start_paused = true)]
async fn failures_retry_only_when_asked() {
    let dialer = ScriptedDialer::default().with("1", vec![failed(), failed(), answered()]);
    let extra = "retries = 5\nretry_delay = \"1s\"\nretry_on = [\"failed\"]";
    let (report, _) = run(dialer, config(&["1"], extra)).await;
    assert_eq!(report.results[0].outcome, Outcome::Answered);
    assert_eq!(report.results[0].attempts, 3);
}

#[tokio::test]
async fn the_report_is_written_to_the_results_folder() {
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "results_dir = {:?}",
        dir.path().join("out").display().to_string()
    );
    let campaign =
        Campaign::with_dialer(config(&["1"], &extra), Arc::new(ScriptedDialer::default())).unwrap();
    let report = CampaignReport {
        results: vec![NumberResult {
            number: "1".to_owned(),
            outcome: Outcome::Busy,
            attempts: 2,
            reason: "busy".to_owned(),
            talk_time_ms: 0,
        }],
    };
    let [csv, json] = campaign.write_report(&report).await.unwrap();
    assert!(csv.starts_with(dir.path().join("out")));
    assert!(
        std::fs::read_to_string(csv)
            .unwrap()
            .contains("1,busy,2,busy,0")
    );
    assert!(json.exists());
}

#[test]
fn a_campaign_needs_an_outbound_table_and_a_dialer() {
    let inbound: Config = toml::from_str("prompts = [\"a.wav\"]").unwrap();
    let error = Campaign::with_dialer(inbound, Arc::new(ScriptedDialer::default())).unwrap_err();
    assert_eq!(error.key.as_deref(), Some("outbound"));
    let error = Campaign::new(config(&["1"], ""), &BotContext::new()).unwrap_err();
    assert_eq!(error.key.as_deref(), Some("outbound"));
    let context = BotContext::new().with_dialer(Arc::new(ScriptedDialer::default()));
    assert!(Campaign::new(config(&["1"], ""), &context).is_ok());
}
