//! Metric names and the per-call accumulator.
//!
//! The engine records through the `metrics` facade; the PBX client
//! (`voicebot-callcontrol`) records its own `voicebot_pbx_requests_total`,
//! `voicebot_pbx_request_duration_seconds`, `voicebot_pbx_ws_reconnects_total` and
//! `voicebot_pbx_audio_bytes_total`. Per-frame counts are summed per call and
//! flushed about once a second ([`MediaCounts`]), because a facade lookup per frame
//! would cost more than the DSP it counts.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::stats::Counters;

/// `voicebot_calls_total{pbx,direction,outcome}`. Every engine series carries the
/// `pbx` label (the engine's [`crate::EngineBuilder::pbx_name`]).
pub(crate) const CALLS_TOTAL: &str = "voicebot_calls_total";
/// `voicebot_active_calls` (gauge).
pub(crate) const ACTIVE_CALLS: &str = "voicebot_active_calls";
/// `voicebot_frames_in_total`.
pub(crate) const FRAMES_IN: &str = "voicebot_frames_in_total";
/// `voicebot_frames_out_total`.
pub(crate) const FRAMES_OUT: &str = "voicebot_frames_out_total";
/// `voicebot_jitter_underruns_total`.
pub(crate) const UNDERRUNS: &str = "voicebot_jitter_underruns_total";
/// `voicebot_jitter_drops_total`.
pub(crate) const DROPS: &str = "voicebot_jitter_drops_total";
/// `voicebot_bargeins_total{by}`.
pub(crate) const BARGE_INS: &str = "voicebot_bargeins_total";
/// `voicebot_digits_total{source}`.
pub(crate) const DIGITS: &str = "voicebot_digits_total";
/// `voicebot_bot_failures_total{kind}`.
pub(crate) const BOT_FAILURES: &str = "voicebot_bot_failures_total";
/// `voicebot_calls_rejected_total{treatment}`.
pub(crate) const REJECTED: &str = "voicebot_calls_rejected_total";
/// `voicebot_stream_reopens_total{direction}`: call audio streams reopened after a
/// cut, an error or a stall (`in`: the caller's audio, `out`: audio to the caller).
pub(crate) const STREAM_REOPENS: &str = "voicebot_stream_reopens_total";
/// `voicebot_calls_released_total`: calls the engine gave up on because the PBX did
/// not let them be dropped.
pub(crate) const RELEASED: &str = "voicebot_calls_released_total";
/// `voicebot_pbx_connect_failures_total`: failed attempts to (re)connect to the PBX.
pub(crate) const CONNECT_FAILURES: &str = "voicebot_pbx_connect_failures_total";
/// `voicebot_media_ticks_late_total`: media clock ticks that ran 20 ms or more late
/// (each covers the calls of one thread); late beyond the lead's margin, callers hear
/// gaps.
pub(crate) const TICKS_LATE: &str = "voicebot_media_ticks_late_total";
/// `voicebot_recorder_errors_total`: recording files that could not be written.
pub(crate) const RECORDER_ERRORS: &str = "voicebot_recorder_errors_total";
/// `voicebot_action_duration_seconds{action,result}` (histogram): a bot's participant
/// action (`drop`, `transferto`, `routeto`, ...) from the request to the PBX's answer.
pub(crate) const ACTION_SECONDS: &str = "voicebot_action_duration_seconds";
/// `voicebot_first_audio_seconds` (histogram): from the call reaching the engine to
/// its first prompt starting.
pub(crate) const FIRST_AUDIO_SECONDS: &str = "voicebot_first_audio_seconds";

/// Bucket bounds of every `_seconds` histogram: 5 ms to 60 s, where prompt starts,
/// REST round trips and ringing transfers fall.
pub(crate) const SECONDS_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];

/// Frame counts of one call since the last flush.
#[derive(Debug, Default)]
pub(crate) struct MediaCounts {
    pub(crate) frames_in: u64,
    pub(crate) frames_out: u64,
    pub(crate) underruns: u64,
    pub(crate) drops: u64,
}

