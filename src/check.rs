//! `voicebot run --check`: proves a configuration runs before any call. Every prompt
//! each bot names is loaded (decoded, within the audio limits of `[media]`), the ringback too, and
//! the recordings folder must be a writable directory. All problems are listed at
//! once, each naming the route point, the bot, the key and the file.

use std::path::{Path, PathBuf};

use voicebot_bot::PromptSource;
use voicebot_media::{AudioLimits, Prompt};

use crate::config::Config;
use crate::exit::Exit;
use crate::launch::Bots;

/// What `--check` found wrong, one line per problem.
pub(crate) fn problems(config: &Config, bots: &Bots) -> Vec<String> {
    let limits = config.audio_limits();
    let load = |file: &Path| load(file, &limits);
    let mut problems = Vec::new();
    for (dn, bot) in bots.by_route_point() {
        let name = config
            .route_points
            .get(dn)
            .map_or("?", |route_point| route_point.bot.get_ref().as_str());
        for prompt in bot.prompts() {
            let PromptSource::File(path) = &prompt.source else {
                continue;
            };
            let file = resolve(&config.prompts_dir(), path);
            // The loader's error names the file.
            if let Err(reason) = load(&file) {
                problems.push(format!(
                    "{}.\"{dn}\" (bot {name}): config.{}: {reason}",
                    config.route_points_key(),
                    prompt.key
                ));
            }
        }
    }
    if let Some(ringback) = config.ringback_path()
        && let Err(reason) = load(&ringback)
    {
        problems.push(format!("media.ringback: {reason}"));
    }
    if let Err(reason) = writable_dir(&config.recordings_dir()) {
        problems.push(format!(
            "recordings: {}: {reason}",
            config.recordings_dir().display()
        ));
    }
    problems
}

/// Runs the checks; exit 2 listing every problem.
///
/// # Errors
/// Exit code 2 when anything is wrong.
pub(crate) fn verify(config: &Config, bots: &Bots) -> anyhow::Result<()> {
    let problems = problems(config, bots);
    match problems.is_empty() {
        true => Ok(()),
        false => Err(Exit::Usage.error(format!(
            "{}: {} problem{} found:\n  {}",
            config.file.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n  ")
        ))),
    }
}

fn resolve(dir: &Path, path: &Path) -> PathBuf {
    match path.is_absolute() {
        true => path.to_owned(),
        false => dir.join(path),
    }
}

/// Loads a prompt the way the engine will at run time, within the same limits
/// (`media.max_prompt`). Usable data that is not quite what its header says is a
/// warning on stderr, not a problem.
fn load(file: &Path, limits: &AudioLimits) -> Result<(), String> {
    let loaded = Prompt::load_checked(file, limits).map_err(|error| error.to_string())?;
    for warning in loaded.warnings {
        eprintln!("warning: {}: {warning}", file.display());
    }
    Ok(())
}

/// The recordings folder must be a directory we can create files in; one that does
/// not exist yet must be creatable (the engine creates it at start).
fn writable_dir(dir: &Path) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err("is not a directory".to_owned()),
        Ok(_) => {
            let probe = dir.join(format!(".voicebot-check-{}", std::process::id()));
            std::fs::write(&probe, b"")
                .map_err(|error| format!("cannot create files in it: {error}"))?;
            std::fs::remove_file(&probe).ok();
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => match dir.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => writable_dir(parent)
                .map_err(|reason| format!("does not exist, and its parent {reason}")),
            _ => Ok(()),
        },
        Err(error) => Err(error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_not_a_recordings_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("passwd");
        std::fs::write(&file, "root:x:0:0").unwrap();
        assert_eq!(writable_dir(&file).unwrap_err(), "is not a directory");
        assert!(writable_dir(dir.path()).is_ok());
        assert!(writable_dir(&dir.path().join("new/deeper")).is_ok());
        let under_file = file.join("recordings");
        assert!(writable_dir(&under_file).is_err());
    }
}
