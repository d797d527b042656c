//! What the benches share: their command line and their runtimes.

// Each bench is its own crate and uses part of this.
#![allow(dead_code)]

use std::time::Duration;

use tokio::runtime::Runtime;

/// `--calls N --seconds S` (any other argument, such as cargo's `--bench`, is
/// ignored), with these defaults.
pub(crate) fn arguments(calls: usize, seconds: u64) -> (usize, u64) {
    let (mut calls, mut seconds) = (calls, seconds);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--calls" => calls = args.next().and_then(|v| v.parse().ok()).unwrap_or(calls),
            "--seconds" => seconds = args.next().and_then(|v| v.parse().ok()).unwrap_or(seconds),
            _ => {}
        }
    }
    (calls, seconds)
}

/// A multi-thread runtime whose threads are named `name`, so their CPU can be told
/// apart.
pub(crate) fn runtime(name: &'static str, workers: usize) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A sawtooth of `samples` samples (never zero), so received audio can be matched.
pub(crate) fn sawtooth(samples: usize) -> Vec<i16> {
    (0..samples)
        .map(|n| 1000 + ((n * 37) % 8000) as i16)
        .collect()
}

/// The samples in `duration` at 8 kHz.
pub(crate) fn samples_in(duration: Duration) -> usize {
    (duration.as_micros() / 125) as usize
}

/// Runs `engine` on `runtime` until the returned sender fires (or is dropped), once
/// its event socket is up.
pub(crate) fn run_engine(
    runtime: &Runtime,
    engine: voicebot_engine::Engine,
) -> (
    voicebot_engine::EngineHandle,
    tokio::sync::oneshot::Sender<()>,
) {
    let handle = engine.handle();
    let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
    runtime.spawn(engine.run(async {
        let _ = signal.await;
    }));
    runtime.block_on(async {
        while !handle.health().pbx_connected {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    (handle, shutdown)
}

/// Places `calls` inbound calls from `+1555nnnnnnn`, 10 ms apart as real traffic ramps up,
/// each sending `audio`, and waits until every caller hears the bot.
pub(crate) async fn place_callers(
    sim: &voicebot_sim::Sim,
    calls: usize,
    audio: &[i16],
) -> Vec<voicebot_sim::Caller> {
    let mut callers = Vec::with_capacity(calls);
    // One buffer shared by every caller: a copy per call (up to a minute of audio each)
    // would have the simulator's clock walk hundreds of megabytes, a cost of the bench's
    // PBX, not of the engine.
    let audio: bytes::Bytes = audio
        .iter()
        .flat_map(|sample| sample.to_le_bytes())
        .collect();
    for n in 0..calls {
        let caller = sim.call_in(&format!("+1555{n:07}")).await.expect("a call");
        caller.send_shared(audio.clone()).await;
        callers.push(caller);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for caller in &callers {
        caller
            .wait_heard(Duration::from_millis(200))
            .await
            .expect("the bot's audio reaches the caller");
    }
    callers
}
