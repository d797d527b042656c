//! Many callers at once: a callers file says how many call, how often, from which
//! numbers and with which script (`voicebot sim --callers FILE`).
//!
//! ```toml
//! [[group]]
//! name = "menu"            # shown in reports (default: group1, group2, ...)
//! count = 20               # how many calls
//! every = "500ms"          # one call started every ...
//! start_after = "1s"       # before the first (default 0)
//! from = "+1555010{n}"     # {n} is the call's number in its group: 1, 2, ...
//! to = "800"               # the DN called (default: the route point)
//! script = "menu.toml"     # a script file, relative to the callers file, or inline:
//! steps = [ { wait_heard = "1s" }, { press_random = "123" }, { wait = "3s" }, "hang_up" ]
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use voicebot_model::Dn;

use crate::scripted::{ScriptStatus, ScriptedCall};
use crate::state::Shared;
use crate::{CallSpec, Caller, MAX_STEP_DURATION, Script, SimError, Step, calls};

/// The most calls one callers file may place (a typo of `count` must not place a
/// billion calls).
pub const MAX_CALLERS: usize = 100_000;

/// A callers file: groups of scripted callers.
#[derive(Debug, Clone, PartialEq)]
pub struct CallersPlan {
    /// The groups, started together.
    pub groups: Vec<CallerGroup>,
}

/// Callers that share a script and a pace.
#[derive(Debug, Clone, PartialEq)]
pub struct CallerGroup {
    /// Name in reports.
    pub name: String,
    /// How many calls.
    pub count: usize,
    /// Time between two calls' starts.
    pub every: Duration,
    /// Time before the first call.
    pub start_after: Duration,
    /// Calling number; `{n}` becomes the call's number in the group (1, 2, ...).
    pub from: String,
    /// The DN called; `None` is the route point.
    pub to: Option<Dn>,
    /// What each caller does.
    pub script: Script,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    #[serde(default)]
    group: Vec<GroupForm>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupForm {
    name: Option<String>,
    #[serde(default = "one")]
    count: usize,
    every: Option<String>,
    start_after: Option<String>,
    from: Option<String>,
    to: Option<String>,
    script: Option<String>,
    steps: Option<Vec<Step>>,
}

fn one() -> usize {
    1
}

impl CallersPlan {
    /// Parses a callers file; `base` is the folder script paths are relative to.
    ///
    /// # Errors
    /// [`SimError::Config`] naming the group and setting that is wrong.
    pub fn from_toml(text: &str, base: &Path) -> Result<Self, SimError> {
        let file: FileForm =
            toml::from_str(text).map_err(|e| SimError::Config(format!("callers file: {e}")))?;
        if file.group.is_empty() {
            return Err(SimError::Config(
                "callers file: no [[group]] of callers in it".to_owned(),
            ));
        }
        let mut groups = Vec::new();
        let mut total = 0usize;
        for (index, form) in file.group.into_iter().enumerate() {
            let name = form.name.unwrap_or_else(|| format!("group{}", index + 1));
            let fail =
                |what: String| SimError::Config(format!("callers file, group {name:?}: {what}"));
            let duration = |key: &str, value: Option<String>| match value {
                None => Ok(Duration::ZERO),
                Some(text) => crate::script::parse_duration(&text)
                    .filter(|d| *d <= MAX_STEP_DURATION)
                    .ok_or_else(|| {
                        fail(format!(
                            "{key} = {text:?} is not a duration such as 2s or 500ms"
                        ))
                    }),
            };
            let every = duration("every", form.every)?;
            let start_after = duration("start_after", form.start_after)?;
            if form.count == 0 {
                return Err(fail("count must be at least 1".to_owned()));
            }
            total = total.saturating_add(form.count);
            if total > MAX_CALLERS {
                return Err(fail(format!("more than {MAX_CALLERS} calls in all")));
            }
            let script = match (form.script, form.steps) {
                (Some(_), Some(_)) => {
                    return Err(fail("give `script` or `steps`, not both".to_owned()));
                }
                (Some(path), None) => {
                    let path = base.join(path);
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| fail(format!("script {}: {e}", path.display())))?;
                    Script::from_toml(&text)
                        .map_err(|e| fail(format!("script {}: {e}", path.display())))?
                }
                (None, Some(steps)) => Script::from(steps),
                (None, None) => Script::default(),
            };
            let from = form.from.unwrap_or_else(|| "+1555000{n}".to_owned());
            if from.trim().is_empty() {
                return Err(fail("from is empty".to_owned()));
            }
            groups.push(CallerGroup {
                name,
                count: form.count,
                every,
                start_after,
                from,
                to: form.to.map(Dn::new),
                script,
            });
        }
        Ok(Self { groups })
    }

    /// How many calls the plan places.
    pub fn total(&self) -> usize {
        self.groups.iter().map(|group| group.count).sum()
    }
}

/// A callers plan under way. Dropping it stops placing new calls (calls placed go
/// on to their end).
#[derive(Debug)]
pub struct CallersRun {
    shared: Arc<Shared>,
    ids: Arc<Mutex<Vec<u64>>>,
    not_placed: Arc<Mutex<BTreeMap<String, usize>>>,
    total: usize,
    task: JoinHandle<()>,
}

