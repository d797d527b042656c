//! Fuzz targets of the configuration loader: any text, and the shipped samples with random
//! edits, parse to a configuration or to an error naming a place in the file, never a
//! panic; and the bots of what parses build or refuse their table the same way.
//!
//! Quick by default (proptest's 256 cases per target); `PROPTEST_CASES=1000000` runs a
//! million.

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use voicebot_bot::BotContext;

use super::*;

/// A folder that does not exist, so nothing a fuzzed configuration names can be created.
const FILE: &str = "/nonexistent/voicebot-fuzz/voicebot.toml";

fn sample(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("samples")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `base` with up to six random edits on character boundaries: a character replaced,
/// inserted or removed, or a line duplicated or dropped.
fn mutated(base: String) -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<char>(),
        prop::sample::select(vec![
            '"', '[', ']', '=', '.', '\n', '#', '\'', '{', '}', ',', '0', '-'
        ]),
    ];
    prop::collection::vec((any::<u16>(), 0u8..5, pieces), 0..6).prop_map(move |edits| {
        let mut chars: Vec<char> = base.chars().collect();
        for (at, op, piece) in edits {
            let at = usize::from(at) % (chars.len() + 1);
            match op {
                0 if at < chars.len() => chars[at] = piece,
                1 => chars.insert(at, piece),
                2 if at < chars.len() => {
                    chars.remove(at);
                }
                3 | 4 => {
                    let text: String = chars.iter().collect();
                    let mut lines: Vec<&str> = text.lines().collect();
                    if !lines.is_empty() {
                        let line = at % lines.len();
                        match op {
                            3 => lines.insert(line, lines[line]),
                            _ => {
                                lines.remove(line);
                            }
                        }
                    }
                    chars = lines.join("\n").chars().collect();
                }
                _ => chars.push(piece),
            }
        }
        chars.into_iter().collect()
    })
}

fn check(text: &str) -> Result<(), TestCaseError> {
    let file = Path::new(FILE);
    let lines = text.lines().count() + 1;
    let in_file = |error: &ConfigError| match error.position {
        Some((line, column)) => line >= 1 && line <= lines && column >= 1,
        None => true,
    };
    match Config::parse(file, text) {
        Ok(config) => {
            let registry = Arc::new(crate::registry::bundled());
            let context = BotContext::new().with_registry(Arc::clone(&registry));
            if let Err(error) = build_bots(&config, &registry, &context) {
                prop_assert!(!error.message.is_empty());
                prop_assert!(in_file(&error), "{error:?} outside the file");
            }
        }
        Err(error) => {
            prop_assert!(!error.message.is_empty());
            prop_assert!(in_file(&error), "{error:?} outside the file");
            prop_assert!(error.to_string().starts_with(FILE));
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn any_text_parses_or_names_the_problem(text in prop_oneof![
        any::<String>(),
        "[\\[\\]=\" a-z0-9._\n#{},-]{0,300}",
    ]) {
        check(&text)?;
    }

    #[test]
    fn edited_samples_parse_or_name_the_problem(text in prop_oneof![
        mutated(sample("voicebot.toml")),
        mutated(sample("demo.toml")),
    ]) {
        check(&text)?;
    }
}

/// The fuzzing starts from files that parse and whose bots build, so edits reach deep.
#[test]
fn the_unedited_samples_parse_and_build() {
    for name in ["voicebot.toml", "demo.toml"] {
        let config = Config::parse(Path::new(FILE), &sample(name)).expect(name);
        let registry = Arc::new(crate::registry::bundled());
        let context = BotContext::new().with_registry(Arc::clone(&registry));
        let bots = build_bots(&config, &registry, &context).expect(name);
        assert_eq!(bots.len(), config.route_points.len());
    }
}
