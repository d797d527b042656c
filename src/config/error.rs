//! [`ConfigError`]: a configuration problem that names the file, the line, the key
//! path and what is wrong, e.g.
//! `voicebot.toml:12:7: route_points."800".bot: invalid type: integer `5`, expected a string`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A problem with a configuration file. Exits with code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) struct ConfigError {
    /// The file, as given on the command line.
    pub(crate) file: PathBuf,
    /// 1-based line and column, when known.
    pub(crate) position: Option<(usize, usize)>,
    /// The dotted key path, e.g. `route_points."800".bot`; empty for the whole file.
    pub(crate) key: String,
    /// What is wrong.
    pub(crate) message: String,
}

impl ConfigError {
    /// An error about `key` in `file`, at `span` of `text` when known.
    pub(crate) fn new(
        file: &Path,
        text: &str,
        span: Option<Range<usize>>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.to_owned(),
            position: span.map(|span| line_column(text, span.start)),
            key: key.into(),
            message: message.into(),
        }
    }

    /// From a TOML syntax or type error, with the key path serde tracked.
    pub(crate) fn from_toml(file: &Path, text: &str, key: String, error: &toml::de::Error) -> Self {
        let message = error.message().trim().to_owned();
        // For an unknown key, serde stops at the table that holds it; name the key
        // itself, which the message quotes in backticks.
        let key = match message.strip_prefix("unknown field `") {
            Some(rest) => {
                let field = rest.split('`').next().unwrap_or_default();
                let named = join_key("", field);
                match key == named || key.ends_with(&format!(".{named}")) {
                    true => key,
                    false => join_key(&key, field),
                }
            }
            None => key,
        };
        Self::new(file, text, error.span(), key, message)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        match self.key.is_empty() {
            true => write!(f, ": {}", self.message),
            false => write!(f, ": {}: {}", self.key, self.message),
        }
    }
}

/// Appends `segment` to a dotted key path, quoting it unless it is a bare TOML key
/// made of letters (digits-only keys like `800` are quoted for readability).
pub(crate) fn join_key(path: &str, segment: &str) -> String {
    let bare = segment
        .chars()
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let segment = match bare {
        true => segment.to_owned(),
        false => format!("{segment:?}"),
    };
    match path.is_empty() {
        true => segment,
        false => format!("{path}.{segment}"),
    }
}

/// The key path serde tracked, written as TOML would (`route_points."800".bot`).
pub(crate) fn path_text(path: &serde_path_to_error::Path) -> String {
    let mut text = String::new();
    for segment in path.iter() {
        match segment {
            // `Spanned<T>` deserialises through a private wrapper key; it is not a key
            // of the file.
            serde_path_to_error::Segment::Map { key } if key.starts_with("$__") => {}
            serde_path_to_error::Segment::Map { key } => text = join_key(&text, key),
            serde_path_to_error::Segment::Seq { index } => text.push_str(&format!("[{index}]")),
            serde_path_to_error::Segment::Enum { variant } => text = join_key(&text, variant),
            serde_path_to_error::Segment::Unknown => {}
        }
    }
    text
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |last| last.chars().count())
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_quoted_when_not_bare() {
        assert_eq!(join_key("", "route_points"), "route_points");
        assert_eq!(join_key("route_points", "800"), "route_points.\"800\"");
        assert_eq!(join_key("a", "b c"), "a.\"b c\"");
    }

    #[test]
    fn positions_are_one_based() {
        assert_eq!(line_column("a = 1\nbé = 2", 0), (1, 1));
        assert_eq!(line_column("a = 1\nbé = 2", 9), (2, 3));
        assert_eq!(line_column("ab", 99), (1, 3));
    }

    #[test]
    fn display_names_file_position_and_key() {
        let error = ConfigError::new(Path::new("v.toml"), "x\ny = 1", Some(2..3), "y", "bad");
        assert_eq!(error.to_string(), "v.toml:2:1: y: bad");
    }
}
