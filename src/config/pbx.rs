//! `[pbx]` (one PBX) or `[[pbx]]` (several, each with its own credentials and route
//! points), and the per-PBX views of a configuration that `voicebot run` starts one
//! engine for.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use super::error::join_key;
use super::{Config, ConfigError, DEFAULT_SECRET_ENV, Fallback, RoutePoint, USER_INFO_REFUSED};

/// The name of the PBX of a file with one `[pbx]` table that names none: what call
/// records and the `pbx` metric label carry.
pub(crate) const DEFAULT_PBX_NAME: &str = "default";

/// `[pbx]` or `[[pbx]]`.
#[derive(Debug, Clone)]
pub(crate) enum Pbxs {
    /// One `[pbx]` table; route points at the top level (or inside it).
    One(Box<Pbx>),
    /// `[[pbx]]` tables, each named and with its own route points.
    Many(Vec<Pbx>),
}

/// One PBX: its address, API client and (with several) route points.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Pbx {
    /// What records and metrics call it; needed with several PBXs.
    #[serde(default)]
    pub(crate) name: Option<Spanned<String>>,
    /// Base URL, e.g. `https://pbx.example.com:5001`.
    pub(crate) url: Spanned<String>,
    /// The API client's id (also its route point's DN).
    pub(crate) client_id: String,
    /// Environment variable that holds the client secret.
    #[serde(default = "default_secret_env")]
    pub(crate) client_secret_env: String,
    /// PEM file of a private CA (or a PBX's self-signed certificate) trusted besides
    /// the system's roots, for REST and the event socket alike.
    #[serde(default)]
    pub(crate) ca_file: Option<Spanned<PathBuf>>,
    /// This PBX's route points (`[pbx.route_points."DN"]`); with one PBX they may be
    /// at the top level instead.
    #[serde(default)]
    pub(crate) route_points: Option<BTreeMap<String, RoutePoint>>,
    /// Where this PBX's calls go when their bot fails; the top-level `[fallback]`
    /// otherwise.
    #[serde(default)]
    pub(crate) fallback: Option<Fallback>,
    /// Present only to refuse it with a helpful message.
    #[serde(default)]
    pub(super) client_secret: Option<Spanned<toml::Value>>,
}

fn default_secret_env() -> String {
    DEFAULT_SECRET_ENV.to_owned()
}

impl<'de> Deserialize<'de> for Pbxs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TableOrArray;
        impl<'de> Visitor<'de> for TableOrArray {
            type Value = Pbxs;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a [pbx] table or [[pbx]] tables")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Pbxs, A::Error> {
                Pbx::deserialize(MapAccessDeserializer::new(map))
                    .map(|pbx| Pbxs::One(Box::new(pbx)))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Pbxs, A::Error> {
                Vec::<Pbx>::deserialize(SeqAccessDeserializer::new(seq)).map(Pbxs::Many)
            }
        }
        deserializer.deserialize_any(TableOrArray)
    }
}

impl Pbxs {
    /// Every PBX, in file order.
    pub(crate) fn all(&self) -> &[Pbx] {
        match self {
            Self::One(pbx) => std::slice::from_ref(pbx),
            Self::Many(pbxs) => pbxs,
        }
    }

    /// The key path of the `index`th PBX, for error messages.
    pub(crate) fn key(&self, index: usize) -> String {
        match self {
            Self::One(_) => "pbx".to_owned(),
            Self::Many(_) => format!("pbx[{index}]"),
        }
    }
}

impl Pbx {
    /// Its name ([`DEFAULT_PBX_NAME`] for a single unnamed `[pbx]`).
    pub(crate) fn name(&self) -> &str {
        self.name
            .as_ref()
            .map_or(DEFAULT_PBX_NAME, |name| name.get_ref().as_str())
    }
}

impl Config {
    /// The PBX of a one-PBX view (see [`Config::sites`]); the first with several.
    pub(crate) fn pbx(&self) -> &Pbx {
        match &self.pbx {
            Pbxs::One(pbx) => pbx,
            // Validation refuses an empty `[[pbx]]` list, so there is a first.
            Pbxs::Many(pbxs) => &pbxs[0],
        }
    }

