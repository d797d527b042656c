//! [`OptionConfig`]: a menu option as written, `{ action = "...", ..., say = [...] }`.
//!
//! `say` sits beside the action's own fields, yet the action keeps
//! `deny_unknown_fields` and the registry keeps its key paths: the option's map is
//! read through [`WithoutSay`], which takes `say` out and hands every other entry on
//! untouched, so serde_path_to_error still sees (and names) them.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, de::value::MapAccessDeserializer};

use super::Action;

/// One menu option: what it does, and the words a caller may say to choose it.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionConfig {
    /// What the option does.
    pub action: Action,
    /// Press or say: words that choose this option, e.g. `say = ["billing",
    /// "accounts"]` (the option-level form of the node's `say` map). Needs a speech
    /// recogniser (`[speech]` in voicebot.toml).
    pub say: Vec<String>,
}

impl From<Action> for OptionConfig {
    fn from(action: Action) -> Self {
        Self {
            action,
            say: Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for OptionConfig {
    fn deserialize<D>(deserializer: D) -> Result<Self, D::Error>
    where
        D: Deserializer<'de>,
    {
        deserializer.deserialize_map(OptionVisitor)
    }
}

struct OptionVisitor;

impl<'de> Visitor<'de> for OptionVisitor {
    type Value = OptionConfig;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an option such as { action = \"transfer\", to = \"201\" }")
    }

    fn visit_map<A>(self, map: A) -> Result<OptionConfig, A::Error>
    where
        A: MapAccess<'de>,
    {
        let mut say = None;
        let action = Action::deserialize(MapAccessDeserializer::new(WithoutSay {
            map,
            say: &mut say,
        }))?;
        Ok(OptionConfig {
            action,
            say: say.unwrap_or_default(),
        })
    }
}

/// The option's entries minus `say`, which it stores aside.
struct WithoutSay<'a, A> {
    map: A,
    say: &'a mut Option<Vec<String>>,
}

impl<'de, A> MapAccess<'de> for WithoutSay<'_, A>
where
    A: MapAccess<'de>,
{
    type Error = A::Error;

    fn next_key_seed<K>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error>
    where
        K: DeserializeSeed<'de>,
    {
        while let Some(key) = self.map.next_key::<String>()? {
            if key != "say" {
                return seed
                    .deserialize(de::value::StringDeserializer::new(key))
                    .map(Some);
            }
            *self.say = Some(self.map.next_value()?);
        }
        Ok(None)
    }

    fn next_value_seed<V>(&mut self, seed: V) -> Result<V::Value, A::Error>
    where
        V: DeserializeSeed<'de>,
    {
        self.map.next_value_seed(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn say_is_taken_out_and_the_action_parses_as_before() {
        let option: OptionConfig = toml::from_str(
            r#"action = "transfer"
to = "201"
say = ["billing", "accounts"]"#,
        )
        .unwrap();
        assert_eq!(
            option.action,
            Action::Transfer {
                to: "201".to_owned()
            }
        );
        assert_eq!(option.say, ["billing", "accounts"]);
        let plain: OptionConfig = toml::from_str("action = \"hangup\"").unwrap();
        assert_eq!(plain, Action::Hangup { prompt: None }.into());
        assert!(toml::from_str::<OptionConfig>("action = \"hangup\"\nsay = \"x\"").is_err());
        assert!(toml::from_str::<OptionConfig>("action = \"hangup\"\ncolour = 1").is_err());
    }
}
