//! Tokens of a `$filter` expression.

use std::fmt;

use super::FilterError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    /// Identifier, keyword, or property path (`Groups/GroupId`, `Pbx.X`).
    Word(String),
    /// A string literal with `''` already turned into `'`.
    Str(String),
    Number(serde_json::Value),
    Open,
    Close,
    Comma,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Word(w) => f.write_str(w),
            Self::Str(s) => write!(f, "'{}'", s.replace('\'', "''")),
            Self::Number(n) => write!(f, "{n}"),
            Self::Open => f.write_str("("),
            Self::Close => f.write_str(")"),
            Self::Comma => f.write_str(","),
        }
    }
}

pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\r' | '\n' => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '\'' => {
                // OData string literal: a doubled quote is one quote; a single quote ends it.
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => {
                            return Err(FilterError(
                                "Syntax error: unterminated string literal".to_owned(),
                            ));
                        }
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            value.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&other) => {
                            value.push(other);
                            i += 1;
                        }
                    }
                }
                tokens.push(Token::Str(value));
            }
            '-' | '0'..='9' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let number = match text.parse::<i64>() {
                    Ok(n) => serde_json::Value::from(n),
                    Err(_) => match text
                        .parse::<f64>()
                        .ok()
                        .and_then(serde_json::Number::from_f64)
                    {
                        Some(n) => serde_json::Value::Number(n),
                        None => {
                            return Err(FilterError(format!(
                                "Syntax error: '{text}' is not a valid number"
                            )));
                        }
                    },
                };
                tokens.push(Token::Number(number));
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '/' | '.' | '$'))
                {
                    i += 1;
                }
                tokens.push(Token::Word(chars[start..i].iter().collect()));
            }
            other => {
                return Err(FilterError(format!(
                    "Syntax error: character '{other}' is not valid at position {i}"
                )));
            }
        }
    }
    Ok(tokens)
}