    /// The PBX of a one-PBX view, to change (the demo points it at its simulator).
    pub(crate) fn pbx_mut(&mut self) -> &mut Pbx {
        match &mut self.pbx {
            Pbxs::One(pbx) => pbx,
            Pbxs::Many(pbxs) => &mut pbxs[0],
        }
    }

    /// The name of this view's PBX.
    pub(crate) fn pbx_name(&self) -> &str {
        self.pbx().name()
    }

    /// Whether the file has several PBXs (`[[pbx]]`).
    pub(crate) fn has_several_pbxs(&self) -> bool {
        matches!(&self.pbx, Pbxs::Many(_))
    }

    /// The names of every PBX of the file.
    pub(crate) fn pbx_names(&self) -> Vec<String> {
        self.pbx
            .all()
            .iter()
            .map(|pbx| pbx.name().to_owned())
            .collect()
    }

    /// One view per PBX: the file's shared settings with that PBX's connection, route
    /// points (at the top level of the view) and fallback. A file with one `[pbx]` is
    /// its own only view.
    pub(crate) fn sites(&self) -> Vec<Config> {
        let Pbxs::Many(pbxs) = &self.pbx else {
            return vec![self.clone()];
        };
        pbxs.iter()
            .enumerate()
            .map(|(index, pbx)| {
                let mut site = self.clone();
                let mut own = pbx.clone();
                site.route_points = own.route_points.take().unwrap_or_default();
                if let Some(fallback) = own.fallback.take() {
                    site.fallback = Some(fallback);
                }
                site.pbx = Pbxs::One(Box::new(own));
                site.site_key = format!("pbx[{index}]");
                site
            })
            .collect()
    }

    /// The view of the PBX named `name`, or of the only one when `name` is `None`.
    ///
    /// # Errors
    /// [`ConfigError`] when no PBX has that name, or when the file has several and
    /// none was chosen.
    pub(crate) fn site(&self, name: Option<&str>) -> Result<Config, ConfigError> {
        let names = self.pbx_names().join(", ");
        let mut sites = self.sites();
        match name {
            Some(name) => match sites.iter().position(|site| site.pbx_name() == name) {
                Some(found) => Ok(sites.swap_remove(found)),
                None => Err(self.error_at(
                    None,
                    "pbx",
                    format!("no PBX named {name:?} (the file has: {names})"),
                )),
            },
            None if sites.len() == 1 => Ok(sites.swap_remove(0)),
            None => Err(self.error_at(
                None,
                "pbx",
                format!("the file has several PBXs ({names}): choose one with --pbx NAME"),
            )),
        }
    }

    /// The key path of this view's route points: `route_points`, or
    /// `pbx[N].route_points` in a PBX's view of a file with several.
    pub(crate) fn route_points_key(&self) -> String {
        match self.site_key.is_empty() {
            true => "route_points".to_owned(),
            false => format!("{}.route_points", self.site_key),
        }
    }

