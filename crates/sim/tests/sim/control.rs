//! The control API with a plain HTTP client, as a test in any language would use
//! it: place a scripted call, follow it, press, hang up, read the journal; and a
//! callers plan's summary.

use std::time::Duration;

use serde_json::{Value, json};
use voicebot_sim::{CallersPlan, Sim};

use super::util::{client, token, within};

async fn call_json(sim: &Sim, path: &str) -> (u16, Value) {
    let response = client()
        .get(format!("{}{path}", sim.base_url()))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn post(sim: &Sim, path: &str, body: Value) -> reqwest::Response {
    client()
        .post(format!("{}{path}", sim.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_scripted_call_is_placed_followed_and_ended_over_http() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        let response = post(
            &sim,
            "/sim/calls",
            json!({"from": "+15550100", "name": "Alice", "steps": [{"press": "1"}, {"wait": "100ms"}]}),
        )
        .await;
        assert_eq!(response.status(), 201);
        let call: Value = response.json().await.unwrap();
        let id = call["id"].as_u64().unwrap();
        assert_eq!(call["dn"], "800");
        assert_eq!(call["from"], "+15550100");
        // The script ends; the call stays until someone hangs up.
        let done = loop {
            let (status, call) = call_json(&sim, &format!("/sim/calls/{id}")).await;
            assert_eq!(status, 200);
            if call["script"]["status"] == "done" {
                break call;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(done["state"], "connected");
        assert_eq!(done["answered"], true);
        assert_eq!(done["pressed"], "1");
        let press = post(&sim, &format!("/sim/calls/{id}/press"), json!({"digits": "42"})).await;
        assert_eq!(press.status(), 204);
        assert_eq!(post(&sim, &format!("/sim/calls/{id}/hangup"), json!({})).await.status(), 204);
        let (_, ended) = call_json(&sim, &format!("/sim/calls/{id}")).await;
        assert_eq!(ended["state"], "ended");
        assert_eq!(ended["end"], "HungUp");
        assert_eq!(ended["pressed"], "142");
        let (_, heard) = call_json(&sim, &format!("/sim/calls/{id}/heard")).await;
        assert_eq!(heard["heard_ms"], 0);
        let wav = client().get(format!("{}/sim/calls/{id}/heard.wav", sim.base_url())).send().await.unwrap();
        assert_eq!(wav.headers()["content-type"], "audio/wav");
        assert!(wav.bytes().await.unwrap().starts_with(b"RIFF"));
        let (_, list) = call_json(&sim, "/sim/calls").await;
        assert_eq!(list.as_array().unwrap().len(), 1);

        // The journal, whole and from an index on.
        let (_, journal) = call_json(&sim, "/sim/journal").await;
        let entries = journal["entries"].as_array().unwrap();
        let kinds: Vec<&str> = entries.iter().map(|e| e["kind"].as_str().unwrap()).collect();
        for kind in ["call_started", "dtmf_pressed", "call_ended", "script_ended"] {
            assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
        }
        let next = journal["next"].as_u64().unwrap();
        let (_, later) = call_json(&sim, &format!("/sim/journal?since={next}")).await;
        assert!(later["entries"].as_array().unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn bad_control_requests_say_what_is_wrong() {
    within(20, async {
        let sim = Sim::start().await.unwrap();
        for (body, needle) in [
            (json!({"from": ""}), "from"),
            (json!({"from": "1", "steps": [{"dance": 1}]}), "dance"),
            (json!({"to": "800"}), "from"),
            (json!({"from": "1", "to": "999"}), "999"),
        ] {
            let response = post(&sim, "/sim/calls", body.clone()).await;
            assert!(response.status().is_client_error(), "{body}");
            let error: Value = response.json().await.unwrap();
            assert!(
                error["error"].as_str().unwrap().contains(needle),
                "{body}: {error}"
            );
        }
        assert_eq!(call_json(&sim, "/sim/calls/7").await.0, 404);
        assert_eq!(call_json(&sim, "/sim/calls/x").await.0, 404);
        // Control requests are not the PBX's: they are not journalled.
        let (_, journal) = call_json(&sim, "/sim/journal").await;
        assert!(
            journal["entries"].as_array().unwrap().is_empty(),
            "{journal}"
        );
        // And faults injected into the PBX leave the control API alone.
        sim.faults().fail_next("/", 503, usize::MAX);
        assert_eq!(call_json(&sim, "/sim/calls").await.0, 200);
        let token_refused = client()
            .post(format!("{}/connect/token", sim.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(token_refused.status(), 503);
        let _ = token;
    })
    .await;
}

#[tokio::test]
async fn a_callers_plan_places_its_calls_and_sums_them_up_even_when_scripts_fail() {
    within(30, async {
        let sim = Sim::start().await.unwrap();
        let plan = CallersPlan::from_toml(
            r#"
            [[group]]
            name = "pressers"
            count = 3
            every = "50ms"
            from = "+1555010{n}"
            steps = [ { press_random = { keys = "12", count = 2 } }, { wait = "100ms" }, "hang_up" ]
            [[group]]
            name = "doomed"
            count = 2
            steps = [ { wait_heard = "5s" } ]
            [[group]]
            name = "nowhere"
            to = "999"
            "#,
            std::path::Path::new("."),
        )
        .unwrap();
        let run = sim.start_callers(plan);
        // The doomed callers wait for audio nobody plays; end their calls.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut summary = run.summary();
        while summary.placed < 5 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            summary = run.summary();
        }
        sim.hang_up_all();
        let summary = run.wait_done().await;
        assert_eq!((summary.planned, summary.placed), (6, 5), "{summary:?}");
        assert_eq!(summary.answered, 5, "{summary:?}");
        assert_eq!(summary.pressed, 6, "{summary:?}");
        assert_eq!(summary.failed, 2, "{summary:?}");
        assert_eq!(summary.outcomes.get("HungUp"), Some(&3), "{summary:?}");
        let not_placed: usize = summary
            .outcomes
            .iter()
            .filter(|(what, _)| what.starts_with("not placed") && what.contains("999"))
            .map(|(_, n)| *n)
            .sum();
        assert_eq!(not_placed, 1, "{summary:?}");
        assert!(summary.to_string().contains("placed 5/6"), "{summary}");
        // The simulator still serves.
        let _ = token(&sim).await;
    })
    .await;
}
