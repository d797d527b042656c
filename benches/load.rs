//! Load test: N concurrent full-duplex calls against the simulator, with barge-ins.
//!
//! `cargo bench --bench load -- --calls 64,256,1024 --seconds 30 [--busy] [--nice N] [--floor] [--media-tick MS] [--read-tick MS] [--lead MS] [--workers N] [--call-threads N]`
//!
//! The engine runs in a child process of its own (this bench binary with `--engine`), so
//! CPU (`/proc/PID/stat`), memory (`VmRSS` growth from before the first call) and system
//! calls (`perf stat`, where allowed, in a window of up to 5 s after the CPU's, since
//! tracing them costs CPU) are the engine's alone; the simulator and its
//! per-caller queues and records stay in this process. `--busy` starts a process that
//! keeps one core busy for the whole run and stops it at the end.
//! `--nice N` runs the engine's call threads (`call_thread_nice`) and the simulator's threads
//! at niceness N, the busy process at the bench's own. `--floor` measures the socket
//! floor (`benches/load/floor.rs`: the bare system calls of as many calls, with the
//! engine's writes and reads per tick, 10 s) just before each run and gives the engine's
//! CPU as a multiple of it: this machine's speed moves by a factor of three from hour
//! to hour, the multiple much less.
//!
//! Each caller talks continuously and presses a key every `--press-every` seconds
//! (staggered across calls); each bot reads the caller's audio and loops a one-second
//! prompt until a key stops it, then loops the next one (another value). A barge-in's
//! *tail* is how long the caller still hears the stopped prompt after the key, in the
//! simulator's media time (the digit's trip to the engine included).
//!
//! Per run it prints a summary and one JSON line (starting with `{`) to compare runs.
//! `LOAD_BENCH_WRAPPER=heaptrack` runs the engine process under a profiler.

mod common;
#[path = "load/engine.rs"]
mod engine;
#[path = "load/floor.rs"]
mod floor;
#[path = "load/procfs.rs"]
mod procfs;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;
use voicebot_sim::{Caller, Sim};

use self::engine::{ChildStats, Tuning};

/// How long `--floor` measures the socket floor.
const FLOOR_WINDOW: Duration = Duration::from_secs(10);

/// What a run is asked to do.
#[derive(Debug, Clone)]
struct Plan {
    calls: Vec<usize>,
    seconds: u64,
    busy: bool,
    /// Measure the socket floor before each run (`--floor`).
    floor: bool,
    press_every: Duration,
    sim_workers: usize,
    tuning: Tuning,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|arg| arg == "--spin") {
        procfs::spin();
    }
    if let Some(at) = args.iter().position(|arg| arg == "--engine") {
        let value = |n: usize| args.get(at + n).map(String::as_str).unwrap_or_default();
        engine::run(value(1), value(2), value(3), &Tuning::parse(&args));
        return;
    }
    floor::engine_side(&args);
    let plan = plan(&args);
    let sim_runtime = sim_runtime(plan.sim_workers, plan.tuning.nice);
    for &calls in &plan.calls {
        // Before the run, on a machine without the simulator, the engine or the busy
        // process: the machine's speed at this hour.
        let floor = plan.floor.then(|| {
            let (tick, read_every) = plan.tuning.media_pattern();
            floor::measure(calls, tick, read_every, FLOOR_WINDOW)
        });
        let mut report = run(&sim_runtime, &plan, calls);
        report.floor = floor;
        report.print();
    }
}

/// The simulator's runtime, its threads at niceness `nice` when given (the PBX's
/// priority, beside the engine's call threads; the main thread, which starts the busy
/// process, keeps the bench's own).
fn sim_runtime(workers: usize, nice: Option<i32>) -> Runtime {
    let Some(nice) = nice else {
        return common::runtime("vb-sim", workers);
    };
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("vb-sim")
        .on_thread_start(move || {
            let own = Some(rustix::thread::gettid());
            rustix::process::setpriority_process(own, nice)
                .expect("--nice below 0 needs CAP_SYS_NICE");
        })
        .enable_all()
        .build()
        .expect("a runtime")
}

