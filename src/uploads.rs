//! `recordings.store`: the uploader of final recordings, and the engine's sink that
//! feeds it.
//!
//! The engine hands over a call's recordings when they are final (call over, bot
//! finished, files closed); the uploader does the rest on its own tasks. Endpoint,
//! region and credentials come from the standard `AWS_*` environment variables.

use std::path::{Path, PathBuf};

use anyhow::Context;
use voicebot_engine::RecordingSink;
use voicebot_store::{UploaderBuilder, UploaderHandle};

use crate::config::Config;

/// The uploader `config` asks for; `None` without `recordings.store`.
fn builder(config: &Config) -> Option<UploaderBuilder> {
    let url = config.recordings_store()?;
    Some(
        UploaderBuilder::new(url, config.recordings_dir()).keep_local(config.recordings.keep_local),
    )
}

/// Checks the S3 client's settings (the `AWS_*` environment) without a request.
///
/// # Errors
/// The client's complaint, naming the variable, as a usage error of the file.
pub(crate) fn check(config: &Config) -> anyhow::Result<()> {
    match builder(config) {
        Some(builder) => builder
            .check()
            .with_context(|| format!("{}: recordings.store", config.file.display())),
        None => Ok(()),
    }
}

/// Starts the uploader (which first uploads what an earlier run left in the
/// recordings folder); `None` without `recordings.store`.
///
/// # Errors
/// As [`check`].
pub(crate) fn start(config: &Config) -> anyhow::Result<Option<UploaderHandle>> {
    let Some(builder) = builder(config) else {
        return Ok(None);
    };
    let uploads = builder
        .start()
        .with_context(|| format!("{}: recordings.store", config.file.display()))?;
    Ok(Some(uploads))
}

/// The engine's [`RecordingSink`]: every recording goes to the uploader.
#[derive(Debug)]
pub(crate) struct UploadSink(pub(crate) UploaderHandle);

impl RecordingSink for UploadSink {
    fn opened(&self, path: &Path) {
        self.0.opened(path);
    }

    fn finished(&self, paths: Vec<PathBuf>) {
        for path in paths {
            self.0.submit(path);
        }
    }
}
