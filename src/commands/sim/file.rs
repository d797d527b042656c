//! The simulator's configuration file (`voicebot sim --config sim.toml`): extensions
//! and outside numbers with their behaviour, and the settings where 3CX's behaviour
//! is unconfirmed.
//!
//! ```toml
//! route_failure_status = 422     # HTTP status of a failed routeto/transferto
//! after_route = "linger:1s"      # or "remove": the participant a routeto handed on
//!
//! [extensions]
//! "100" = "answer:2s"
//! "200" = "answer:1s,hangup:30s"
//! "300" = "busy"
//!
//! [far_ends]                     # outside numbers (makecall, routeto, transferto)
//! default = "answer:1s"
//! "+15550999" = "noanswer"
//! ```

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use voicebot_sim::{AfterRoute, ExtensionSpec, FarEnd, FarEnds};

use crate::exit::Exit;

/// What a configuration file sets; flags given on the command line come on top.
#[derive(Debug, Default)]
pub(crate) struct SimFile {
    pub(crate) extensions: Vec<ExtensionSpec>,
    pub(crate) far_ends: Option<FarEnds>,
    pub(crate) route_failure_status: Option<u16>,
    pub(crate) after_route: Option<AfterRoute>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Form {
    #[serde(default)]
    extensions: BTreeMap<String, String>,
    #[serde(default)]
    far_ends: BTreeMap<String, String>,
    route_failure_status: Option<u16>,
    after_route: Option<String>,
}

impl SimFile {
    /// Reads `path`; behaviours' script and audio paths are relative to its folder.
    ///
    /// # Errors
    /// Exit 2, naming the file and the key that is wrong.
    pub(crate) fn load(path: &Path) -> anyhow::Result<Self> {
        let fail = |what: String| Exit::Usage.error(format!("{}: {what}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let form: Form = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new(""));
        let mut file = Self::default();
        for (dn, behaviour) in &form.extensions {
            let spec = ExtensionSpec::parse_in(&format!("{dn}={behaviour}"), &FarEnd::Busy, base)
                .map_err(|e| fail(format!("extensions: {e}")))?;
            file.extensions.push(spec);
        }
        if !form.far_ends.is_empty() {
            let mut far_ends = FarEnds::default();
            for (number, behaviour) in &form.far_ends {
                let far_end = FarEnd::parse_in(behaviour, base)
                    .map_err(|e| fail(format!("far_ends.{number}: {e}")))?;
                match number.as_str() {
                    "default" => far_ends.default = far_end,
                    _ => far_ends = far_ends.with(number.as_str(), far_end),
                }
            }
            file.far_ends = Some(far_ends);
        }
        if let Some(status) = form.route_failure_status {
            file.route_failure_status = Some(
                route_failure_status(&status.to_string())
                    .map_err(|e| fail(format!("route_failure_status: {e}")))?,
            );
        }
        if let Some(text) = &form.after_route {
            file.after_route =
                Some(after_route(text).map_err(|e| fail(format!("after_route: {e}")))?);
        }
        Ok(file)
    }
}

/// Parses an HTTP status for a failed route: 200, or an error status 400–599.
pub(crate) fn route_failure_status(text: &str) -> Result<u16, String> {
    match text.trim().parse::<u16>() {
        Ok(status) if status == 200 || (400..=599).contains(&status) => Ok(status),
        _ => Err(format!(
            "expected 200 or an error status 400-599, got {text:?}"
        )),
    }
}

/// Parses `remove` or `linger:DURATION`.
pub(crate) fn after_route(text: &str) -> Result<AfterRoute, String> {
    let usage = || format!("expected `remove` or `linger:DURATION` (e.g. linger:1s), got {text:?}");
    match text.trim().split_once(':') {
        None if text.trim() == "remove" => Ok(AfterRoute::Removed),
        Some(("linger", duration)) => {
            humantime_serde::re::humantime::parse_duration(duration.trim())
                .ok()
                .filter(|d| *d <= Duration::from_secs(3600))
                .map(AfterRoute::Lingers)
                .ok_or_else(usage)
        }
        _ => Err(usage()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_sets_extensions_far_ends_and_route_settings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.toml");
        std::fs::write(
            &path,
            r#"
            route_failure_status = 200
            after_route = "remove"
            [extensions]
            "100" = "answer:2s"
            "300" = "busy"
            [far_ends]
            default = "noanswer:5s"
            "+1555" = "unreachable"
            "#,
        )
        .unwrap();
        let file = SimFile::load(&path).unwrap();
        assert_eq!(file.extensions.len(), 2);
        assert_eq!(
            file.extensions[0].on_ring,
            FarEnd::answer_after(Duration::from_secs(2))
        );
        assert_eq!(file.extensions[1].on_ring, FarEnd::Busy);
        let far_ends = file.far_ends.unwrap();
        assert_eq!(far_ends.get("+1555"), &FarEnd::Unreachable);
        assert_eq!(
            far_ends.get("+1999"),
            &FarEnd::NoAnswer {
                after: Duration::from_secs(5)
            }
        );
        assert_eq!(file.route_failure_status, Some(200));
        assert_eq!(file.after_route, Some(AfterRoute::Removed));
    }

    #[test]
    fn mistakes_name_the_file_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.toml");
        for (text, key) in [
            ("[extensions]\n\"100\" = \"dance\"", "extensions"),
            ("[far_ends]\n\"+1\" = \"busy:2s\"", "far_ends.+1"),
            ("route_failure_status = 302", "route_failure_status"),
            ("after_route = \"linger\"", "after_route"),
            ("colour = 1", "colour"),
        ] {
            std::fs::write(&path, text).unwrap();
            let error = SimFile::load(&path).unwrap_err().to_string();
            assert!(
                error.contains("sim.toml") && error.contains(key),
                "{text}: {error}"
            );
        }
        assert_eq!(
            after_route("linger:2s"),
            Ok(AfterRoute::Lingers(Duration::from_secs(2)))
        );
    }
}
