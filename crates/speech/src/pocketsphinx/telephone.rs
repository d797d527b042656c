//! The telephone adaptation of Debian's en-us acoustic model: means, variances, mixture
//! weights and transition matrices MAP-adapted to speech that went through the 8 kHz telephone
//! band (made by `model/telephone/adapt.sh`; what and why in `model/telephone/README.md`).
//!
//! The files are embedded in the binary, so a deployment needs only Debian's packages, and are
//! written once per process to a directory under the system's temporary directory, named by
//! their content, for PocketSphinx to read (it takes paths, not bytes).

use std::{
    fs, io,
    path::{Path, PathBuf},
    sync::OnceLock,
};

use crate::error::ConfigError;

/// The adapted parameter files, by the names PocketSphinx's model directories use.
const FILES: [(&str, &[u8]); 4] = [
    ("means", include_bytes!("../../model/telephone/means")),
    (
        "variances",
        include_bytes!("../../model/telephone/variances"),
    ),
    ("sendump", include_bytes!("../../model/telephone/sendump")),
    (
        "transition_matrices",
        include_bytes!("../../model/telephone/transition_matrices"),
    ),
];

/// FNV-1a of the model definition (`mdef`) the adaptation was made from.
const MDEF_FNV1A64: &str = include_str!("../../model/telephone/mdef.fnv1a64");

/// Where the adapted files are, for PocketSphinx's `-mean`, `-var`, `-sendump` and `-tmat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Adaptation {
    dir: PathBuf,
}

impl Adaptation {
    /// The adaptation for `acoustic_model`, written to disk on the first call of the process.
    ///
    /// # Errors
    /// [`ConfigError::ModelNotFound`] without `acoustic_model/mdef`;
    /// [`ConfigError::AdaptationMismatch`] if that is not the model the adaptation was made
    /// from; [`ConfigError::ModelUnwritable`] if the files cannot be written.
    pub(crate) fn for_model(acoustic_model: &Path) -> Result<Self, ConfigError> {
        let mdef = acoustic_model.join("mdef");
        let bytes = fs::read(&mdef).map_err(|_| ConfigError::ModelNotFound { path: mdef })?;
        if format!("{:016x}", fnv1a64(FNV_OFFSET, &bytes)) != MDEF_FNV1A64.trim() {
            return Err(ConfigError::AdaptationMismatch {
                model: acoustic_model.to_path_buf(),
            });
        }
        static WRITTEN: OnceLock<Result<PathBuf, ConfigError>> = OnceLock::new();
        let dir = WRITTEN.get_or_init(|| materialize(&std::env::temp_dir()));
        dir.clone().map(|dir| Self { dir })
    }

    /// The decoder settings that load the adapted files in place of the model's own.
    pub(crate) fn decoder_args(&self) -> Vec<(&'static str, String)> {
        [
            ("-mean", "means"),
            ("-var", "variances"),
            ("-sendump", "sendump"),
            ("-tmat", "transition_matrices"),
        ]
        .into_iter()
        .map(|(flag, file)| (flag, self.dir.join(file).to_string_lossy().into_owned()))
        .collect()
    }
}

pub(super) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

pub(super) fn fnv1a64(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// Writes the files into `parent/voicebot-en-us-telephone-<content hash>` unless an intact copy
/// is there already.
fn materialize(parent: &Path) -> Result<PathBuf, ConfigError> {
    let hash = FILES.iter().fold(FNV_OFFSET, |hash, (name, bytes)| {
        fnv1a64(fnv1a64(hash, name.as_bytes()), bytes)
    });
    let dir = parent.join(format!("voicebot-en-us-telephone-{hash:016x}"));
    if intact(&dir) {
        return Ok(dir);
    }
    let unwritable = |path: &Path, error: io::Error| ConfigError::ModelUnwritable {
        path: path.to_path_buf(),
        reason: error.to_string(),
    };
    // Written into a directory of this process's own and renamed into place, so that another
    // process never reads half-written files.
    let staging = parent.join(format!(
        "voicebot-en-us-telephone-{}",
        crate::staging::unique_suffix()
    ));
    fs::create_dir(&staging).map_err(|error| unwritable(&staging, error))?;
    for (name, bytes) in FILES {
        let path = staging.join(name);
        fs::write(&path, bytes).map_err(|error| unwritable(&path, error))?;
    }
    if fs::rename(&staging, &dir).is_ok() {
        return Ok(dir);
    }
    // Another process won the race (its copy is used), or the name is taken by something that
    // is not a good copy (this process keeps its own).
    if intact(&dir) {
        let _ = fs::remove_dir_all(&staging);
        return Ok(dir);
    }
    Ok(staging)
}

/// Whether `dir` holds exactly the embedded files.
fn intact(dir: &Path) -> bool {
    FILES
        .iter()
        .all(|(name, bytes)| fs::read(dir.join(name)).is_ok_and(|found| found == *bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_reference_values() {
        assert_eq!(fnv1a64(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn files_are_written_once_and_a_damaged_copy_is_not_used() {
        let parent =
            std::env::temp_dir().join(format!("voicebot-adapt-test-{}", std::process::id()));
        fs::create_dir_all(&parent).unwrap();
        let first = materialize(&parent).unwrap();
        assert!(intact(&first));
        assert_eq!(
            materialize(&parent).unwrap(),
            first,
            "an intact copy is reused"
        );
        // A damaged copy (truncated means) is neither used nor trusted.
        fs::write(first.join("means"), b"s3\n").unwrap();
        let second = materialize(&parent).unwrap();
        assert_ne!(second, first);
        assert!(intact(&second));
        fs::remove_dir_all(&parent).unwrap();
    }

    #[test]
    fn a_model_other_than_debians_en_us_is_refused() {
        let model =
            std::env::temp_dir().join(format!("voicebot-other-model-{}", std::process::id()));
        fs::create_dir_all(&model).unwrap();
        assert!(matches!(
            Adaptation::for_model(&model),
            Err(ConfigError::ModelNotFound { .. })
        ));
        fs::write(model.join("mdef"), b"another model").unwrap();
        assert!(matches!(
            Adaptation::for_model(&model),
            Err(ConfigError::AdaptationMismatch { .. })
        ));
        fs::remove_dir_all(&model).unwrap();
    }
}