fn plan(args: &[String]) -> Plan {
    let value = |name: &str| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|at| args.get(at + 1))
    };
    let calls = value("--calls")
        .map(|list| {
            list.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect()
        })
        .unwrap_or_else(|| vec![64, 256, 1024]);
    Plan {
        calls,
        seconds: value("--seconds")
            .and_then(|v| v.parse().ok())
            .unwrap_or(30),
        busy: args.iter().any(|arg| arg == "--busy"),
        floor: args.iter().any(|arg| arg == "--floor"),
        press_every: Duration::from_secs_f64(
            value("--press-every")
                .and_then(|v| v.parse().ok())
                .unwrap_or(5.0),
        ),
        sim_workers: value("--sim-workers")
            .and_then(|v| v.parse().ok())
            .unwrap_or(2),
        tuning: Tuning::parse(args),
    }
}

/// The engine child process and its line protocol.
struct EngineProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl EngineProcess {
    fn start(sim: &Sim, tuning: &Tuning) -> Self {
        let own = std::env::current_exe().expect("the bench's own path");
        // `LOAD_BENCH_WRAPPER=heaptrack` (or `valgrind`, `perf record`, ...) runs the
        // engine process under that program, to see where its memory or time goes.
        let mut command = match std::env::var("LOAD_BENCH_WRAPPER") {
            Ok(wrapper) if !wrapper.trim().is_empty() => {
                let mut words = wrapper.split_whitespace();
                let mut command = Command::new(words.next().expect("not empty"));
                command.args(words).arg(own);
                command
            }
            _ => Command::new(own),
        };
        let mut child = command
            .arg("--engine")
            .arg(sim.base_url())
            .arg(sim.client_id())
            .arg(sim.route_point().to_string())
            .args(tuning.args())
            .env("LOAD_BENCH_SECRET", sim.client_secret())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the engine process starts");
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut process = Self {
            child,
            stdin,
            stdout,
        };
        // A wrapper (a profiler) may print lines of its own first.
        loop {
            let line = process.line();
            if line == "ready" {
                break;
            }
            assert!(!line.is_empty(), "the engine connects");
            eprintln!("engine process: {line}");
        }
        process
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        let _ = self.stdout.read_line(&mut line);
        line.trim().to_owned()
    }

    fn stats(&mut self) -> ChildStats {
        let _ = writeln!(self.stdin, "stats");
        let _ = self.stdin.flush();
        let line = self.line();
        ChildStats::parse(&line).unwrap_or_else(|| panic!("engine stats: {line:?}"))
    }

