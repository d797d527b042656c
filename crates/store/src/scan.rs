//! Finding the recordings an earlier run left in the recordings folder.

use std::path::{Path, PathBuf};

/// Every `.wav` file under `dir`, recursively (symbolic links are not followed). A
/// folder that cannot be read is logged and skipped; a missing `dir` has none.
pub(crate) fn wav_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => {
                tracing::warn!(%error, folder = %folder.display(), "cannot read a recordings folder; its files are not uploaded");
                continue;
            }
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                folders.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|ext| ext == "wav") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_wavs_in_subfolders_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("800/a")).unwrap();
        for name in ["x.wav", "x.json", "800/a/y.wav", "800/notes.txt"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let found = wav_files(dir.path());
        assert_eq!(
            found,
            vec![dir.path().join("800/a/y.wav"), dir.path().join("x.wav")]
        );
        assert!(wav_files(&dir.path().join("missing")).is_empty());
    }
}
