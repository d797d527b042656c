//! [`UploaderBuilder`] and [`UploaderHandle`]: the recordings queue, its retries and
//! what happens to the local files.
//!
//! Each recording is one job on the uploader's own tasks (never a call's): at most
//! `max_concurrent` upload at once, and a failed attempt waits a backoff (doubling up to
//! a cap) and tries again for as long as the uploader runs, keeping the file. A file
//! is removed only after its object and its metadata's were read back and matched,
//! and only if it did not change meanwhile.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use object_store::ObjectStore;
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use voicebot_media::{Repair, repair_wav};

use crate::error::{StoreError, UploadError};
use crate::location::StoreUrl;
use crate::metrics;
use crate::upload::{Snapshot, upload_file};

/// Settings of an uploader; [`start`](Self::start) it inside a tokio runtime.
#[derive(Debug, Clone)]
#[must_use]
pub struct UploaderBuilder {
    url: StoreUrl,
    dir: PathBuf,
    keep_local: bool,
    max_concurrent: usize,
    first_backoff: Duration,
    max_backoff: Duration,
    settle: Duration,
    options: Vec<(String, String)>,
}

impl UploaderBuilder {
    /// Uploads the recordings under `dir` to `url`: keys are the prefix and the path
    /// relative to `dir`. Defaults: local files removed once verified, 4 uploads at
    /// once, retries after 1 s doubling to 60 s, leftovers taken once untouched for 2 s.
    pub fn new(url: StoreUrl, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        Self {
            url,
            dir: std::path::absolute(&dir).unwrap_or(dir),
            keep_local: false,
            max_concurrent: 4,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            settle: Duration::from_secs(2),
            options: Vec::new(),
        }
    }

    /// Keeps the local files after their upload.
    pub fn keep_local(mut self, keep: bool) -> Self {
        self.keep_local = keep;
        self
    }

    /// Uploads at most this many files at once (at least 1).
    pub fn max_concurrent(mut self, uploads: usize) -> Self {
        self.max_concurrent = uploads.max(1);
        self
    }

    /// The wait after a failed attempt, doubled after each failure up to `max`.
    pub fn retry_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.first_backoff = first;
        self.max_backoff = max.max(first);
        self
    }

    /// How long a file found at start must have gone unmodified before it is taken as
    /// left by a stopped process (rather than being written by a live one).
    pub fn settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    /// Sets an S3 option by its environment variable's name (e.g. `AWS_ENDPOINT_URL`,
    /// `AWS_ALLOW_HTTP`), over what the environment says.
    pub fn option(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.push((name.into(), value.into()));
        self
    }

    /// Checks the settings and builds the S3 client, without any request.
    ///
    /// # Errors
    /// [`StoreError`] when an option is unknown or invalid (e.g. a plain-HTTP endpoint
    /// without `AWS_ALLOW_HTTP=true`).
    pub fn check(&self) -> Result<(), StoreError> {
        crate::client::build(&self.url, &self.options).map(drop)
    }

    /// Starts the uploader, and a scan of the recordings folder for what an earlier
    /// run left (each file repaired if its writer was killed, then uploaded).
    ///
    /// # Errors
    /// As [`check`](Self::check).
    pub fn start(self) -> Result<UploaderHandle, StoreError> {
        let store = crate::client::build(&self.url, &self.options)?;
        metrics::describe();
        let shared = Arc::new(Shared {
            store,
            permits: Semaphore::new(self.max_concurrent),
            jobs: Mutex::default(),
            open: Mutex::default(),
            pending: watch::channel(0).0,
            stop: CancellationToken::new(),
            tracker: TaskTracker::new(),
            settings: self,
        });
        let handle = UploaderHandle { shared };
        // At start nothing of ours is being written yet: every recording here was left
        // by an earlier run. A few directory reads, once, before any call.
        let found = crate::scan::wav_files(&handle.shared.settings.dir);
        if !found.is_empty() {
            tracing::info!(
                files = found.len(),
                dir = %handle.shared.settings.dir.display(),
                "uploading recordings left by an earlier run"
            );
        }
        for wav in found {
            handle.queue(wav, Origin::Leftover);
        }
        Ok(handle)
    }
}

/// A cloneable handle on a running uploader: tell it about recordings, watch its
/// queue, stop it.
#[derive(Debug, Clone)]
pub struct UploaderHandle {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    settings: UploaderBuilder,
    store: Arc<dyn ObjectStore>,
    permits: Semaphore,
    /// Recordings queued, uploading or retrying; `true` when submitted again meanwhile
    /// (it is uploaded once more when the current job ends).
    jobs: Mutex<HashMap<PathBuf, bool>>,
    /// Recordings a live call of this process is writing: never uploaded until final.
    open: Mutex<HashSet<PathBuf>>,
    pending: watch::Sender<usize>,
    stop: CancellationToken,
    tracker: TaskTracker,
}

