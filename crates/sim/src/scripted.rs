//! Scripted calls the simulator runs by itself: callers placed through the control
//! API or a callers file, and answered parties that run a script. Each one's script
//! runs on its own task; its outcome is kept (and a failure journalled) so a
//! failing caller is reported and never stops the simulator.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

use crate::journal::JournalKind;
use crate::state::Shared;
use crate::{CallEnd, Caller, CallerState, Script};

/// Where a scripted call's script stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "error", rename_all = "snake_case")]
pub enum ScriptStatus {
    /// Still running.
    Running,
    /// Every step ran.
    Done,
    /// A step failed; the error says which and why.
    Failed(String),
}

/// A scripted call as the control API and the callers report show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScriptedCall {
    /// Its number in the simulator (1, 2, …), stable over PBX restarts.
    pub id: u64,
    /// Who placed it (a callers group's name, `api`, or `answered by 100`).
    pub label: String,
    /// The PBX call id.
    pub callid: i64,
    /// The participant the client sees for it.
    pub participant: i64,
    /// The DN of that participant.
    pub dn: String,
    /// Calling number.
    pub from: String,
    /// `ringing`, `connected` or `ended`.
    pub state: &'static str,
    /// How the call ended, when it has (`HungUp`, `Dropped`, `TransferredTo("100")`, …).
    pub end: Option<String>,
    /// Whether the call was ever connected.
    pub answered: bool,
    /// Audio heard so far, in milliseconds.
    pub heard_ms: u64,
    /// Keys the script pressed, in order.
    pub pressed: String,
    /// The script's progress.
    pub script: ScriptStatus,
}

#[derive(Debug)]
struct Entry {
    label: String,
    from: String,
    caller: Caller,
    script: ScriptStatus,
    pressed: String,
}

/// Every scripted call of one simulator.
#[derive(Debug, Default)]
pub(crate) struct ScriptedCalls {
    entries: Mutex<BTreeMap<u64, Entry>>,
    next_id: Mutex<u64>,
}

impl ScriptedCalls {
    fn entries(&self) -> MutexGuard<'_, BTreeMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every scripted call, oldest first.
    pub(crate) fn list(&self) -> Vec<ScriptedCall> {
        self.entries()
            .iter()
            .map(|(id, entry)| view(*id, entry))
            .collect()
    }

    /// One scripted call.
    pub(crate) fn get(&self, id: u64) -> Option<ScriptedCall> {
        self.entries().get(&id).map(|entry| view(id, entry))
    }

    /// Its caller, to drive it by hand.
    pub(crate) fn caller(&self, id: u64) -> Option<Caller> {
        self.entries().get(&id).map(|entry| entry.caller.clone())
    }

    /// Notes keys pressed on call `id`.
    pub(crate) fn pressed(&self, id: u64, digits: &str) {
        if let Some(entry) = self.entries().get_mut(&id) {
            entry.pressed.push_str(digits);
        }
    }
}

fn view(id: u64, entry: &Entry) -> ScriptedCall {
    let (state, end) = match entry.caller.state() {
        CallerState::Ringing => ("ringing", None),
        CallerState::Connected => ("connected", None),
        CallerState::Ended(end) => ("ended", Some(describe(&end))),
    };
    ScriptedCall {
        id,
        label: entry.label.clone(),
        callid: entry.caller.callid(),
        participant: entry.caller.participant_id().0,
        dn: entry.caller.dn().to_string(),
        from: entry.from.clone(),
        state,
        end,
        answered: entry.caller.was_connected(),
        heard_ms: entry.caller.heard().audio_duration().as_millis() as u64,
        pressed: entry.pressed.clone(),
        script: entry.script.clone(),
    }
}

/// `CallEnd` in words for reports: `HungUp`, `TransferredTo(100)`.
pub(crate) fn describe(end: &CallEnd) -> String {
    format!("{end:?}").replace('"', "")
}

/// Runs `script` on `caller` on a task of its own and keeps the outcome; returns the
/// scripted call's id. A failing script is journalled ([`JournalKind::ScriptEnded`])
/// and logged; the simulator goes on.
pub(crate) fn spawn(
    shared: &Arc<Shared>,
    caller: Caller,
    script: Script,
    label: impl Into<String>,
    from: impl Into<String>,
) -> u64 {
    let id = {
        let mut next = shared
            .scripted
            .next_id
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *next += 1;
        *next
    };
    let label = label.into();
    shared.scripted.entries().insert(
        id,
        Entry {
            label: label.clone(),
            from: from.into(),
            caller: caller.clone(),
            script: ScriptStatus::Running,
            pressed: String::new(),
        },
    );
    let shared = shared.clone();
    tokio::spawn(async move {
        let run = async {
            for step in &script.steps {
                if let Some(keys) = step.run(&caller).await? {
                    shared.scripted.pressed(id, &keys);
                }
            }
            Ok::<_, crate::SimError>(())
        };
        let result = tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            result = run => result,
        };
        let error = result.err().map(|error| error.to_string());
        if let Some(error) = &error {
            tracing::warn!(id, callid = caller.callid(), %label, %error, "scripted call failed; the simulator goes on");
        }
        shared.record(JournalKind::ScriptEnded {
            id,
            callid: caller.callid(),
            label,
            error: error.clone(),
        });
        if let Some(entry) = shared.scripted.entries().get_mut(&id) {
            entry.script = match error {
                Some(error) => ScriptStatus::Failed(error),
                None => ScriptStatus::Done,
            };
        }
    });
    id
}
