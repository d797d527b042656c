//! The `webhook` bot against an in-test HTTP server and the simulator: a menu with a
//! gather action and a record action, redirects, bad answers and timeouts sending the
//! call to the fallback, signatures checked on every request, and the WebSocket variant.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use voicebot_bot::Bot;
use voicebot_sim::{CallEnd, Caller, FarEnd, FarEnds, SimConfig};
use voicebot_webhook::WebhookBot;

use crate::support::{Harness, constant_prompt, sawtooth, timeout};
use crate::webhook_server::{Reply, SECRET, WebhookServer};

const PROMPT: Duration = Duration::from_millis(300);

/// The prompts heard, in order: runs of equal samples collapsed to one value each.
fn prompts_heard(caller: &Caller) -> Vec<i16> {
    let mut values: Vec<i16> = caller.heard().audio();
    values.retain(|sample| *sample != 0);
    values.dedup();
    values
}

/// A webhook bot for `url` whose prompts are `{value}.wav` files in `dir`.
pub(crate) fn webhook_bot(dir: &Path, url: &str, extra: &str) -> Arc<dyn Bot> {
    for value in [1000, 2000, 3000, 4000] {
        constant_prompt(dir, value);
    }
    let config = format!(
        "url = {url:?}\nprompts = {:?}\n{extra}",
        dir.display().to_string()
    );
    let config = toml::from_str(&config).expect("the test config parses");
    Arc::new(WebhookBot::new(config, SECRET, dir.join("recordings")).expect("the bot builds"))
}

