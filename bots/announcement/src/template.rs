//! Per-number fields in text prompts: `"Hello {name}, your appointment is on {date}."`.

use std::collections::BTreeMap;

/// A text with `{field}` placeholders, filled from a number's fields (`{{` and `}}` are
/// literal braces).
///
/// # Errors
/// The text of a placeholder that is not closed (`"{name"`), as `Err`.
pub(crate) fn fill(text: &str, fields: &BTreeMap<String, String>) -> Result<String, String> {
    let mut filled = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        filled.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match (&rest[open..=open], after.chars().next()) {
            ("{", Some('{')) | ("}", Some('}')) => {
                filled.push_str(&rest[open..=open]);
                rest = &after[1..];
            }
            ("{", _) => {
                let close = after
                    .find('}')
                    .ok_or_else(|| format!("`{{` without `}}` in {text:?}"))?;
                let name = after[..close].trim();
                // A field the number lacks says nothing (inbound callers have no fields).
                filled.push_str(fields.get(name).map_or("", String::as_str));
                rest = &after[close + 1..];
            }
            _ => {
                filled.push('}');
                rest = after;
            }
        }
    }
    filled.push_str(rest);
    Ok(filled)
}

/// The field names `text` uses.
pub(crate) fn placeholders(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(literal) = after.strip_prefix('{') {
            rest = literal;
            continue;
        }
        match after.find('}') {
            Some(close) => {
                names.push(after[..close].trim().to_owned());
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn placeholders_are_filled_and_braces_can_be_written() {
        let ada = fields(&[("name", "Ada"), ("date", "Monday")]);
        assert_eq!(
            fill("Hello {name}, see you {date}.", &ada).unwrap(),
            "Hello Ada, see you Monday."
        );
        assert_eq!(fill("{{literal}} {name}", &ada).unwrap(), "{literal} Ada");
        assert_eq!(fill("Hi {missing}!", &ada).unwrap(), "Hi !");
        assert!(fill("Hi {name", &ada).unwrap_err().contains("without"));
        assert_eq!(
            placeholders("Hello {name}, {{x}} { date }."),
            ["name", "date"]
        );
    }
}
