//! Building each route point's bot from its TOML table, so a bad bot configuration
//! is reported at startup with the route point, the key and its line.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use voicebot_bot::{Bot, BotConfigError, BotContext, BotRegistry};

use super::error::join_key;
use super::{Config, ConfigError};

/// Builds the bot of every route point, keyed by DN.
///
/// # Errors
/// The first [`ConfigError`]: an unknown bot name (at `route_points."DN".bot`) or
/// a configuration the bot refuses (at `route_points."DN".config.KEY`).
pub(crate) fn build_bots(
    config: &Config,
    registry: &BotRegistry,
    context: &BotContext,
) -> Result<BTreeMap<String, Arc<dyn Bot>>, ConfigError> {
    let mut bots = BTreeMap::new();
    for (dn, route_point) in &config.route_points {
        let route_key = join_key(&config.route_points_key(), dn);
        let name = route_point.bot.get_ref();
        if !registry.names().any(|known| known == name) {
            return Err(config.error_at(
                Some(route_point.bot.span()),
                &join_key(&route_key, "bot"),
                format!(
                    "no bot named {name:?} (known: {})",
                    registry.names().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let table = route_point
            .config
            .as_ref()
            .map(|table| table.get_ref().clone())
            .unwrap_or_default();
        let bot = registry
            .build_with(name, toml::Value::Table(table), context)
            .map_err(|error| bot_error(config, &route_key, route_point, &error))?;
        bots.insert(dn.clone(), bot);
    }
    Ok(bots)
}

fn bot_error(
    config: &Config,
    route_key: &str,
    route_point: &super::RoutePoint,
    error: &BotConfigError,
) -> ConfigError {
    let config_key = join_key(route_key, "config");
    let table_span = route_point.config.as_ref().map(|table| table.span());
    let message = format!("bot {:?}: {}", error.bot, error.message);
    match &error.key {
        Some(key) => {
            let span = table_span
                .clone()
                .and_then(|span| find_key(&config.text, span, key))
                .or(table_span);
            let path = key
                .split('.')
                .fold(config_key, |path, segment| join_key(&path, segment));
            config.error_at(span, &path, message)
        }
        None => config.error_at(table_span, &config_key, message),
    }
}

/// The span of the line that sets `key` (its last dotted segment) in the table that
/// starts at `within`: a `[header]` table runs on through its sub-tables until the
/// next unrelated header; an inline table is searched to the end of the file.
fn find_key(text: &str, within: Range<usize>, key: &str) -> Option<Range<usize>> {
    let name = key.rsplit('.').next().unwrap_or(key);
    let region = text.get(within.start..)?;
    let header = region
        .lines()
        .next()
        .map(str::trim)
        .filter(|line| line.starts_with('['))
        .map(|line| line.trim_end_matches(']').to_owned());
    let mut offset = within.start;
    for (index, line) in region.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        if let Some(header) = &header
            && index > 0
            && trimmed.starts_with('[')
            && !trimmed.starts_with(header.as_str())
        {
            return None;
        }
        let indent = line.len() - trimmed.len();
        let rest = trimmed.strip_prefix(name).or_else(|| {
            trimmed
                .strip_prefix('"')
                .and_then(|quoted| quoted.strip_prefix(name))
                .and_then(|after| after.strip_prefix('"'))
        });
        if rest.is_some_and(|rest| rest.trim_start().starts_with(['=', '.'])) {
            let start = offset + indent;
            return Some(start..start + name.len());
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_line_of_a_key() {
        let text = "[a]\nbot = 'x'\n[a.config]\n  greeting = 'hi'\n";
        let span = find_key(text, 0..text.len(), "greeting").unwrap();
        assert_eq!(&text[span], "greeting");
        assert!(find_key(text, 0..text.len(), "nothing").is_none());
        let text = "[a.config]\n[a.config.x]\nkey = 1\n[b]\nother = 2\n";
        assert!(find_key(text, 0..10, "key").is_some());
        assert!(find_key(text, 0..10, "other").is_none());
    }
}
