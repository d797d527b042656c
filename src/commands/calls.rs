//! `voicebot calls`: the calls the engine handled, from its call records
//! (`cdr.jsonl` and the files rotated beside it).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use voicebot_engine::CallRecord;

use crate::config::Config;
use crate::exit::Exit;
use crate::records::read_records;

/// Options of `voicebot calls`.
#[derive(Debug, Args)]
pub(crate) struct CallsArgs {
    /// The configuration whose `[call_records]` file to read.
    #[arg(short = 'c', long, value_name = "FILE", conflicts_with = "file")]
    config: Option<PathBuf>,
    /// The records file itself (default: cdr.jsonl in the current folder).
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Only calls that ended within this long, e.g. `1h`, `30m`, `2d`.
    #[arg(long, value_parser = humantime_serde::re::humantime::parse_duration)]
    since: Option<Duration>,
    /// Print the records as JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

/// Prints the records.
pub(crate) async fn run(args: CallsArgs) -> anyhow::Result<()> {
    let path = match (&args.config, &args.file) {
        (Some(config), _) => Config::load(config)?.call_records_file(),
        (None, Some(file)) => file.clone(),
        (None, None) => PathBuf::from("cdr.jsonl"),
    };
    let (records, bad) = tokio::task::spawn_blocking(move || read_records(&path))
        .await
        .map_err(anyhow::Error::new)?
        .map_err(|error| Exit::Usage.error(format!("{error:#}")))?;
    if bad > 0 {
        eprintln!("warning: {bad} line(s) that are not call records were skipped");
    }
    let since = match args.since {
        None => None,
        Some(window) => {
            let window = jiff::SignedDuration::try_from(window)
                .map_err(|error| Exit::Usage.error(format!("--since: {error}")))?;
            Some(
                jiff::Timestamp::now()
                    .checked_sub(window)
                    .map_err(|error| Exit::Usage.error(format!("--since: {error}")))?,
            )
        }
    };
    let shown = records.into_iter().filter(|record| match since {
        None => true,
        Some(since) => record
            .ended_at
            .parse::<jiff::Timestamp>()
            .is_ok_and(|ended| ended >= since),
    });
    if args.json {
        for record in shown {
            println!("{}", serde_json::to_string(&record)?);
        }
        return Ok(());
    }
    let rows: Vec<CallRecord> = shown.collect();
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec![
            "ended",
            "caller",
            "to",
            "bot",
            "outcome",
            "seconds",
            "digits",
            "went to",
            "recordings",
        ]);
    for record in &rows {
        let went_to: Vec<String> = record
            .actions
            .iter()
            .filter(|action| action.destination.is_some())
            .map(|action| {
                format!(
                    "{} {} ({})",
                    action.action,
                    action.destination.as_deref().unwrap_or(""),
                    action.result
                )
            })
            .collect();
        table.add_row(vec![
            record.ended_at.clone(),
            record.caller.clone(),
            record.route_point.clone(),
            record.bot.clone().unwrap_or_default(),
            record.outcome.clone(),
            format!("{:.1}", record.duration_ms as f64 / 1000.0),
            record.digits.clone(),
            went_to.join(", "),
            record.recordings.len().to_string(),
        ]);
    }
    println!("{table}");
    println!("{} call(s)", rows.len());
    Ok(())
}