    fn stop(mut self) {
        let _ = writeln!(self.stdin, "stop");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

/// What one run measured.
#[derive(Debug)]
struct Report {
    calls: usize,
    seconds: f64,
    busy: bool,
    /// The engine's call threads' and the simulator's niceness (`--nice`).
    nice: Option<i32>,
    load_before: String,
    load_after: String,
    cpu_seconds: f64,
    /// CPU of this process (the simulator and its callers) over the same window: what
    /// the machine had left for the engine.
    sim_cpu_seconds: f64,
    rss_kib: u64,
    /// System calls per second (all calls together).
    syscalls: Option<f64>,
    window: ChildStats,
    gaps_heard: usize,
    /// Of those, gaps that began within 500 ms after a key press (between a stopped
    /// prompt and the next one).
    gaps_after_press: usize,
    /// Of those, gaps the simulator may have caused: the audio that ended them came in
    /// a read of its that was late (`voicebot_sim::LATE_READ` after the stream's last).
    gaps_simulator_late: usize,
    /// How the simulator's media clock kept time over the window.
    sim_clock: voicebot_sim::ClockStats,
    gap_time: Duration,
    underruns: u64,
    max_lead: Duration,
    tails: Vec<Duration>,
    /// Tails over 100 ms during which the simulator read the call's audio late.
    long_tails_simulator_late: usize,
    /// The socket floor measured just before the run (`--floor`), ms per call-second.
    floor: Option<f64>,
}

fn run(sim_runtime: &Runtime, plan: &Plan, calls: usize) -> Report {
    let load_before = loadavg();
    let sim = sim_runtime
        .block_on(Sim::start())
        .expect("the simulator starts");
    let mut engine = EngineProcess::start(&sim, &plan.tuning);
    let pid = engine.pid();
    let rss_before = procfs::rss_kib(pid);
    let busy = plan.busy.then(procfs::Busy::start);
    let ramp = Duration::from_millis(10) * calls as u32;
    let talk = Duration::from_secs(plan.seconds + 10) + ramp;
    let call_audio = common::sawtooth(common::samples_in(talk));
    let callers: Vec<Caller> =
        sim_runtime.block_on(common::place_callers(&sim, calls, &call_audio));
    drop(call_audio);
    println!("{calls} calls up; measuring for {} s", plan.seconds);
    let presses: Arc<Mutex<Vec<Vec<Duration>>>> = Arc::new(Mutex::new(vec![Vec::new(); calls]));
    let pressing = sim_runtime.spawn(press_keys(
        callers.clone(),
        plan.press_every,
        Arc::clone(&presses),
    ));
    let stats_before = engine.stats();
    // From here on: the simulator's own lateness over the window.
    let _ = sim.take_clock_stats();
    let cpu_before = procfs::cpu_seconds(pid);
    let sim_cpu_before = procfs::cpu_seconds(std::process::id());
    let window = Duration::from_secs(plan.seconds);
    let wall = Instant::now();
    std::thread::sleep(window);
    let cpu_seconds = procfs::cpu_seconds(pid) - cpu_before;
    let sim_cpu_seconds = procfs::cpu_seconds(std::process::id()) - sim_cpu_before;
    let seconds = wall.elapsed().as_secs_f64();
    let rss_during = procfs::rss_kib(pid);
    let stats_after = engine.stats();
    let sim_clock = sim.take_clock_stats();
    // System calls in a window of their own: tracing them costs the engine CPU.
    let syscall_window = window.min(Duration::from_secs(5));
    let syscalls = procfs::count_syscalls(pid, syscall_window)
        .join()
        .ok()
        .flatten()
        .map(|count| count as f64 / syscall_window.as_secs_f64());
    pressing.abort();
    // Let the last presses' tails play out before reading what was heard.
    std::thread::sleep(Duration::from_millis(500));
    let presses = presses.lock().expect("not poisoned").clone();
    let mut report = Report {
        calls,
        seconds,
        busy: plan.busy,
        nice: plan.tuning.nice,
        load_before,
        load_after: String::new(),
        cpu_seconds,
        sim_cpu_seconds,
        rss_kib: rss_during.saturating_sub(rss_before),
        syscalls,
        window: ChildStats {
            active: stats_after.active,
            frames_in: stats_after.frames_in - stats_before.frames_in,
            frames_out: stats_after.frames_out - stats_before.frames_out,
            jitter_underruns: stats_after.jitter_underruns,
            barge_ins: stats_after.barge_ins - stats_before.barge_ins,
            frames_read: stats_after.frames_read - stats_before.frames_read,
            late_ticks: stats_after.late_ticks - stats_before.late_ticks,
        },
        gaps_heard: 0,
        gaps_after_press: 0,
        gaps_simulator_late: 0,
        sim_clock,
        gap_time: Duration::ZERO,
        underruns: stats_after.jitter_underruns,
        max_lead: Duration::ZERO,
        tails: Vec::new(),
        long_tails_simulator_late: 0,
        floor: None,
    };
    for (caller, presses) in callers.iter().zip(&presses) {
        let heard = caller.heard();
        report.gaps_heard += heard.underruns.len();
        report.gaps_simulator_late += heard
            .underruns
            .iter()
            .filter(|gap| gap.simulator_late)
            .count();
        report.gaps_after_press += heard
            .underruns
            .iter()
            .filter(|gap| {
                presses
                    .iter()
                    .any(|&at| gap.at >= at && gap.at <= at + Duration::from_millis(500))
            })
            .count();
        report.gap_time += heard.underruns.iter().map(|gap| gap.len).sum::<Duration>();
        report.max_lead = report.max_lead.max(heard.max_lead);
        for (tail, late) in tails(&heard, presses) {
            report.tails.push(tail);
            if late && tail > Duration::from_millis(100) {
                report.long_tails_simulator_late += 1;
            }
        }
    }
    sim_runtime.block_on(async {
        for caller in &callers {
            let _ = caller.hang_up().await;
        }
    });
    drop(callers);
    engine.stop();
    drop(busy);
    sim_runtime.block_on(sim.shutdown());
    report.load_after = loadavg();
    report
}

/// Presses a key on every call every `every`, staggered; notes each press's media time
/// (the n-th press of a call stops its n-th prompt).
async fn press_keys(
    callers: Vec<Caller>,
    every: Duration,
    presses: Arc<Mutex<Vec<Vec<Duration>>>>,
) {
    let calls = callers.len().max(1) as u32;
    let step = every / calls;
    let mut interval = tokio::time::interval(step.max(Duration::from_micros(100)));
    for (n, caller) in callers.iter().enumerate().cycle() {
        interval.tick().await;
        let at = caller.media_now();
        if caller.press("1").await.is_ok() {
            presses.lock().expect("not poisoned")[n].push(at);
        }
    }
}

/// How long each press's prompt went on being heard after it, from the caller's timeline.
/// Each tail says whether the simulator read the call's audio late while it lasted (the
/// caller's timeline is then uncertain: see `voicebot_sim::Heard::late_reads`).
fn tails(heard: &voicebot_sim::Heard, presses: &[Duration]) -> Vec<(Duration, bool)> {
    presses
        .iter()
        .enumerate()
        .filter_map(|(n, &at)| {
            let value = engine::prompt_value(n);
            let end = heard.samples.iter().rposition(|&sample| sample == value)?;
            let end = Duration::from_micros((end as u64 + 1) * 125);
            // A press that came before its prompt began stopped nothing of it.
            let tail = (end >= at).then(|| end - at)?;
            let late = heard
                .late_reads
                .iter()
                .any(|&read| read >= at && read <= end + Duration::from_millis(20));
            Some((tail, late))
        })
        .collect()
}

/// Milliseconds with their fraction, for printing.
fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Report {
    fn print(&self) {
        let call_seconds = self.calls as f64 * self.seconds;
        let cpu_ms = 1e3 * self.cpu_seconds / call_seconds;
        let rss_per_call = self.rss_kib as f64 / self.calls as f64;
        let syscalls = self
            .syscalls
            .map(|per_second| per_second / self.calls as f64);
        let mut tails = self.tails.clone();
        tails.sort();
        let tail_at = |q: f64| {
            tails
                .get(((tails.len() as f64 * q) as usize).min(tails.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        let over = tails
            .iter()
            .filter(|&&tail| tail > Duration::from_millis(100))
            .count();
        println!(
            "--- load: {} calls, {:.1} s measured{} (load {} → {}) ---",
            self.calls,
            self.seconds,
            match (self.busy, self.nice) {
                (true, Some(_)) => ", one core kept busy, engine and simulator reniced",
                (true, None) => ", one core kept busy",
                (false, Some(_)) => ", engine and simulator reniced",
                (false, None) => "",
            },
            self.load_before,
            self.load_after
        );
        println!(
            "engine CPU            {:.2} s ({:.1}% of one core); {cpu_ms:.3} ms per call-second",
            self.cpu_seconds,
            100.0 * self.cpu_seconds / self.seconds
        );
        println!(
            "simulator CPU         {:.1}% of one core (same machine, not counted above)",
            100.0 * self.sim_cpu_seconds / self.seconds
        );
        println!(
            "engine RSS per call   {rss_per_call:.1} KiB ({} KiB growth)",
            self.rss_kib
        );
        if let Some(floor) = self.floor {
            println!(
                "socket floor          {floor:.3} ms per call-second just before (the same writes \
                 and reads, bare): the engine needs {:.2} times it",
                cpu_ms / floor
            );
        }
        match syscalls {
            Some(rate) => println!("system calls          {rate:.1} per call-second"),
            None => println!("system calls          not readable here (perf stat)"),
        }
        println!(
            "frames in / out       {:.1} / {:.1} per call-second (50 is real time); bots read {:.1}",
            self.window.frames_in as f64 / call_seconds,
            self.window.frames_out as f64 / call_seconds,
            self.window.frames_read as f64 / call_seconds,
        );
        println!(
            "gaps heard by callers {} ({:?} in all); engine jitter underruns {}; max lead {:?}",
            self.gaps_heard, self.gap_time, self.underruns, self.max_lead
        );
        println!(
            "                      of the gaps, {} began within 500 ms after a key press, {} ended \
             with audio the simulator read late; engine media ticks 20 ms late or more: {}",
            self.gaps_after_press, self.gaps_simulator_late, self.window.late_ticks
        );
        println!(
            "                      simulator media clock: {} ticks more than 40 ms after the \
             last, longest pause {:.1} ms",
            self.sim_clock.late_ticks,
            ms(self.sim_clock.longest_pause)
        );
        println!(
            "barge-ins             {} in the window; tails p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {over} over 100 ms \
             ({} of those while the simulator read late)",
            self.window.barge_ins,
            ms(tail_at(0.5)),
            ms(tail_at(0.99)),
            ms(tails.last().copied().unwrap_or_default()),
            self.long_tails_simulator_late
        );
        let json = serde_json::json!({
            "calls": self.calls,
            "seconds": (self.seconds * 10.0).round() / 10.0,
            "busy": self.busy,
            "nice": self.nice,
            "load_before": self.load_before,
            "load_after": self.load_after,
            "active_calls": self.window.active,
            "cpu_ms_per_call_second": (cpu_ms * 1000.0).round() / 1000.0,
            "floor_ms_per_call_second": self.floor.map(|floor| (floor * 1000.0).round() / 1000.0),
            "cpu_over_floor": self.floor.map(|floor| (cpu_ms / floor * 100.0).round() / 100.0),
            "sim_cpu_percent": (1000.0 * self.sim_cpu_seconds / self.seconds).round() / 10.0,
            "rss_kib_per_call": (rss_per_call * 10.0).round() / 10.0,
            "syscalls_per_call_second": syscalls.map(|rate| (rate * 10.0).round() / 10.0),
            "frames_out_per_call_second": self.window.frames_out as f64 / call_seconds,
            "gaps_heard": self.gaps_heard,
            "gaps_after_press": self.gaps_after_press,
            "gaps_simulator_late": self.gaps_simulator_late,
            "sim_clock_late_ticks": self.sim_clock.late_ticks,
            "sim_clock_longest_pause_ms": self.sim_clock.longest_pause.as_millis(),
            "gap_ms": self.gap_time.as_millis() as u64,
            "underruns": self.underruns,
            "late_ticks": self.window.late_ticks,
            "max_lead_ms": self.max_lead.as_millis() as u64,
            "barge_ins": self.window.barge_ins,
            "tail_p50_ms": tail_at(0.5).as_millis() as u64,
            "tail_p99_ms": tail_at(0.99).as_millis() as u64,
            "tail_max_ms": tails.last().copied().unwrap_or_default().as_millis() as u64,
            "tails_over_100ms": over,
            "tails_over_100ms_simulator_late": self.long_tails_simulator_late,
        });
        println!("{json}");
    }
}
