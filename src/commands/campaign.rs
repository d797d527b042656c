//! `voicebot campaign -c voicebot.toml --route-point DN`: runs the `announcement`
//! bot's outbound mode (its `[outbound]` table) on a running engine: connects as
//! `run` does, dials every number through the engine's dialer, prints progress and a
//! summary, writes this run's results (timestamped files, copied to `results.csv` and
//! `results.json`), and shuts the engine down.
//!
//! Busy and unanswered numbers are outcomes, not errors: the command exits 0 once
//! every number has a result, and 1 only when no number could be dialled at all.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use tokio_util::sync::CancellationToken;
use voicebot_announcement::{Campaign, CampaignReport, Outcome, Recipient};
use voicebot_bot::{BotRegistry, CallError, DialOutcome, DialRequest, Dialer, async_trait};

use crate::commands::run::shutdown_signal;
use crate::config::Config;
use crate::exit::Exit;
use crate::launch;

/// How long the engine's event WebSocket gets to connect before dialling starts.
const CONNECT_WAIT: Duration = Duration::from_secs(15);

/// Options of `voicebot campaign`.
#[derive(Debug, Args)]
pub(crate) struct CampaignArgs {
    /// The configuration file.
    #[arg(
        short = 'c',
        long,
        value_name = "FILE",
        default_value = "voicebot.toml"
    )]
    config: PathBuf,
    /// With a config file of several PBXs (`[[pbx]]`): the PBX whose route point dials.
    #[arg(long = "pbx", value_name = "NAME")]
    pbx: Option<String>,
    /// The route point whose `announcement` bot has the `[outbound]` table to run.
    #[arg(long, value_name = "DN")]
    route_point: String,
    /// Numbers to dial instead of `outbound.numbers`: one a line (`#` comments and
    /// blank lines ignored), or CSV with a `number` column.
    #[arg(long, value_name = "FILE")]
    numbers: Option<PathBuf>,
    /// Folder for results.csv and results.json (default: `outbound.results_dir`).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the results as JSON on stdout (progress goes to stderr).
    #[arg(long)]
    json: bool,
}

/// Runs the campaign (see the module docs).
pub(crate) async fn run(args: CampaignArgs, registry: &Arc<BotRegistry>) -> anyhow::Result<()> {
    let config = Config::load(&args.config)?.site(args.pbx.as_deref())?;
    // Every bot is built first, so a bad table anywhere fails before connecting.
    let bots = launch::build(&config, registry)?;
    let campaign_config = campaign_config(&config, &args)?;
    let route_point = args.route_point.as_str();

    let client = launch::connect(&config, &args.config).await?;
    let records = launch::call_records(&config)?;
    let engine = bots.engine(&config, client, &records, None)?;
    let handle = engine.handle();
    let progress = Arc::new(Progress {
        inner: engine.dialer(),
        json: args.json,
        total: campaign_config
            .outbound
            .as_ref()
            .map_or(0, |outbound| outbound.numbers.len()),
        done: AtomicUsize::new(0),
    });
    let campaign = Campaign::with_dialer(campaign_config, Arc::clone(&progress) as Arc<dyn Dialer>)
        .map_err(|error| {
            Exit::Usage.error(format!(
                "{}: route_points.\"{route_point}\".config{}: {}",
                args.config.display(),
                error
                    .key
                    .as_deref()
                    .map(|k| format!(".{k}"))
                    .unwrap_or_default(),
                error.message
            ))
        })?;

    let stop = CancellationToken::new();
    let mut engine_task = tokio::spawn({
        let stop = stop.clone();
        async move { engine.run(stop.cancelled_owned()).await }
    });

    let flow = async {
        wait_connected(&handle).await?;
        progress.say(format!(
            "campaign from route point {route_point}: {} numbers",
            progress.total
        ));
        tokio::select! {
            report = campaign.run() => Ok(report),
            () = shutdown_signal() => Err(anyhow::anyhow!(
                "interrupted: the campaign was stopped before every number had a result"
            )),
        }
    };
    // The engine stopping on its own (e.g. its metrics address is taken) ends the
    // campaign too, with the engine's error.
    let (outcome, stopped) = tokio::select! {
        outcome = flow => {
            stop.cancel();
            (outcome, (&mut engine_task).await)
        }
        stopped = &mut engine_task => (
            Err(anyhow::anyhow!("the engine stopped before the campaign ended")),
            stopped,
        ),
    };
    let stopped = stopped.context("the engine task failed")?;
    let report = match (outcome, stopped) {
        (Ok(report), Ok(())) => report,
        (Ok(report), Err(error)) => {
            tracing::warn!(%error, "the engine did not shut down cleanly");
            report
        }
        (Err(error), Ok(())) => return Err(error),
        (Err(error), Err(engine)) => {
            return Err(anyhow::Error::new(engine).context(format!("{error:#}")));
        }
    };
    let files = campaign
        .write_report(&report)
        .await
        .context("writing the campaign results")?;
    print_summary(&args, &report, &files)?;
    if !report.results.is_empty() && report.count(Outcome::Failed) == report.results.len() {
        let reason = report
            .results
            .first()
            .map(|result| result.reason.clone())
            .unwrap_or_default();
        return Err(Exit::Runtime.error(format!(
            "no number could be dialled (first reason: {reason})"
        )));
    }
    Ok(())
}