/// Where a job came from: a finished call's recording is final; a file found in the
/// folder may have been left mid-write by a killed process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Final,
    Leftover,
}

/// How one attempt ended, short of an error.
enum Attempt {
    /// Uploaded, verified, and the local files handled.
    Done,
    /// Nothing to upload (the file is gone, or a live call writes it).
    Nothing,
    /// The file changed during the upload: try again once it settles.
    Changed,
}

impl UploaderHandle {
    /// The store the recordings go to.
    pub fn url(&self) -> &StoreUrl {
        &self.shared.settings.url
    }

    /// The recordings folder.
    pub fn dir(&self) -> &Path {
        &self.shared.settings.dir
    }

    /// Whether local files are kept after their upload.
    pub fn keeps_local(&self) -> bool {
        self.shared.settings.keep_local
    }

    /// A live call started writing `path`: it is not uploaded (not even as a leftover
    /// found in the folder) until it is [`submit`](Self::submit)ted.
    pub fn opened(&self, path: &Path) {
        let path = self.absolute(path);
        lock(&self.shared.open).insert(path);
    }

    /// `path` is final (its call is over and its file closed): upload it, with the
    /// metadata JSON beside it when there is one. Returns at once.
    pub fn submit(&self, path: impl AsRef<Path>) {
        let path = self.absolute(path.as_ref());
        lock(&self.shared.open).remove(&path);
        self.queue(path, Origin::Final);
    }

    /// Recordings waiting for their upload (queued, uploading or retrying).
    pub fn pending(&self) -> usize {
        *self.shared.pending.borrow()
    }

    /// Resolves once no recording is waiting for its upload.
    pub async fn idle(&self) {
        let mut pending = self.shared.pending.subscribe();
        let _ = pending.wait_for(|n| *n == 0).await;
    }

    /// Waits up to `grace` for the queue to empty, then stops every upload; returns how
    /// many recordings were left (their files stay, for the next start).
    pub async fn stop(&self, grace: Duration) -> usize {
        let _ = tokio::time::timeout(grace, self.idle()).await;
        self.shared.stop.cancel();
        self.shared.tracker.close();
        self.shared.tracker.wait().await;
        let left = lock(&self.shared.jobs).len();
        if left > 0 {
            tracing::warn!(
                left,
                "recordings not uploaded before the stop; the next start uploads them"
            );
        }
        left
    }

    fn absolute(&self, path: &Path) -> PathBuf {
        match path.is_absolute() {
            true => path.to_owned(),
            false => self.shared.settings.dir.join(path),
        }
    }

    fn queue(&self, wav: PathBuf, origin: Origin) {
        if self.shared.stop.is_cancelled() {
            return;
        }
        {
            let mut jobs = lock(&self.shared.jobs);
            if let Some(again) = jobs.get_mut(&wav) {
                *again = true;
                return;
            }
            jobs.insert(wav.clone(), false);
            self.count_pending(jobs.len());
        }
        let handle = self.clone();
        self.shared.tracker.spawn(async move {
            let stop = handle.shared.stop.clone();
            tokio::select! {
                () = stop.cancelled() => {}
                () = handle.job(&wav, origin) => {}
            }
        });
    }

    fn count_pending(&self, pending: usize) {
        self.shared.pending.send_replace(pending);
        ::metrics::gauge!(metrics::PENDING).set(pending as f64);
    }

    /// Uploads `wav` until done, then again if it was submitted meanwhile.
    async fn job(&self, wav: &Path, mut origin: Origin) {
        loop {
            self.retry(wav, origin).await;
            let mut jobs = lock(&self.shared.jobs);
            match jobs.get_mut(wav) {
                Some(again) if *again => {
                    *again = false;
                    origin = Origin::Final;
                }
                _ => {
                    jobs.remove(wav);
                    self.count_pending(jobs.len());
                    return;
                }
            }
        }
    }

