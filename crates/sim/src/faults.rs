//! Fault injection: dead or dropped WebSockets, refused and delayed requests, 5xx
//! answers, early token expiry, cut audio streams, and a restart that loses state.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::CallEnd;
use crate::journal::JournalKind;
use crate::state::{Pbx, Shared};

/// Which requests a [`Faults::fail_next`] applies to: a method (any if `None`) and
/// a path prefix. `"POST /callcontrol"` and `"/connect/token"` convert into one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMatcher {
    /// Method to match; `None` matches any.
    pub method: Option<Method>,
    /// The path must start with this.
    pub path_prefix: String,
}

impl RequestMatcher {
    /// Matches `method` requests whose path starts with `path_prefix`.
    pub fn new(method: Method, path_prefix: impl Into<String>) -> Self {
        Self {
            method: Some(method),
            path_prefix: path_prefix.into(),
        }
    }

    /// Matches requests of any method whose path starts with `path_prefix`.
    pub fn path(path_prefix: impl Into<String>) -> Self {
        Self {
            method: None,
            path_prefix: path_prefix.into(),
        }
    }

    /// Matches every request.
    pub fn any() -> Self {
        Self::path("/")
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.as_ref().is_none_or(|m| m == method) && path.starts_with(&self.path_prefix)
    }
}

impl From<&str> for RequestMatcher {
    /// `"POST /callcontrol/800/makecall"` or just `"/connect/token"`.
    fn from(text: &str) -> Self {
        match text.trim().split_once(' ') {
            Some((method, path)) => match Method::from_bytes(method.as_bytes()) {
                Ok(method) => Self::new(method, path.trim()),
                Err(_) => Self::path(text.trim()),
            },
            None => Self::path(text.trim()),
        }
    }
}

#[derive(Debug)]
struct Failure {
    matcher: RequestMatcher,
    status: StatusCode,
    remaining: usize,
    /// The share of matching requests failed (1 for every one).
    fraction: f64,
}

#[derive(Debug)]
struct FaultInner {
    delay: Duration,
    failures: Vec<Failure>,
    refuse_websockets: usize,
    ws_cut: CancellationToken,
    stream_cut: CancellationToken,
}

/// Fault settings read by the server.
#[derive(Debug)]
pub(crate) struct FaultState {
    inner: Mutex<FaultInner>,
    stalled: watch::Sender<bool>,
    /// Events still to be lost on every socket ([`Faults::drop_next_events`]).
    dropped_events: AtomicUsize,
    /// Whether GET audio streams deliver nothing ([`Faults::stall_audio_streams`]).
    audio_stalled: watch::Sender<bool>,
}

impl Default for FaultState {
    fn default() -> Self {
        Self {
            inner: Mutex::new(FaultInner {
                delay: Duration::ZERO,
                failures: Vec::new(),
                refuse_websockets: 0,
                ws_cut: CancellationToken::new(),
                stream_cut: CancellationToken::new(),
            }),
            stalled: watch::Sender::new(false),
            dropped_events: AtomicUsize::new(0),
            audio_stalled: watch::Sender::new(false),
        }
    }
}

impl FaultState {
    fn inner(&self) -> MutexGuard<'_, FaultInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn delay(&self) -> Duration {
        self.inner().delay
    }

    /// The status to fail this request with, if a failure is pending for it.
    pub(crate) fn take_failure(&self, method: &Method, path: &str) -> Option<StatusCode> {
        let mut inner = self.inner();
        let failure = inner
            .failures
            .iter_mut()
            .find(|f| f.remaining > 0 && f.matcher.matches(method, path))?;
        if failure.fraction < 1.0 && rand::random::<f64>() >= failure.fraction {
            return None;
        }
        failure.remaining -= 1;
        let status = failure.status;
        inner.failures.retain(|f| f.remaining > 0);
        Some(status)
    }

    pub(crate) fn take_ws_refusal(&self) -> bool {
        let mut inner = self.inner();
        match inner.refuse_websockets {
            0 => false,
            _ => {
                inner.refuse_websockets -= 1;
                true
            }
        }
    }

    /// Cancelled when WebSockets are dropped by a fault.
    pub(crate) fn ws_cut(&self) -> CancellationToken {
        self.inner().ws_cut.clone()
    }

    /// Cancelled when audio streams are cut by a fault.
    pub(crate) fn stream_cut(&self) -> CancellationToken {
        self.inner().stream_cut.clone()
    }

    pub(crate) fn stalled(&self) -> watch::Receiver<bool> {
        self.stalled.subscribe()
    }

    /// Whether the event being sent must be lost (counts it off if so).
    pub(crate) fn take_dropped_event(&self) -> bool {
        self.dropped_events
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok()
    }

    /// Whether audio streams are stalled now.
    pub(crate) fn audio_is_stalled(&self) -> bool {
        *self.audio_stalled.borrow()
    }

    pub(crate) fn audio_stalled(&self) -> watch::Receiver<bool> {
        self.audio_stalled.subscribe()
    }

    fn cut_websockets(&self) {
        let mut inner = self.inner();
        inner.ws_cut.cancel();
        inner.ws_cut = CancellationToken::new();
    }

    fn cut_streams(&self) {
        let mut inner = self.inner();
        inner.stream_cut.cancel();
        inner.stream_cut = CancellationToken::new();
    }
}