/// The announcement configuration of `--route-point`, with `--numbers` and `--out`
/// applied and `results_dir` resolved against the file's folder.
fn campaign_config(
    config: &Config,
    args: &CampaignArgs,
) -> anyhow::Result<voicebot_announcement::Config> {
    let file = config.file.display();
    let dn = &args.route_point;
    let Some(route_point) = config.route_points.get(dn) else {
        return Err(Exit::Usage.error(format!(
            "{file}: no route point {dn:?} (configured: {})",
            config
                .route_points
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let bot = route_point.bot.get_ref();
    if bot != voicebot_announcement::NAME {
        return Err(Exit::Usage.error(format!(
            "{file}: route_points.\"{dn}\".bot: campaigns run the \"announcement\" bot, not {bot:?}"
        )));
    }
    let table = route_point
        .config
        .as_ref()
        .map(|table| table.get_ref().clone())
        .unwrap_or_default();
    // `launch::build` has checked the table already; this cannot fail in practice.
    let mut announcement: voicebot_announcement::Config =
        toml::Value::Table(table).try_into().map_err(|error| {
            Exit::Usage.error(format!("{file}: route_points.\"{dn}\".config: {error}"))
        })?;
    let Some(outbound) = announcement.outbound.as_mut() else {
        return Err(Exit::Usage.error(format!(
            "{file}: route_points.\"{dn}\".config.outbound: missing: a campaign needs an \
             [outbound] table (from, numbers)"
        )));
    };
    if !config.route_points.contains_key(&outbound.from) {
        return Err(Exit::Usage.error(format!(
            "{file}: route_points.\"{dn}\".config.outbound.from: {:?} is not a configured \
             route point, so the engine would not see its calls",
            outbound.from
        )));
    }
    if let Some(path) = &args.numbers {
        outbound.numbers = read_numbers(path)?;
    }
    outbound.results_dir = match &args.out {
        Some(dir) => dir.clone(),
        None => config.resolve(&outbound.results_dir),
    };
    Ok(announcement)
}

/// Reads a numbers file (see `--numbers`).
fn read_numbers(path: &Path) -> anyhow::Result<Vec<Recipient>> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| Exit::Usage.error(format!("{}: {error}", path.display())))?;
    parse_numbers(&text)
        .map_err(|message| Exit::Usage.error(format!("{}:{message}", path.display())))
}

/// The numbers of a numbers file, each with the other columns of its line as fields (named
/// by the header); errors are `LINE: message`.
fn parse_numbers(text: &str) -> Result<Vec<Recipient>, String> {
    let lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
    let mut numbers: Vec<(usize, Recipient)> = Vec::new();
    let mut column = None;
    let mut header: Vec<String> = Vec::new();
    for (number, line) in lines {
        let cells: Vec<String> = split_csv(line);
        // Only the first line can be the header.
        if numbers.is_empty()
            && column.is_none()
            && let Some(index) = cells
                .iter()
                .position(|cell| cell.eq_ignore_ascii_case("number"))
        {
            column = Some(index);
            header = cells;
            continue;
        }
        let value = match column {
            Some(index) => cells.get(index).cloned().unwrap_or_default(),
            // A first line of words is a header: without a `number` column its
            // cells would be dialled as numbers.
            None if numbers.is_empty() && looks_like_header(&cells) => {
                return Err(format!(
                    "{number}: a header without a `number` column (columns found: {}); \
                     name the column of numbers `number`",
                    cells.join(", ")
                ));
            }
            None if cells.len() > 1 => {
                return Err(format!(
                    "{number}: several columns but no header with a `number` column"
                ));
            }
            None => match line.split_once('#') {
                Some((before, _)) => before.trim().to_owned(),
                None => line.to_owned(),
            },
        };
        if value.is_empty() {
            return Err(format!("{number}: the number is empty"));
        }
        if let Some((first, _)) = numbers.iter().find(|(_, seen)| seen.number == value) {
            return Err(format!(
                "{number}: {value} is listed twice (first on line {first})"
            ));
        }
        let fields = header
            .iter()
            .zip(cells)
            .filter(|(name, _)| !name.eq_ignore_ascii_case("number"))
            .map(|(name, cell)| (name.clone(), cell))
            .collect();
        numbers.push((number, Recipient::with_fields(value, fields)));
    }
    if numbers.is_empty() {
        return Err(" no numbers in the file".to_owned());
    }
    Ok(numbers.into_iter().map(|(_, value)| value).collect())
}

/// Whether a line is a header: no cell has a digit (numbers and extensions do).
fn looks_like_header(cells: &[String]) -> bool {
    cells
        .iter()
        .all(|cell| !cell.chars().any(|c| c.is_ascii_digit()))
}

/// The cells of one CSV line, trimmed, with double quotes removed (`""` is a quote).
fn split_csv(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(std::mem::take(&mut cell).trim().to_owned()),
            other => cell.push(other),
        }
    }
    cells.push(cell.trim().to_owned());
    cells
}

