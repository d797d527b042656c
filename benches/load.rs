//! Load test: N concurrent full-duplex calls against the simulator.
//!
//! `cargo bench --bench load -- --calls 256 --seconds 30`
//!
//! The simulator and the engine run in this process but on two separate tokio
//! runtimes whose threads are named `vb-sim` and `vb-engine`; engine CPU is the user +
//! system time of the `vb-engine` threads only (from `/proc/self/task/*/stat`), so the
//! simulator's own cost (its media clock, the callers) is left out. Memory is the
//! process's RSS growth while the calls run, so it includes the simulator's per-call
//! state too: read it as an upper bound for the engine.
//!
//! Each caller talks continuously (a sawtooth queued for the whole run); each bot
//! loops a one-second prompt forever while reading `call.audio()`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use voicebot_bot::{StreamExt, bot_fn};
use voicebot_callcontrol::{Client, Secret};
use voicebot_engine::Engine;
use voicebot_sim::{Caller, Sim};

fn main() {
    let (calls, seconds) = common::arguments(256, 30);
    let sim_runtime = common::runtime("vb-sim", 1);
    let engine_runtime = common::runtime("vb-engine", 2);
    let sim = sim_runtime
        .block_on(Sim::start())
        .expect("the simulator starts");
    let frames_read = Arc::new(AtomicU64::new(0));
    let (engine, shutdown) = start_engine(&engine_runtime, &sim, Arc::clone(&frames_read));

    let rss_before = rss_kib();
    let call_audio = common::sawtooth(((seconds + 15) * 8000) as usize);
    let callers: Vec<Caller> = sim_runtime.block_on(async {
        let mut callers = Vec::with_capacity(calls);
        for n in 0..calls {
            let caller = sim.call_in(&format!("+1555{n:07}")).await.expect("a call");
            caller.send_pcm(&call_audio).await;
            callers.push(caller);
            // Ramp up over a few seconds, as real traffic would.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for caller in &callers {
            caller
                .wait_heard(Duration::from_millis(200))
                .await
                .expect("the bot plays");
        }
        callers
    });
    println!("{calls} calls up; measuring for {seconds} s");
    let stats_before = engine.stats();
    let cpu_before = engine_cpu();
    let wall = Instant::now();
    std::thread::sleep(Duration::from_secs(seconds));
    let cpu = engine_cpu() - cpu_before;
    let elapsed = wall.elapsed().as_secs_f64();
    let stats = engine.stats();
    let rss_during = rss_kib();
    let active = stats.active_calls;

    let (underruns, gap_time, max_lead) = sim_runtime.block_on(async {
        let mut underruns = 0;
        let mut gap_time = Duration::ZERO;
        let mut max_lead = Duration::ZERO;
        for caller in &callers {
            let heard = caller.heard();
            underruns += heard.underruns.len();
            gap_time += heard.underruns.iter().map(|gap| gap.len).sum::<Duration>();
            max_lead = max_lead.max(heard.max_lead);
            let _ = caller.hang_up().await;
        }
        (underruns, gap_time, max_lead)
    });
    let _ = shutdown.send(());
    engine_runtime.shutdown_timeout(Duration::from_secs(5));

    let call_seconds = calls as f64 * elapsed;
    println!("--- load: {calls} full-duplex calls, {elapsed:.1} s measured ---");
    println!(
        "engine CPU            {:.2} s ({:.1}% of one core)",
        cpu,
        100.0 * cpu / elapsed
    );
    println!(
        "engine CPU per call-s {:.1} µs ({:.3}% of a core per call)",
        1e6 * cpu / call_seconds,
        100.0 * cpu / call_seconds
    );
    println!("active calls          {active}");
    println!(
        "RSS per call          {:.1} KiB (engine + simulator; {} KiB total growth)",
        (rss_during.saturating_sub(rss_before)) as f64 / calls as f64,
        rss_during.saturating_sub(rss_before)
    );
    println!(
        "frames in / out       {} / {} in the window ({:.1} / {:.1} per call-second; 50 is real time)",
        stats.frames_in - stats_before.frames_in,
        stats.frames_out - stats_before.frames_out,
        (stats.frames_in - stats_before.frames_in) as f64 / call_seconds,
        (stats.frames_out - stats_before.frames_out) as f64 / call_seconds
    );
    println!(
        "frames read by bots   {}",
        frames_read.load(Ordering::Relaxed)
    );
    println!(
        "jitter underruns      {} (engine side, whole run)",
        stats.jitter_underruns
    );
    println!(
        "gaps heard by callers {underruns} ({gap_time:?} in total, whole run); max lead {max_lead:?}"
    );
}

fn start_engine(
    runtime: &Runtime,
    sim: &Sim,
    frames_read: Arc<AtomicU64>,
) -> (
    voicebot_engine::EngineHandle,
    tokio::sync::oneshot::Sender<()>,
) {
    let prompt = voicebot_bot::Prompt::from_samples(common::sawtooth(8000)).expect("a prompt");
    let bot = bot_fn(move |call| {
        let prompt = prompt.clone();
        let frames_read = Arc::clone(&frames_read);
        async move {
            let mut audio = call.audio();
            tokio::spawn(async move {
                while audio.next().await.is_some() {
                    frames_read.fetch_add(1, Ordering::Relaxed);
                }
            });
            call.play(prompt).forever().await?;
            Ok(())
        }
    });
    let client = Client::builder(sim.base_url())
        .credentials(sim.client_id(), Secret::new(sim.client_secret()))
        .build()
        .expect("the client builds");
    let engine = Engine::builder()
        .client(client)
        .route_point(sim.route_point().clone(), Arc::new(bot))
        .max_calls(4096)
        .build()
        .expect("the engine builds");
    common::run_engine(runtime, engine)
}

/// User + system CPU seconds of the engine runtime's threads.
fn engine_cpu() -> f64 {
    let ticks = 100.0; // USER_HZ on Linux
    let mut total = 0u64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("vb-engine") {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the `(comm)`: state is field 3; utime and stime are 14 and 15.
        if let Some(rest) = stat.rsplit(')').next() {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
            let stime: u64 = fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
            total += utime + stime;
        }
    }
    total as f64 / ticks
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
