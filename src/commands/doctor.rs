//! `voicebot doctor`: the troubleshooting checklist, one numbered step at a time,
//! stopping at the first failure with a hint on what to check. Exit 5 names it.

mod checks;

use clap::Args;
use serde::Serialize;

use super::pbx::PbxArgs;
use crate::exit::Exit;

/// Options of `voicebot doctor`.
#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    #[command(flatten)]
    pbx: PbxArgs,
    /// An extension the API client should monitor (repeatable).
    #[arg(long = "extension", value_name = "DN")]
    extensions: Vec<String>,
    /// Check the audio streams with a test call from the route point to this number
    /// (it rings for real: use a test extension or number).
    #[arg(long, value_name = "NUMBER")]
    test_call: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// How one step went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    /// Passed.
    Ok,
    /// Passed with something worth knowing.
    Warning,
    /// Failed: the steps after it did not run.
    Failed,
    /// Not run.
    Skipped,
}

/// One step of the checklist and its result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Step {
    /// 1-based.
    pub(crate) number: usize,
    /// What is checked.
    pub(crate) name: &'static str,
    /// How it went.
    pub(crate) status: Status,
    /// What was found.
    pub(crate) detail: String,
    /// What to check when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    ok: bool,
    url: &'a str,
    client_id: &'a str,
    failed_step: Option<&'a Step>,
    steps: &'a [Step],
}

/// Runs the checklist.
pub(crate) async fn run(args: DoctorArgs) -> anyhow::Result<()> {
    let target = args.pbx.target()?;
    let mut extensions = args.extensions.clone();
    extensions.retain(|dn| !dn.trim().is_empty());
    let plan = checks::Plan {
        target: target.clone(),
        extensions,
        test_call: args.test_call.clone(),
    };
    if !args.json {
        println!(
            "voicebot doctor: {} as API client {}",
            target.url, target.client_id
        );
    }
    let steps = checks::run_all(&plan, |step| {
        if !args.json {
            print_step(step);
        }
    })
    .await;
    let failed = steps.iter().find(|step| step.status == Status::Failed);
    if args.json {
        let report = Report {
            ok: failed.is_none(),
            url: &target.url,
            client_id: &target.client_id,
            failed_step: failed,
            steps: &steps,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    match failed {
        None => {
            if !args.json {
                println!("all checks passed");
            }
            Ok(())
        }
        Some(step) => Err(Exit::DoctorStep.error(format!(
            "step {} failed: {}: {}",
            step.number, step.name, step.detail
        ))),
    }
}

fn print_step(step: &Step) {
    let mark = match step.status {
        Status::Ok => "✓",
        Status::Warning => "!",
        Status::Failed => "✗",
        Status::Skipped => "-",
    };
    println!("{mark} {}. {}: {}", step.number, step.name, step.detail);
    if let Some(hint) = &step.hint {
        println!("     → {hint}");
    }
}
