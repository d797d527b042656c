//! [`EngineStats`] and [`Health`]: counters the engine keeps for tests, the CLI and
//! the health endpoint (Prometheus gets the same numbers through `metrics`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

/// A snapshot of the engine's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EngineStats {
    /// Calls running now (bots and busy treatments).
    pub active_calls: u64,
    /// Calls handed to a bot since start.
    pub calls_started: u64,
    /// Calls turned away (limit or shutdown).
    pub calls_rejected: u64,
    /// Calls ended since start.
    pub calls_ended: u64,
    /// Bots that returned an error (not a hang-up).
    pub bot_errors: u64,
    /// Bots that panicked.
    pub bot_panics: u64,
    /// Prompts stopped by a digit or by speech.
    pub barge_ins: u64,
    /// Caller frames received (complete 20 ms frames).
    pub frames_in: u64,
    /// Frames sent to the PBX.
    pub frames_out: u64,
    /// Times a caller's jitter buffer ran dry.
    pub jitter_underruns: u64,
    /// Caller frames dropped by jitter buffers (overrun and trimming).
    pub jitter_drops: u64,
    /// Calls the engine released because every `drop` failed (logged at ERROR).
    pub calls_released: u64,
    /// Failed attempts to (re)connect to the PBX (token, socket or snapshot).
    pub pbx_connect_failures: u64,
    /// Media clock ticks that ran a frame (20 ms) or more late, each for all the calls
    /// of one thread: a busy machine; late by more than the lead's margin, callers
    /// hear a gap.
    pub late_media_ticks: u64,
}

/// The body of `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// `ok`, `connecting` (never connected to the PBX yet: `voicebot run` waits for
    /// it), `degraded` (PBX socket lost, reconnecting) or `shutting_down`.
    pub status: &'static str,
    /// Calls running now.
    pub active_calls: u64,
    /// Whether the PBX event socket is connected.
    pub pbx_connected: bool,
    /// Failed (re)connect attempts in a row; 0 once connected.
    pub connect_attempts: u32,
    /// Why the last (re)connect attempt failed, while not connected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_connect_error: Option<String>,
    /// The engine's version.
    pub version: &'static str,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) active_calls: AtomicU64,
    pub(crate) calls_started: AtomicU64,
    pub(crate) calls_rejected: AtomicU64,
    pub(crate) calls_ended: AtomicU64,
    pub(crate) bot_errors: AtomicU64,
    pub(crate) bot_panics: AtomicU64,
    pub(crate) barge_ins: AtomicU64,
    pub(crate) frames_in: AtomicU64,
    pub(crate) frames_out: AtomicU64,
    pub(crate) jitter_underruns: AtomicU64,
    pub(crate) jitter_drops: AtomicU64,
    pub(crate) calls_released: AtomicU64,
    pub(crate) pbx_connect_failures: AtomicU64,
    pub(crate) late_media_ticks: AtomicU64,
    pub(crate) pbx_connected: AtomicBool,
    /// Whether the event socket has connected at least once.
    pub(crate) pbx_ever_connected: AtomicBool,
    pub(crate) shutting_down: AtomicBool,
    /// The current run of failed connects: `(attempt, reason)`.
    pub(crate) connect_failure: Mutex<Option<(u32, String)>>,
    /// The engine's PBX, the `pbx` label of its metrics.
    pub(crate) pbx: std::sync::Arc<str>,
}

impl Counters {
    /// Counters of an engine serving the PBX named `pbx`.
    pub(crate) fn for_pbx(pbx: &str) -> Self {
        Self {
            pbx: pbx.into(),
            ..Self::default()
        }
    }

    /// The `pbx` label value of this engine's metrics.
    pub(crate) fn pbx_label(&self) -> metrics::SharedString {
        std::sync::Arc::clone(&self.pbx).into()
    }

    pub(crate) fn add(counter: &AtomicU64, value: u64) {
        counter.fetch_add(value, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> EngineStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        EngineStats {
            active_calls: get(&self.active_calls),
            calls_started: get(&self.calls_started),
            calls_rejected: get(&self.calls_rejected),
            calls_ended: get(&self.calls_ended),
            bot_errors: get(&self.bot_errors),
            bot_panics: get(&self.bot_panics),
            barge_ins: get(&self.barge_ins),
            frames_in: get(&self.frames_in),
            frames_out: get(&self.frames_out),
            jitter_underruns: get(&self.jitter_underruns),
            jitter_drops: get(&self.jitter_drops),
            calls_released: get(&self.calls_released),
            pbx_connect_failures: get(&self.pbx_connect_failures),
            late_media_ticks: get(&self.late_media_ticks),
        }
    }

    pub(crate) fn health(&self) -> Health {
        let pbx_connected = self.pbx_connected.load(Ordering::Relaxed);
        let ever = self.pbx_ever_connected.load(Ordering::Relaxed);
        let status = match (self.shutting_down.load(Ordering::Relaxed), pbx_connected) {
            (true, _) => "shutting_down",
            (false, true) => "ok",
            (false, false) if !ever => "connecting",
            (false, false) => "degraded",
        };
        let failure = self
            .connect_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let (connect_attempts, last_connect_error) = match failure {
            Some((attempt, reason)) if !pbx_connected => (attempt, Some(reason)),
            _ => (0, None),
        };
        Health {
            status,
            active_calls: self.active_calls.load(Ordering::Relaxed),
            pbx_connected,
            connect_attempts,
            last_connect_error,
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}