fn fallback_config() -> SimConfig {
    SimConfig {
        far_ends: FarEnds::default().with("200", FarEnd::answer_after(Duration::from_millis(100))),
        ..SimConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_menu_runs_its_gather_and_record_actions_with_signed_requests() {
    timeout(async {
        let server = WebhookServer::start(|path, body| match path {
            "/voice" => Reply::verbs(json!([
                {"verb": "play", "prompt": "1000.wav"},
                {"verb": "gather", "prompt": "2000.wav", "max_digits": 1, "timeout": "5s", "action": "/menu"}
            ])),
            "/menu" if body["gather"]["digits"] == "1" => Reply::verbs(json!([
                {"verb": "record", "beep": false, "max_length": "5s", "silence_timeout": "0s",
                 "finish_on": "#", "action": "recorded"}
            ])),
            "/recorded" => Reply::verbs(json!([
                {"verb": "play", "prompt": "3000.wav"}, {"verb": "hangup"}
            ])),
            "/status" => Reply::raw(204, ""),
            _ => Reply::verbs(json!([{"verb": "hangup"}])),
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("{}/voice", server.url);
        let extra = format!("status_url = \"{}/status\"", server.url);
        let bot = webhook_bot(dir.path(), &url, &extra);
        let harness = Harness::start_with(SimConfig::default(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550701").await.unwrap();
        caller.wait_heard(PROMPT * 2).await.unwrap();
        caller.press("1").await.unwrap();
        server.wait_path("/menu").await;
        // The recording starts once the answer is in; give it a moment, then speak.
        tokio::time::sleep(Duration::from_millis(300)).await;
        caller.send_pcm(sawtooth(25).samples()).await;
        caller.wait_sent().await;
        caller.press("#").await.unwrap();
        assert_eq!(caller.wait_ended().await, CallEnd::Dropped);
        assert_eq!(prompts_heard(&caller), [1000, 2000, 3000]);

        let asked = server.asked();
        let paths: Vec<&str> = asked.iter().map(|seen| seen.path.as_str()).collect();
        assert_eq!(paths, ["/voice", "/menu", "/recorded"]);
        let call = &asked[0].body;
        assert_eq!(call["event"], "call");
        assert_eq!(call["call"]["caller"], "+15550701");
        assert_eq!(call["call"]["route_point"], "800");
        assert_eq!(call["call"]["direction"], "inbound");
        let gather = &asked[1].body;
        assert_eq!(gather["url"], "/menu");
        assert_eq!(gather["gather"]["digits"], "1");
        assert_eq!(gather["gather"]["ended_by"], "max_digits");
        let record = &asked[2].body["record"];
        assert_eq!(record["ended_by"], "terminator");
        assert_eq!(record["terminator"], "#");
        let recorded_ms = record["duration_ms"].as_u64().unwrap();
        assert!(recorded_ms >= 400, "{record}");
        let path = record["path"].as_str().unwrap();
        assert!(Path::new(path).starts_with(dir.path().join("recordings")), "{path}");
        assert!(Path::new(path).exists(), "{path}");

        let ended = server.wait_ended().await;
        assert_eq!(ended["outcome"], "completed");
        let statuses: Vec<Value> = server.statuses().iter().map(|s| s["status"].clone()).collect();
        assert_eq!(statuses, ["started", "answered", "ended"]);
        let seen = server.seen();
        assert!(seen.iter().all(|seen| seen.signature_ok), "{seen:?}");
        let mut sequences: Vec<u64> = seen.iter().map(|s| s.body["sequence"].as_u64().unwrap()).collect();
        sequences.sort_unstable();
        sequences.dedup();
        assert_eq!(sequences.len(), seen.len(), "every request has its own sequence number");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_fetches_new_verbs_and_attached_data_is_reported() {
    timeout(async {
        let server = WebhookServer::start(|path, body| match path {
            "/voice" => Reply::verbs(json!([
                {"verb": "attach_data", "data": {"crm": "42"}},
                {"verb": "redirect", "url": "/two"},
                {"verb": "play", "prompt": "1000.wav"}
            ])),
            "/two" if body["call"]["attached_data"]["crm"] == "42" => Reply::verbs(json!([
                {"verb": "play", "prompt": "4000.wav"}
            ])),
            _ => Reply::raw(404, "nothing here"),
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let bot = webhook_bot(dir.path(), &format!("{}/voice", server.url), "");
        let harness = Harness::start_with(SimConfig::default(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550702").await.unwrap();
        // The redirect replaced the rest of the first answer; the second one ran out:
        // the bot hangs up.
        assert_eq!(caller.wait_ended().await, CallEnd::Dropped);
        assert_eq!(prompts_heard(&caller), [4000]);
        let asked = server.asked();
        assert_eq!(asked[1].body["event"], "redirect");
        assert_eq!(asked[1].body["url"], "/two");
        let actions = harness.wait_action("drop").await;
        assert!(
            actions
                .iter()
                .any(|(action, _)| action == "attach_participant_data"),
            "{actions:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_answers_send_the_call_to_the_fallback_naming_what_was_wrong() {
    timeout(async {
        let server = WebhookServer::start(|path, body| {
            if path == "/status" {
                return Reply::raw(204, "");
            }
            match body["call"]["caller"].as_str().unwrap_or_default() {
                "+1001" => Reply::verbs(json!([{"verb": "dance"}])),
                "+1002" => Reply::raw(200, "<Response><Say>hi</Say></Response>"),
                "+1003" => Reply::raw(500, "database down"),
                "+1004" => Reply {
                    location: Some("https://elsewhere.example/steal".to_owned()),
                    ..Reply::raw(302, "")
                },
                "+1005" => Reply::verbs(json!([{"verb": "say", "text": "hello"}])),
                _ => Reply::verbs(json!([{"verb": "gather", "max_digit": 2}])),
            }
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let extra = format!(
            "status_url = \"{}/status\"\nretries = 1\ntimeout = \"2s\"",
            server.url
        );
        let bot = webhook_bot(dir.path(), &format!("{}/voice", server.url), &extra);
        let harness =
            Harness::start_with(fallback_config(), |b| b.fallback(Some("200".into())), bot).await;
        let expected = [
            ("+1001", "unknown verb \"dance\""),
            ("+1002", "not JSON"),
            (
                "+1003",
                "HTTP 500 Internal Server Error: \"database down\" (gave up after 2 attempts)",
            ),
            (
                "+1004",
                "HTTP 302 redirect to elsewhere.example: redirects are not followed",
            ),
            ("+1005", "the engine has no speech synthesiser"),
            (
                "+1006",
                "verb 0: gather: max_digit: unknown field `max_digit`",
            ),
        ];
        for (number, error) in expected {
            let caller = harness.sim.call_in(number).await.unwrap();
            // Never dead air: every bad answer ends in the fallback transfer.
            assert_eq!(
                caller.wait_ended().await,
                CallEnd::TransferredTo("200".into()),
                "{number}"
            );
            let ended = loop {
                let found = server.statuses().into_iter().find(|status| {
                    status["status"] == "ended"
                        && status.get("error").is_some()
                        && server.seen().iter().any(|s| {
                            s.body["call"]["caller"] == number && s.body["status"] == *status
                        })
                });
                if let Some(found) = found {
                    break found;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            };
            assert_eq!(ended["outcome"], "failed");
            let text = ended["error"].as_str().unwrap();
            assert!(text.contains(error), "{number}: {text}");
            assert!(!text.contains("test-webhook-secret"));
        }
        // The 500 was retried once (2 attempts, the same request); the others were not.
        let attempts = server
            .asked()
            .iter()
            .filter(|seen| seen.body["call"]["caller"] == "+1003")
            .map(|seen| seen.body["sequence"].clone())
            .collect::<Vec<_>>();
        assert_eq!(attempts.len(), 2, "{attempts:?}");
        assert_eq!(
            attempts[0], attempts[1],
            "a retry keeps its sequence number"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_answers_too_late_is_retried_then_the_call_goes_to_the_fallback() {
    timeout(async {
        let server = WebhookServer::start(|_path, _body| Reply {
            delay: Duration::from_millis(1500),
            ..Reply::verbs(json!([{"verb": "hangup"}]))
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let bot = webhook_bot(
            dir.path(),
            &format!("{}/voice", server.url),
            "timeout = \"300ms\"\nretries = 1",
        );
        let harness =
            Harness::start_with(fallback_config(), |b| b.fallback(Some("200".into())), bot).await;
        let caller = harness.sim.call_in("+15550704").await.unwrap();
        assert_eq!(
            caller.wait_ended().await,
            CallEnd::TransferredTo("200".into())
        );
        let asked = server.asked();
        assert_eq!(asked.len(), 2, "one try and one retry: {asked:?}");
        assert_eq!(asked[0].body["sequence"], asked[1].body["sequence"]);
        assert!(asked.iter().all(|seen| seen.signature_ok));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_webhook_carries_the_same_messages_on_one_socket_per_call() {
    use axum::extract::ws::{Message, WebSocket};

    timeout(async {
        let (messages, mut received) = tokio::sync::mpsc::unbounded_channel::<Value>();
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        let agent = crate::stream_agent::Agent::start(move |mut socket: WebSocket| {
            let messages = messages.clone();
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                while let Some(Ok(Message::Text(text))) = socket.recv().await {
                    let message: Value = serde_json::from_str(text.as_str()).unwrap();
                    let answer = match message["event"].as_str() {
                        Some("call") => Some(json!([
                            {"verb": "gather", "prompt": "1000.wav", "max_digits": 1, "action": "/menu"}
                        ])),
                        Some("gather") => Some(json!([
                            {"verb": "play", "prompt": "2000.wav"}, {"verb": "hangup"}
                        ])),
                        _ => None,
                    };
                    let _ = messages.send(message);
                    if let Some(answer) = answer {
                        socket.send(Message::text(answer.to_string())).await.unwrap();
                    }
                }
            }
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let bot = webhook_bot(dir.path(), &agent.url, "");
        let harness = Harness::start_with(SimConfig::default(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550705").await.unwrap();
        caller.wait_heard(PROMPT).await.unwrap();
        caller.press("7").await.unwrap();
        assert_eq!(caller.wait_ended().await, CallEnd::Dropped);
        assert_eq!(prompts_heard(&caller), [1000, 2000]);
        let mut events = Vec::new();
        while events.last().is_none_or(|event: &String| event != "status:ended") {
            let message = received.recv().await.unwrap();
            events.push(match message["event"].as_str().unwrap() {
                "status" => format!("status:{}", message["status"]["status"].as_str().unwrap()),
                "gather" => {
                    assert_eq!(message["url"], "/menu");
                    assert_eq!(message["gather"]["digits"], "7");
                    "gather".to_owned()
                }
                other => other.to_owned(),
            });
        }
        assert_eq!(
            events,
            ["status:started", "status:answered", "call", "gather", "status:ended"]
        );
        assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
    })
    .await;
}

/// Stops the sample server when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sample_runs_its_menu_against_the_simulator() {
    timeout(async {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let _server = Child(
            std::process::Command::new("python3")
                .arg(root.join("samples/webhook_menu.py"))
                .arg(port.to_string())
                .env(
                    "VOICEBOT_WEBHOOK_SECRET",
                    std::str::from_utf8(SECRET).unwrap(),
                )
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("python3 runs the sample (python3 is needed for this test)"),
        );
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "url = \"http://127.0.0.1:{port}/voice\"\nprompts = {:?}",
            root.join("samples/prompts").display().to_string()
        );
        let config = toml::from_str(&config).unwrap();
        let bot = Arc::new(WebhookBot::new(config, SECRET, dir.path()).unwrap());
        let harness = Harness::start_with(SimConfig::default(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550706").await.unwrap();
        caller.wait_heard(Duration::from_millis(500)).await.unwrap();
        caller.press("2").await.unwrap(); // barges into the welcome prompt
        // The message prompt, the beep, then the caller speaks and ends with #.
        caller
            .wait_silence(Duration::from_millis(300))
            .await
            .unwrap();
        caller.send_pcm(sawtooth(50).samples()).await;
        caller.wait_sent().await;
        caller.press("#").await.unwrap();
        assert_eq!(caller.wait_ended().await, CallEnd::Dropped);
        let recordings: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(recordings.len(), 1, "one voicemail was recorded");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_say_verb_is_spoken_with_the_engines_synthesiser() {
    use voicebot_bot::speech::tts::{Espeak, Speaker};
    timeout(async {
        let server = WebhookServer::start(|path, _body| match path {
            "/voice" => Reply::verbs(json!([
                {"verb": "say", "text": "Welcome to the test line.", "voice": "en-us"},
                {"verb": "hangup"}
            ])),
            _ => Reply::raw(204, ""),
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let bot = webhook_bot(dir.path(), &format!("{}/voice", server.url), "");
        let speaker = Speaker::new(Espeak::builder().build().expect("espeak-ng settings"));
        let text = "Welcome to the test line.";
        let whole = speaker.synthesize(text, Some("en-us")).await.unwrap();
        let harness = Harness::start_with(SimConfig::default(), |b| b.speaker(speaker), bot).await;
        let caller = harness.sim.call_in("+15550801").await.unwrap();
        let end = caller.wait_ended().await;
        assert!(matches!(end, CallEnd::Dropped), "{end:?}");
        // The whole sentence was played before the hang-up, and it is speech: a
        // quarter of a second or more louder than -30 dBFS.
        let heard = caller.heard().audio();
        assert!(
            heard.len() >= whole.samples().len(),
            "heard {} samples of {}",
            heard.len(),
            whole.samples().len()
        );
        let loud = heard.iter().filter(|sample| sample.abs() > 1_000).count();
        assert!(loud > 2_000, "{loud} loud samples");
    })
    .await;
}
