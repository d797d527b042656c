//! Parsing XAPI resource paths: `Users`, `Users(12)`, `Users(Number='100')`,
//! `Parkings/Pbx.GetByNumber(number='SP11')`, `Groups(3)/Members`, actions.

/// One path segment: a name with an optional parenthesised argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) name: String,
    /// Text inside the brackets, if any.
    pub(crate) args: Option<String>,
}

/// An entity key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    Id(i32),
    /// `Number='…'` (alternate key, 20.0.8+).
    Number(String),
}

/// Decodes `%XX` escapes (and `+` as space when `plus` is set). Invalid escapes are
/// kept as text, and invalid UTF-8 is replaced, so any input decodes.
pub(crate) fn percent_decode(text: &str, plus: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits a query string into decoded pairs.
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name, true), percent_decode(value, true))
        })
        .collect()
}

/// Splits and decodes a path (already relative to `/xapi/v1`).
pub(crate) fn segments(path: &str) -> Option<Vec<Segment>> {
    let path = path.strip_prefix("/xapi/v1").unwrap_or(path);
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|raw| {
            let text = percent_decode(raw, false);
            match text.find('(') {
                Some(open) if text.ends_with(')') => Some(Segment {
                    name: text[..open].to_owned(),
                    args: Some(text[open + 1..text.len() - 1].to_owned()),
                }),
                Some(_) => None,
                None => Some(Segment {
                    name: text,
                    args: None,
                }),
            }
        })
        .collect()
}

/// Reads an OData string literal `'…'` (with `''` for a quote) filling all of `text`.
pub(crate) fn string_literal(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // Inside a literal a quote must be doubled.
            if chars.next() != Some('\'') {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

/// Reads a key: `12` or `Number='100'`.
pub(crate) fn key(args: &str) -> Option<Key> {
    if let Ok(id) = args.trim().parse::<i32>() {
        return Some(Key::Id(id));
    }
    let (name, value) = args.split_once('=')?;
    match name.trim() {
        "Number" => string_literal(value.trim()).map(Key::Number),
        _ => None,
    }
}

/// Reads a function parameter list `number='SP11'` into the named parameter's value.
pub(crate) fn function_arg(args: &str, name: &str) -> Option<String> {
    let (param, value) = args.split_once('=')?;
    match param.trim() == name {
        true => string_literal(value.trim()),
        false => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("a%20b%27c+d", true), "a b'c d");
        assert_eq!(percent_decode("a+b%", false), "a+b%");
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(percent_decode("%C3%AB", false), "ë");
    }

    #[test]
    fn keys_and_literals() {
        assert_eq!(key("12"), Some(Key::Id(12)));
        assert_eq!(key("Number='1''0'"), Some(Key::Number("1'0".to_owned())));
        assert_eq!(key("Number='1'0'"), None);
        assert_eq!(key("Name='x'"), None);
        assert_eq!(
            function_arg("number='SP11'", "number"),
            Some("SP11".to_owned())
        );
        let segs = segments("/xapi/v1/Parkings/Pbx.GetByNumber(number='SP%2011')").expect("valid");
        assert_eq!(segs[1].name, "Pbx.GetByNumber");
        assert_eq!(segs[1].args.as_deref(), Some("number='SP 11'"));
    }
}
