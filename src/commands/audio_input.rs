//! Audio files given on the command line (`convert`, `transcribe`, `call --send`): loaded
//! through the media crate's checked loader, so they obey the same limits as prompts, and
//! what was odd about a usable file is said on stderr rather than passed over.

use std::path::Path;
use std::time::Duration;

use voicebot_media::{AudioLimits, Prompt};

use crate::exit::Exit;

/// Loads `path` within the default limits, raised or lowered to `max_duration`.
///
/// # Errors
/// A usage error (exit 2) naming the file and the rule it breaks.
pub(crate) fn load(path: &Path, max_duration: Option<Duration>) -> anyhow::Result<Prompt> {
    let mut limits = AudioLimits::default();
    if let Some(max) = max_duration {
        limits = limits.with_max_duration(max);
    }
    let loaded = Prompt::load_checked(path, &limits)
        .map_err(|error| Exit::Usage.error(error.to_string()))?;
    for warning in &loaded.warnings {
        eprintln!("warning: {}: {warning}", path.display());
    }
    Ok(loaded.prompt)
}