impl MediaCounts {
    /// Adds the counts to the engine's counters and the metrics, and resets them.
    pub(crate) fn flush(&mut self, counters: &Arc<Counters>) {
        let Self {
            frames_in,
            frames_out,
            underruns,
            drops,
        } = std::mem::take(self);
        counters.frames_in.fetch_add(frames_in, Ordering::Relaxed);
        counters.frames_out.fetch_add(frames_out, Ordering::Relaxed);
        counters
            .jitter_underruns
            .fetch_add(underruns, Ordering::Relaxed);
        counters.jitter_drops.fetch_add(drops, Ordering::Relaxed);
        let pbx = counters.pbx_label();
        metrics::counter!(FRAMES_IN, "pbx" => pbx.clone()).increment(frames_in);
        metrics::counter!(FRAMES_OUT, "pbx" => pbx.clone()).increment(frames_out);
        if underruns > 0 {
            metrics::counter!(UNDERRUNS, "pbx" => pbx.clone()).increment(underruns);
        }
        if drops > 0 {
            metrics::counter!(DROPS, "pbx" => pbx).increment(drops);
        }
    }
}

/// Describes the metrics of the engine and of the PBX client for the exporter (the
/// `# HELP` lines). Must run after the recorder is installed: descriptions given to
/// no recorder are lost.
pub(crate) fn describe() {
    metrics::describe_histogram!(
        ACTION_SECONDS,
        metrics::Unit::Seconds,
        "Bot actions (drop, transferto, routeto, divert) from request to the PBX's answer, by action and result"
    );
    metrics::describe_histogram!(
        FIRST_AUDIO_SECONDS,
        metrics::Unit::Seconds,
        "Time from a call reaching the engine to its first prompt starting"
    );
    metrics::describe_histogram!(
        "voicebot_pbx_request_duration_seconds",
        metrics::Unit::Seconds,
        "Call Control REST requests, by method and path"
    );
    metrics::describe_counter!(
        "voicebot_pbx_requests_total",
        "Call Control REST requests, by method, path and status"
    );
    metrics::describe_counter!(
        "voicebot_pbx_audio_bytes_total",
        "Audio bytes exchanged with the PBX, by direction"
    );
    metrics::describe_counter!(
        "voicebot_pbx_token_requests_total",
        "Token requests, by HTTP status"
    );
    metrics::describe_counter!(
        "voicebot_pbx_ws_reconnects_total",
        "Event WebSocket reconnects"
    );
    metrics::describe_counter!(
        "voicebot_pbx_ws_sequence_gaps_total",
        "Event WebSocket sequence gaps (events the PBX did not deliver)"
    );
    metrics::describe_counter!(
        "voicebot_pbx_ws_events_total",
        "Events received on the event WebSocket, by type"
    );
    metrics::describe_counter!(
        "voicebot_pbx_ws_dead_total",
        "Event WebSockets given up as dead (no pong)"
    );
    metrics::describe_counter!(
        STREAM_REOPENS,
        "Call audio streams reopened after a cut, an error or a stall, by direction"
    );
    metrics::describe_counter!(CALLS_TOTAL, "Calls ended, by direction and outcome");
    metrics::describe_gauge!(ACTIVE_CALLS, "Calls running now");
    metrics::describe_counter!(FRAMES_IN, "Caller frames received (20 ms each)");
    metrics::describe_counter!(FRAMES_OUT, "Frames sent to the PBX (20 ms each)");
    metrics::describe_counter!(UNDERRUNS, "Times a caller's jitter buffer ran dry");
    metrics::describe_counter!(DROPS, "Caller frames dropped by jitter buffers");
    metrics::describe_counter!(
        BARGE_INS,
        "Prompts stopped by the caller, by digit or speech"
    );
    metrics::describe_counter!(DIGITS, "DTMF digits received, by source");
    metrics::describe_counter!(BOT_FAILURES, "Bots that failed, by kind (error, panic)");
    metrics::describe_counter!(REJECTED, "Calls turned away, by treatment");
    metrics::describe_counter!(RECORDER_ERRORS, "Recording write failures");
    metrics::describe_counter!(
        RELEASED,
        "Calls released because the PBX refused every drop"
    );
    metrics::describe_counter!(
        CONNECT_FAILURES,
        "Failed attempts to (re)connect to the PBX"
    );
}
