//! Call records on disk and on the wire: every finished call's
//! [`CallRecord`](voicebot_engine::CallRecord) as one JSON line in `cdr.jsonl`
//! (rotated by day and by size) and, optionally, POSTed to a URL, signed, with
//! retries. Neither ever holds up a call: the engine hands records over on an
//! unbounded channel, the file is written on the blocking pool, and the webhook has
//! its own bounded queue (a record it cannot take is still in the file).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use voicebot_engine::{CallRecord, CallRecordSender};

mod file;
mod webhook;

pub(crate) use file::{RecordFile, read_records};

/// `[call_records]`: where call records go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct CallRecordsConfig {
    /// The JSON-lines file (relative: to the configuration file's folder). Rotated
    /// files sit beside it as `cdr-2026-12-03.jsonl` (by day) or
    /// `cdr-2026-12-03T101500Z.jsonl` (by size).
    pub(crate) file: PathBuf,
    /// Start a new file each day (UTC).
    pub(crate) rotate_daily: bool,
    /// Start a new file before this many bytes.
    pub(crate) max_bytes: u64,
    /// POST each record (JSON) to this URL too.
    pub(crate) webhook: Option<String>,
    /// Environment variable holding the webhook's signing secret (HMAC-SHA256 of
    /// `"{timestamp}.{body}"` in `X-Voicebot-Signature`, as the webhook bot signs).
    pub(crate) webhook_secret_env: String,
    /// Attempts per record before it is given up (it stays in the file).
    pub(crate) webhook_attempts: u32,
}

impl Default for CallRecordsConfig {
    fn default() -> Self {
        Self {
            file: PathBuf::from("cdr.jsonl"),
            rotate_daily: true,
            max_bytes: 100 * 1024 * 1024,
            webhook: None,
            webhook_secret_env: "VOICEBOT_CDR_SECRET".to_owned(),
            webhook_attempts: 5,
        }
    }
}

/// The running record writer: the engine's end of the channel, and the task that
/// ends once every record sent has been written (and posted, or given up).
#[derive(Debug)]
pub(crate) struct CallRecords {
    /// Give this to the engine builder.
    pub(crate) sender: CallRecordSender,
    /// Ends after the last sender is dropped and the records are out.
    pub(crate) done: JoinHandle<()>,
    /// The file records go to.
    pub(crate) path: PathBuf,
}

impl CallRecords {
    /// Starts writing records to `path` (and the webhook), naming each record's bot
    /// from `bots` ((PBX name, route point) → bot name) and each recording's object URL from
    /// `store` (the bucket and the recordings folder) when recordings are uploaded.
    ///
    /// # Errors
    /// When the webhook is set and its secret variable is not, or the file's folder
    /// cannot be created.
    pub(crate) fn start(
        config: &CallRecordsConfig,
        path: PathBuf,
        bots: BTreeMap<(String, String), String>,
        store: Option<(voicebot_store::StoreUrl, PathBuf)>,
    ) -> anyhow::Result<Self> {
        let file = RecordFile::open(&path, config.rotate_daily, config.max_bytes)?;
        let webhook = match &config.webhook {
            None => None,
            Some(url) => Some(webhook::Poster::start(
                url::Url::parse(url).map_err(|error| {
                    crate::exit::Exit::Usage.error(format!(
                        "call_records.webhook: {url:?} is not a URL: {error}"
                    ))
                })?,
                &config.webhook_secret_env,
                config.webhook_attempts,
            )?),
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        let done = tokio::spawn(write_all(receiver, file, webhook, bots, store));
        Ok(Self { sender, done, path })
    }

    /// Waits until every record is written (the engine and every other sender must
    /// be gone), giving the webhook at most `grace` for what it still holds.
    pub(crate) async fn finish(self, grace: Duration) {
        let Self { sender, done, .. } = self;
        drop(sender);
        if tokio::time::timeout(grace, done).await.is_err() {
            tracing::warn!(
                "call records still being posted at exit were given up (they are in the file)"
            );
        }
    }
}

/// Receives records until every sender is gone: each is written to the file at once
/// (a line per record, several per batch when they queue up) and offered to the
/// webhook.
async fn write_all(
    mut records: mpsc::UnboundedReceiver<CallRecord>,
    file: RecordFile,
    webhook: Option<webhook::Poster>,
    bots: BTreeMap<(String, String), String>,
    store: Option<(voicebot_store::StoreUrl, PathBuf)>,
) {
    let mut file = Some(file);
    let mut batch = Vec::new();
    while records.recv_many(&mut batch, 256).await > 0 {
        for record in &mut batch {
            if record.bot.is_none() {
                let key = (record.pbx.clone(), record.route_point.clone());
                record.bot = bots.get(&key).cloned();
            }
            // Where each recording goes once uploaded (the key is fixed by its path).
            if let Some((store, dir)) = &store {
                for recording in &mut record.recordings {
                    recording.object_url = store
                        .key_for(dir, &recording.path)
                        .map(|key| store.object_url(&key));
                }
            }
            if let Some(webhook) = &webhook {
                webhook.offer(record);
            }
        }
        let Some(mut writer) = file.take() else {
            break;
        };
        let lines = std::mem::take(&mut batch);
        let written = tokio::task::spawn_blocking(move || {
            let result = writer.append(&lines);
            (writer, result)
        })
        .await;
        match written {
            Ok((writer, result)) => {
                if let Err(error) = result {
                    tracing::error!(path = %writer.path().display(), %error, "cannot write call records");
                    metrics::counter!("voicebot_call_record_errors_total").increment(1);
                }
                file = Some(writer);
            }
            Err(error) => {
                tracing::error!(%error, "the call record writer failed");
                return;
            }
        }
    }
    if let Some(webhook) = webhook {
        webhook.finish().await;
    }
}
