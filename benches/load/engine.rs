//! The engine side of the load bench: run as a child process of the bench (`--engine URL`),
//! so its CPU, memory and system calls are the engine's alone.
//!
//! Line protocol on stdin/stdout: the child prints `ready` once its event socket is up,
//! answers `stats` with one line of counters (see [`stats_line`]) and ends on `stop` (or
//! when stdin closes).

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use voicebot_bot::{PlayOutcome, Prompt, StreamExt, bot_fn};
use voicebot_callcontrol::{Client, Secret};
use voicebot_engine::{Engine, EngineHandle};
use voicebot_model::Dn;

/// Distinct prompt values: the n-th prompt of a call (after n barge-ins) is all
/// `prompt_value(n)`, so the bench can find where each one ended in what the caller heard.
pub(crate) const PROMPT_VALUES: usize = 64;

/// The value every sample of a call's n-th prompt has.
pub(crate) fn prompt_value(n: usize) -> i16 {
    1000 + 100 * (n % PROMPT_VALUES) as i16
}

/// The engine's settings the bench may vary, as `--name value` arguments.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tuning {
    pub(crate) workers: Option<usize>,
    /// `--media-tick MS`: the engine's media tick.
    pub(crate) media_tick: Option<u64>,
    /// `--read-tick MS`: how often the engine reads the caller's audio.
    pub(crate) read_tick: Option<u64>,
    /// `--lead MS`: the pacer's lead.
    pub(crate) lead: Option<u64>,
    /// `--call-threads N`: the engine's call threads (default one per core, as
    /// `voicebot run`; 0: calls on its runtime).
    pub(crate) call_threads: Option<usize>,
    /// `--nice N`: the engine's call threads (`call_thread_nice`) and the simulator's
    /// threads run at niceness N; the busy process stays at the bench's own.
    pub(crate) nice: Option<i32>,
}

impl Tuning {
    /// The engine's pattern of socket work: a write every `media_tick` ms, a read every
    /// so many ticks (as the engine rounds them: whole ticks, one to three), with the
    /// engine's defaults where not set.
    pub(crate) fn media_pattern(&self) -> (u64, u32) {
        let tick = self.media_tick.unwrap_or(20).max(1);
        let read_tick = self.read_tick.unwrap_or(40);
        (tick, (read_tick / tick).clamp(1, 3) as u32)
    }

    pub(crate) fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(workers) = self.workers {
            args.extend(["--workers".to_owned(), workers.to_string()]);
        }
        if let Some(tick) = self.media_tick {
            args.extend(["--media-tick".to_owned(), tick.to_string()]);
        }
        if let Some(tick) = self.read_tick {
            args.extend(["--read-tick".to_owned(), tick.to_string()]);
        }
        if let Some(lead) = self.lead {
            args.extend(["--lead".to_owned(), lead.to_string()]);
        }
        if let Some(threads) = self.call_threads {
            args.extend(["--call-threads".to_owned(), threads.to_string()]);
        }
        if let Some(nice) = self.nice {
            args.extend(["--nice".to_owned(), nice.to_string()]);
        }
        args
    }

    pub(crate) fn parse(args: &[String]) -> Self {
        let value = |name: &str| {
            args.iter()
                .position(|arg| arg == name)
                .and_then(|at| args.get(at + 1))
        };
        Self {
            workers: value("--workers").and_then(|v| v.parse().ok()),
            media_tick: value("--media-tick").and_then(|v| v.parse().ok()),
            read_tick: value("--read-tick").and_then(|v| v.parse().ok()),
            lead: value("--lead").and_then(|v| v.parse().ok()),
            call_threads: value("--call-threads").and_then(|v| v.parse().ok()),
            nice: value("--nice").and_then(|v| v.parse().ok()),
        }
    }
}

