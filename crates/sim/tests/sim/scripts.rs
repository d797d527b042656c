//! Scripted callers.

use std::time::Duration;

use voicebot_sim::{CallEnd, JournalKind, Script, Sim, Step};

use super::util::within;

#[tokio::test]
async fn a_toml_script_presses_sends_and_hangs_up() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("hello.wav");
        let samples: Vec<i16> = (0..800).map(|i| ((i % 50) * 100) as i16).collect();
        voicebot_sim::write_wav(&wav, &samples).unwrap();
        let text = format!(
            "steps = [ {{ wait_connected = true }}, {{ send_wav = {:?} }}, {{ press = \"42\" }}, {{ wait = \"50ms\" }}, \"hang_up\" ]",
            wav.display().to_string()
        );
        let script = Script::from_toml(&text).unwrap();
        assert_eq!(script.steps.len(), 5);
        let caller = sim.call_in("+15550300").await.unwrap();
        caller.run(&script).await.unwrap();
        assert_eq!(caller.wait_ended().await, CallEnd::HungUp);
        let presses: Vec<String> = sim
            .journal()
            .iter()
            .filter_map(|e| match &e.kind {
                JournalKind::DtmfPressed { digits, .. } => Some(digits.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(presses, ["42"]);
    })
    .await;
}

#[tokio::test]
async fn many_concurrent_calls_are_cheap() {
    within(60, async {
        let sim = Sim::start().await.unwrap();
        let mut callers = Vec::new();
        for n in 0..256 {
            callers.push(sim.call_in(&format!("+1555{n:04}")).await.unwrap());
        }
        let script = Script::from(vec![
            Step::SendSilence(Duration::from_millis(200)),
            Step::Press("1".into()),
            Step::HangUp,
        ]);
        let runs = callers.iter().map(|caller| caller.run(&script));
        for result in futures::future::join_all(runs).await {
            result.unwrap();
        }
        assert!(sim.snapshot().iter().all(|d| d.participants.is_empty()));
    })
    .await;
}
