//! The recogniser interface: [`Recognizer`] starts one [`RecognitionSession`] per call, which is
//! fed 20 ms frames and produces [`Recognition`]s on its [`Results`].

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use async_trait::async_trait;
use futures::Stream;
use tokio::sync::mpsc;
use voicebot_media::Frame;

use crate::{error::Result, grammar::Grammar, recognition::Recognition};

/// A speech recogniser: a factory of per-call streaming sessions. Cheap to share (`Arc`) across
/// calls.
#[async_trait]
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a speech recogniser",
    note = "implement `voicebot_speech::Recognizer` (with `#[async_trait]`) or use one of \
            `PocketSphinx`, `CommandRecognizer`, `VoskRecognizer`"
)]
pub trait Recognizer: Send + Sync {
    /// Starts a session for one call (or one question within it).
    ///
    /// # Errors
    /// [`SpeechError::Config`](crate::SpeechError::Config) if the recogniser rejects the options
    /// (e.g. a grammar word it does not know); otherwise a runtime error if it cannot be reached
    /// or started.
    async fn start(&self, options: SessionOptions) -> Result<Box<dyn RecognitionSession>>;
}

/// One streaming recognition: feed it the call's frames in order, read results as they come,
/// then [`finish`](Self::finish) it.
///
/// **Overflow policy.** [`feed`](Self::feed) never blocks or waits: frames go into a bounded
/// queue ([`SessionOptions::queue_frames`]). If the recogniser falls behind, the oldest queued
/// frames are dropped and counted in [`SessionStats::frames_dropped`]; result times stay right
/// because each frame keeps its place in the call. Partial results are dropped (and counted) if
/// nobody reads [`results`](Self::results); final results wait, which in turn makes frames drop.
#[async_trait]
pub trait RecognitionSession: Send {
    /// Queues the next 20 ms of call audio. Returns at once.
    ///
    /// # Errors
    /// [`SpeechError::Closed`](crate::SpeechError::Closed) if the session's worker has ended
    /// (e.g. the decoder failed); the frame is discarded.
    fn feed(&mut self, frame: &Frame) -> Result<()>;

    /// The stream of partial and final results, in order.
    fn results(&mut self) -> &mut Results;

    /// Counters: frames fed, dropped and lost, recogniser restarts.
    fn stats(&self) -> SessionStats;

    /// Ends the audio, lets the recogniser flush its last utterance, and returns the final
    /// results not yet read from [`results`](Self::results). Waits at most
    /// [`SessionOptions::finish_timeout`].
    ///
    /// # Errors
    /// [`SpeechError::Stalled`](crate::SpeechError::Stalled) if the recogniser did not finish
    /// in time (it is then stopped); the error that ended the session's worker, if any.
    async fn finish(self: Box<Self>) -> Result<Vec<Recognition>>;
}

/// Settings for one session. `SessionOptions::new().grammar(g)`; every setter is optional.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// Restricts what may be recognised. Default `None`: free-form.
    pub grammar: Option<Grammar>,
    /// Whether to report partial results. Default `true`.
    pub partial_results: bool,
    /// The call time of the first frame fed, added to every result's times. Default zero.
    pub call_offset: Duration,
    /// How many frames may wait for the recogniser before the oldest are dropped. Default 250
    /// (5 s).
    pub queue_frames: usize,
    /// How many results may wait for the reader. Default 64.
    pub results_capacity: usize,
    /// How long [`RecognitionSession::finish`] waits for the last results. Default 5 s.
    pub finish_timeout: Duration,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            grammar: None,
            partial_results: true,
            call_offset: Duration::ZERO,
            queue_frames: 250,
            results_capacity: 64,
            finish_timeout: Duration::from_secs(5),
        }
    }
}

impl SessionOptions {
    /// The defaults: free-form, with partial results.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Restricts recognition to `grammar`.
    #[must_use]
    pub fn grammar(mut self, grammar: Grammar) -> Self {
        self.grammar = Some(grammar);
        self
    }

    /// Turns partial results on or off.
    #[must_use]
    pub fn partial_results(mut self, on: bool) -> Self {
        self.partial_results = on;
        self
    }

    /// Sets the call time of the first frame fed.
    #[must_use]
    pub fn call_offset(mut self, offset: Duration) -> Self {
        self.call_offset = offset;
        self
    }

    /// Sets the frame queue length (at least 1).
    #[must_use]
    pub fn queue_frames(mut self, frames: usize) -> Self {
        self.queue_frames = frames.max(1);
        self
    }

    /// Sets how many results may wait for the reader (at least 1).
    #[must_use]
    pub fn results_capacity(mut self, results: usize) -> Self {
        self.results_capacity = results.max(1);
        self
    }

    /// Sets how long `finish` waits.
    #[must_use]
    pub fn finish_timeout(mut self, timeout: Duration) -> Self {
        self.finish_timeout = timeout;
        self
    }
}

/// Counters of one session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionStats {
    /// Frames passed to `feed`.
    pub frames_fed: u64,
    /// Frames dropped from the queue because the recogniser fell behind.
    pub frames_dropped: u64,
    /// Frames that arrived while the recogniser was down (restarting or reconnecting).
    pub frames_lost: u64,
    /// Times the recogniser was restarted or reconnected.
    pub restarts: u64,
    /// Partial results dropped because nobody read them.
    pub partials_dropped: u64,
}

/// The results of a session: a bounded receiver, also usable as a [`Stream`].
#[derive(Debug)]
pub struct Results {
    rx: mpsc::Receiver<Recognition>,
}

impl Results {
    pub(crate) fn new(rx: mpsc::Receiver<Recognition>) -> Self {
        Self { rx }
    }

    /// The next result; `None` once the session has ended and every result was read.
    ///
    /// # Cancellation
    /// Cancel-safe: a result is never lost by dropping the future.
    pub async fn recv(&mut self) -> Option<Recognition> {
        self.rx.recv().await
    }

    /// The next final result, skipping partials.
    ///
    /// # Cancellation
    /// Cancel-safe, but partials skipped before cancellation are gone.
    pub async fn next_final(&mut self) -> Option<Recognition> {
        loop {
            let result = self.rx.recv().await?;
            if result.is_final {
                return Some(result);
            }
        }
    }

    /// A result if one is waiting.
    pub fn try_recv(&mut self) -> Option<Recognition> {
        self.rx.try_recv().ok()
    }
}

impl Stream for Results {
    type Item = Recognition;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Recognition>> {
        self.rx.poll_recv(cx)
    }
}
