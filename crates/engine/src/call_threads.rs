//! Threads of the engine's own for call task trees (`Engine::builder().call_threads(n)`):
//! each runs a single-threaded tokio runtime, and a call's task, its bot, its media
//! task and its share of the media clock all live on one of them.
//!
//! Why: on a work-stealing runtime, every task a media tick wakes (a bot reading the
//! caller's audio, a play ending) is pushed to the ticking worker's queue, and tokio
//! then rouses an idle worker to steal it: an `eventfd` write, an `epoll_wait` return
//! and a context switch, ~25 times a call-second. Measured with 256 calls, that churn
//! was a fifth of the engine's CPU. On a thread of its own a call's wake-ups stay on
//! that thread. Calls are spread over the threads as they start (the least loaded
//! first); the event socket, REST calls and everything else stay on the runtime that
//! runs the engine.
//!
//! With no call threads (the default, and what tests on tokio's paused clock need),
//! calls run on the engine's runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio_util::task::TaskTracker;

/// The engine's call threads, started with its first call.
#[derive(Debug)]
pub(crate) struct CallThreads {
    count: usize,
    nice: Option<i32>,
    threads: OnceLock<Vec<CallThread>>,
}

/// One call thread: where to spawn on it and how many calls it runs. Dropping it
/// stops the thread's runtime (its tasks are dropped) once the thread gets to it.
#[derive(Debug)]
struct CallThread {
    handle: Handle,
    calls: Arc<AtomicUsize>,
    _stop: oneshot::Sender<()>,
}

impl CallThreads {
    /// `count` threads (none: calls run on the engine's runtime), at niceness `nice`
    /// when given.
    pub(crate) fn new(count: usize, nice: Option<i32>) -> Self {
        Self {
            count,
            nice,
            threads: OnceLock::new(),
        }
    }

    /// Spawns `task` (a call's) on `tracker`: on the least loaded call thread, or on
    /// the current runtime when there are none (or they could not be started).
    pub(crate) fn spawn<F>(&self, tracker: &TaskTracker, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Some(thread) = self.least_loaded() else {
            tracker.spawn(task);
            return;
        };
        let calls = Arc::clone(&thread.calls);
        calls.fetch_add(1, Ordering::Relaxed);
        let task = CountedTask {
            task: Box::pin(task),
            _counted: Counted(calls),
        };
        tracker.spawn_on(task, &thread.handle);
    }

    fn least_loaded(&self) -> Option<&CallThread> {
        if self.count == 0 {
            return None;
        }
        self.threads
            .get_or_init(|| start(self.count, self.nice))
            .iter()
            .min_by_key(|thread| thread.calls.load(Ordering::Relaxed))
    }
}

/// A call task that counts on its thread while it lives. Not an `async` block around
/// the task: that would hold the task's future twice (as the block's capture and as
/// what it awaits), 3.7 KiB more per call.
struct CountedTask<F> {
    task: Pin<Box<F>>,
    _counted: Counted,
}

impl<F: Future> Future for CountedTask<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.task.as_mut().poll(cx)
    }
}

/// Takes one off a thread's call count when a call task ends (or is dropped).
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Starts `count` threads; one that cannot start is left out (logged), so calls
/// fall back to the engine's runtime only if none starts.
fn start(count: usize, nice: Option<i32>) -> Vec<CallThread> {
    (0..count)
        .filter_map(|index| match start_one(index, nice) {
            Ok(thread) => Some(thread),
            Err(error) => {
                tracing::error!(%error, index, "a call thread did not start; its calls go to the others");
                None
            }
        })
        .collect()
}

fn start_one(index: usize, nice: Option<i32>) -> std::io::Result<CallThread> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name(format!("vb-calls-{index}"))
        .build()?;
    let handle = runtime.handle().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name(format!("vb-calls-{index}"))
        .spawn(move || {
            if let Some(nice) = nice {
                set_nice(index, nice);
            }
            // The runtime runs its tasks while this waits: until the engine is dropped.
            let _ = runtime.block_on(stopped);
            // Tasks still here (an engine dropped without a shutdown) are dropped with
            // the runtime, on this thread, outside any runtime.
            drop(runtime);
        })?;
    Ok(CallThread {
        handle,
        calls: Arc::new(AtomicUsize::new(0)),
        _stop: stop,
    })
}