/// Runs the engine against the simulator at `url` until told to stop.
pub(crate) fn run(url: &str, client_id: &str, route_point: &str, tuning: &Tuning) {
    let secret = std::env::var("LOAD_BENCH_SECRET").expect("the bench passes the secret");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(tuning.workers.unwrap_or(2))
        .thread_name("vb-engine")
        .enable_all()
        .build()
        .expect("a runtime");
    let frames_read = Arc::new(AtomicU64::new(0));
    let client = Client::builder(url)
        .credentials(client_id, Secret::new(secret))
        .build()
        .expect("the client builds");
    let mut builder = Engine::builder();
    if let Some(tick) = tuning.media_tick {
        builder = builder.media_tick(Duration::from_millis(tick));
    }
    if let Some(tick) = tuning.read_tick {
        builder = builder.media_read_tick(Duration::from_millis(tick));
    }
    if let Some(lead) = tuning.lead {
        builder = builder.pacer_lead(Duration::from_millis(lead));
    }
    // As `voicebot run` does: one call thread per core unless told otherwise.
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    builder = builder.call_threads(tuning.call_threads.unwrap_or(cores));
    if let Some(nice) = tuning.nice {
        builder = builder.call_thread_nice(nice);
    }
    let engine = builder
        .client(client)
        .route_point(
            Dn::new(route_point),
            Arc::new(bot(Arc::clone(&frames_read))),
        )
        .max_calls(4096)
        .build()
        .expect("the engine builds");
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
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "ready");
    let _ = out.flush();
    for line in std::io::stdin().lock().lines() {
        match line.as_deref().map(str::trim) {
            Ok("stats") => {
                let _ = writeln!(out, "{}", stats_line(&handle, &frames_read));
                let _ = out.flush();
            }
            _ => break,
        }
    }
    let _ = shutdown.send(());
    runtime.shutdown_timeout(Duration::from_secs(5));
}

/// `active frames_in frames_out jitter_underruns barge_ins frames_read late_ticks`.
fn stats_line(handle: &EngineHandle, frames_read: &AtomicU64) -> String {
    let stats = handle.stats();
    format!(
        "{} {} {} {} {} {} {}",
        stats.active_calls,
        stats.frames_in,
        stats.frames_out,
        stats.jitter_underruns,
        stats.barge_ins,
        frames_read.load(Ordering::Relaxed),
        stats.late_media_ticks
    )
}

/// Each call: a bot reading the caller's audio, playing a one-second prompt in a loop
/// that a key stops; then the next prompt (another value) in a loop, and so on. The
/// prompts are built once and shared by every call.
fn bot(frames_read: Arc<AtomicU64>) -> impl voicebot_bot::Bot {
    let prompts: Arc<Vec<Prompt>> = Arc::new(
        (0..PROMPT_VALUES)
            .map(|n| Prompt::from_samples(vec![prompt_value(n); 8000]).expect("a prompt"))
            .collect(),
    );
    bot_fn(move |call| {
        let prompts = Arc::clone(&prompts);
        let frames_read = Arc::clone(&frames_read);
        async move {
            let mut audio = call.audio();
            tokio::spawn(async move {
                while audio.next().await.is_some() {
                    frames_read.fetch_add(1, Ordering::Relaxed);
                }
            });
            for n in 0.. {
                let prompt = prompts[n % PROMPT_VALUES].clone();
                match call.play(prompt).forever().await? {
                    PlayOutcome::Interrupted { .. } => {
                        // The key stays queued (type-ahead): take it.
                        call.gather().max_digits(1).await?;
                    }
                    _ => break,
                }
            }
            Ok(())
        }
    })
}

/// One line of the child's counters, parsed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ChildStats {
    pub(crate) active: u64,
    pub(crate) frames_in: u64,
    pub(crate) frames_out: u64,
    pub(crate) jitter_underruns: u64,
    pub(crate) barge_ins: u64,
    pub(crate) frames_read: u64,
    pub(crate) late_ticks: u64,
}

impl ChildStats {
    pub(crate) fn parse(line: &str) -> Option<Self> {
        let values: Vec<u64> = line
            .split_whitespace()
            .map(|value| value.parse().ok())
            .collect::<Option<_>>()?;
        let [
            active,
            frames_in,
            frames_out,
            jitter_underruns,
            barge_ins,
            frames_read,
            late_ticks,
        ] = values[..]
        else {
            return None;
        };
        Some(Self {
            active,
            frames_in,
            frames_out,
            jitter_underruns,
            barge_ins,
            frames_read,
            late_ticks,
        })
    }
}
