//! The floor under the load bench's CPU figure: what the socket work of N calls costs on
//! this machine with nothing else in the way (no HTTP parsing, no runtime, no media).
//!
//! `cargo bench --bench socket_floor -- --calls 256,1024 --seconds 10 --tick 40,60`
//!
//! At every tick, one read and one write per call. How it is measured:
//! `benches/load/floor.rs` (the load bench's `--floor` runs the same measurement with
//! the engine's pattern of writes and reads beside each of its runs).

#[path = "load/floor.rs"]
mod floor;
// Shared with the load bench, which uses all of it; this one only reads CPU time.
#[allow(dead_code)]
#[path = "load/procfs.rs"]
mod procfs;

use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    floor::engine_side(&args);
    let value = |name: &str| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|at| args.get(at + 1))
            .cloned()
    };
    let list = |name: &str, default: &str| -> Vec<u64> {
        value(name)
            .unwrap_or_else(|| default.to_owned())
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect()
    };
    let seconds = value("--seconds")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10u64);
    for calls in list("--calls", "256,1024") {
        for tick_ms in list("--tick", "40,60") {
            let window = Duration::from_secs(seconds);
            let per_call_second = floor::measure(calls as usize, tick_ms, 1, window);
            let core = per_call_second * calls as f64 / 1e3;
            println!(
                "--- socket floor: {calls} calls, {tick_ms} ms tick: {per_call_second:.3} ms CPU per call-second ({:.1}% of one core) ---",
                100.0 * core
            );
            println!(
                "{}",
                serde_json::json!({
                    "bench": "socket_floor",
                    "calls": calls,
                    "tick_ms": tick_ms,
                    "seconds": seconds,
                    "cpu_ms_per_call_second": (per_call_second * 1000.0).round() / 1000.0,
                })
            );
        }
    }
}
