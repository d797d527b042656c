//! The stream bridge under load: the latency it adds both ways and its CPU per
//! call-second, against an echo agent (Twilio protocol) on loopback.
//!
//! `cargo bench --bench stream -- --calls 100 --seconds 10`
//!
//! Two runs, each on a fresh simulator and engine: the `echo` bot (delay 0), which
//! loops the caller's audio back inside the engine, is the baseline; then the `stream`
//! bot, whose agent echoes the `media` it gets. In each run one probe call sends
//! clicks (a loud 20 ms frame after silence), first alone and then beside `calls`
//! calls that talk all the time: the round trip is from the click handed to the
//! simulator to the click heard by its caller; for the stream the agent stamps the
//! click's arrival, splitting the trip into caller → agent and agent → caller. What the
//! bridge adds is the stream's round trip less the echo bot's. CPU is user + system
//! time of the engine runtime's threads (`vb-engine`), where the bots and bridges
//! run; the simulator and the agent run on runtimes of their own.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::WebSocketUpgrade;
use axum::extract::ws::{Message, WebSocket};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::runtime::Runtime;
use voicebot_bot::{Bot, G711};
use voicebot_callcontrol::{Client, Secret};
use voicebot_engine::Engine;
use voicebot_sim::{Caller, Sim};

const CLICKS: usize = 10;

fn main() {
    let (calls, seconds) = common::arguments(100, 10);
    let sim_runtime = common::runtime("vb-sim", 1);
    let agent_runtime = common::runtime("vb-agent", 1);
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let agent_url = agent_runtime.block_on(start_agent(Arc::clone(&arrivals)));

    let echo: Arc<dyn Bot> = Arc::new(
        voicebot_echo::Echo::new(voicebot_echo::Config {
            delay: Duration::ZERO,
            max_duration: Duration::from_secs(3600),
            ..voicebot_echo::Config::default()
        })
        .expect("the echo builds"),
    );
    let baseline = run(&sim_runtime, echo, calls, seconds, None);

    let config = format!(
        "url = {agent_url:?}\nparameters = {{ From = \"{{caller}}\" }}\nsilence_timeout = \"0s\""
    );
    let config = toml::from_str(&config).expect("the stream config parses");
    let stream: Arc<dyn Bot> =
        Arc::new(voicebot_webhook::StreamBot::new(config, None).expect("the stream bot builds"));
    let bridged = run(&sim_runtime, stream, calls, seconds, Some(&arrivals));

    println!(
        "--- stream bridge: {calls} streamed calls, {seconds} s measured, {CLICKS} clicks per probe ---"
    );
    for (label, base, bridge) in [
        ("alone", &baseline.alone, &bridged.alone),
        (
            &format!("beside {calls} calls") as &str,
            &baseline.loaded,
            &bridged.loaded,
        ),
    ] {
        println!(
            "{label:<18} round trip: echo bot {} ms, stream {} ms; added by the bridge {} ms (median)",
            ms(median(&base.round_trips)),
            ms(median(&bridge.round_trips)),
            ms(median(&bridge.round_trips).saturating_sub(median(&base.round_trips)))
        );
        println!(
            "{:<18} stream caller → agent {} ms, agent → caller {} ms (median; max {} / {} ms)",
            "",
            ms(median(&bridge.to_agent)),
            ms(median(&bridge.from_agent)),
            ms(max(&bridge.to_agent)),
            ms(max(&bridge.from_agent)),
        );
    }
    println!(
        "engine CPU per call-s echo bot {:.1} µs, stream {:.1} µs ({:.3}% of a core per streamed call); bridge {:.1} µs",
        baseline.cpu_per_call_second * 1e6,
        bridged.cpu_per_call_second * 1e6,
        bridged.cpu_per_call_second * 100.0,
        (bridged.cpu_per_call_second - baseline.cpu_per_call_second) * 1e6
    );
    println!(
        "agent CPU per call-s  {:.1} µs (the in-bench echo agent: JSON, base64, μ-law)",
        bridged.agent_cpu_per_call_second * 1e6
    );
}

#[derive(Default)]
struct Probe {
    round_trips: Vec<Duration>,
    to_agent: Vec<Duration>,
    from_agent: Vec<Duration>,
}

struct Run {
    alone: Probe,
    loaded: Probe,
    cpu_per_call_second: f64,
    agent_cpu_per_call_second: f64,
}

