//! What `voicebot sim` prints while it serves: each scripted call's end (a failing
//! script is reported here and the simulator goes on), the callers plan's live count
//! whenever it changes, and the plan's summary once every caller is done.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use voicebot_sim::{CallersRun, CallersSummary, ScriptStatus, Sim};

/// How often the report looks at the calls.
const EVERY: Duration = Duration::from_millis(250);

/// Prints scripted calls' ends and the callers plan's progress until cancelled.
pub(crate) async fn follow(sim: &Sim, callers: Option<&CallersRun>) {
    let mut reported: BTreeMap<u64, bool> = BTreeMap::new();
    let mut last_count = String::new();
    let mut summarised = false;
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        for call in sim.scripted_calls() {
            let script_over = call.script != ScriptStatus::Running;
            let call_over = call.state == "ended";
            let done = reported.get(&call.id).copied().unwrap_or(false);
            if done
                || !(script_over && (call_over || matches!(call.script, ScriptStatus::Failed(_))))
            {
                continue;
            }
            reported.insert(call.id, true);
            let how = call
                .end
                .clone()
                .unwrap_or_else(|| "still connected".to_owned());
            match &call.script {
                ScriptStatus::Failed(error) => println!(
                    "call {} ({}, from {}): script failed: {error}; the simulator goes on",
                    call.id, call.label, call.from
                ),
                _ => println!(
                    "call {} ({}, from {}): {how}; heard {:.1} s, pressed {:?}",
                    call.id,
                    call.label,
                    call.from,
                    call.heard_ms as f64 / 1000.0,
                    call.pressed
                ),
            }
        }
        if let Some(run) = callers {
            let summary = run.summary();
            let count = format!("callers: {summary}");
            if count != last_count {
                println!("{count}");
                last_count = count;
            }
            if summary.is_done() && !summarised {
                print_summary(&summary);
                summarised = true;
            }
        }
        let _ = std::io::stdout().flush();
    }
}

/// The callers plan's summary: counts, then how the calls ended.
pub(crate) fn print_summary(summary: &CallersSummary) {
    println!("callers summary:");
    println!("  placed:    {}/{}", summary.placed, summary.planned);
    println!("  answered:  {}", summary.answered);
    println!(
        "  heard:     {:.1} s in all",
        summary.heard_ms as f64 / 1000.0
    );
    println!("  pressed:   {} keys", summary.pressed);
    println!("  failed:    {} scripts", summary.failed);
    println!("  outcomes:");
    for (outcome, count) in &summary.outcomes {
        println!("    {count:>5}  {outcome}");
    }
}
