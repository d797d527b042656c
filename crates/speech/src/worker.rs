//! The session every built-in recogniser uses: a bounded frame queue into a worker (an async
//! task or a thread) and a bounded result channel out of it. Recognisers differ only in the
//! worker they run.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use tokio::{
    sync::{broadcast, mpsc, oneshot},
    task::AbortHandle,
};
use voicebot_media::Frame;

use crate::{
    error::{Result, SpeechError},
    recognition::Recognition,
    session::{RecognitionSession, Results, SessionOptions, SessionStats},
};

/// Shared counters behind [`SessionStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    fed: AtomicU64,
    dropped: AtomicU64,
    lost: AtomicU64,
    restarts: AtomicU64,
    partials_dropped: AtomicU64,
}

impl Counters {
    pub(crate) fn add_lost(&self, frames: u64) {
        self.lost.fetch_add(frames, Ordering::Relaxed);
    }

    pub(crate) fn add_restart(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> SessionStats {
        SessionStats {
            frames_fed: self.fed.load(Ordering::Relaxed),
            frames_dropped: self.dropped.load(Ordering::Relaxed),
            frames_lost: self.lost.load(Ordering::Relaxed),
            restarts: self.restarts.load(Ordering::Relaxed),
            partials_dropped: self.partials_dropped.load(Ordering::Relaxed),
        }
    }
}

/// A frame with its place in the call.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TimedFrame {
    pub(crate) frame: Frame,
    /// The call time at which the frame starts.
    pub(crate) start: Duration,
}

/// The worker's end of the frame queue.
#[derive(Debug)]
pub(crate) struct FrameReceiver {
    // A broadcast channel with one receiver is a bounded queue that drops the *oldest* entries
    // when full and tells the receiver how many (`Lagged`), and whose sender never waits.
    rx: broadcast::Receiver<(u64, Frame)>,
    offset: Duration,
}

impl FrameReceiver {
    /// The next frame; `None` once the session is finished or dropped.
    pub(crate) async fn recv(&mut self) -> Option<TimedFrame> {
        loop {
            let received = self.rx.recv().await;
            if let Some(frame) = self.accept(received) {
                return frame;
            }
        }
    }

    /// The next frame, blocking the thread (for decoder threads only).
    #[cfg_attr(not(feature = "pocketsphinx"), allow(dead_code))]
    pub(crate) fn blocking_recv(&mut self) -> Option<TimedFrame> {
        loop {
            let received = self.rx.blocking_recv();
            if let Some(frame) = self.accept(received) {
                return frame;
            }
        }
    }

    /// `Some(frame or end)`, or `None` after counting lagged frames (receive again).
    fn accept(
        &self,
        received: Result<(u64, Frame), broadcast::error::RecvError>,
    ) -> Option<Option<TimedFrame>> {
        match received {
            Ok((index, frame)) => Some(Some(TimedFrame {
                frame,
                start: self.offset
                    + Frame::DURATION.saturating_mul(index.min(u32::MAX.into()) as u32),
            })),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                // Already counted by the sender (`feed`), which saw the queue full.
                tracing::debug!(missed, "recogniser fell behind; oldest frames dropped");
                None
            }
            Err(broadcast::error::RecvError::Closed) => Some(None),
        }
    }
}

/// The worker's end of the result channel.
#[derive(Debug, Clone)]
pub(crate) struct ResultSender {
    tx: mpsc::Sender<Recognition>,
    partials: bool,
    counters: Arc<Counters>,
}

impl ResultSender {
    /// Delivers a result: partials only if there is room (or not at all if turned off), finals
    /// waiting for room. `false` once nobody listens any more.
    pub(crate) async fn send(&self, result: Recognition) -> bool {
        match result.is_final {
            true => self.tx.send(result).await.is_ok(),
            false => self.send_partial(result),
        }
    }

    /// [`Self::send`] for decoder threads.
    #[cfg_attr(not(feature = "pocketsphinx"), allow(dead_code))]
    pub(crate) fn blocking_send(&self, result: Recognition) -> bool {
        match result.is_final {
            true => self.tx.blocking_send(result).is_ok(),
            false => self.send_partial(result),
        }
    }