fn run(
    sim_runtime: &Runtime,
    bot: Arc<dyn Bot>,
    calls: usize,
    seconds: u64,
    arrivals: Option<&Arc<Mutex<Vec<Instant>>>>,
) -> Run {
    let engine_runtime = common::runtime("vb-engine", 2);
    let sim = sim_runtime
        .block_on(Sim::start())
        .expect("the simulator starts");
    let client = Client::builder(sim.base_url())
        .credentials(sim.client_id(), Secret::new(sim.client_secret()))
        .build()
        .expect("the client builds");
    let engine = Engine::builder()
        .client(client)
        .route_point(sim.route_point().clone(), bot)
        .max_calls(4096)
        .build()
        .expect("the engine builds");
    let (_handle, shutdown) = common::run_engine(&engine_runtime, engine);
    let alone = sim_runtime.block_on(probe(&sim, "probe-alone", arrivals));
    let talk = common::sawtooth(common::samples_in(Duration::from_secs(seconds + 20)));
    let callers: Vec<Caller> = sim_runtime.block_on(common::place_callers(&sim, calls, &talk));
    let (cpu_before, agent_before) = (thread_cpu("vb-engine"), thread_cpu("vb-agent"));
    let wall = Instant::now();
    let loaded = sim_runtime.block_on(async {
        let probe = probe(&sim, "probe-loaded", arrivals).await;
        let rest = Duration::from_secs(seconds).saturating_sub(wall.elapsed());
        tokio::time::sleep(rest).await;
        probe
    });
    let call_seconds = calls as f64 * wall.elapsed().as_secs_f64();
    let cpu = thread_cpu("vb-engine") - cpu_before;
    let agent_cpu = thread_cpu("vb-agent") - agent_before;
    sim_runtime.block_on(async {
        for caller in &callers {
            let _ = caller.hang_up().await;
        }
    });
    let _ = shutdown.send(());
    engine_runtime.shutdown_timeout(Duration::from_secs(5));
    Run {
        alone,
        loaded,
        cpu_per_call_second: cpu / call_seconds,
        agent_cpu_per_call_second: agent_cpu / call_seconds,
    }
}

/// One call sending clicks; the times each took to come back (and to reach the agent).
async fn probe(sim: &Sim, from: &str, arrivals: Option<&Arc<Mutex<Vec<Instant>>>>) -> Probe {
    let caller = sim.call_in(from).await.expect("the probe call");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut probe = Probe::default();
    for _ in 0..CLICKS {
        let base = caller.heard().samples.len();
        if let Some(arrivals) = arrivals {
            arrivals.lock().unwrap().clear();
        }
        let sent = Instant::now();
        caller.send_pcm(&[12_000; 160]).await;
        // The simulator plays out every 20 ms; polling finer than that adds nothing.
        let heard = loop {
            tokio::time::sleep(Duration::from_millis(2)).await;
            let samples = caller.heard().samples;
            if samples
                .get(base..)
                .is_some_and(|new| new.iter().any(|s| s.abs() > 4000))
            {
                break Instant::now();
            }
            assert!(
                sent.elapsed() < Duration::from_secs(10),
                "{from}: the click never came back ({} samples heard, {base} before the click; {:?} arrivals at the agent)",
                samples.len(),
                arrivals.map(|arrivals| arrivals.lock().unwrap().len()),
            );
        };
        probe.round_trips.push(heard - sent);
        if let Some(arrived) =
            arrivals.and_then(|arrivals| arrivals.lock().unwrap().first().copied())
        {
            probe.to_agent.push(arrived - sent);
            probe
                .from_agent
                .push(heard.saturating_duration_since(arrived));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let _ = caller.hang_up().await;
    probe
}

/// A Twilio echo agent; stamps the arrival of each probe's clicks.
async fn start_agent(arrivals: Arc<Mutex<Vec<Instant>>>) -> String {
    let app = axum::Router::new().route(
        "/media",
        axum::routing::get(move |upgrade: WebSocketUpgrade| {
            let arrivals = Arc::clone(&arrivals);
            async move { upgrade.on_upgrade(move |socket| echo(socket, arrivals)) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("ws://{}/media", listener.local_addr().expect("an address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn echo(mut socket: WebSocket, arrivals: Arc<Mutex<Vec<Instant>>>) {
    let mut is_probe = false;
    let mut samples = [0i16; 160];
    while let Some(Ok(message)) = socket.recv().await {
        let Message::Text(text) = message else {
            continue;
        };
        let value: serde_json::Value = serde_json::from_str(text.as_str()).expect("JSON");
        match value["event"].as_str() {
            Some("start") => {
                is_probe = value["start"]["customParameters"]["From"]
                    .as_str()
                    .is_some_and(|from| from.starts_with("probe"));
            }
            Some("media") => {
                let payload = value["media"]["payload"].as_str().unwrap_or_default();
                if is_probe {
                    let codes = BASE64.decode(payload).unwrap_or_default();
                    G711::Ulaw.decode_into(&codes, &mut samples);
                    if samples.iter().any(|s| s.abs() > 4000) {
                        arrivals.lock().unwrap().push(Instant::now());
                    }
                }
                let reply = serde_json::json!({"event": "media", "streamSid": value["streamSid"],
                                               "media": {"payload": payload}});
                if socket.send(Message::text(reply.to_string())).await.is_err() {
                    return;
                }
            }
            _ => {}
        }
    }
}

fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

fn max(values: &[Duration]) -> Duration {
    values.iter().copied().max().unwrap_or_default()
}

fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1e3)
}

/// User + system CPU seconds of the threads whose names start with `prefix`.
fn thread_cpu(prefix: &str) -> f64 {
    let mut ticks = 0u64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    for task in tasks.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !name.starts_with(prefix) {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        if let Some(rest) = stat.rsplit(')').next() {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let user: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
            let system: u64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
            ticks += user + system;
        }
    }
    ticks as f64 / 100.0 // USER_HZ
}
