//! The files `voicebot demo` needs, compiled into the binary so the demo runs from
//! any directory: `samples/demo.toml` and the prompts it names.

use std::path::Path;

use anyhow::Context;

/// `samples/demo.toml`.
pub(crate) const CONFIG: &str = include_str!("../../../samples/demo.toml");

/// What the voicemail caller says (any spoken WAV does; this one is 2.5 s).
pub(crate) const CALLER_VOICE: &str = "prompts/caller-voice.wav";

/// Prompts by their path relative to the demo folder.
const FILES: [(&str, &[u8]); 9] = [
    (
        "prompts/welcome.wav",
        include_bytes!("../../../samples/prompts/welcome.wav"),
    ),
    (
        "prompts/menu.wav",
        include_bytes!("../../../samples/prompts/menu.wav"),
    ),
    (
        "prompts/invalid.wav",
        include_bytes!("../../../samples/prompts/invalid.wav"),
    ),
    (
        "prompts/timeout.wav",
        include_bytes!("../../../samples/prompts/timeout.wav"),
    ),
    (
        "prompts/goodbye.wav",
        include_bytes!("../../../samples/prompts/goodbye.wav"),
    ),
    (
        "prompts/message.wav",
        include_bytes!("../../../samples/prompts/message.wav"),
    ),
    (
        "prompts/beep.wav",
        include_bytes!("../../../samples/prompts/beep.wav"),
    ),
    (
        "prompts/saved.wav",
        include_bytes!("../../../samples/prompts/saved.wav"),
    ),
    (
        CALLER_VOICE,
        include_bytes!("../../../samples/prompts/goodbye.wav"),
    ),
];

/// Writes `demo.toml` and the prompts into `dir`; returns the config's path.
///
/// # Errors
/// When the folder cannot be written.
pub(crate) fn write(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir.join("prompts"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let config = dir.join("demo.toml");
    std::fs::write(&config, CONFIG).with_context(|| format!("writing {}", config.display()))?;
    for (name, bytes) in FILES {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(config)
}
