//! [`StoreUrl`]: where recordings go, `s3://bucket/prefix`, and how a local path under
//! the recordings folder names its object.

use std::fmt;
use std::path::Path;

use crate::error::StoreError;

/// A parsed `s3://bucket[/prefix]`: the bucket, and the prefix every object key starts
/// with (no leading or trailing `/`; empty for none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUrl {
    bucket: String,
    prefix: String,
}

impl StoreUrl {
    /// Parses `s3://bucket` or `s3://bucket/some/prefix` (a trailing `/` is ignored).
    ///
    /// # Errors
    /// [`StoreError::BadUrl`] for another scheme, an empty or invalid bucket name, or an
    /// empty segment in the prefix.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let bad = |why| StoreError::BadUrl {
            url: text.to_owned(),
            why,
        };
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| bad("only s3:// is supported"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(bad("no bucket name"));
        }
        // S3's rules: 3–63 characters of lower-case letters, digits, dots and hyphens.
        let valid = (3..=63).contains(&bucket.len())
            && bucket
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
        if !valid {
            return Err(bad(
                "a bucket name is 3-63 lower-case letters, digits, dots or hyphens",
            ));
        }
        let prefix = prefix.trim_end_matches('/');
        if prefix.split('/').any(str::is_empty) && !prefix.is_empty() {
            return Err(bad("the prefix has an empty segment (//)"));
        }
        if prefix.contains(['?', '#']) {
            return Err(bad("the prefix must not hold ? or #"));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key prefix, without slashes at either end; empty for none.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The key of `file` under the recordings folder `dir`: the prefix, then the path
    /// relative to `dir` with `/` separators. `None` when `file` is not under `dir` or
    /// a component is not UTF-8.
    pub fn key_for(&self, dir: &Path, file: &Path) -> Option<String> {
        let relative = file.strip_prefix(dir).ok()?;
        let mut parts: Vec<&str> = Vec::new();
        if !self.prefix.is_empty() {
            parts.push(&self.prefix);
        }
        for component in relative.components() {
            match component {
                std::path::Component::Normal(part) => parts.push(part.to_str()?),
                _ => return None,
            }
        }
        (parts.len() > usize::from(!self.prefix.is_empty())).then(|| parts.join("/"))
    }

    /// The URL of the object `key`, for logs and records: `s3://bucket/key`.
    pub fn object_url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

impl fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix.is_empty() {
            true => write!(f, "s3://{}", self.bucket),
            false => write!(f, "s3://{}/{}", self.bucket, self.prefix),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn parses_a_bucket_and_a_prefix() {
        let url = StoreUrl::parse("s3://calls-2025/voicemail/eu/").unwrap();
        assert_eq!(url.bucket(), "calls-2025");
        assert_eq!(url.prefix(), "voicemail/eu");
        assert_eq!(url.to_string(), "s3://calls-2025/voicemail/eu");
        let bare = StoreUrl::parse("s3://calls").unwrap();
        assert_eq!((bare.bucket(), bare.prefix()), ("calls", ""));
    }

    #[test]
    fn refuses_what_is_not_an_s3_bucket_naming_why() {
        for (text, why) in [
            ("https://calls/x", "only s3://"),
            ("s3://", "no bucket"),
            ("s3:///x", "no bucket"),
            ("s3://Calls", "lower-case"),
            ("s3://ab", "3-63"),
            ("s3://calls/a//b", "empty segment"),
            ("s3://calls/a?b", "?"),
        ] {
            let error = StoreUrl::parse(text).unwrap_err().to_string();
            assert!(error.contains(why), "{text}: {error}");
            assert!(error.contains(text), "{text}: {error}");
        }
    }

    #[test]
    fn keys_are_the_prefix_and_the_path_under_the_folder() {
        let dir = PathBuf::from("/var/rec");
        let url = StoreUrl::parse("s3://calls/vm").unwrap();
        let key = url.key_for(&dir, Path::new("/var/rec/800/+1555-7.wav"));
        assert_eq!(key.as_deref(), Some("vm/800/+1555-7.wav"));
        assert_eq!(url.object_url("vm/a.wav"), "s3://calls/vm/a.wav");
        let bare = StoreUrl::parse("s3://calls").unwrap();
        assert_eq!(
            bare.key_for(&dir, Path::new("/var/rec/a.wav")).as_deref(),
            Some("a.wav")
        );
        assert_eq!(url.key_for(&dir, Path::new("/tmp/a.wav")), None);
        assert_eq!(url.key_for(&dir, Path::new("/var/rec/../a.wav")), None);
        assert_eq!(url.key_for(&dir, &dir), None);
    }
}
