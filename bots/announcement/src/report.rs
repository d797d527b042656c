//! [`CampaignReport`]: one [`NumberResult`] per number, as CSV and JSON.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use voicebot_bot::DialOutcome;

/// How the last attempt on a number ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered; the announcement played.
    Answered,
    /// Busy.
    Busy,
    /// Nobody answered in time.
    NoAnswer,
    /// Refused by the PBX, or the engine could not dial.
    Failed,
}

impl Outcome {
    /// The outcome of one dial attempt, with the reason text and talk time.
    pub(crate) fn of(outcome: &DialOutcome) -> (Self, String, u64) {
        match outcome {
            DialOutcome::Answered {
                talk_time,
                bot_error,
                ..
            } => (
                Self::Answered,
                bot_error.clone().unwrap_or_default(),
                u64::try_from(talk_time.as_millis()).unwrap_or(u64::MAX),
            ),
            DialOutcome::Busy { reason } => (Self::Busy, reason.clone(), 0),
            DialOutcome::NoAnswer { reason } => (Self::NoAnswer, reason.clone(), 0),
            DialOutcome::Failed { reason } => (Self::Failed, reason.clone(), 0),
            // DialOutcome is non-exhaustive: an outcome we do not know is no success.
            other => (Self::Failed, format!("{other:?}"), 0),
        }
    }
}

/// What happened with one number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumberResult {
    /// The number as listed.
    pub number: String,
    /// The outcome of the last attempt.
    pub outcome: Outcome,
    /// Attempts made (1 + retries used).
    pub attempts: u32,
    /// The PBX's reason for busy, no answer or failure; the bot's error, if any,
    /// for an answered call; else empty.
    pub reason: String,
    /// From answer to hang-up, in milliseconds (0 unless answered).
    pub talk_time_ms: u64,
}

/// The results of a campaign, in the order the numbers were listed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignReport {
    /// One entry per number.
    pub results: Vec<NumberResult>,
}

impl CampaignReport {
    /// How many numbers ended with `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.results
            .iter()
            .filter(|result| result.outcome == outcome)
            .count()
    }

    /// The results as CSV with a header row:
    /// `number,outcome,attempts,reason,talk_time_ms`.
    ///
    /// # Errors
    /// An I/O error from `out`.
    pub fn write_csv(&self, out: impl io::Write) -> io::Result<()> {
        let mut writer = csv::Writer::from_writer(out);
        for result in &self.results {
            writer.serialize(result).map_err(io::Error::other)?;
        }
        writer.flush()
    }

    /// The results as a pretty-printed JSON array.
    ///
    /// # Errors
    /// An I/O error from `out`.
    pub fn write_json(&self, mut out: impl io::Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut out, &self.results)?;
        out.write_all(b"\n")
    }

    /// Writes this run's `results-YYYYMMDDTHHMMSSZ.csv` and `.json` into `dir`
    /// (created if missing; `-2`, `-3`, ... when two runs share a second), then
    /// copies them to `results.csv` and `results.json`, the latest run, each replaced
    /// whole (written beside and renamed). Runs on tokio's blocking pool; returns the
    /// run's two paths. Earlier runs are never overwritten.
    ///
    /// # Errors
    /// The I/O error when a file cannot be written.
    pub async fn write_to(&self, dir: &Path) -> io::Result<[PathBuf; 2]> {
        let report = self.clone();
        let dir = dir.to_owned();
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let [csv, json] = run_files(&dir, &stamp);
            report.write_csv(io::BufWriter::new(create_new(&csv)?))?;
            report.write_json(io::BufWriter::new(create_new(&json)?))?;
            for (run, latest) in [(&csv, "results.csv"), (&json, "results.json")] {
                let partial = dir.join(format!(".{latest}.partial"));
                std::fs::copy(run, &partial)?;
                std::fs::rename(&partial, dir.join(latest))?;
            }
            Ok([csv, json])
        })
        .await
        .map_err(io::Error::other)?
    }
}

/// The first free pair of run file names for `stamp` in `dir`.
fn run_files(dir: &Path, stamp: &str) -> [PathBuf; 2] {
    (1..)
        .map(|n| match n {
            1 => format!("results-{stamp}"),
            n => format!("results-{stamp}-{n}"),
        })
        .map(|base| {
            [
                dir.join(format!("{base}.csv")),
                dir.join(format!("{base}.json")),
            ]
        })
        .find(|[csv, json]| !csv.exists() && !json.exists())
        .unwrap_or_else(|| unreachable!("an unbounded range always has a free name"))
}

/// Creates `path`, refusing to replace a file (another run writing the same second).
fn create_new(path: &Path) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> CampaignReport {
        let result = |number: &str, outcome, attempts, reason: &str, talk_time_ms| NumberResult {
            number: number.to_owned(),
            outcome,
            attempts,
            reason: reason.to_owned(),
            talk_time_ms,
        };
        CampaignReport {
            results: vec![
                result("+15550101", Outcome::Answered, 1, "", 8_200),
                result("+15550102", Outcome::Busy, 3, "busy, here", 0),
                result("201", Outcome::NoAnswer, 1, "no answer", 0),
                result("999", Outcome::Failed, 1, "unknown \"DN\"", 0),
            ],
        }
    }

    #[test]
    fn csv_has_a_header_and_quotes_what_needs_it() {
        let mut out = Vec::new();
        report().write_csv(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "number,outcome,attempts,reason,talk_time_ms\n\
             +15550101,answered,1,,8200\n\
             +15550102,busy,3,\"busy, here\",0\n\
             201,no_answer,1,no answer,0\n\
             999,failed,1,\"unknown \"\"DN\"\"\",0\n"
        );
    }

    #[test]
    fn json_round_trips_and_names_outcomes_in_snake_case() {
        let mut out = Vec::new();
        report().write_json(&mut out).unwrap();
        let raw: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(raw[2]["outcome"], "no_answer");
        assert_eq!(raw[0]["talk_time_ms"], 8_200);
        let back: Vec<NumberResult> = serde_json::from_slice(&out).unwrap();
        assert_eq!(back, report().results);
    }

    #[tokio::test]
    async fn each_run_keeps_its_files_and_the_latest_is_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run-1");
        let first = report().write_to(&out).await.unwrap();
        let mut second_report = report();
        second_report.results.truncate(1);
        let second = second_report.write_to(&out).await.unwrap();
        assert_ne!(first, second, "a second run never overwrites the first");
        let name = first[0].file_name().unwrap().to_str().unwrap().to_owned();
        assert!(
            name.starts_with("results-2") && name.ends_with("Z.csv") || name.contains("Z-"),
            "{name}"
        );
        // The first run's files are intact; `results.csv` is the second run.
        assert_eq!(
            std::fs::read_to_string(&first[0]).unwrap().lines().count(),
            5
        );
        let latest = std::fs::read_to_string(out.join("results.csv")).unwrap();
        assert_eq!(latest, std::fs::read_to_string(&second[0]).unwrap());
        assert_eq!(latest.lines().count(), 2);
        let [csv, json] = first;
        let rows = std::fs::read_to_string(csv).unwrap();
        assert_eq!(rows.lines().count(), 5);
        let back: Vec<NumberResult> =
            serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
        assert_eq!(back.len(), 4);
        assert_eq!(report().count(Outcome::Busy), 1);
    }
}
