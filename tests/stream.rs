//! The `stream` bot against an in-test WebSocket agent and the simulator: echo in both
//! protocols, marks echoed when played, `clear` cutting the agent's audio (the
//! barge-in tail measured), DTMF forwarded, the agent leaving or unreachable, and the
//! bridge riding out cut audio streams.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use voicebot_bot::{Bot, G711};
use voicebot_sim::{CallEnd, FarEnd, FarEnds, SimConfig};
use voicebot_webhook::StreamBot;

use crate::stream_agent::Agent;
use crate::support::{Harness, find, sawtooth, timeout};

fn stream_bot(url: &str, extra: &str) -> Arc<dyn Bot> {
    let config = format!("url = {url:?}\n{extra}");
    let config = toml::from_str(&config).expect("the test config parses");
    Arc::new(StreamBot::new(config, None).expect("the bot builds"))
}

/// The next text message as JSON; `None` once the socket ends.
async fn next_json(socket: &mut WebSocket) -> Option<Value> {
    while let Some(Ok(message)) = socket.recv().await {
        match message {
            Message::Text(text) => return Some(serde_json::from_str(text.as_str()).unwrap()),
            Message::Close(_) => return None,
            _ => {}
        }
    }
    None
}

fn ulaw(samples: &[i16]) -> Vec<u8> {
    let mut codes = vec![0; samples.len()];
    G711::Ulaw.encode_into(samples, &mut codes);
    codes
}

fn media(stream_sid: &Value, samples: &[i16]) -> Message {
    let message = json!({
        "event": "media",
        "streamSid": stream_sid,
        "media": { "payload": BASE64.encode(ulaw(samples)) },
    });
    Message::text(message.to_string())
}

fn mark(stream_sid: &Value, name: &str) -> Message {
    Message::text(
        json!({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}}).to_string(),
    )
}

