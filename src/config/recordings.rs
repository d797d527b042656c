//! `recordings`: a folder path (`recordings = "recordings"`), or a table that adds
//! object storage (`[recordings] dir = "recordings"  store = "s3://bucket/prefix"
//! keep_local = false`).

use std::fmt;
use std::path::PathBuf;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// Where recordings go.
#[derive(Debug, Clone)]
pub(crate) struct Recordings {
    /// The local folder every recording is written to first.
    pub(crate) dir: PathBuf,
    /// `s3://bucket/prefix`: each final recording (and its metadata) is uploaded there.
    pub(crate) store: Option<Spanned<String>>,
    /// Keep the local files after a verified upload.
    pub(crate) keep_local: bool,
}

impl Default for Recordings {
    fn default() -> Self {
        Self {
            dir: default_dir(),
            store: None,
            keep_local: false,
        }
    }
}

fn default_dir() -> PathBuf {
    PathBuf::from("recordings")
}

/// The table form.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    #[serde(default = "default_dir")]
    dir: PathBuf,
    #[serde(default)]
    store: Option<Spanned<String>>,
    #[serde(default)]
    keep_local: bool,
}

impl<'de> Deserialize<'de> for Recordings {
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        struct Either;

        impl<'de> Visitor<'de> for Either {
            type Value = Recordings;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a folder path, or a table with dir, store and keep_local")
            }

            fn visit_str<E>(self, dir: &str) -> Result<Recordings, E>
            where
                E: de::Error,
            {
                Ok(Recordings {
                    dir: PathBuf::from(dir),
                    ..Recordings::default()
                })
            }

            fn visit_map<A>(self, map: A) -> Result<Recordings, A::Error>
            where
                A: MapAccess<'de>,
            {
                let table = Table::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Recordings {
                    dir: table.dir,
                    store: table.store,
                    keep_local: table.keep_local,
                })
            }
        }

        deserializer.deserialize_any(Either)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, ConfigError};

    const REST: &str = r#"
[pbx]
url = "https://pbx.example.com:5001"
client_id = "assistant"

[route_points."800"]
bot = "echo"
"#;

    fn parse(recordings: &str) -> Result<Config, ConfigError> {
        Config::parse(
            Path::new("conf/voicebot.toml"),
            &format!("{recordings}\n{REST}"),
        )
    }

    #[test]
    fn a_folder_path_is_the_folder_without_a_store() {
        let config = parse(r#"recordings = "rec""#).unwrap();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(config.recordings_dir(), cwd.join("conf/rec"));
        assert!(config.recordings_store().is_none());
        let config = parse("").unwrap();
        assert_eq!(config.recordings_dir(), cwd.join("conf/recordings"));
    }

    #[test]
    fn a_table_adds_the_store_and_keep_local() {
        let config =
            parse("[recordings]\ndir = \"rec\"\nstore = \"s3://calls/vm/\"\nkeep_local = true")
                .unwrap();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(config.recordings_dir(), cwd.join("conf/rec"));
        let store = config.recordings_store().unwrap();
        assert_eq!((store.bucket(), store.prefix()), ("calls", "vm"));
        assert!(config.recordings.keep_local);
        let config = parse("[recordings]\nstore = \"s3://calls\"").unwrap();
        assert_eq!(config.recordings_dir(), cwd.join("conf/recordings"));
        assert!(!config.recordings.keep_local);
    }

    #[test]
    fn a_bad_store_or_key_names_the_line_and_key() {
        let error = parse("[recordings]\nstore = \"https://calls\"").unwrap_err();
        assert_eq!(error.key, "recordings.store");
        assert!(error.message.contains("only s3://"), "{}", error.message);
        assert!(error.to_string().contains("voicebot.toml:2"), "{error}");
        let error = parse("[recordings]\nstor = \"s3://calls\"").unwrap_err();
        assert!(error.message.contains("unknown field"), "{}", error.message);
        assert!(error.key.starts_with("recordings"), "{}", error.key);
        let error = parse("recordings = 5").unwrap_err();
        assert!(error.message.contains("folder path"), "{}", error.message);
    }
}
