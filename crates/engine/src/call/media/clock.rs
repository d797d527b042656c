//! The engine's media clock: a few tasks (one per runtime worker) that each tick every
//! `media_tick` and run the tick of every call they serve, one after the other.
//!
//! A timer and a task wake-up per call per tick cost more than the media work itself
//! once there are hundreds of calls: the scheduler, the timer wheel and the span of
//! each wake-up. Here a shard wakes once per tick for all its calls. Each call's
//! [`MediaCore`] sits behind a mutex the call's media task takes only for a command or
//! a (re)opened stream, so a shard's lock is all but never contended. The shards start
//! spread over the tick (shard `i` at `i/n` of it), so their work does not pile up at
//! one instant, and a call joins the shard serving the fewest.
//!
//! Each runtime that runs calls (the engine's, or each of its call threads, see
//! [`crate::call_threads`]) gets shards of its own, so a call is ticked on the runtime
//! its tasks run on and a tick's wake-ups stay there.
//!
//! Everything a tick does is synchronous: reads and writes take what the sockets hold
//! or accept now ([`voicebot_callcontrol::AudioIn::read_now`],
//! [`voicebot_callcontrol::AudioOut::send_now`]). Opening streams, the one slow thing,
//! stays with each call's media task.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::MediaCore;
use crate::engine::lock;
use crate::stats::Counters;

type Core = Arc<Mutex<MediaCore>>;

/// Calls ticked between two yields of a shard: a few hundred microseconds of work.
const BATCH: usize = 64;

/// A tick this late (a frame) is counted: a busy machine, a step towards gaps.
const LATE: Duration = Duration::from_millis(20);

/// One shard: where to hand it a call, and how many it serves.
struct Shard {
    add: mpsc::UnboundedSender<Core>,
    calls: Arc<AtomicUsize>,
}

/// The engine's media clock. Its shards start with the first call (they need the
/// runtime) and stop when `stop` is cancelled.
pub(crate) struct MediaClock {
    tick: Duration,
    counters: Arc<Counters>,
    stop: CancellationToken,
    tracker: TaskTracker,
    /// The shards of each runtime that runs calls.
    shards: Mutex<HashMap<tokio::runtime::Id, Vec<Shard>>>,
}

impl std::fmt::Debug for MediaClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaClock")
            .field("tick", &self.tick)
            .field("runtimes", &lock(&self.shards).len())
            .finish_non_exhaustive()
    }
}

impl MediaClock {
    /// A clock ticking every `tick`, stopped by `stop`, its tasks on `tracker`; late
    /// ticks are counted in `counters`.
    pub(crate) fn new(
        tick: Duration,
        counters: Arc<Counters>,
        stop: CancellationToken,
        tracker: TaskTracker,
    ) -> Self {
        Self {
            tick,
            counters,
            stop,
            tracker,
            shards: Mutex::default(),
        }
    }

    /// Ticks `core` from the next tick on, until its `closed` is set, on the current
    /// runtime (which must be one).
    pub(crate) fn add(&self, core: Core) {
        let runtime = tokio::runtime::Handle::current();
        let mut by_runtime = lock(&self.shards);
        let shards = by_runtime
            .entry(runtime.id())
            .or_insert_with(|| self.start(&runtime));
        let shard = shards
            .iter()
            .min_by_key(|shard| shard.calls.load(Ordering::Relaxed))
            .expect("the clock has at least one shard");
        shard.calls.fetch_add(1, Ordering::Relaxed);
        let _ = shard.add.send(core);
    }

    /// One shard per worker of `runtime`, spawned on it.
    fn start(&self, runtime: &tokio::runtime::Handle) -> Vec<Shard> {
        let count = runtime.metrics().num_workers().max(1);
        let first = Instant::now();
        (0..count)
            .map(|index| {
                let (add, added) = mpsc::unbounded_channel();
                let calls = Arc::new(AtomicUsize::new(0));
                let offset = self.tick * index as u32 / count as u32;
                // Unconstrained: every socket poll of a tick spends tokio's cooperative
                // budget (128 per task poll), and a shard polls a few per call. Once
                // spent, a ready socket reads as not ready, so the calls served after
                // the first forty or so would neither send nor read. A shard yields at
                // every tick anyway.
                self.tracker.spawn_on(
                    tokio::task::coop::unconstrained(run_shard(
                        added,
                        Arc::clone(&calls),
                        first + offset,
                        self.tick,
                        Arc::clone(&self.counters),
                        self.stop.clone(),
                    )),
                    runtime,
                );
                Shard { add, calls }
            })
            .collect()
    }
}

/// Counts a tick that began a frame or more after it was due.
fn count_if_late(due: Instant, counters: &Counters) {
    if due.elapsed() >= LATE {
        Counters::add(&counters.late_media_ticks, 1);
        metrics::counter!(crate::metrics::TICKS_LATE, "pbx" => counters.pbx_label()).increment(1);
    }
}

/// One shard's loop: at every tick, the tick of each call it serves.
async fn run_shard(
    mut added: mpsc::UnboundedReceiver<Core>,
    count: Arc<AtomicUsize>,
    first: Instant,
    tick: Duration,
    counters: Arc<Counters>,
    stop: CancellationToken,
) {
    let mut calls: Vec<Core> = Vec::new();
    let mut interval = tokio::time::interval_at(first, tick);
    // A late tick catches up exactly (every call counts from its clock), so the
    // missed ones are skipped, keeping the grid, instead of run in a burst.
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            core = added.recv() => match core {
                Some(core) => calls.push(core),
                None => return,
            },
            due = interval.tick() => {
                count_if_late(due, &counters);
                let mut at = 0;
                let mut any_closed = false;
                while at < calls.len() {
                    let end = (at + BATCH).min(calls.len());
                    // Read once per batch: see `MediaCore::tick`.
                    let now = Instant::now();
                    for core in &calls[at..end] {
                        let mut core = lock(core);
                        match core.closed {
                            true => any_closed = true,
                            false => core.tick(now),
                        }
                    }
                    at = end;
                    if at < calls.len() {
                        // Lets the calls' own tasks run between batches: a key that
                        // arrived meanwhile stops its prompt before the call's write.
                        tokio::task::yield_now().await;
                    }
                }
                // A second pass (a lock per call) only when a call has ended.
                if any_closed {
                    calls.retain(|core| {
                        let closed = lock(core).closed;
                        if closed {
                            count.fetch_sub(1, Ordering::Relaxed);
                        }
                        !closed
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_tick_a_frame_late_is_counted_and_an_early_one_is_not() {
        let counters = Counters::default();
        let due = Instant::now();
        tokio::time::advance(Duration::from_millis(19)).await;
        count_if_late(due, &counters);
        assert_eq!(counters.snapshot().late_media_ticks, 0);
        tokio::time::advance(Duration::from_millis(1)).await;
        count_if_late(due, &counters);
        assert_eq!(counters.snapshot().late_media_ticks, 1);
    }
}