/// Reads `connected` and `start`; returns `start`.
async fn opening(socket: &mut WebSocket) -> Value {
    let connected = next_json(socket).await.unwrap();
    assert_eq!(
        connected,
        json!({"event": "connected", "protocol": "Call", "version": "1.0.0"})
    );
    let start = next_json(socket).await.unwrap();
    assert_eq!(start["event"], "start");
    start
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twilio_agent_hears_the_caller_and_its_echo_is_heard_back() {
    timeout(async {
        let (starts, mut start) = mpsc::unbounded_channel();
        let agent = Agent::start(move |mut socket: WebSocket| {
            let starts = starts.clone();
            async move {
                let start = opening(&mut socket).await;
                let sid = start["streamSid"].clone();
                let _ = starts.send(start);
                let mut chunks = 0u64;
                while let Some(message) = next_json(&mut socket).await {
                    if message["event"] == "media" {
                        chunks += 1;
                        assert_eq!(message["media"]["chunk"], chunks.to_string());
                        let reply = json!({"event": "media", "streamSid": sid,
                                           "media": {"payload": message["media"]["payload"]}});
                        if socket.send(Message::text(reply.to_string())).await.is_err() {
                            return;
                        }
                    }
                }
            }
        })
        .await;
        let bot = stream_bot(
            &agent.url,
            "parameters = { From = \"{caller}\", Route = \"{dn}\" }",
        );
        let harness = Harness::start_with(SimConfig::default(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550801").await.unwrap();
        let start = start.recv().await.unwrap();
        assert_eq!(
            start["start"]["customParameters"],
            json!({"From": "+15550801", "Route": "800"})
        );
        assert_eq!(start["start"]["mediaFormat"]["encoding"], "audio/x-mulaw");
        assert_eq!(start["start"]["tracks"], json!(["inbound"]));
        let spoken = sawtooth(100);
        caller.send_pcm(spoken.samples()).await;
        caller
            .wait_heard(Duration::from_millis(1500))
            .await
            .unwrap();
        // What comes back is the caller's audio through μ-law and back, sample for
        // sample: a stretch from the middle is found whole in what the caller heard.
        let mut expected = vec![0i16; spoken.len_samples()];
        G711::Ulaw.decode_into(&ulaw(spoken.samples()), &mut expected);
        let heard = caller.heard().audio();
        assert!(
            find(&heard, &expected[8_000..8_800]).is_some(),
            "the echo is not the caller's audio"
        );
        caller.hang_up().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mark_is_echoed_when_the_audio_before_it_has_been_played() {
    timeout(async {
        let (echoes, mut echoed) = mpsc::unbounded_channel();
        let agent = Agent::start(move |mut socket: WebSocket| {
            let echoes = echoes.clone();
            async move {
                let start = opening(&mut socket).await;
                let sid = start["streamSid"].clone();
                // One second of audio at once, as an agent's TTS sends it, then a mark.
                socket.send(media(&sid, &[6000; 8000])).await.unwrap();
                socket.send(mark(&sid, "answer-spoken")).await.unwrap();
                while let Some(message) = next_json(&mut socket).await {
                    if message["event"] == "mark" {
                        let _ = echoes.send(message);
                    }
                }
            }
        })
        .await;
        let harness =
            Harness::start_with(SimConfig::default(), |b| b, stream_bot(&agent.url, "")).await;
        let caller = harness.sim.call_in("+15550802").await.unwrap();
        let echo = echoed.recv().await.unwrap();
        let heard_at_echo = caller.heard().audio_duration();
        assert_eq!(echo["mark"]["name"], "answer-spoken");
        assert_eq!(echo["streamSid"].as_str().unwrap().len(), 34);
        // Echoed once played, not when queued: the caller had heard the second, up to
        // the pacer's lead (100 ms) still in flight at the PBX, and a tick.
        assert!(
            heard_at_echo >= Duration::from_millis(860),
            "echoed after only {heard_at_echo:?} of 1 s was heard"
        );
        caller.hang_up().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_cuts_the_agents_audio_at_once_and_echoes_its_marks() {
    timeout(async {
        let (clear_now, clear_rx) = mpsc::unbounded_channel::<()>();
        let clear_rx = Arc::new(tokio::sync::Mutex::new(clear_rx));
        let (echoes, mut echoed) = mpsc::unbounded_channel();
        let agent = Agent::start(move |mut socket: WebSocket| {
            let (echoes, clear_rx) = (echoes.clone(), Arc::clone(&clear_rx));
            async move {
                let start = opening(&mut socket).await;
                let sid = start["streamSid"].clone();
                // A long answer: five seconds, then a mark.
                for _ in 0..5 {
                    socket.send(media(&sid, &[6000; 8000])).await.unwrap();
                }
                socket.send(mark(&sid, "long-answer")).await.unwrap();
                let mut clear_rx = clear_rx.lock().await;
                loop {
                    tokio::select! {
                        Some(()) = clear_rx.recv() => {
                            let clear = json!({"event": "clear", "streamSid": sid});
                            socket.send(Message::text(clear.to_string())).await.unwrap();
                        }
                        message = next_json(&mut socket) => match message {
                            Some(message) if message["event"] == "mark" => { let _ = echoes.send(message); }
                            Some(_) => {}
                            None => return,
                        },
                    }
                }
            }
        })
        .await;
        let harness = Harness::start_with(SimConfig::default(), |b| b, stream_bot(&agent.url, "")).await;
        let caller = harness.sim.call_in("+15550803").await.unwrap();
        caller.wait_heard(Duration::from_secs(1)).await.unwrap();
        // The caller barges in: the agent clears.
        let heard_at_clear = caller.heard().audio_duration();
        clear_now.send(()).unwrap();
        // The mark of the cleared audio comes back at once, as Twilio sends it.
        let echo = echoed.recv().await.unwrap();
        assert_eq!(echo["mark"]["name"], "long-answer");
        caller.wait_silence(Duration::from_millis(500)).await.unwrap();
        let tail = caller.heard().audio_duration().saturating_sub(heard_at_clear);
        eprintln!("barge-in tail after clear: {tail:?}");
        // What was already at the PBX (the pacer's 100 ms lead) plays on, plus the time
        // the clear took to arrive; never the four seconds left of the answer.
        assert!(tail < Duration::from_millis(700), "{tail:?} heard after the clear");
        caller.hang_up().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_forwarded_and_an_agent_that_leaves_is_heard_out_then_hung_up() {
    timeout(async {
        let (keys, mut key) = mpsc::unbounded_channel();
        let agent = Agent::start(move |mut socket: WebSocket| {
            let keys = keys.clone();
            async move {
                let start = opening(&mut socket).await;
                let sid = start["streamSid"].clone();
                while let Some(message) = next_json(&mut socket).await {
                    if message["event"] == "dtmf" {
                        let _ = keys.send(message);
                        // A goodbye, then the agent leaves.
                        socket.send(media(&sid, &[3000; 2400])).await.unwrap();
                        let _ = socket.send(Message::Close(None)).await;
                        // The closing handshake, as a WebSocket endpoint does it:
                        // dropping the socket with the engine's audio unread would
                        // reset the connection, and the kernel discards what the
                        // engine had not read yet (the goodbye and the close).
                        while next_json(&mut socket).await.is_some() {}
                        return;
                    }
                }
            }
        })
        .await;
        let harness =
            Harness::start_with(SimConfig::default(), |b| b, stream_bot(&agent.url, "")).await;
        let caller = harness.sim.call_in("+15550804").await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        caller.press("5").await.unwrap();
        let dtmf = key.recv().await.unwrap();
        assert_eq!(
            dtmf["dtmf"],
            json!({"track": "inbound_track", "digit": "5"})
        );
        assert_eq!(caller.wait_ended().await, CallEnd::Dropped);
        // The goodbye sent just before the socket closed was played whole.
        let goodbye = caller.heard().audio().iter().filter(|&&s| s != 0).count();
        assert!(
            goodbye >= 2_300,
            "only {goodbye} of 2400 goodbye samples heard"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_agent_sends_the_call_to_the_fallback() {
    timeout(async {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = SimConfig {
            far_ends: FarEnds::default()
                .with("200", FarEnd::answer_after(Duration::from_millis(100))),
            ..SimConfig::default()
        };
        let bot = stream_bot(
            &format!("ws://127.0.0.1:{port}/media"),
            "connect_timeout = \"1s\"",
        );
        let harness = Harness::start_with(config, |b| b.fallback(Some("200".into())), bot).await;
        let caller = harness.sim.call_in("+15550805").await.unwrap();
        assert_eq!(
            caller.wait_ended().await,
            CallEnd::TransferredTo("200".into())
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_agent_echo_survives_cut_audio_streams() {
    timeout(async {
        let (starts, mut start) = mpsc::unbounded_channel();
        let agent = Agent::start(move |mut socket: WebSocket| {
            let starts = starts.clone();
            async move {
                while let Some(Ok(message)) = socket.recv().await {
                    match message {
                        Message::Text(text) => {
                            let _ =
                                starts.send(serde_json::from_str::<Value>(text.as_str()).unwrap());
                        }
                        Message::Binary(bytes) => {
                            assert_eq!(bytes.len(), 320, "one 20 ms frame per message");
                            if socket.send(Message::Binary(bytes)).await.is_err() {
                                return;
                            }
                        }
                        _ => {}
                    }
                }
            }
        })
        .await;
        let bot = stream_bot(&agent.url, "protocol = \"raw\"");
        let harness = Harness::start_with(SimConfig::default(), |b| b, bot).await;
        let caller = harness.sim.call_in("+15550806").await.unwrap();
        let start = start.recv().await.unwrap();
        assert_eq!(start["event"], "start");
        assert_eq!(start["call"]["caller"], "+15550806");
        assert_eq!(start["format"]["encoding"], "pcm_s16le");
        let spoken = sawtooth(200);
        caller.send_pcm(spoken.samples()).await;
        caller.wait_heard(Duration::from_millis(800)).await.unwrap();
        harness.sim.faults().cut_audio_streams();
        let heard_at_cut = caller.heard().audio_duration();
        // Both streams are reopened; the echo goes on, exact (no codec).
        caller
            .wait_heard(heard_at_cut + Duration::from_secs(1))
            .await
            .unwrap();
        let heard = caller.heard().audio();
        let late = &spoken.samples()[24_000..24_800];
        assert!(
            find(&heard, late).is_some(),
            "the echo after the cut is not the caller's audio"
        );
        caller.hang_up().await.unwrap();
    })
    .await;
}
