//! The `cdr.jsonl` file: appended a line per record, rotated by day and by size.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use voicebot_engine::CallRecord;

/// The open record file.
#[derive(Debug)]
pub(crate) struct RecordFile {
    path: PathBuf,
    file: File,
    /// Bytes in the current file.
    size: u64,
    /// The UTC day of the current file's first record (`2026-12-03`), when rotating daily.
    day: Option<String>,
    rotate_daily: bool,
    max_bytes: u64,
}

fn today() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%d").to_string()
}

impl RecordFile {
    /// Opens (or creates) `path` for appending.
    ///
    /// # Errors
    /// When its folder cannot be created or the file cannot be opened.
    pub(crate) fn open(path: &Path, rotate_daily: bool, max_bytes: u64) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating the call records folder {}", dir.display()))?;
        }
        let file = append_to(path)
            .with_context(|| format!("opening the call records file {}", path.display()))?;
        let meta = file.metadata()?;
        // A file left by an earlier run belongs to the day it was last written.
        let day = match meta.len() {
            0 => None,
            _ => meta
                .modified()
                .ok()
                .and_then(|modified| jiff::Timestamp::try_from(modified).ok())
                .map(|at| at.strftime("%Y-%m-%d").to_string()),
        };
        Ok(Self {
            path: path.to_owned(),
            file,
            size: meta.len(),
            day,
            rotate_daily,
            max_bytes: max_bytes.max(1),
        })
    }

    /// The current file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line per record, rotating first when the day changed or the file
    /// would pass its size. Each line is written whole and flushed.
    ///
    /// # Errors
    /// The I/O error; the records before it are in the file.
    pub(crate) fn append(&mut self, records: &[CallRecord]) -> io::Result<()> {
        for record in records {
            let mut line = serde_json::to_vec(record).map_err(io::Error::other)?;
            line.push(b'\n');
            let today = today();
            let new_day = self.rotate_daily && self.day.as_ref().is_some_and(|day| *day != today);
            let too_big = self.size > 0 && self.size + line.len() as u64 > self.max_bytes;
            if new_day || too_big {
                self.rotate(new_day)?;
            }
            self.file.write_all(&line)?;
            self.file.flush()?;
            self.size += line.len() as u64;
            self.day.get_or_insert(today);
        }
        Ok(())
    }

    /// Renames the current file beside itself and starts a new one.
    fn rotate(&mut self, by_day: bool) -> io::Result<()> {
        let suffix = match (by_day, &self.day) {
            (true, Some(day)) => day.clone(),
            _ => jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H%M%S%.3fZ")
                .to_string(),
        };
        let rotated = free_name(&self.path, &suffix);
        std::fs::rename(&self.path, &rotated)?;
        tracing::info!(to = %rotated.display(), "call records rotated");
        self.file = append_to(&self.path)?;
        self.size = 0;
        self.day = None;
        Ok(())
    }
}

fn append_to(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// `cdr-SUFFIX.jsonl` beside `path` (or `cdr-SUFFIX-2.jsonl`, ... if taken).
fn free_name(path: &Path, suffix: &str) -> PathBuf {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("cdr");
    let ext = path.extension().and_then(|s| s.to_str()).unwrap_or("jsonl");
    (1..)
        .map(|n| match n {
            1 => path.with_file_name(format!("{stem}-{suffix}.{ext}")),
            n => path.with_file_name(format!("{stem}-{suffix}-{n}.{ext}")),
        })
        .find(|candidate| !candidate.exists())
        .unwrap_or_else(|| unreachable!("an unbounded range always has a free name"))
}

/// Every record in `path` and the files rotated beside it, oldest end first. Lines
/// that do not parse (a line cut by a crash) are skipped and counted.
///
/// # Errors
/// When the folder cannot be read.
pub(crate) fn read_records(path: &Path) -> anyhow::Result<(Vec<CallRecord>, usize)> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("cdr");
    let ext = path.extension().and_then(|s| s.to_str()).unwrap_or("jsonl");
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("reading the folder {}", dir.display()))?;
    let mut records = Vec::new();
    let mut bad = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let ours = name == format!("{stem}.{ext}")
            || (name.starts_with(&format!("{stem}-")) && name.ends_with(&format!(".{ext}")));
        if !ours {
            continue;
        }
        let text = std::fs::read_to_string(entry.path())
            .with_context(|| format!("reading {}", entry.path().display()))?;
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            match serde_json::from_str::<CallRecord>(line) {
                Ok(record) => records.push(record),
                Err(_) => bad += 1,
            }
        }
    }
    records.sort_by(|a, b| a.ended_at.cmp(&b.ended_at));
    Ok((records, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> CallRecord {
        serde_json::from_value(serde_json::json!({
            "id": id, "pbx": "default", "pbx_call_id": 1, "pbx_leg_id": 1, "participant": 1,
            "direction": "inbound", "caller": "101", "caller_name": "", "route_point": "800",
            "started_at": "2026-12-03T10:00:00Z", "ended_at": format!("2026-12-03T10:00:0{id}Z"),
            "duration_ms": 1000, "outcome": "hangup", "digits": "1"
        }))
        .unwrap()
    }

    #[test]
    fn lines_append_rotate_by_size_and_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cdr.jsonl");
        let line = serde_json::to_vec(&record("1")).unwrap().len() as u64 + 1;
        // Room for two lines a file.
        let mut file = RecordFile::open(&path, true, 2 * line + 1).unwrap();
        file.append(&[record("1"), record("2")]).unwrap();
        file.append(&[record("3")]).unwrap();
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 2, "the third line started a new file");
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
        // A torn line from a crash is skipped, not fatal.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"id\":\"4\",\"pbx")
            .unwrap();
        let (records, bad) = read_records(&path).unwrap();
        let ids: Vec<&str> = records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["1", "2", "3"]);
        assert_eq!(bad, 1);
    }

    #[test]
    fn a_file_of_an_earlier_day_is_rotated_by_day() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cdr.jsonl");
        let mut file = RecordFile::open(&path, true, u64::MAX).unwrap();
        file.append(&[record("1")]).unwrap();
        file.day = Some("2026-01-01".to_owned());
        file.append(&[record("2")]).unwrap();
        assert!(dir.path().join("cdr-2026-01-01.jsonl").exists());
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    }
}