    /// Checks every PBX table and where the route points are.
    pub(super) fn validate_pbxs(&self) -> Result<(), ConfigError> {
        let pbxs = self.pbx.all();
        if pbxs.is_empty() {
            return Err(self.error_at(None, "pbx", "no PBX: add a [pbx] table"));
        }
        let mut names = BTreeMap::new();
        for (index, pbx) in pbxs.iter().enumerate() {
            let key = self.pbx.key(index);
            self.validate_pbx(&key, pbx)?;
            if let Some(name) = &pbx.name
                && let Some(first) = names.insert(name.get_ref().clone(), index)
            {
                return Err(self.error_at(
                    Some(name.span()),
                    &format!("{key}.name"),
                    format!("{:?} is also the name of pbx[{first}]", name.get_ref()),
                ));
            }
        }
        match &self.pbx {
            Pbxs::One(pbx) => match (&pbx.route_points, self.route_points.is_empty()) {
                (Some(_), false) => Err(self.error_at(
                    None,
                    "pbx.route_points",
                    "route points are both in [pbx] and at the top level: keep one place",
                )),
                (Some(inside), true) => self.validate_route_points("pbx.route_points", inside),
                (None, _) => self.validate_route_points("route_points", &self.route_points),
            },
            Pbxs::Many(pbxs) => {
                if !self.route_points.is_empty() {
                    return Err(self.error_at(
                        None,
                        "route_points",
                        "with [[pbx]] tables each PBX has its own route points: move them to \
                         [pbx.route_points.\"DN\"] under the PBX they belong to",
                    ));
                }
                for (index, pbx) in pbxs.iter().enumerate() {
                    let key = self.pbx.key(index);
                    if pbx.name.is_none() {
                        return Err(self.error_at(
                            None,
                            &format!("{key}.name"),
                            "with several PBXs each needs a name (it labels call records and \
                             metrics)",
                        ));
                    }
                    let empty = BTreeMap::new();
                    let route_points = pbx.route_points.as_ref().unwrap_or(&empty);
                    self.validate_route_points(&format!("{key}.route_points"), route_points)?;
                }
                Ok(())
            }
        }
    }

    fn validate_pbx(&self, key: &str, pbx: &Pbx) -> Result<(), ConfigError> {
        let at = |field: &str| format!("{key}.{field}");
        if let Some(secret) = &pbx.client_secret {
            return Err(self.error_at(
                Some(secret.span()),
                &at("client_secret"),
                format!(
                    "the secret never goes in the file: put it in the environment variable \
                     named by {key}.client_secret_env (default {DEFAULT_SECRET_ENV})"
                ),
            ));
        }
        if let Some(name) = &pbx.name {
            let valid = !name.get_ref().is_empty()
                && name
                    .get_ref()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !valid {
                return Err(self.error_at(
                    Some(name.span()),
                    &at("name"),
                    "must be letters, digits, '-', '_' or '.' (it is a metric label and a \
                     record field)",
                ));
            }
        }
        let url = pbx.url.get_ref();
        match url::Url::parse(url) {
            // No span: the snippet would quote the password back.
            Ok(parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
                return Err(self.error_at(None, &at("url"), USER_INFO_REFUSED));
            }
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => {}
            Ok(_) => {
                return Err(self.error_at(
                    Some(pbx.url.span()),
                    &at("url"),
                    format!("{url:?} must start with https:// (or http:// for the simulator)"),
                ));
            }
            Err(error) => {
                return Err(self.error_at(
                    Some(pbx.url.span()),
                    &at("url"),
                    format!(
                        "{:?} is not a URL: {error}",
                        voicebot_callcontrol::redact_url(url)
                    ),
                ));
            }
        }
        if let Some(ca_file) = &pbx.ca_file {
            voicebot_callcontrol::TlsConfig::with_ca_file(self.resolve(ca_file.get_ref()))
                .map_err(|error| {
                    self.error_at(Some(ca_file.span()), &at("ca_file"), error.to_string())
                })?;
        }
        if pbx.client_id.trim().is_empty() {
            return Err(self.error_at(None, &at("client_id"), "must not be empty"));
        }
        if pbx.client_secret_env.trim().is_empty() {
            return Err(self.error_at(None, &at("client_secret_env"), "must not be empty"));
        }
        if let Some(fallback) = &pbx.fallback
            && fallback.destination.get_ref().trim().is_empty()
        {
            return Err(self.error_at(
                Some(fallback.destination.span()),
                &at("fallback.destination"),
                "must not be empty",
            ));
        }
        Ok(())
    }

    fn validate_route_points(
        &self,
        key: &str,
        route_points: &BTreeMap<String, RoutePoint>,
    ) -> Result<(), ConfigError> {
        if route_points.is_empty() {
            return Err(self.error_at(
                None,
                key,
                format!("no route point configured: add a [{key}.\"DN\"] table with a bot"),
            ));
        }
        for dn in route_points.keys() {
            if dn.trim().is_empty() || dn.contains('/') {
                return Err(self.error_at(None, &join_key(key, dn), "is not a valid DN"));
            }
        }
        Ok(())
    }
}
