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

/// `voicebot_calls_total{direction,outcome}`.
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
/// `voicebot_recorder_errors_total`: recording files that could not be written.
pub(crate) const RECORDER_ERRORS: &str = "voicebot_recorder_errors_total";

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
        metrics::counter!(FRAMES_IN).increment(frames_in);
        metrics::counter!(FRAMES_OUT).increment(frames_out);
        if underruns > 0 {
            metrics::counter!(UNDERRUNS).increment(underruns);
        }
        if drops > 0 {
            metrics::counter!(DROPS).increment(drops);
        }
    }
}

/// Describes the engine's metrics for the exporter.
pub(crate) fn describe() {
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
