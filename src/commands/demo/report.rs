//! What the demo prints: progress lines as things happen (plain lines, so they work
//! when stdout is not a terminal) and the summary at the end.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::Instant;
use voicebot_engine::{EngineEvent, EngineStats};
use voicebot_sim::CallEnd;

/// Prints timestamped progress lines and remembers which caller owns which call.
#[derive(Debug, Clone)]
pub(crate) struct Progress {
    start: Instant,
    names: Arc<Mutex<HashMap<i64, String>>>,
}

impl Progress {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            names: Arc::default(),
        }
    }

    /// Time since the demo started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Prints one line.
    pub(crate) fn line(&self, who: &str, what: impl AsRef<str>) {
        println!(
            "[{:>5.1}s] {who:<8} {}",
            self.elapsed().as_secs_f64(),
            what.as_ref()
        );
    }

    /// Names the caller of PBX call `call_id` in engine lines.
    pub(crate) fn name_call(&self, call_id: i64, name: &str) {
        self.names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(call_id, name.to_owned());
    }

    fn call_name(&self, call_id: i64) -> String {
        self.names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&call_id)
            .map_or_else(
                || format!("call {call_id}"),
                |name| format!("{name}'s call"),
            )
    }

    /// Prints engine events until the channel closes.
    pub(crate) async fn follow(self, mut events: broadcast::Receiver<EngineEvent>) {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    self.line("engine", format!("({missed} events not shown)"));
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let text = match event {
                EngineEvent::PbxConnected => "connected to the PBX event socket".to_owned(),
                EngineEvent::PbxDisconnected { reason } => format!("PBX socket lost: {reason}"),
                EngineEvent::CallStarted {
                    call_id,
                    dn,
                    caller,
                    ..
                } => format!(
                    "{} from {caller} to {dn}: bot started",
                    self.call_name(call_id)
                ),
                EngineEvent::CallRejected {
                    call_id, treatment, ..
                } => format!("{} turned away ({treatment})", self.call_name(call_id)),
                EngineEvent::BotFailed { call_id, error, .. } => {
                    format!("{}: bot failed: {error}", self.call_name(call_id))
                }
                EngineEvent::CallEnded {
                    call_id,
                    outcome,
                    duration,
                } => format!(
                    "{} ended ({}) after {:.1} s",
                    self.call_name(call_id),
                    outcome.as_str(),
                    duration.as_secs_f64()
                ),
                other => format!("{other:?}"),
            };
            self.line("engine", text);
        }
    }
}

/// What one scripted caller did and heard.
#[derive(Debug, Clone)]
pub(crate) struct CallerReport {
    /// First name, used in progress lines.
    pub(crate) name: &'static str,
    /// What the caller tries.
    pub(crate) scenario: &'static str,
    /// Calling number.
    pub(crate) from: String,
    /// What the caller did, in order.
    pub(crate) actions: Vec<String>,
    /// Prompt audio heard in total.
    pub(crate) heard: Duration,
    /// How the call ended.
    pub(crate) end: Option<CallEnd>,
    /// Why the script failed, if it did.
    pub(crate) error: Option<String>,
}

impl CallerReport {
    pub(crate) fn new(name: &'static str, scenario: &'static str, from: &str) -> Self {
        Self {
            name,
            scenario,
            from: from.to_owned(),
            actions: Vec::new(),
            heard: Duration::ZERO,
            end: None,
            error: None,
        }
    }
}

/// A recording found in the recordings folder.
#[derive(Debug, Clone)]
pub(crate) struct RecordingFile {
    pub(crate) path: PathBuf,
    pub(crate) duration: Option<Duration>,
    pub(crate) has_metadata: bool,
}

/// Every `.wav` under `dir`, with its duration.
pub(crate) fn find_recordings(dir: &Path) -> Vec<RecordingFile> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "wav") {
                let duration = hound::WavReader::open(&path).ok().map(|reader| {
                    let spec = reader.spec();
                    Duration::from_secs_f64(
                        f64::from(reader.duration()) / f64::from(spec.sample_rate.max(1)),
                    )
                });
                let has_metadata = path.with_extension("json").exists();
                found.push(RecordingFile {
                    path,
                    duration,
                    has_metadata,
                });
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

pub(crate) fn describe_end(end: Option<&CallEnd>) -> String {
    match end {
        Some(CallEnd::HungUp) => "the caller hung up".to_owned(),
        Some(CallEnd::Dropped) => "the bot hung up".to_owned(),
        Some(CallEnd::TransferredTo(to)) => format!("transferred to {to}"),
        Some(CallEnd::RoutedTo(to)) => format!("routed to {to}"),
        Some(CallEnd::DivertedTo(to)) => format!("diverted to {to}"),
        Some(other) => format!("{other:?}"),
        None => "still going".to_owned(),
    }
}

/// Prints the summary.
pub(crate) fn print_summary(
    took: Duration,
    stats: &EngineStats,
    callers: &[CallerReport],
    recordings_dir: &Path,
    recordings: &[RecordingFile],
) {
    println!();
    println!("Summary ({:.1} s)", took.as_secs_f64());
    println!(
        "  engine: {} calls started, {} ended, {} barge-ins, {} bot errors",
        stats.calls_started, stats.calls_ended, stats.barge_ins, stats.bot_errors
    );
    for caller in callers {
        println!("  {} ({}), {}:", caller.name, caller.from, caller.scenario);
        for action in &caller.actions {
            println!("    - {action}");
        }
        println!(
            "    heard {:.1} s of prompts; {}",
            caller.heard.as_secs_f64(),
            describe_end(caller.end.as_ref())
        );
        if let Some(error) = &caller.error {
            println!("    ✗ script failed: {error}");
        }
    }
    println!("Recordings in {}:", recordings_dir.display());
    if recordings.is_empty() {
        println!("  (none)");
    }
    for recording in recordings {
        println!(
            "  {}  {}{}",
            recording.path.display(),
            recording
                .duration
                .map_or_else(|| "?".to_owned(), |d| format!("{:.1} s", d.as_secs_f64())),
            match recording.has_metadata {
                true => "  (metadata: .json beside it)",
                false => "",
            }
        );
    }
}