/// Fault injection on a running simulator; every method applies immediately.
#[derive(Debug, Clone)]
pub struct Faults {
    shared: Arc<Shared>,
}

impl Faults {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    fn record(&self, description: String) {
        tracing::info!(%description, "sim fault");
        self.shared.record(JournalKind::Fault { description });
    }

    /// Closes every open WebSocket (with a close frame).
    pub fn drop_websockets(&self) {
        self.record("drop websockets".to_owned());
        self.shared.faults.cut_websockets();
    }

    /// Makes every WebSocket dead (`true`): nothing is read, pings go unanswered,
    /// events are lost; `false` brings them back.
    pub fn stall_websockets(&self, stalled: bool) {
        self.record(format!("stall websockets: {stalled}"));
        self.shared.faults.stalled.send_replace(stalled);
    }

    /// Refuses the next `count` WebSocket upgrades with 503.
    pub fn refuse_websockets(&self, count: usize) {
        self.record(format!("refuse {count} websockets"));
        self.shared.faults.inner().refuse_websockets = count;
    }

    /// Answers the next `count` requests matching `matcher` with `status` (a
    /// `CallControlResult`-shaped failure body) instead of handling them.
    pub fn fail_next(&self, matcher: impl Into<RequestMatcher>, status: u16, count: usize) {
        let matcher = matcher.into();
        self.record(format!("fail next {count} {matcher:?} with {status}"));
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.shared.faults.inner().failures.push(Failure {
            matcher,
            status,
            remaining: count,
            fraction: 1.0,
        });
    }

    /// Answers a random `fraction` (0 to 1) of the requests matching `matcher` with
    /// `status`, from now on: a PBX that fails some requests under load.
    pub fn fail_fraction(&self, matcher: impl Into<RequestMatcher>, status: u16, fraction: f64) {
        let matcher = matcher.into();
        self.record(format!("fail {fraction} of {matcher:?} with {status}"));
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.shared.faults.inner().failures.push(Failure {
            matcher,
            status,
            remaining: usize::MAX,
            fraction: fraction.clamp(0.0, 1.0),
        });
    }

    /// Delays every request by `delay` before handling it (`Duration::ZERO` stops).
    pub fn delay_requests(&self, delay: Duration) {
        self.record(format!("delay requests by {delay:?}"));
        self.shared.faults.inner().delay = delay;
    }

    /// Makes every token issued so far expire now (open streams stay open).
    pub fn expire_tokens(&self) {
        self.record("expire tokens".to_owned());
        let now = Instant::now();
        for token in self.shared.pbx().tokens.values_mut() {
            token.expires_at = now;
        }
    }

    /// Loses the next `count` events on every WebSocket without closing any: each
    /// still takes its `sequence` number, so clients see a gap (reference §4.2 says
    /// gaps could reveal lost events).
    pub fn drop_next_events(&self, count: usize) {
        self.record(format!("drop next {count} events"));
        self.shared
            .faults
            .dropped_events
            .store(count, Ordering::SeqCst);
    }

    /// Makes every GET audio stream deliver nothing (`true`) while staying open, as a
    /// PBX may keep a dead stream; the audio of that time is lost. `false` resumes.
    pub fn stall_audio_streams(&self, stalled: bool) {
        self.record(format!("stall audio streams: {stalled}"));
        self.shared.faults.audio_stalled.send_replace(stalled);
    }

    /// Ends every open audio stream, GET and POST; the calls go on.
    pub fn cut_audio_streams(&self) {
        self.record("cut audio streams".to_owned());
        self.shared.faults.cut_streams();
    }

    /// Restarts the PBX: every call ends (`CallEnd::Restarted`) without events,
    /// tokens, participants, registered devices, the event sequence and everything
    /// changed through the Configuration API (XAPI) are lost; sockets and streams
    /// close. The listening socket stays. Id counters start again as
    /// [`SimConfig::restart_ids`](crate::SimConfig::restart_ids) says, so the next
    /// callers may get the participant ids of the calls that were lost.
    pub async fn restart(&self) {
        self.record("restart".to_owned());
        {
            let mut pbx = self.shared.pbx();
            pbx.subscribers.clear();
            let callids: Vec<i64> = pbx.calls.keys().copied().collect();
            for callid in callids {
                pbx.end_call(&self.shared, callid, CallEnd::Restarted);
            }
            let epoch = pbx.epoch + 1;
            let connections = pbx.next_connection;
            let mut fresh = Pbx::new(&self.shared.config, epoch);
            fresh.keep_counters(&pbx, self.shared.config.restart_ids);
            *pbx = fresh;
            pbx.next_connection = connections;
        }
        self.shared.faults.cut_websockets();
        self.shared.faults.cut_streams();
        self.shared.record(JournalKind::Restarted);
        tokio::task::yield_now().await;
    }
}