/// Sets the calling thread's niceness (on Linux, niceness is a thread's own). A thread
/// that may not raise its priority keeps the process's, and says why: a call thread
/// without priority is slower to recover from a loaded machine, not broken.
fn set_nice(index: usize, nice: i32) {
    let thread = Some(rustix::thread::gettid());
    if let Err(error) = rustix::process::setpriority_process(thread, nice) {
        tracing::warn!(
            %error,
            index,
            nice,
            "a call thread keeps the process's priority: a niceness below the process's needs CAP_SYS_NICE (or LimitNICE= in a systemd unit)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_are_spread_over_the_threads_and_run_off_the_engines_runtime() {
        let threads = CallThreads::new(2, None);
        let tracker = TaskTracker::new();
        let (tell, mut names) = tokio::sync::mpsc::unbounded_channel();
        let (release, hold) = tokio::sync::watch::channel(false);
        for _ in 0..4 {
            let tell = tell.clone();
            let mut hold = hold.clone();
            threads.spawn(&tracker, async move {
                let name = std::thread::current().name().map(str::to_owned);
                let _ = tell.send(name);
                let _ = hold.wait_for(|go| *go).await;
            });
        }
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(names.recv().await.flatten().expect("a named thread"));
        }
        seen.sort();
        assert_eq!(
            seen,
            ["vb-calls-0", "vb-calls-0", "vb-calls-1", "vb-calls-1"],
            "four calls, two per thread"
        );
        let _ = release.send(true);
        tracker.close();
        tracker.wait().await;
        let counts: Vec<usize> = threads
            .threads
            .get()
            .expect("started")
            .iter()
            .map(|thread| thread.calls.load(Ordering::Relaxed))
            .collect();
        assert_eq!(counts, [0, 0], "ended calls are no longer counted");
    }

    /// The niceness of the thread that runs a call spawned on `threads`.
    async fn nice_of_a_call(threads: &CallThreads) -> i32 {
        let tracker = TaskTracker::new();
        let (tell, told) = oneshot::channel();
        threads.spawn(&tracker, async move {
            let own = Some(rustix::thread::gettid());
            let _ = tell.send(rustix::process::getpriority_process(own));
        });
        told.await
            .expect("the task ran")
            .expect("a thread's niceness reads")
    }

    #[tokio::test]
    async fn call_threads_run_at_the_niceness_asked_for() {
        let process = rustix::process::getpriority_process(None).expect("reads");
        // Raising niceness (lowering priority) needs no privilege: the test runs as anyone.
        let lowered = (process + 5).min(19);
        let threads = CallThreads::new(1, Some(lowered));
        assert_eq!(nice_of_a_call(&threads).await, lowered);
        // Not asked: the threads keep the process's.
        let threads = CallThreads::new(1, None);
        assert_eq!(nice_of_a_call(&threads).await, process);
        // Only the call threads change.
        assert_eq!(
            rustix::process::getpriority_process(Some(rustix::thread::gettid())).expect("reads"),
            process
        );
    }

    #[tokio::test]
    async fn with_no_threads_calls_run_on_the_current_runtime() {
        let threads = CallThreads::new(0, None);
        let tracker = TaskTracker::new();
        let (tell, told) = oneshot::channel();
        threads.spawn(&tracker, async move {
            let _ = tell.send(std::thread::current().name().map(str::to_owned));
        });
        let name = told.await.expect("the task ran");
        assert!(
            !name.as_deref().unwrap_or_default().starts_with("vb-calls"),
            "{name:?}"
        );
        assert!(threads.threads.get().is_none(), "no thread was started");
    }
}