    fn send_partial(&self, result: Recognition) -> bool {
        if !self.partials {
            return !self.tx.is_closed();
        }
        match self.tx.try_send(result) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.counters
                    .partials_dropped
                    .fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// What a worker gets: its frames, its result sender and the counters.
#[derive(Debug)]
pub(crate) struct WorkerIo {
    pub(crate) frames: FrameReceiver,
    pub(crate) results: ResultSender,
    pub(crate) counters: Arc<Counters>,
}

/// The session handed to callers; the same for every built-in recogniser.
#[derive(Debug)]
pub(crate) struct WorkerSession {
    frames: Option<broadcast::Sender<(u64, Frame)>>,
    next_index: u64,
    queue_frames: usize,
    results: Results,
    counters: Arc<Counters>,
    done: oneshot::Receiver<Result<()>>,
    finish_timeout: Duration,
    abort: Option<AbortHandle>,
}

impl WorkerSession {
    /// Spawns `work` as a tokio task.
    pub(crate) fn spawn<W, F>(options: &SessionOptions, work: W) -> Self
    where
        W: FnOnce(WorkerIo) -> F,
        F: Future<Output = Result<()>> + Send + 'static,
    {
        let (mut session, io, done_tx) = Self::channels(options);
        let future = work(io);
        let task = tokio::spawn(async move {
            let _ = done_tx.send(future.await);
        });
        session.abort = Some(task.abort_handle());
        session
    }

    /// Runs `work` on a dedicated thread (CPU-bound decoders).
    ///
    /// # Errors
    /// If the thread cannot be spawned.
    #[cfg_attr(not(feature = "pocketsphinx"), allow(dead_code))]
    pub(crate) fn spawn_thread<W>(options: &SessionOptions, name: &str, work: W) -> Result<Self>
    where
        W: FnOnce(WorkerIo) -> Result<()> + Send + 'static,
    {
        let (session, io, done_tx) = Self::channels(options);
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let _ = done_tx.send(work(io));
            })?;
        Ok(session)
    }

    fn channels(options: &SessionOptions) -> (Self, WorkerIo, oneshot::Sender<Result<()>>) {
        let counters = Arc::new(Counters::default());
        let (frames, rx) = broadcast::channel(options.queue_frames.max(1));
        let (result_tx, result_rx) = mpsc::channel(options.results_capacity.max(1));
        let (done_tx, done) = oneshot::channel();
        let io = WorkerIo {
            frames: FrameReceiver {
                rx,
                offset: options.call_offset,
            },
            results: ResultSender {
                tx: result_tx,
                partials: options.partial_results,
                counters: Arc::clone(&counters),
            },
            counters: Arc::clone(&counters),
        };
        let session = Self {
            frames: Some(frames),
            next_index: 0,
            queue_frames: options.queue_frames.max(1),
            results: Results::new(result_rx),
            counters,
            done,
            finish_timeout: options.finish_timeout,
            abort: None,
        };
        (session, io, done_tx)
    }
}

#[async_trait]
impl RecognitionSession for WorkerSession {
    fn feed(&mut self, frame: &Frame) -> Result<()> {
        self.counters.fed.fetch_add(1, Ordering::Relaxed);
        let index = self.next_index;
        self.next_index += 1;
        match &self.frames {
            Some(frames) => {
                // A full queue means this send overwrites the oldest frame; counting here
                // (not when the worker notices) keeps the stats current.
                if frames.len() >= self.queue_frames {
                    self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                }
                frames
                    .send((index, *frame))
                    .map(|_| ())
                    .map_err(|_| SpeechError::Closed)
            }
            None => Err(SpeechError::Closed),
        }
    }

    fn results(&mut self) -> &mut Results {
        &mut self.results
    }

    fn stats(&self) -> SessionStats {
        self.counters.snapshot()
    }

    async fn finish(self: Box<Self>) -> Result<Vec<Recognition>> {
        let mut this = *self;
        // Closing the queue is the worker's signal to flush its last utterance.
        this.frames = None;
        let finish_timeout = this.finish_timeout;
        let (results, done) = (&mut this.results, &mut this.done);
        let mut finals = Vec::new();
        let flushed = tokio::time::timeout(finish_timeout, async {
            // Keep reading while waiting, so a worker blocked on a full result channel can end.
            let outcome = loop {
                tokio::select! {
                    outcome = &mut *done => break outcome.unwrap_or(Err(SpeechError::Closed)),
                    Some(result) = results.recv() => {
                        if result.is_final {
                            finals.push(result);
                        }
                    }
                }
            };
            while let Some(result) = results.try_recv() {
                if result.is_final {
                    finals.push(result);
                }
            }
            outcome
        })
        .await;
        // Dropping `this` aborts the task if it is still running (a stalled recogniser).
        match flushed {
            Ok(outcome) => outcome.map(|()| finals),
            Err(_) => Err(SpeechError::Stalled {
                waited: finish_timeout,
            }),
        }
    }
}

impl Drop for WorkerSession {
    fn drop(&mut self) {
        // A session dropped without `finish` stops its task (and the child process or
        // connection it owns) at once; thread workers end when they see the closed queue.
        if let Some(abort) = &self.abort {
            abort.abort();
        }
    }
}