/// Waits until the engine's event WebSocket is connected, so no leg goes unseen.
async fn wait_connected(handle: &voicebot_engine::EngineHandle) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + CONNECT_WAIT;
    while !handle.health().pbx_connected {
        if tokio::time::Instant::now() >= deadline {
            return Err(Exit::Runtime.error(format!(
                "the PBX event WebSocket did not connect within {}s (try `voicebot doctor`)",
                CONNECT_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Wraps the engine's dialer to print each attempt as it starts and ends.
struct Progress {
    inner: Arc<dyn Dialer>,
    json: bool,
    total: usize,
    done: AtomicUsize,
}

impl Progress {
    /// Progress goes to stdout, or to stderr when stdout carries JSON.
    fn say(&self, line: String) {
        match self.json {
            true => eprintln!("{line}"),
            false => println!("{line}"),
        }
    }
}

#[async_trait]
impl Dialer for Progress {
    async fn dial(&self, request: DialRequest) -> Result<DialOutcome, CallError> {
        let to = request.destination.clone();
        self.say(format!("  calling {to}"));
        let result = self.inner.dial(request).await;
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let what = match &result {
            Ok(DialOutcome::Answered { talk_time, .. }) => {
                format!("answered ({:.1}s)", talk_time.as_secs_f64())
            }
            Ok(outcome) => outcome.kind().replace('_', " "),
            Err(error) => format!("failed: {error}"),
        };
        self.say(format!("  [{done}] {to}: {what}"));
        result
    }
}

/// The summary: counts as a table (or everything as JSON), and where the files are.
fn print_summary(
    args: &CampaignArgs,
    report: &CampaignReport,
    files: &[PathBuf; 2],
) -> anyhow::Result<()> {
    let counts = [
        ("answered", report.count(Outcome::Answered)),
        ("busy", report.count(Outcome::Busy)),
        ("no_answer", report.count(Outcome::NoAnswer)),
        ("failed", report.count(Outcome::Failed)),
    ];
    if args.json {
        let summary: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            .map(|(name, count)| ((*name).to_owned(), (*count).into()))
            .chain([("total".to_owned(), report.results.len().into())])
            .collect();
        let value = serde_json::json!({
            "route_point": args.route_point,
            "summary": summary,
            "results": report.results,
            "files": { "csv": files[0], "json": files[1] },
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["Answered", "Busy", "No answer", "Failed", "Total"]);
    table.add_row(
        counts
            .iter()
            .map(|(_, count)| count.to_string())
            .chain([report.results.len().to_string()])
            .collect::<Vec<_>>(),
    );
    let mut out = String::new();
    writeln!(out, "Summary")?;
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "Results in {} and {} (copied to results.csv and results.json)",
        files[0].display(),
        files[1].display()
    )?;
    print!("{out}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers_of(text: &str) -> Vec<String> {
        let recipients = parse_numbers(text).unwrap();
        recipients.into_iter().map(|r| r.number).collect()
    }

    #[test]
    fn plain_lists_skip_comments_and_blank_lines() {
        let text = "# customers\n5550001\n\n  5550002  # the shop\n#5550009\n201\n";
        assert_eq!(numbers_of(text), ["5550001", "5550002", "201"]);
    }

    #[test]
    fn csv_takes_the_number_column_and_the_others_as_fields() {
        let text = "name,\"Number\",note\nAda,5550001,\"first, really\"\nBob,\"5550002\",\n";
        assert_eq!(numbers_of(text), ["5550001", "5550002"]);
        let ada = &parse_numbers(text).unwrap()[0];
        assert_eq!(ada.fields["name"], "Ada");
        assert_eq!(ada.fields["note"], "first, really");
        assert_eq!(ada.fields["number"], "5550001");
    }

    #[test]
    fn bad_files_name_the_line() {
        assert_eq!(
            parse_numbers("5550001\n5550001\n").unwrap_err(),
            "2: 5550001 is listed twice (first on line 1)"
        );
        assert!(parse_numbers("a,b\n1,2\n").unwrap_err().starts_with("1: "));
        // A header whose column is not called `number` is never dialled.
        let refused = parse_numbers("phone\n5550001\n").unwrap_err();
        assert!(refused.contains("columns found: phone"), "{refused}");
        let refused = parse_numbers("Phone,Name\n5550001,Ada\n").unwrap_err();
        assert!(refused.contains("columns found: Phone, Name"), "{refused}");
        assert_eq!(
            parse_numbers("number,name\n,Ada\n").unwrap_err(),
            "2: the number is empty"
        );
        assert!(parse_numbers("# nothing\n\n").is_err());
    }
}