impl Drop for CallersRun {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where a callers plan stands: counts and how the calls ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CallersSummary {
    /// Calls the plan places in all.
    pub planned: usize,
    /// Calls placed so far.
    pub placed: usize,
    /// Calls still in progress.
    pub active: usize,
    /// Calls that were answered (connected).
    pub answered: usize,
    /// Calls whose script failed.
    pub failed: usize,
    /// Audio heard over all calls, in milliseconds.
    pub heard_ms: u64,
    /// Keys pressed over all calls.
    pub pressed: usize,
    /// How calls ended (`HungUp`, `RoutedTo(100)`, `Dropped`, `script failed: ...`,
    /// `not placed: ...`), with how many each.
    pub outcomes: BTreeMap<String, usize>,
}

impl CallersSummary {
    /// Whether every call was placed and every script has ended.
    pub fn is_done(&self) -> bool {
        self.placed + self.not_placed() >= self.planned && self.running_scripts() == 0
    }

    fn not_placed(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|(what, _)| what.starts_with("not placed"))
            .map(|(_, count)| count)
            .sum()
    }

    fn running_scripts(&self) -> usize {
        self.outcomes.get("running").copied().unwrap_or(0)
    }
}

impl fmt::Display for CallersSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "placed {}/{}, active {}, answered {}, script failures {}, heard {:.1} s, keys pressed {}",
            self.placed,
            self.planned,
            self.active,
            self.answered,
            self.failed,
            self.heard_ms as f64 / 1000.0,
            self.pressed
        )
    }
}

impl CallersRun {
    pub(crate) fn start(shared: &Arc<Shared>, plan: CallersPlan) -> Self {
        let ids = Arc::new(Mutex::new(Vec::new()));
        let not_placed = Arc::new(Mutex::new(BTreeMap::new()));
        let total = plan.total();
        let task = {
            let shared = shared.clone();
            let ids = ids.clone();
            let not_placed = not_placed.clone();
            tokio::spawn(async move {
                let groups = plan
                    .groups
                    .into_iter()
                    .map(|group| run_group(shared.clone(), group, ids.clone(), not_placed.clone()));
                futures::future::join_all(groups).await;
            })
        };
        Self {
            shared: shared.clone(),
            ids,
            not_placed,
            total,
            task,
        }
    }

    /// The calls placed so far.
    pub fn calls(&self) -> Vec<ScriptedCall> {
        let ids = self.ids.lock().unwrap_or_else(|e| e.into_inner()).clone();
        ids.into_iter()
            .filter_map(|id| self.shared.scripted.get(id))
            .collect()
    }

    /// Counts and outcomes so far.
    pub fn summary(&self) -> CallersSummary {
        let calls = self.calls();
        let mut summary = CallersSummary {
            planned: self.total,
            placed: calls.len(),
            ..CallersSummary::default()
        };
        for call in &calls {
            summary.active += usize::from(call.state != "ended");
            summary.answered += usize::from(call.answered);
            summary.heard_ms += call.heard_ms;
            summary.pressed += call.pressed.chars().count();
            let outcome = match (&call.script, &call.end) {
                (ScriptStatus::Failed(error), _) => {
                    summary.failed += 1;
                    format!("script failed: {error}")
                }
                (ScriptStatus::Running, _) => "running".to_owned(),
                (_, Some(end)) => end.clone(),
                (ScriptStatus::Done, None) => "still connected".to_owned(),
            };
            *summary.outcomes.entry(outcome).or_default() += 1;
        }
        for (reason, count) in self
            .not_placed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            *summary
                .outcomes
                .entry(format!("not placed: {reason}"))
                .or_default() += count;
        }
        summary
    }

    /// Waits until every call was placed and every script ended.
    pub async fn wait_done(&self) -> CallersSummary {
        loop {
            let summary = self.summary();
            if summary.is_done() {
                return summary;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn run_group(
    shared: Arc<Shared>,
    group: CallerGroup,
    ids: Arc<Mutex<Vec<u64>>>,
    not_placed: Arc<Mutex<BTreeMap<String, usize>>>,
) {
    tokio::time::sleep(group.start_after).await;
    for n in 1..=group.count {
        if n > 1 {
            tokio::time::sleep(group.every).await;
        }
        let from = group.from.replace("{n}", &n.to_string());
        let mut spec = CallSpec::new(from.clone());
        spec.to = group.to.clone();
        match calls::start_inbound(&shared, spec) {
            Ok(core) => {
                let caller = Caller::new(shared.clone(), core);
                let id = crate::scripted::spawn(
                    &shared,
                    caller,
                    group.script.clone(),
                    group.name.clone(),
                    from,
                );
                ids.lock().unwrap_or_else(|e| e.into_inner()).push(id);
            }
            Err(error) => {
                tracing::warn!(group = %group.name, %error, "a caller could not be placed");
                *not_placed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(error.to_string())
                    .or_default() += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callers_file_reads_groups_and_refuses_mistakes() {
        let plan = CallersPlan::from_toml(
            r#"
            [[group]]
            name = "menu"
            count = 3
            every = "500ms"
            from = "+1555{n}"
            steps = [ { press_random = "12" }, "hang_up" ]
            [[group]]
            to = "101"
            "#,
            Path::new("."),
        )
        .unwrap();
        assert_eq!(plan.total(), 4);
        assert_eq!(plan.groups[0].every, Duration::from_millis(500));
        assert_eq!(plan.groups[0].script.steps.len(), 2);
        assert_eq!(plan.groups[1].name, "group2");
        assert_eq!(plan.groups[1].to, Some(Dn::new("101")));
        for (text, needle) in [
            ("[[group]]\ncount = 0", "count"),
            ("[[group]]\nevery = \"soon\"", "every"),
            ("[[group]]\ncolour = 1", "colour"),
            ("", "no [[group]]"),
            ("[[group]]\nscript = \"missing.toml\"", "missing.toml"),
            ("[[group]]\ncount = 100001", "100000"),
        ] {
            let error = CallersPlan::from_toml(text, Path::new("."))
                .unwrap_err()
                .to_string();
            assert!(error.contains(needle), "{text}: {error}");
        }
    }
}