    /// Attempts with backoff until one ends without an error.
    async fn retry(&self, wav: &Path, origin: Origin) {
        let settings = &self.shared.settings;
        let mut backoff = settings.first_backoff;
        let mut repaired = origin == Origin::Final;
        loop {
            if origin == Origin::Leftover && !self.settled(wav).await {
                return;
            }
            let attempt = {
                let _permit = self.shared.permits.acquire().await;
                if !repaired {
                    repair(wav).await;
                    repaired = true;
                }
                self.attempt(wav).await
            };
            match attempt {
                Ok(Attempt::Done | Attempt::Nothing) => return,
                Ok(Attempt::Changed) => tokio::time::sleep(settings.settle).await,
                Err(error) => {
                    ::metrics::counter!(metrics::UPLOADS, "result" => "failed").increment(1);
                    tracing::warn!(
                        %error,
                        file = %wav.display(),
                        retry_in = ?backoff,
                        "recording upload failed; the file is kept and the upload retried"
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(settings.max_backoff);
                }
            }
        }
    }

    /// Waits until a file found in the folder has gone unmodified for the settle
    /// time; false when it is gone or a live call of ours writes it.
    async fn settled(&self, wav: &Path) -> bool {
        loop {
            if lock(&self.shared.open).contains(wav) {
                return false;
            }
            let Ok(Some(snapshot)) = Snapshot::of(wav).await else {
                return false;
            };
            let age = snapshot
                .modified
                .and_then(|at| SystemTime::now().duration_since(at).ok())
                .unwrap_or(Duration::MAX);
            let settle = self.shared.settings.settle;
            if age >= settle {
                return true;
            }
            tokio::time::sleep(settle - age).await;
        }
    }

    /// One upload of `wav` and its metadata, then the local files' removal.
    async fn attempt(&self, wav: &Path) -> Result<Attempt, UploadError> {
        let settings = &self.shared.settings;
        if lock(&self.shared.open).contains(wav) {
            // A new call writes a file of this name: its end submits it again.
            return Ok(Attempt::Nothing);
        }
        let Some(key) = settings.url.key_for(&settings.dir, wav) else {
            tracing::warn!(
                file = %wav.display(),
                dir = %settings.dir.display(),
                "recording not under the recordings folder (or not UTF-8): kept, not uploaded"
            );
            return Ok(Attempt::Nothing);
        };
        let store = &self.shared.store;
        let url = settings.url.object_url(&key);
        let Some(audio) = upload_file(store, wav, &key, url).await? else {
            return Ok(Attempt::Nothing);
        };
        let json = wav.with_extension("json");
        let json_key = key
            .strip_suffix(".wav")
            .map(|stem| format!("{stem}.json"))
            .unwrap_or_else(|| format!("{key}.json"));
        let json_url = settings.url.object_url(&json_key);
        let metadata = upload_file(store, &json, &json_key, json_url).await?;
        // Changed since it was hashed (rewritten, or reopened by a new call of the same
        // name): what went up is not what is there; upload it again.
        let unchanged = Snapshot::of(wav).await? == Some(audio.snapshot)
            && match &metadata {
                Some(metadata) => Snapshot::of(&json).await? == Some(metadata.snapshot),
                None => true,
            }
            && !lock(&self.shared.open).contains(wav);
        if !unchanged {
            tracing::info!(file = %wav.display(), "recording changed during its upload; uploading it again");
            return Ok(Attempt::Changed);
        }
        if !settings.keep_local {
            // The metadata first: a WAV left alone by a crash between the two is
            // uploaded again at the next start, metadata or not.
            if metadata.is_some() {
                remove(&json).await;
            }
            remove(wav).await;
        }
        let bytes = audio.bytes + metadata.as_ref().map_or(0, |m| m.bytes);
        ::metrics::counter!(metrics::UPLOADS, "result" => "done").increment(1);
        ::metrics::counter!(metrics::UPLOADED_BYTES).increment(bytes);
        tracing::info!(
            object = %audio.url,
            metadata = metadata.as_ref().map(|m| m.url.as_str()),
            bytes,
            kept_local = settings.keep_local,
            "recording uploaded"
        );
        Ok(Attempt::Done)
    }
}

/// Fixes the header of a WAV whose writer was killed, so the object plays to its end.
async fn repair(wav: &Path) {
    let path = wav.to_owned();
    match tokio::task::spawn_blocking(move || repair_wav(&path)).await {
        Ok(Ok(Repair::AlreadyValid)) => {}
        Ok(Ok(Repair::Repaired {
            claimed_bytes,
            actual_bytes,
        })) => tracing::info!(
            file = %wav.display(),
            claimed_bytes,
            actual_bytes,
            "recording left by a stopped process repaired"
        ),
        // Uploaded as it is: its bytes are still the only copy of what was said.
        Ok(Err(error)) => {
            tracing::warn!(%error, file = %wav.display(), "recording cannot be repaired; uploaded as it is");
        }
        Err(error) => tracing::warn!(%error, "recording repair did not run"),
    }
}

async fn remove(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            tracing::warn!(%error, file = %path.display(), "uploaded recording not removed locally");
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
